// The run view: stats bar, score chips, suite errors, run controls, searchable results table,
// one row's detail with its annotation. Live through server-sent events while the run changes.
import * as api from './api.js';

const url = new URL(location.href);
const state = {
  run: url.searchParams.get('run'),   // null: the active run
  q: url.searchParams.get('q') || '',
  row: url.searchParams.has('row') ? Number(url.searchParams.get('row')) : null,
};
let data = null;
let suites = null;   // GET /api/suites: what the eval path holds, and its mistakes
let root = null;
let events = null;
let refreshTimer = null;

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function saveUrl() {
  const u = new URL(location.href);
  u.searchParams.delete('token');
  for (const [k, v] of Object.entries(state)) {
    if (v === null || v === '') u.searchParams.delete(k); else u.searchParams.set(k, v);
  }
  history.replaceState(null, '', u);
}

const text = (v) => v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v, null, 1);
const fmtLatency = (s) => s === null || s === undefined ? '--' : `${Number(s).toFixed(2)}s`;
const busy = () => data && data.results.some((r) => ['pending', 'running'].includes(r.result.status));

function chipPct(c) {
  if (c.type === 'ratio') return c.total ? c.passed / c.total : 0;
  return c.avg === null ? 0 : Math.max(0, Math.min(1, c.avg));
}

function stats() {
  const done = data.results.filter((r) => !['pending', 'running', 'not_started'].includes(r.result.status)).length;
  const chips = (data.score_chips || []).map((c) => h('div', {class: 'chip', 'data-key': c.key},
    h('div', {class: 'chip-bar'}, h('span', {style: `height:${Math.round(chipPct(c) * 100)}%`})),
    h('b', {}, c.key),
    h('span', {class: 'chip-value'}, c.type === 'ratio'
      ? `${Math.round(chipPct(c) * 100)}% (${c.passed}/${c.total})`
      : `avg ${Number(c.avg).toFixed(2)} (${c.count})`)));
  return h('div', {class: 'stats'},
    h('div', {class: 'ident'},
      h('span', {class: 'label'}, 'Session'), h('b', {id: 'session-name'}, data.session_name || '—'),
      h('span', {class: 'label'}, 'Run'), runPicker(),
      data.run_id ? h('button', {class: 'link', title: 'Rename', onclick: rename}, '✎') : null),
    h('div', {class: 'counts'},
      h('span', {}, 'Tests ', h('b', {id: 'total'}, data.total_evaluations ?? data.results.length)),
      h('span', {}, 'Passed ', h('b', {id: 'passed'}, data.total_passed ?? 0)),
      h('span', {}, 'Errors ', h('b', {id: 'errors'}, data.total_errors ?? 0)),
      h('span', {}, 'Avg latency ', h('b', {}, fmtLatency(data.average_latency))),
      busy() ? h('span', {id: 'progress'}, `Running ${done}/${data.results.length}`) : null),
    h('div', {class: 'chips', id: 'chips'}, chips.length ? chips : h('span', {class: 'muted'}, 'No scores yet')),
    controls());
}

function runPicker() {
  const sel = h('select', {id: 'run-picker', onchange: (e) => { state.run = e.target.value || null; state.row = null; load(); }},
    h('option', {value: data.run_id || ''}, data.run_name || '(not run yet)'));
  if (data.session_name) {
    api.sessionRuns(data.session_name).then(({runs}) => {
      sel.replaceChildren(...runs.map((r) => h('option', {value: r.run_id, selected: r.run_id === data.run_id},
        `${r.run_name} (${new Date(r.timestamp * 1000).toLocaleString()})`)));
    }).catch(() => {});
  }
  return sel;
}

function controls() {
  const act = (fn) => async () => {
    try { await fn(); state.run = null; await load(); } catch (e) { alert('Run failed: ' + e.message); }
  };
  const viewingOther = state.run && data.active_run_id && state.run !== data.active_run_id;
  return h('div', {class: 'controls'},
    viewingOther ? h('button', {id: 'activate', onclick: act(() => api.activate(state.run))}, 'Make active') : null,
    busy()
      ? h('button', {id: 'stop', class: 'danger', onclick: act(api.stop)}, 'Stop')
      : [h('button', {id: 'rerun', onclick: act(() => api.rerun(selected()))}, data.run_id ? 'Rerun' : 'Run'),
         h('button', {id: 'new-run', onclick: act(() => api.newRun(null, selected()))}, 'New run')],
    data.run_id ? h('a', {class: 'button', href: api.exportUrl(data.run_id, 'json')}, 'JSON') : null,
    data.run_id ? h('a', {class: 'button', href: api.exportUrl(data.run_id, 'csv')}, 'CSV') : null);
}

function selected() {
  const boxes = [...root.querySelectorAll('input.pick:checked')].map((b) => Number(b.dataset.index));
  return boxes.length ? boxes : null;
}

async function rename() {
  const name = prompt('Run name', data.run_name);
  if (!name) return;
  try { await api.renameRun(data.run_id, name); await load(); } catch (e) { alert(e.message); }
}

function suiteErrors() {
  const errs = suites ? suites.errors : [];
  if (!errs.length) return null;
  return h('div', {class: 'suite-errors', id: 'suite-errors'},
    h('b', {}, `${errs.length} suite file${errs.length > 1 ? 's' : ''} could not be read`),
    h('ul', {}, errs.map((e) => h('li', {}, h('code', {}, `${e.file}:${e.line}`), ' ', e.message))));
}

function matches(r) {
  if (!state.q) return true;
  const q = state.q.toLowerCase();
  const res = r.result;
  const hay = [r.function, r.dataset, ...(r.labels || []), text(res.input), text(res.output), text(res.reference),
    res.error || '', res.annotation || '', ...(res.scores || []).map((s) => `${s.key} ${s.value ?? ''} ${s.passed ?? ''}`)];
  return hay.join('\n').toLowerCase().includes(q);
}

function scoreBadges(scores) {
  return (scores || []).map((s) => h('span', {
    class: 'badge ' + (s.passed === true ? 'pass' : s.passed === false ? 'fail' : 'value'),
    title: [s.value !== null && s.value !== undefined ? Number(s.value).toFixed(3) : null, s.notes].filter(Boolean).join(' — '),
  }, s.value !== null && s.value !== undefined && s.passed === null ? `${s.key}:${Number(s.value).toFixed(1)}` : s.key));
}

function row(r, i) {
  const res = r.result;
  const status = res.status || 'completed';
  return h('tr', {class: `row status-${status}`, 'data-index': i, onclick: (e) => {
    if (e.target.closest('input,button,a,textarea')) return;
    state.row = state.row === i ? null : i;
    saveUrl();
    renderTable();
  }},
    h('td', {}, h('input', {type: 'checkbox', class: 'pick', 'data-index': i})),
    h('td', {class: 'fn'}, h('div', {}, r.function),
      h('div', {class: 'meta'}, h('span', {class: `pill ${status}`}, status), ' ', r.dataset || '',
        ...(r.labels || []).map((l) => h('span', {class: 'label-chip'}, l)))),
    h('td', {}, h('div', {class: 'clamp'}, text(res.input))),
    h('td', {}, h('div', {class: 'clamp'}, text(res.reference))),
    h('td', {}, h('div', {class: 'clamp'}, res.error ? h('span', {class: 'err'}, res.error) : text(res.output))),
    h('td', {class: 'scores'}, scoreBadges(res.scores)),
    h('td', {class: 'time'}, fmtLatency(res.latency)));
}

function detail(r, i) {
  const res = r.result;
  const area = h('textarea', {id: 'annotation', rows: 3, placeholder: 'Add a note for this result'});
  area.value = res.annotation || '';
  const save = async () => {
    try {
      await api.annotate(data.run_id, i, area.value.trim() || null);
      await load();
    } catch (e) { alert(e.message); }
  };
  return h('tr', {class: 'detail'}, h('td', {colspan: 7},
    h('div', {class: 'panes'},
      h('div', {}, h('h4', {}, 'Input'), h('pre', {}, text(res.input) || '—')),
      h('div', {}, h('h4', {}, 'Output'), h('pre', {}, text(res.output) || '—')),
      h('div', {}, h('h4', {}, 'Reference'), h('pre', {}, text(res.reference) || '—'))),
    res.error ? h('div', {}, h('h4', {}, 'Error'), h('pre', {class: 'err'}, res.error)) : null,
    (res.scores || []).length ? h('div', {}, h('h4', {}, 'Scores'), h('ul', {}, res.scores.map((s) =>
      h('li', {}, h('b', {}, s.key), ' ', s.passed === true ? '✓' : s.passed === false ? '✗' : '',
        s.value !== null && s.value !== undefined ? ` ${s.value}` : '', s.notes ? ` — ${s.notes}` : '')))) : null,
    res.metadata ? h('div', {}, h('h4', {}, 'Metadata'), h('pre', {}, text(res.metadata))) : null,
    data.run_id ? h('div', {class: 'annotation'}, h('h4', {}, 'Annotation'), area,
      h('button', {id: 'save-annotation', onclick: save}, 'Save')) : null));
}

function renderTable() {
  const body = root.querySelector('tbody');
  const rows = [];
  data.results.forEach((r, i) => {
    if (!matches(r)) return;
    rows.push(row(r, i));
    if (state.row === i) rows.push(detail(r, i));
  });
  body.replaceChildren(...rows);
  root.querySelector('#shown').textContent = rows.filter((r) => r.classList.contains('row')).length;
}

function render() {
  const search = h('input', {id: 'search', type: 'search', placeholder: 'Search evals, inputs, outputs, errors, notes', value: state.q,
    oninput: (e) => { state.q = e.target.value; saveUrl(); renderTable(); }});
  root.replaceChildren(
    stats(),
    suiteErrors(),
    h('div', {class: 'tools'}, search, h('span', {class: 'muted'}, h('span', {id: 'shown'}), ' shown')),
    h('table', {class: 'results'},
      h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'Eval'), h('th', {}, 'Input'), h('th', {}, 'Reference'),
        h('th', {}, 'Output'), h('th', {}, 'Scores'), h('th', {}, 'Time'))),
      h('tbody', {})));
  renderTable();
}

function listen() {
  if (events) events.close();
  events = null;
  if (!data.run_id) return;
  events = new EventSource(api.eventsUrl(data.run_id));
  events.addEventListener('row', (e) => {
    const {index, row: changed} = JSON.parse(e.data);
    if (data.results[index]) data.results[index] = changed;
    renderTable();
    scheduleRefresh();
  });
  events.addEventListener('done', () => scheduleRefresh());
}

// Totals and chips come from the server's views; refetch them once a burst of changes settles.
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => load(false), 250);
}

async function load(resubscribe = true) {
  suites = await api.suites().catch(() => null);
  const [shown, active] = state.run ? await Promise.all([api.runData(state.run), api.activeRun().catch(() => null)])
    : [await api.activeRun().catch((e) => {
        if (e.status === 404) return {results: [], score_chips: [], run_id: null, run_name: null, session_name: null};
        throw e;
      }), null];
  data = shown;
  data.active_run_id = state.run ? active && active.run_id : data.run_id;
  saveUrl();
  render();
  if (resubscribe) listen();
}

export async function renderRun(el) {
  root = el;
  await load();
}
