// Results: the active run (or ?run_id=, which becomes the active run, as in the original UI) one page
// of rows at a time from the rows endpoint, filtered and sorted by the server. Stats bar with score-chip
// bars, session and run pickers, rename, run controls with live progress, search (text or regex),
// filters, sortable and resizable columns, row selection, exports.
import * as api from '../api.js';
import * as live from '../live.js';
import * as router from '../router.js';
import {registerPage} from '../keys.js';
import {h, fill, text, debounce, fmtLatency, latencyClass, fmtInt, chipPct, pctClass, chipLabel, scoreBadges, toast, empty,
  code, store} from '../dom.js';
import * as F from '../filters.js';
import {runInfo, runLabel} from '../runs.js';
import {isShared, shareButton} from '../share.js';

export const title = 'Results';

const COLUMNS = [
  {id: 'function', title: 'Eval', sort: 'function', width: 220},
  {id: 'input', title: 'Input', width: 260},
  {id: 'reference', title: 'Reference', width: 200},
  {id: 'output', title: 'Output', width: 260},
  {id: 'error', title: 'Error', width: 220, hidden: true},
  {id: 'scores', title: 'Scores', sort: 'score:', width: 170},   // score:KEY of the run's first score key
  {id: 'latency', title: 'Time', sort: 'latency', width: 80},
];
const STATUSES = ['completed', 'error', 'running', 'pending', 'cancelled', 'not_started'];
const BUSY = new Set(['pending', 'running']);
const PAGE_SIZES = [25, 50, 100, 200];
const CELL_CHARS = 1500;   // a table cell shows this much; the detail page shows everything

export function mount(el, initial) {
  const s = {
    params: initial,
    runId: initial.get('run_id') || 'latest',
    answer: null,
    info: null,
    selected: new Set(),
    lastClicked: null,
    cursor: -1,
    busy: false,
    progress: null,          // {done, total} while a run goes on
    datasets: new Set(),
    labels: new Set(),
    alive: true,
    abort: null,
    stopLive: null,
    panel: false,
  };
  const hiddenCols = new Set(store.get('hidden_columns', COLUMNS.filter((c) => c.hidden).map((c) => c.id)));
  const widths = store.get('col_widths', {});
  s.params.getAll('dataset_in').concat(s.params.getAll('dataset_out')).forEach((d) => s.datasets.add(d));
  s.params.getAll('label_in').concat(s.params.getAll('label_out')).forEach((d) => s.labels.add(d));

  // ---- layout ----
  const statsEl = h('section', {class: 'stats', id: 'stats'});
  const suiteErrEl = h('div', {});
  const search = h('input', {id: 'search', type: 'search', placeholder: 'Search evals, inputs, outputs, errors, notes  ( / )',
    value: s.params.get('search') || '', 'aria-label': 'Search'});
  const regexBtn = h('button', {type: 'button', id: 'regex', class: 'toggle', title: 'Search with a regular expression',
    'aria-pressed': s.params.get('regex') === '1' ? 'true' : 'false'}, '.*');
  const filterBtn = h('button', {type: 'button', id: 'filters-button'}, 'Filters');
  const colsBtn = h('button', {type: 'button', id: 'columns-button'}, 'Columns');
  const exportBtn = h('button', {type: 'button', id: 'export-button'}, 'Export');
  const searchErr = h('span', {class: 'field-error', id: 'search-error'});
  const chipsEl = h('div', {class: 'filter-chips', id: 'filter-chips'});
  const panelEl = h('div', {class: 'panel', id: 'filters-panel', hidden: true});
  const menuEl = h('div', {class: 'menu-holder'});
  const selEl = h('span', {class: 'muted', id: 'selection'});
  const table = h('table', {class: 'results', id: 'results'});
  const bodyEl = h('tbody', {});
  const pagerEl = h('div', {class: 'pager', id: 'pager'});
  const mainEl = h('div', {id: 'results-main'});
  el.append(statsEl, suiteErrEl,
    h('div', {class: 'tools'}, h('div', {class: 'search-box'}, search, regexBtn), filterBtn, colsBtn, exportBtn, selEl, searchErr, menuEl),
    chipsEl, panelEl, mainEl);

  // ---- URL state ----
  const setParam = (name, values, {push = true} = {}) => {
    s.params.delete(name);
    (Array.isArray(values) ? values : [values]).filter((v) => v !== null && v !== undefined && v !== '').forEach((v) => s.params.append(name, v));
    if (name !== 'offset') s.params.delete('offset');
    router.setQuery(s.params, {push});
    load();
  };
  const removeValue = (name, value) => setParam(name, s.params.getAll(name).filter((v) => v !== value));
  const toggleValue = (name, value) => {
    const vs = s.params.getAll(name);
    setParam(name, vs.includes(value) ? vs.filter((v) => v !== value) : [...vs, value]);
  };

  // ---- loading ----
  async function load({quiet = false} = {}) {
    if (s.abort) s.abort.abort();
    const abort = new AbortController();
    s.abort = abort;
    const q = F.viewParams(s.params);
    if (!q.has('limit')) q.set('limit', store.get('page_size', 50));
    if (!quiet) table.classList.add('loading');
    try {
      const answer = await api.rows(s.runId, q, abort.signal);
      if (!s.alive || abort !== s.abort) return;
      s.answer = answer;
      searchErr.textContent = '';
      // the answer names every dataset and label of the run (sorted), not only those of the rows on the page
      answer.datasets.forEach((d) => s.datasets.add(d));
      answer.labels.forEach((l) => s.labels.add(l));
      const busyRows = answer.rows.some((r) => BUSY.has(r.result.status));
      if (busyRows) s.busy = true;
      else if (answer.filtered === answer.total && answer.rows.length === answer.total) s.busy = false;   // every row is in view
      applyStatuses(answer.totals);
      renderAll();
      if (s.busy && !s.hasStatuses) progressSoon();
      if (!s.info || s.info.run_id !== answer.run_id) {
        s.info = {run_id: answer.run_id, run_name: answer.run_name, session_name: answer.session_name};
        runInfo(answer.run_id, answer).then((info) => { if (s.alive) { s.info = info; renderStats(); } }).catch(() => {});
        if (s.stopLive) s.stopLive();
        if (!isShared()) s.stopLive = live.watch(answer.run_id, {hello: (d, again) => { if (again || s.busy) load({quiet: true}); }, row: onRow, totals: onTotals,
          done: onDone});
      }
    } catch (e) {
      if (e.name === 'AbortError' || !s.alive) return;
      if (e.status === 422 && /search|regex/i.test(e.message)) {
        searchErr.textContent = e.message;
      } else if (e.status === 404 && !s.answer) {
        noRun(e);
      } else {
        toast('Loading results failed: ' + e.message, 'error');
      }
    } finally {
      if (abort === s.abort) table.classList.remove('loading');
    }
  }

  async function noRun(e) {
    fill(statsEl);
    let suites = null;
    try { suites = await api.suites(); } catch (err) { /* no runner on this server */ }
    if (!s.alive) return;
    const cases = suites ? suites.suites.reduce((n, x) => n + x.cases, 0) : 0;
    const host = location.origin;
    fill(mainEl, empty(s.runId === 'latest' ? 'No run yet' : `Run ${s.runId} was not found`,
      cases ? h('p', {}, `The eval path holds ${cases} case${cases === 1 ? '' : 's'} in ${suites.suites.length} suite file(s). `,
        h('button', {type: 'button', id: 'run-first', class: 'primary', onclick: () => control(() => api.newRun(null, null))}, 'Run them'))
        : null,
      'Run the suites of a folder from a terminal:', code('./run.sh run evals'),
      'or report results from any script:',
      code(`curl -H "X-User-Token: $TOKEN" -d '{"session_name":"nightly"}' ${host}/api/runs\n`
        + `curl -H "X-User-Token: $TOKEN" -d '{"results":[{"function":"test_add","result":{"input":"2+2","output":"4",`
        + `"scores":[{"key":"accuracy","passed":true}]}}]}' ${host}/api/runs/latest/results`),
      e && e.status !== 404 ? h('p', {class: 'field-error'}, e.message) : null));
    renderSuiteErrors(suites);
  }

  // ---- live ----
  const refreshSoon = debounce(() => load({quiet: true}), 300);

  /**
   * Progress from the server, not from counting events (a fast case can end before this page
   * subscribes): the rows still pending or running, counted by the rows endpoint without any row.
   */
  const progressSoon = debounce(async () => {
    if (!s.answer || !s.alive) return;
    try {
      const left = await api.rows(s.answer.run_id, new URLSearchParams('status=pending&status=running&limit=0'));
      if (!s.alive) return;
      const total = (s.answer.totals && s.answer.totals.selected_total) || left.total;
      s.progress = {done: Math.max(0, total - left.filtered), total};
      s.busy = left.filtered > 0;
      renderStats();
    } catch (e) { /* the next event tries again */ }
  }, 150);

  function onRow(d) {
    const row = d.row || d.result_row;
    if (typeof d.index === 'number' && row && s.answer) {
      const i = s.answer.rows.findIndex((r) => r.index === d.index);
      if (i >= 0) {
        s.answer.rows[i] = {...row, index: d.index};
        const tr = bodyEl.querySelector(`tr.row[data-index="${d.index}"]`);
        if (tr) tr.replaceWith(rowEl(s.answer.rows[i]));
        performance.mark('scorebook:live-row');
      }
      if (BUSY.has(row.result && row.result.status)) s.busy = true;
      if (s.busy && !s.hasStatuses) progressSoon();
    }
    if (d.totals) onTotals(d);
    else {
      renderStats();
      refreshSoon();
    }
  }

  /**
   * New run totals: the "totals" event ({run_id, totals: {…, statuses}, chips}) after a change. They
   * replace the stats bar's figures directly when no filter narrows the view; a filtered view asks for
   * its page again, since only the server knows which rows the change moved in or out.
   */
  /** Busy and progress from the run's status counts, when the server sends them. */
  function applyStatuses(t) {
    if (!t || !t.statuses) return;
    const left = (t.statuses.pending || 0) + (t.statuses.running || 0);
    const total = t.selected_total || t.total_evaluations || s.answer.total;
    s.busy = left > 0;
    s.progress = s.busy ? {done: Math.max(0, total - left), total} : null;
    s.hasStatuses = true;
  }

  function onTotals(d) {
    if (!s.answer || (d.run_id && d.run_id !== s.answer.run_id)) return;
    refreshSoon.cancel();
    const t = d.totals || d;
    s.answer.totals = {...(s.answer.totals || {}), ...t};
    applyStatuses(t);
    if (F.activeCount(s.params) > 0) {
      refreshSoon();
    } else {
      if (t.total_evaluations !== undefined) s.answer.total = s.answer.filtered = t.total_evaluations;
      if (d.chips) s.answer.chips = d.chips;
      if (t.average_latency !== undefined) s.answer.average_latency = t.average_latency;
    }
    renderStats();
  }

  function onDone() {
    s.busy = false;
    s.progress = null;
    load({quiet: true});
  }

  // ---- run controls ----
  async function control(action, {starts = true} = {}) {
    try {
      const r = await action();
      if (starts) {
        s.busy = true;
        s.progress = null;
      } else {
        s.busy = false;
        s.progress = null;
      }
      if (r && r.run_id && r.run_id !== (s.answer && s.answer.run_id)) {
        s.runId = 'latest';
        s.info = null;
        s.params.delete('run_id');
        router.setQuery(s.params);
        s.answer = null;
      }
      s.selected.clear();
      load({quiet: true});
    } catch (e) {
      toast('Run failed: ' + e.message, 'error');
    }
  }

  // ---- rendering ----
  function renderAll() {
    renderStats();
    renderTools();
    renderTable();
  }

  function renderStats() {
    const a = s.answer;
    if (!a) return;
    const info = s.info || {};
    const filtering = a.filtered !== a.total;
    const runPicker = h('select', {id: 'run-picker', 'aria-label': 'Run',
      onchange: (e) => router.go('results', {run_id: e.target.value})}, h('option', {value: a.run_id}, info.run_name || a.run_id));
    const sessionPicker = h('select', {id: 'session-picker', 'aria-label': 'Session', onchange: (e) => pickSession(e.target.value)},
      h('option', {value: info.session_name || ''}, info.session_name || '—'));
    if (info.session_name) fillPickers(sessionPicker, runPicker, info.session_name, a.run_id);
    const chips = a.chips || [];
    const prog = s.busy ? s.progress : null;
    statsEl.replaceChildren(
      h('div', {class: 'ident'},
        h('label', {}, h('span', {class: 'label'}, 'Session'), sessionPicker),
        h('label', {}, h('span', {class: 'label'}, 'Run'), runPicker),
        h('button', {type: 'button', class: 'ghost', id: 'rename', title: 'Rename this run', onclick: () => rename(runPicker)}, '✎')),
      h('div', {class: 'counts'},
        h('span', {}, h('span', {class: 'label'}, 'Tests'),
          h('b', {id: 'count'}, filtering ? `${fmtInt(a.filtered)}/${fmtInt(a.total)}` : fmtInt(a.total))),
        a.totals ? h('span', {}, h('span', {class: 'label'}, 'Passed'), h('b', {id: 'passed'}, fmtInt(a.totals.total_passed))) : null,
        a.totals ? h('span', {}, h('span', {class: 'label'}, 'Errors'), h('b', {id: 'errors'}, fmtInt(a.totals.total_errors))) : null,
        a.average_latency !== undefined ? h('span', {}, h('span', {class: 'label'}, 'Avg latency'),
          h('b', {class: latencyClass(a.average_latency)}, fmtLatency(a.average_latency))) : null,
        s.busy ? progressEl(prog) : null),
      h('div', {class: 'chips', id: 'chips'}, chips.length ? chips.map(chipEl) : h('span', {class: 'muted'}, 'No scores yet')),
      isShared() ? h('div', {class: 'controls'}, h('span', {class: 'muted', id: 'shared-note'}, 'Shared view, read-only')) : h('div', {class: 'controls'},
        shareButton({kind: 'run', run_id: a.run_id}),
        s.busy
          ? h('button', {type: 'button', id: 'stop', class: 'danger', onclick: () => control(api.stop, {starts: false})}, 'Stop')
          : [h('button', {type: 'button', id: 'rerun', class: 'primary', title: 'Run again, in place (the checked rows, or all)',
            onclick: () => control(() => api.rerun([...s.selected]))}, s.selected.size ? `Rerun ${s.selected.size} selected` : 'Rerun'),
          h('button', {type: 'button', id: 'new-run', title: 'A fresh run in this session',
            onclick: () => control(() => api.newRun(null, [...s.selected]))}, 'New run')],
        h('a', {class: 'button', id: 'compare-link', href: router.href('compare', {run_id: a.run_id})}, 'Compare…')));
  }

  /** Progress of the run going on: rows finished, of the rows it runs. */
  function progressEl(p) {
    const total = p ? p.total : 0;
    const done = p ? Math.min(p.done, total) : 0;
    const pct = total ? Math.round((done / total) * 100) : 0;
    const bar = h('span', {class: 'bar-fill'});
    bar.style.width = `${pct}%`;
    return h('span', {id: 'progress', class: 'progress'}, h('span', {class: 'label'}, 'Running'),
      h('span', {class: 'bar'}, bar), total ? `${pct}% (${done}/${total})` : '…');
  }

  function chipEl(c) {
    const pct = chipPct(c);
    const fillEl = h('span', {class: `chip-fill ${pctClass(pct)}`});
    fillEl.style.height = `${pct}%`;
    return h('div', {class: 'chip', dataset: {key: c.key}, title: `${c.key}: ${chipLabel(c)}`},
      h('span', {class: 'chip-pct'}, `${pct}%`),
      h('span', {class: 'chip-bar'}, fillEl),
      h('b', {class: 'chip-key'}, c.key),
      h('span', {class: 'chip-value'}, chipLabel(c)));
  }

  async function fillPickers(sessionPicker, runPicker, session, runId) {
    const key = `${session}\u0000${runId}`;
    if (!s.pickers || s.pickers.key !== key) {
      s.pickers = {key, data: Promise.all([api.sessions(), api.sessionRuns(session)])};
    }
    try {
      const [{sessions}, {runs}] = await s.pickers.data;
      if (!s.alive) return;
      sessionPicker.replaceChildren(...sessions.map((x) => h('option', {value: x, selected: x === session}, x)));
      runPicker.replaceChildren(...runs.map((r) => h('option', {value: r.run_id, selected: r.run_id === runId}, runLabel(r))));
    } catch (e) {
      s.pickers = null;   // the pickers keep the current names; try again next time
    }
  }

  async function pickSession(name) {
    try {
      const {runs} = await api.sessionRuns(name);
      if (runs.length) router.go('results', {run_id: runs[0].run_id});
    } catch (e) { toast(e.message, 'error'); }
  }

  function rename(runPicker) {
    const input = h('input', {id: 'rename-input', value: (s.info && s.info.run_name) || '', 'aria-label': 'New run name'});
    const save = async () => {
      const name = input.value.trim();
      if (!name) return;
      try {
        const r = await api.renameRun(s.answer.run_id, name);
        s.info = {...s.info, run_name: r.run.run_name};
        s.pickers = null;
        toast('Renamed');
      } catch (e) {
        toast('Rename failed: ' + e.message, 'error');
      }
      renderStats();
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); save(); }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); renderStats(); }
    });
    runPicker.replaceWith(input, h('button', {type: 'button', id: 'rename-save', onclick: save}, '✓'));
    input.focus();
    input.select();
  }

  function renderSuiteErrors(suites) {
    const errs = suites ? suites.errors : [];
    fill(suiteErrEl, errs.length ? h('div', {class: 'suite-errors', id: 'suite-errors'},
      h('b', {}, `${errs.length} suite file${errs.length > 1 ? 's' : ''} could not be read`),
      h('ul', {}, errs.map((e) => h('li', {}, h('code', {}, `${e.file}:${e.line}`), ' ', e.message)))) : null);
  }

  function renderTools() {
    const n = F.activeCount(s.params);
    filterBtn.textContent = n ? `Filters (${n})` : 'Filters';
    filterBtn.classList.toggle('active', n > 0);
    fill(chipsEl, F.chips(s.params, removeValue),
      n ? h('button', {type: 'button', class: 'ghost', id: 'clear-filters', onclick: clearFilters}, 'Clear all') : null);
    selEl.replaceChildren(...(s.selected.size ? [`${s.selected.size} selected `,
      h('button', {type: 'button', class: 'ghost', onclick: () => { s.selected.clear(); renderAll(); }}, 'clear')] : []));
    if (s.panel) renderPanel();
  }

  function clearFilters() {
    for (const k of F.FILTER_KEYS) s.params.delete(k);
    search.value = '';
    setParam('offset', null);
  }

  function renderPanel() {
    const rule = h('input', {id: 'rule', placeholder: 'accuracy < 0.5   ·   accuracy = false   ·   quality >= 0.8',
      list: 'score-keys', 'aria-label': 'Score rule'});
    const ruleErr = h('span', {class: 'field-error'});
    const addRule = () => {
      try {
        const [name, value] = F.parseRule(rule.value, (s.answer && s.answer.chips || []).map((c) => c.key));
        setParam(name, [...s.params.getAll(name), value]);
      } catch (e) {
        ruleErr.textContent = e.message;
      }
    };
    rule.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); addRule(); } });
    const tri = (name, label) => {
      const v = s.params.get(name);
      const on = name === 'annotation' ? 'yes' : '1';
      const state = !v || v === 'any' ? 'any' : v === on ? 'include' : 'exclude';
      return h('button', {type: 'button', class: `pill-toggle ${state}`, id: `toggle-${name}`, title: 'Any → only → none',
        onclick: () => setParam(name, F.nextTriState(name, v))}, state === 'exclude' ? `✕ ${label}` : label);
    };
    const pills = (set, inName, outName, idPrefix) => [...set].sort().map((v) => {
      const inc = s.params.getAll(inName).includes(v);
      const exc = s.params.getAll(outName).includes(v);
      return h('button', {type: 'button', class: `pill-toggle ${inc ? 'include' : exc ? 'exclude' : 'any'}`, dataset: {value: v},
        id: `${idPrefix}-${v}`, onclick: () => {
          const ins = s.params.getAll(inName).filter((x) => x !== v);
          const outs = s.params.getAll(outName).filter((x) => x !== v);
          if (!inc && !exc) ins.push(v); else if (inc) outs.push(v);
          s.params.delete(inName);
          ins.forEach((x) => s.params.append(inName, x));
          setParam(outName, outs);
        }}, exc ? `✕ ${v}` : v);
    });
    fill(panelEl,
      h('datalist', {id: 'score-keys'}, (s.answer && s.answer.chips || []).map((c) => h('option', {value: c.key}))),
      h('div', {class: 'panel-row'}, h('span', {class: 'label'}, 'Score rule'), rule,
        h('button', {type: 'button', id: 'add-rule', onclick: addRule}, 'Add'), ruleErr),
      h('div', {class: 'panel-row'}, h('span', {class: 'label'}, 'Has'),
        tri('annotation', 'note'), tri('has_error', 'error'), tri('has_url', 'trace'), tri('has_messages', 'messages')),
      h('div', {class: 'panel-row'}, h('span', {class: 'label'}, 'Status'),
        STATUSES.map((st) => h('button', {type: 'button', id: `status-${st}`,
          class: `pill-toggle ${s.params.getAll('status').includes(st) ? 'include' : 'any'}`,
          onclick: () => toggleValue('status', st)}, st.replace('_', ' ')))),
      s.datasets.size ? h('div', {class: 'panel-row'}, h('span', {class: 'label'}, 'Datasets'),
        pills(s.datasets, 'dataset_in', 'dataset_out', 'dataset')) : null,
      s.labels.size ? h('div', {class: 'panel-row'}, h('span', {class: 'label'}, 'Labels'),
        pills(s.labels, 'label_in', 'label_out', 'label')) : null);
  }

  // ---- the table ----
  const visibleCols = () => COLUMNS.filter((c) => !hiddenCols.has(c.id));

  function sortState() {
    return s.params.getAll('sort').map((v) => (v.startsWith('-') ? {key: v.slice(1), desc: true} : {key: v, desc: false}));
  }

  /** The server's sort key of a column: the Scores column sorts by the run's first score key. */
  function sortKey(col) {
    if (col.sort !== 'score:') return col.sort;
    const first = s.answer && (s.answer.chips || [])[0];
    return first ? `score:${first.key}` : null;
  }

  function clickSort(col, add) {
    col = {...col, sort: sortKey(col)};
    if (!col.sort) return;
    let sorts = sortState();
    const i = sorts.findIndex((x) => x.key === col.sort);
    if (!add) sorts = i >= 0 ? [sorts[i]] : [];
    const j = sorts.findIndex((x) => x.key === col.sort);
    if (j < 0) sorts.push({key: col.sort, desc: false});
    else if (!sorts[j].desc) sorts[j].desc = true;
    else sorts.splice(j, 1);
    setParam('sort', sorts.map((x) => (x.desc ? '-' : '') + x.key));
  }

  function renderTable() {
    const a = s.answer;
    if (!a) return;
    if (!a.total) {
      fill(mainEl, empty('This run has no results yet',
        'Scripts add results to it with:',
        code(`curl -H "X-User-Token: $TOKEN" -d '{"results":[{"function":"test_add","result":{"output":"4",`
          + `"scores":[{"key":"accuracy","passed":true}]}}]}' ${location.origin}/api/runs/${a.run_id}/results`),
        'or run the suites of the eval path with Rerun above.'));
      return;
    }
    const cols = visibleCols();
    const sorts = sortState();
    const all = h('input', {type: 'checkbox', id: 'select-all', 'aria-label': 'Select the rows on this page', onchange: (e) => {
      a.rows.forEach((r) => (e.target.checked ? s.selected.add(r.index) : s.selected.delete(r.index)));
      renderAll();
    }});
    const onPage = a.rows.filter((r) => s.selected.has(r.index)).length;
    all.checked = onPage > 0 && onPage === a.rows.length;
    all.indeterminate = onPage > 0 && onPage < a.rows.length;
    const colgroup = h('colgroup', {}, h('col', {class: 'col-pick'}), cols.map((c) => {
      const col = h('col', {dataset: {col: c.id}});
      col.style.width = `${widths[c.id] || c.width}px`;
      return col;
    }));
    const head = h('tr', {}, h('th', {class: 'pick'}, all), cols.map((c) => {
      const key = sortKey(c);
      const si = key ? sorts.findIndex((x) => x.key === key) : -1;
      const mark = si < 0 ? '' : (sorts[si].desc ? ' ▼' : ' ▲') + (sorts.length > 1 ? si + 1 : '');
      const th = h('th', {dataset: {col: c.id}, class: key ? 'sortable' : '', 'aria-sort': si < 0 ? null : sorts[si].desc ? 'descending' : 'ascending',
        title: key ? 'Sort (shift-click adds a secondary sort)' : null,
        onclick: (e) => { if (key && !e.target.classList.contains('grip')) clickSort(c, e.shiftKey); }},
      c.title, mark ? h('span', {class: 'sort-mark'}, mark) : null, h('span', {class: 'grip', title: 'Drag to resize'}));
      th.querySelector('.grip').addEventListener('pointerdown', (e) => resize(e, c, colgroup));
      return th;
    }));
    bodyEl.replaceChildren(...a.rows.map(rowEl));
    table.replaceChildren(colgroup, h('thead', {}, head), bodyEl);
    const widthSum = 36 + cols.reduce((n, c) => n + (widths[c.id] || c.width), 0);
    table.style.minWidth = `${widthSum}px`;
    const nothing = a.rows.length === 0
      ? empty('No results match these filters', h('button', {type: 'button', onclick: clearFilters}, 'Clear the filters')) : null;
    fill(mainEl, h('div', {class: 'table-wrap'}, table), nothing, pager());
    performance.mark('scorebook:rows');   // the benchmark times views by these marks
    if (s.cursor >= a.rows.length) s.cursor = a.rows.length - 1;
    markCursor();
  }

  function cell(v, cls) {
    const t = text(v);
    const shown = t.length > CELL_CHARS ? t.slice(0, CELL_CHARS) + '…' : t;
    return h('td', {}, t ? h('div', {class: `clamp ${cls || ''}`, title: t.length > 200 ? t.slice(0, 4000) : t}, shown) : h('span', {class: 'muted'}, '--'));
  }

  function rowEl(r) {
    const res = r.result || {};
    const status = res.status || 'completed';
    const cols = visibleCols();
    const detail = router.href('result', {run_id: s.answer.run_id, index: r.index, ...Object.fromEntries(groupParams(F.filterParams(s.params)))});
    const cells = cols.map((c) => {
      switch (c.id) {
        case 'function':
          return h('td', {class: 'fn'},
            status === 'not_started' ? h('span', {}, r.function) : h('a', {href: detail, class: 'open'}, r.function),
            h('div', {class: 'meta'},
              status !== 'completed' ? h('span', {class: `pill ${status}`}, status === 'error' ? 'err' : status.replace('_', ' ')) : null,
              r.dataset ? h('span', {class: 'dataset'}, r.dataset) : null,
              (r.labels || []).map((l) => h('span', {class: 'label-chip'}, l))));
        case 'scores': return h('td', {class: 'scores'}, BUSY.has(status) ? h('span', {class: 'skeleton'}) : scoreBadges(res.scores));
        case 'latency': return h('td', {class: `time ${latencyClass(res.latency)}`}, fmtLatency(res.latency));
        case 'error': return cell(res.error, 'err');
        case 'output':
          if (BUSY.has(status)) return h('td', {}, h('span', {class: 'skeleton'}));
          return res.error && hiddenCols.has('error') ? cell(res.error, 'err') : cell(res.output);
        default: return cell(res[c.id]);
      }
    });
    const box = h('input', {type: 'checkbox', class: 'pick', checked: s.selected.has(r.index), 'aria-label': `Select ${r.function}`,
      onclick: (e) => pick(r.index, e.target.checked, e.shiftKey)});
    return h('tr', {class: `row status-${status}`, dataset: {index: r.index}, onclick: (e) => {
      if (e.target.closest('input,button,a')) return;
      e.currentTarget.classList.toggle('expanded');
    }}, h('td', {class: 'pick'}, box), cells);
  }

  function groupParams(q) {
    const out = new Map();
    for (const [k, v] of q) out.set(k, out.has(k) ? [].concat(out.get(k), v) : v);
    return out;
  }

  function pick(index, on, range) {
    const rows = s.answer.rows.map((r) => r.index);
    if (range && s.lastClicked !== null && rows.includes(s.lastClicked)) {
      const [a, b] = [rows.indexOf(s.lastClicked), rows.indexOf(index)].sort((x, y) => x - y);
      rows.slice(a, b + 1).forEach((i) => (on ? s.selected.add(i) : s.selected.delete(i)));
    } else if (on) s.selected.add(index); else s.selected.delete(index);
    s.lastClicked = index;
    renderAll();
  }

  function resize(e, col, colgroup) {
    e.preventDefault();
    e.stopPropagation();
    const colEl = colgroup.querySelector(`col[data-col="${col.id}"]`);
    const start = e.clientX;
    const w0 = widths[col.id] || col.width;
    const move = (ev) => {
      widths[col.id] = Math.max(50, Math.min(500, w0 + ev.clientX - start));
      colEl.style.width = `${widths[col.id]}px`;
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      store.set('col_widths', widths);
      renderTable();
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  }

  function pager() {
    const a = s.answer;
    const limit = a.limit || 50;
    const from = a.filtered ? a.offset + 1 : 0;
    const to = Math.min(a.offset + a.rows.length, a.filtered);
    const goTo = (off) => setParam('offset', off > 0 ? String(off) : null);
    const last = Math.max(0, Math.floor((a.filtered - 1) / limit) * limit);
    return h('div', {class: 'pager', id: 'pager'},
      h('button', {type: 'button', disabled: a.offset <= 0, onclick: () => goTo(0), title: 'First page'}, '«'),
      h('button', {type: 'button', id: 'prev-page', disabled: a.offset <= 0, onclick: () => goTo(a.offset - limit), title: 'Previous page ( [ )'}, '‹'),
      h('span', {id: 'page-info'}, `${fmtInt(from)}–${fmtInt(to)} of ${fmtInt(a.filtered)}`,
        a.filtered !== a.total ? h('span', {class: 'muted'}, ` (filtered from ${fmtInt(a.total)})`) : null),
      h('button', {type: 'button', id: 'next-page', disabled: to >= a.filtered, onclick: () => goTo(a.offset + limit), title: 'Next page ( ] )'}, '›'),
      h('button', {type: 'button', disabled: to >= a.filtered, onclick: () => goTo(last), title: 'Last page'}, '»'),
      h('select', {'aria-label': 'Rows per page', onchange: (e) => { store.set('page_size', Number(e.target.value)); setParam('limit', e.target.value); }},
        PAGE_SIZES.map((n) => h('option', {value: n, selected: n === limit}, `${n} per page`))));
  }

  // ---- keyboard cursor ----
  function markCursor() {
    bodyEl.querySelectorAll('tr.cursor').forEach((tr) => tr.classList.remove('cursor'));
    const tr = bodyEl.querySelectorAll('tr.row')[s.cursor];
    if (tr) {
      tr.classList.add('cursor');
      tr.scrollIntoView({block: 'nearest'});
    }
  }
  const moveCursor = (d) => {
    if (!s.answer || !s.answer.rows.length) return;
    s.cursor = Math.max(0, Math.min(s.answer.rows.length - 1, s.cursor + d));
    markCursor();
  };
  const cursorRow = () => (s.answer && s.cursor >= 0 ? s.answer.rows[s.cursor] : null);

  // ---- menus ----
  function columnsMenu() {
    fill(menuEl, h('div', {class: 'menu', id: 'columns-menu'},
      COLUMNS.map((c) => h('label', {}, h('input', {type: 'checkbox', checked: !hiddenCols.has(c.id), dataset: {col: c.id},
        onchange: (e) => {
          if (e.target.checked) hiddenCols.delete(c.id); else hiddenCols.add(c.id);
          store.set('hidden_columns', [...hiddenCols]);
          renderTable();
        }}), ' ', c.title)),
      h('hr'),
      h('button', {type: 'button', onclick: () => { Object.keys(widths).forEach((k) => delete widths[k]); store.set('col_widths', {}); renderTable(); }}, 'Reset widths'),
      h('button', {type: 'button', onclick: () => setParam('sort', [])}, 'Reset sorting'),
      h('button', {type: 'button', onclick: () => {
        hiddenCols.clear();
        COLUMNS.filter((c) => c.hidden).forEach((c) => hiddenCols.add(c.id));
        store.set('hidden_columns', [...hiddenCols]);
        renderTable();
      }}, 'Reset columns')));
  }

  async function exportMenu() {
    const ex = await import('../export.js');
    const ctx = () => ({runId: s.answer.run_id, info: s.info || {}, params: s.params, answer: s.answer,
      columns: visibleCols().map((c) => c.id)});
    const item = (id, label, fmt) => h('button', {type: 'button', id, onclick: async () => {
      fill(menuEl);
      try { await ex.exportRun(fmt, ctx()); } catch (e) { toast('Export failed: ' + e.message, 'error'); }
    }}, label);
    const filtered = F.activeCount(s.params) > 0;
    fill(menuEl, h('div', {class: 'menu', id: 'export-menu'},
      h('div', {class: 'muted small'}, filtered ? `The ${fmtInt(s.answer.filtered)} filtered rows, visible columns` : 'The whole run'),
      item('export-json', 'JSON', 'json'), item('export-csv', 'CSV', 'csv'), item('export-md', 'Markdown', 'md'),
      item('export-png', 'PNG image of the stats', 'png')));
  }

  const toggleMenu = (id, build) => {
    if (menuEl.querySelector(`#${id}`)) fill(menuEl); else build();
  };

  // ---- events ----
  const typed = debounce(() => setParam('search', search.value, {push: false}), 150);
  search.addEventListener('input', typed);
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { typed.cancel(); setParam('search', search.value, {push: false}); } });
  regexBtn.addEventListener('click', () => {
    const on = s.params.get('regex') !== '1';
    regexBtn.setAttribute('aria-pressed', on ? 'true' : 'false');
    setParam('regex', on ? '1' : null);
  });
  filterBtn.addEventListener('click', () => {
    s.panel = !s.panel;
    panelEl.hidden = !s.panel;
    if (s.panel) renderPanel();
  });
  colsBtn.addEventListener('click', () => toggleMenu('columns-menu', columnsMenu));
  exportBtn.addEventListener('click', () => { if (s.answer) toggleMenu('export-menu', exportMenu); });
  const closeMenus = (e) => { if (!e.target.closest('.menu, #columns-button, #export-button')) fill(menuEl); };
  document.addEventListener('click', closeMenus);

  const unkeys = registerPage([
    {key: '/', label: 'Search', run: () => search.focus()},
    {key: 'j', keys: ['↓'], label: 'Next row (also ↓)', run: () => moveCursor(1)},
    {key: 'k', keys: ['↑'], label: 'Previous row (also ↑)', run: () => moveCursor(-1)},
    {key: 'Enter', keys: ['o'], label: 'Open the row (also o)', run: () => {
      const r = cursorRow();
      if (r) router.go('result', {run_id: s.answer.run_id, index: r.index, ...Object.fromEntries(groupParams(F.filterParams(s.params)))});
    }},
    {key: 'x', label: 'Select the row', run: () => { const r = cursorRow(); if (r) pick(r.index, !s.selected.has(r.index), false); }},
    {key: ']', label: 'Next page', run: () => { const b = document.getElementById('next-page'); if (b && !b.disabled) b.click(); }},
    {key: '[', label: 'Previous page', run: () => { const b = document.getElementById('prev-page'); if (b && !b.disabled) b.click(); }},
    {key: 'f', label: 'Show or hide the filters', run: () => filterBtn.click()},
    {key: 'Esc', label: 'Close menus', run: () => fill(menuEl)},
  ]);

  // ---- start ----
  (async () => {
    if (s.runId !== 'latest') {
      try {
        await api.activate(s.runId);
      } catch (e) {
        if (e.status === 404) { noRun(e); return; }
      }
    }
    load();
    api.suites().then((x) => { if (s.alive) renderSuiteErrors(x); }).catch(() => {});
  })();

  return () => {
    s.alive = false;
    if (s.abort) s.abort.abort();
    if (s.stopLive) s.stopLive();
    document.removeEventListener('click', closeMenus);
    unkeys();
  };
}
