// One result: input, output, reference, error, scores, metadata, trace, the chat messages as a
// conversation, and the annotation with its save state. ↑/↓ move between results, Esc goes back to
// the results with the same filters (they travel in this page's URL).
import * as api from '../api.js';
import * as live from '../live.js';
import * as router from '../router.js';
import {registerPage} from '../keys.js';
import {h, fill, text, fmtLatency, latencyClass, safeHref, toast, copy} from '../dom.js';
import * as F from '../filters.js';

export const title = 'Result';

export function mount(el, params) {
  const runId = params.get('run_id') || 'latest';
  const index = Number(params.get('index') || 0);
  const back = () => {
    const q = F.filterParams(params);
    if (runId !== 'latest') q.set('run_id', runId);
    router.go('results', q);
  };
  const goTo = (i) => {
    const q = new URLSearchParams(params);
    q.set('index', i);
    router.go('result', q);
  };
  let data = null;
  let alive = true;
  let stopLive = null;
  let area = null;

  const state = h('span', {class: 'save-state', id: 'save-state'});

  async function load() {
    try {
      data = await api.result(runId, index);
    } catch (e) {
      if (!alive) return;
      fill(el, h('div', {class: 'empty'}, h('p', {}, h('b', {}, 'Failed to load result. '), e.message),
        h('button', {type: 'button', onclick: back}, '← Back to the results')));
      return;
    }
    if (!alive) return;
    render();
    const status = data.result.result.status;
    if ((status === 'pending' || status === 'running') && !stopLive) {
      stopLive = live.watch(data.run_id, {row: (d) => {
        if (d.index === index && d.row && alive) {
          const note = area ? area.value : null;
          data.result = d.row;
          render();
          if (note !== null && area && note !== (d.row.result.annotation || '')) area.value = note;
        }
      }});
    }
  }

  function render() {
    const row = data.result;
    const res = row.result || {};
    const trace = res.trace_data && typeof res.trace_data === 'object' ? res.trace_data : null;
    const messages = trace && Array.isArray(trace.messages) && trace.messages.length ? trace.messages : null;
    const otherTrace = trace ? Object.fromEntries(Object.entries(trace).filter(([k]) => k !== 'messages' && k !== 'trace_url')) : null;
    const traceUrl = trace && trace.trace_url ? safeHref(trace.trace_url) : null;
    fill(el,
      h('div', {class: 'detail-bar'},
        h('button', {type: 'button', id: 'back', onclick: back, title: 'Back to the results (Esc)'}, '← Back'),
        h('h2', {id: 'detail-function'}, row.function),
        h('span', {class: `pill ${res.status || 'completed'}`}, res.status || 'completed'),
        h('span', {class: 'spacer'}),
        h('span', {id: 'position', class: 'muted'}, `${data.index + 1} / ${data.total}`),
        h('button', {type: 'button', id: 'prev', disabled: index <= 0, onclick: () => goTo(index - 1), title: 'Previous result (↑)'}, '↑'),
        h('button', {type: 'button', id: 'next', disabled: index >= data.total - 1, onclick: () => goTo(index + 1), title: 'Next result (↓)'}, '↓'),
        data.eval_path ? h('button', {type: 'button', id: 'rerun-one', title: 'Run this case again', onclick: rerunOne}, 'Rerun') : null),
      h('div', {class: 'detail'},
        h('div', {class: 'detail-main'},
          h('div', {class: 'two'}, pane('Input', res.input, 'pane-input'), pane('Output', res.output, 'pane-output')),
          res.reference !== null && res.reference !== undefined ? pane('Reference', res.reference, 'pane-reference') : null,
          res.error ? h('section', {class: 'pane', id: 'pane-error'}, h('h4', {}, 'Error'), h('pre', {class: 'err'}, res.error)) : null,
          messages ? conversation(messages) : null),
        h('aside', {class: 'detail-side'},
          h('dl', {class: 'facts'},
            h('dt', {}, 'Status'), h('dd', {}, res.status || 'completed'),
            h('dt', {}, 'Latency'), h('dd', {class: latencyClass(res.latency)}, fmtLatency(res.latency)),
            h('dt', {}, 'Dataset'), h('dd', {}, row.dataset || '—'),
            h('dt', {}, 'Labels'), h('dd', {}, (row.labels || []).length ? row.labels.map((l) => h('span', {class: 'label-chip'}, l)) : '—'),
            h('dt', {}, 'Run'), h('dd', {}, data.run_name || data.run_id),
            traceUrl ? [h('dt', {}, 'Trace'), h('dd', {}, h('a', {href: traceUrl, target: '_blank', rel: 'noopener noreferrer'}, 'View trace ↗'))] : null),
          h('h4', {}, 'Scores'),
          (res.scores || []).length ? h('div', {class: 'score-cards', id: 'score-cards'}, res.scores.map(scoreCard)) : h('p', {class: 'muted'}, 'No scores'),
          annotation(res),
          res.metadata ? collapsible('Metadata', res.metadata) : null,
          otherTrace && Object.keys(otherTrace).length ? collapsible('Trace data', otherTrace) : null)));
  }

  function pane(label, value, id) {
    const t = viewText(value);
    return h('section', {class: 'pane', id},
      h('div', {class: 'pane-head'}, h('h4', {}, label),
        t ? h('button', {type: 'button', class: 'ghost small', title: `Copy the ${label.toLowerCase()}`, onclick: () => copy(t)}, 'Copy') : null),
      t ? h('pre', {}, t) : h('p', {class: 'muted'}, '—'));
  }

  /** Objects, and strings holding JSON, as indented JSON; other strings as they are. */
  function viewText(v) {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v === 'string') {
      const t = v.trim();
      if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
        try { return JSON.stringify(JSON.parse(t), null, 2); } catch (e) { return v; }
      }
      return v;
    }
    return JSON.stringify(v, null, 2);
  }

  function scoreCard(sc) {
    const kind = sc.passed === true ? 'pass' : sc.passed === false ? 'fail' : 'value';
    return h('div', {class: `score-card ${kind}`, dataset: {key: sc.key}},
      h('b', {}, sc.key), ' ', sc.passed === true ? '✓' : sc.passed === false ? '✗' : '',
      sc.value !== null && sc.value !== undefined ? h('span', {class: 'score-value'}, ` ${Number(sc.value).toFixed(3)}`) : null,
      sc.notes ? h('div', {class: 'muted'}, sc.notes) : null);
  }

  function collapsible(label, value) {
    return h('details', {class: 'collapsible'}, h('summary', {}, label), h('pre', {}, text(value, 2)));
  }

  function conversation(messages) {
    const toolNames = {};
    messages.forEach((m) => (m.tool_calls || []).forEach((c) => { if (c.id) toolNames[c.id] = (c.function && c.function.name) || c.name; }));
    const role = (r) => ({human: 'user', ai: 'assistant'}[r] || r || 'message');
    const content = (c) => {
      if (c === null || c === undefined) return null;
      if (typeof c === 'string') return h('div', {class: 'msg-text'}, c);
      if (Array.isArray(c)) return c.map((p) => (p && p.type === 'text' ? h('div', {class: 'msg-text'}, p.text) : h('pre', {}, text(p, 2))));
      return h('pre', {}, text(c, 2));
    };
    return h('section', {class: 'pane conversation', id: 'conversation'},
      h('h4', {}, `Messages (${messages.length})`),
      messages.map((m) => {
        const r = role(m.role || m.type);
        return h('div', {class: `msg msg-${r}`},
          h('div', {class: 'msg-role'}, r, r === 'tool' && m.tool_call_id ? ` · ${toolNames[m.tool_call_id] || m.tool_call_id}` : ''),
          content(m.content),
          (m.tool_calls || []).map((c) => h('div', {class: 'tool-call'},
            h('b', {}, `→ ${(c.function && c.function.name) || c.name || 'tool'}`),
            h('pre', {}, viewText((c.function && c.function.arguments) || c.arguments || c.args)))));
      }));
  }

  function annotation(res) {
    const saved = res.annotation || '';
    area = h('textarea', {id: 'annotation', rows: 4, placeholder: 'A note on this result (Ctrl+Enter saves)', 'aria-label': 'Annotation'});
    area.value = saved;
    let current = saved;
    const mark = () => {
      const dirty = area.value !== current;
      state.textContent = dirty ? 'Unsaved changes' : current ? 'Saved' : '';
      state.className = `save-state ${dirty ? 'dirty' : 'saved'}`;
    };
    const save = async () => {
      const value = area.value.trim() || null;
      state.textContent = 'Saving…';
      state.className = 'save-state saving';
      try {
        const r = await api.annotate(data.run_id, index, value);
        current = (r.result && r.result.result && r.result.result.annotation) || '';
        area.value = current;
        data.result = r.result;
        mark();
      } catch (e) {
        state.textContent = 'Not saved: ' + e.message;
        state.className = 'save-state failed';
        if (e.status === 400) {
          state.append(' ', h('button', {type: 'button', class: 'ghost small', onclick: async () => {
            try { await api.activate(data.run_id); save(); } catch (err) { toast(err.message, 'error'); }
          }}, 'Make this run active and save'));
        }
      }
    };
    area.addEventListener('input', mark);
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); save(); }
      if (e.key === 'Escape') { area.value = current; mark(); }
    });
    mark();
    return h('section', {class: 'annotation'}, h('h4', {}, 'Annotation'), area,
      h('div', {class: 'row-gap'}, h('button', {type: 'button', id: 'save-annotation', class: 'primary', onclick: save}, 'Save'), state));
  }

  async function rerunOne() {
    try {
      await api.rerun([index]);
      toast('Running this case again');
      if (stopLive) { stopLive(); stopLive = null; }
      load();
    } catch (e) {
      toast('Rerun failed: ' + e.message, 'error');
    }
  }

  const unkeys = registerPage([
    {key: '↑', keys: ['k'], label: 'Previous result (also k)', run: () => { if (index > 0) goTo(index - 1); }},
    {key: '↓', keys: ['j'], label: 'Next result (also j)', run: () => { if (data && index < data.total - 1) goTo(index + 1); }},
    {key: 'Esc', label: 'Back to the results', run: back},
    {key: 'e', label: 'Edit the annotation', run: () => { if (area) area.focus(); }},
  ]);

  el.append(h('p', {class: 'muted'}, 'Loading…'));
  load();
  return () => {
    alive = false;
    if (stopLive) stopLive();
    unkeys();
  };
}
