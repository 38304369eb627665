// Compare: up to 4 runs from any session, side by side. Totals per run with deltas against the first,
// score chips as grouped bars, and the cases matched by function and dataset: regressions first, then
// improvements, then other changes; each later run's output with a word-level diff against the first.
// The server matches and orders the cases (GET /api/compare) and sends one page of them at a time, so that
// comparing two 10,000-result runs never downloads a whole run.
// URL: ?page=compare&run_id=A&compare_run_id=B[&compare_run_id=C…]&search=&only_changed=1
import * as api from '../api.js';
import * as router from '../router.js';
import {registerPage} from '../keys.js';
import {h, fill, text, fmtLatency, latencyClass, fmtInt, chipPct, pctClass, chipLabel, scoreBadges, toast, empty, code,
  debounce, download} from '../dom.js';
import {loadChart, RUN_COLOURS, baseOptions, chartPng} from '../charts.js';
import {runLabel} from '../runs.js';

export const title = 'Compare';
const MAX_RUNS = 4;
const SHOW = 50;

export function mount(el, params) {
  let ids = [params.get('run_id'), ...params.getAll('compare_run_id')].filter(Boolean);
  ids = [...new Set(ids)].slice(0, MAX_RUNS);
  let alive = true;
  let runs = [];
  let cases = [];     // the cases loaded so far, in the server's order
  let answer = null;  // the latest answer's counts: total, filtered, counts
  let asking = null;
  let chart = null;
  const search = h('input', {type: 'search', id: 'compare-search', placeholder: 'Search cases', value: params.get('search') || ''});
  const onlyChanged = h('input', {type: 'checkbox', id: 'only-changed', checked: params.get('only_changed') === '1'});

  const setIds = (next) => router.go('compare', urlParams(next));
  const urlParams = (list) => ({run_id: list[0], compare_run_id: list.slice(1), search: search.value, only_changed: onlyChanged.checked});

  // ---- picking runs ----
  async function picker() {
    const sessionSel = h('select', {id: 'pick-session', 'aria-label': 'Session'});
    const runSel = h('select', {id: 'pick-run', 'aria-label': 'Run'});
    const add = h('button', {type: 'button', id: 'add-run', class: 'primary', disabled: ids.length >= MAX_RUNS}, '+ Add run');
    const fillRuns = async () => {
      if (!sessionSel.value) return;
      const {runs: list} = await api.sessionRuns(sessionSel.value);
      runSel.replaceChildren(...list.filter((r) => !ids.includes(r.run_id)).map((r) => h('option', {value: r.run_id}, runLabel(r))));
      add.disabled = ids.length >= MAX_RUNS || !runSel.options.length;
    };
    sessionSel.addEventListener('change', fillRuns);
    add.addEventListener('click', () => { if (runSel.value) setIds([...ids, runSel.value]); });
    const box = h('div', {class: 'tools', id: 'compare-picker'}, h('span', {class: 'label'}, 'Add a run'), sessionSel, runSel, add,
      ids.length >= MAX_RUNS ? h('span', {class: 'muted'}, `At most ${MAX_RUNS} runs`) : null);
    try {
      const {sessions} = await api.sessions();
      const current = runs[0] && runs[0].session_name;
      sessionSel.replaceChildren(...sessions.map((x) => h('option', {value: x, selected: x === current}, x)));
      await fillRuns();
    } catch (e) {
      toast(e.message, 'error');
    }
    return box;
  }

  /** One page of the comparison from `offset`, with the search and "only changed" of the page. */
  function page(offset) {
    if (asking) asking.abort();
    asking = new AbortController();
    const q = new URLSearchParams();
    ids.forEach((id) => q.append('run_id', id));
    q.set('offset', offset);
    q.set('limit', SHOW);
    if (search.value.trim()) q.set('search', search.value.trim());
    if (onlyChanged.checked) q.set('only_changed', '1');
    return api.compare(q, asking.signal);
  }

  async function load() {
    if (!ids.length) {
      try {
        const a = await api.rows('latest', new URLSearchParams('limit=0'));
        ids = [a.run_id];
      } catch (e) { /* no active run: the picker is all there is */ }
    }
    if (ids.length) {
      try {
        answer = await page(0);
      } catch (e) {
        if (!alive || e.name === 'AbortError') return;
        fill(el, empty('A run could not be loaded', e.message), await picker());
        return;
      }
      runs = answer.runs;
      cases = answer.cases;
    }
    if (!alive) return;
    render(await picker());
  }

  /** Asks again from the first page (a new search or "only changed"), or for the next page (`more`). */
  async function reload(more) {
    try {
      const next = await page(more ? cases.length : 0);
      if (!alive) return;
      answer = next;
      cases = more ? cases.concat(next.cases) : next.cases;
      renderCases();
    } catch (e) {
      if (alive && e.name !== 'AbortError') toast(e.message, 'error');
    }
  }

  function render(pickerEl) {
    if (!runs.length) {
      fill(el, h('h2', {}, 'Compare runs'), pickerEl, empty('Pick the runs to compare',
        'Runs come from the Results page, from `./run.sh run evals`, or from scripts:',
        code(`curl -H "X-User-Token: $TOKEN" -d '{"session_name":"nightly"}' ${location.origin}/api/runs`)));
      return;
    }
    fill(el,
      h('div', {class: 'page-head'}, h('h2', {}, 'Compare runs'),
        h('button', {type: 'button', id: 'compare-png', onclick: savePng, title: 'Save the chart as an image'}, 'PNG'),
        h('button', {type: 'button', id: 'compare-md', onclick: saveMarkdown, title: 'A Markdown report of the comparison'}, 'Markdown')),
      h('div', {class: 'run-cards', id: 'run-cards'}, runs.map(runCard)),
      runs.length < 2 ? h('p', {class: 'muted'}, 'Add a second run below to see what changed.') : null,
      pickerEl,
      h('div', {class: 'chart-box'}, h('canvas', {id: 'compare-chart'})),
      h('div', {class: 'tools'}, search, h('label', {}, onlyChanged, ' only changed'), h('span', {class: 'muted', id: 'case-count'})),
      h('div', {id: 'cases'}));
    drawChart();
    renderCases();
  }

  function runCard(r, i) {
    const base = runs[0];
    const delta = (v, b, fmt = (x) => x, invert = false) => {
      if (i === 0 || v === null || v === undefined || b === null || b === undefined) return null;
      const d = v - b;
      if (Math.abs(d) < 1e-9) return h('span', {class: 'delta same'}, ' ±0');
      const good = invert ? d < 0 : d > 0;
      return h('span', {class: `delta ${good ? 'up' : 'down'}`}, ` ${d > 0 ? '+' : '−'}${fmt(Math.abs(d))}`);
    };
    const chipOf = (run, key) => (run.score_chips || []).find((c) => c.key === key);
    const dot = h('span', {class: 'run-dot'});
    dot.style.background = RUN_COLOURS[i];
    return h('div', {class: 'run-card', dataset: {runId: r.run_id}},
      h('div', {class: 'run-card-head'}, dot, h('a', {href: router.href('results', {run_id: r.run_id}), class: 'run-name'}, r.run_name || r.run_id),
        h('button', {type: 'button', class: 'ghost', title: 'Remove from the comparison', onclick: () => setIds(ids.filter((x) => x !== r.run_id))}, '×')),
      h('div', {class: 'muted small'}, r.session_name || ''),
      h('div', {class: 'run-totals'},
        h('span', {}, h('span', {class: 'label'}, 'Tests'), fmtInt(r.total_evaluations)),
        h('span', {}, h('span', {class: 'label'}, 'Passed'), fmtInt(r.total_passed), delta(r.total_passed, base.total_passed)),
        h('span', {}, h('span', {class: 'label'}, 'Errors'), fmtInt(r.total_errors), delta(r.total_errors, base.total_errors, (x) => x, true)),
        h('span', {}, h('span', {class: 'label'}, 'Latency'), h('span', {class: latencyClass(r.average_latency)}, fmtLatency(r.average_latency)),
          delta(r.average_latency, base.average_latency, (x) => `${x.toFixed(2)}s`, true))),
      h('div', {class: 'run-chips'}, (r.score_chips || []).map((c) => {
        const b = chipOf(base, c.key);
        return h('div', {class: 'run-chip', dataset: {key: c.key}}, h('b', {}, c.key), ' ',
          h('span', {class: pctClass(chipPct(c))}, `${chipPct(c)}%`), h('span', {class: 'muted'}, ` ${chipLabel(c)}`),
          b ? delta(chipPct(c), chipPct(b), (x) => `${x} pts`) : null);
      })));
  }

  async function drawChart() {
    const canvas = el.querySelector('#compare-chart');
    const keys = [...new Set(runs.flatMap((r) => (r.score_chips || []).map((c) => c.key)))];
    if (!canvas || !keys.length) { if (canvas) canvas.parentElement.hidden = true; return; }
    let Chart;
    try { Chart = await loadChart(); } catch (e) { toast(e.message, 'error'); return; }
    if (!alive || !canvas.isConnected) return;
    if (chart) chart.destroy();
    const opts = baseOptions();
    opts.scales.y.min = 0;
    opts.scales.y.max = 100;
    opts.scales.y.title = {display: true, text: '% (pass rate, or average scaled)', color: opts.color};
    chart = new Chart(canvas, {
      type: 'bar',
      data: {labels: keys, datasets: runs.map((r, i) => ({
        label: r.run_name || r.run_id, backgroundColor: RUN_COLOURS[i],
        data: keys.map((k) => { const c = (r.score_chips || []).find((x) => x.key === k); return c ? chipPct(c) : null; }),
      }))},
      options: opts,
    });
  }

  function renderCases() {
    const box = el.querySelector('#cases');
    if (!box) return;
    const list = cases.map(withRows);
    const counts = answer.counts;
    el.querySelector('#case-count').textContent = `${fmtInt(answer.filtered)} of ${fmtInt(answer.total)} cases · `
      + `${counts.regression} regressed · ${counts.improvement} improved · ${counts.changed} changed otherwise`;
    const head = h('tr', {}, h('th', {}, 'Case'), runs.map((r, i) => {
      const dot = h('span', {class: 'run-dot'});
      dot.style.background = RUN_COLOURS[i];
      return h('th', {}, dot, ' ', r.run_name || r.run_id);
    }));
    const body = list.map((c) => h('tr', {class: `case ${c.change}`, dataset: {key: c.key}},
      h('td', {class: 'fn'}, h('a', {class: 'open', href: router.href('result', c.at)}, c.function),
        h('div', {class: 'meta'}, h('span', {class: `change ${c.change}`}, c.change === 'same' ? 'unchanged' : c.change),
          c.dataset ? h('span', {class: 'dataset'}, c.dataset) : null),
        h('div', {class: 'clamp muted'}, text(c.input))),
      c.per.map((row, i) => caseCell(c, row, i))));
    fill(box, h('div', {class: 'table-wrap'}, h('table', {class: 'results compare', id: 'compare-table'}, h('thead', {}, head), h('tbody', {}, body))),
      answer.filtered > list.length ? h('button', {type: 'button', id: 'show-more', onclick: () => reload(true)},
        `Show ${Math.min(SHOW, answer.filtered - list.length)} more`) : null,
      list.length ? null : empty(answer.total ? 'No case matches' : 'These runs have no results'));
  }

  function caseCell(c, row, i) {
    if (!row) return h('td', {class: 'muted'}, '—');
    const res = row.result || {};
    const base = c.per[0] && c.per[0].result;
    const out = text(res.output);
    const shownOut = i > 0 && base ? wordDiff(text(base.output), out) : out;
    return h('td', {class: c.changes[i] ? `cell-${c.changes[i]}` : ''},
      res.error ? h('div', {class: 'clamp err'}, res.error) : h('div', {class: 'clamp diff'}, shownOut || h('span', {class: 'muted'}, '--')),
      h('div', {}, scoreBadges(res.scores)),
      h('div', {class: `time ${latencyClass(res.latency)}`}, fmtLatency(res.latency)));
  }

  async function savePng() {
    if (!chart) { toast('No chart to save: these runs have no scores', 'error'); return; }
    download(await chartPng(chart), 'scorebook-compare.png');
  }

  // the report has the cases the page has loaded (as filtered), each run's rows of them
  async function saveMarkdown() {
    const body = {
      visible_indices: [], visible_columns: [], stats: {total: 0, filtered: 0, avgLatency: 0, chips: []},
      run_name: runs.map((r) => r.run_name).join(' vs '), session_name: runs[0].session_name || null,
      comparison_mode: true,
      comparison_runs: runs.map((r) => ({run_id: r.run_id, run_name: r.run_name, chips: r.score_chips || [],
        avg_latency: r.average_latency || 0, results: cases.map((c) => c.rows[i]).filter(Boolean)})),
    };
    try {
      const res = await api.exportMarkdown(runs[0].run_id, body);
      download(await res.blob(), 'comparison.md');
    } catch (e) {
      toast('Export failed: ' + e.message, 'error');
    }
  }

  const refilter = debounce(() => { router.setQuery(urlParams(ids)); reload(false); }, 120);
  search.addEventListener('input', refilter);
  onlyChanged.addEventListener('change', refilter);
  const unkeys = registerPage([
    {key: '/', label: 'Search the cases', run: () => search.focus()},
    {key: 'c', label: 'Only changed cases on/off', run: () => { onlyChanged.checked = !onlyChanged.checked; refilter(); }},
  ]);
  const retheme = () => drawChart();
  document.addEventListener('themechange', retheme);

  el.append(h('p', {class: 'muted'}, 'Loading…'));
  load();
  return () => {
    alive = false;
    if (asking) asking.abort();
    if (chart) chart.destroy();
    document.removeEventListener('themechange', retheme);
    unkeys();
  };
}

/** A case of the server's answer with what the table needs: each run's row (`per`) and where to open it. */
function withRows(c) {
  return {...c, per: c.rows, input: c.rows.find(Boolean)?.result?.input};
}

/** The words of `after` with what is new marked, and what `before` had and `after` lost struck out. */
export function wordDiff(before, after) {
  const a = before.split(/(\s+)/);
  const b = after.split(/(\s+)/);
  if (before === after) return after;
  if (a.length * b.length > 250_000) return after;   // too long to diff in the page; shown as it is
  const n = a.length;
  const m = b.length;
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1
        : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  const parts = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { parts.push(b[j]); i++; j++; }
    else if (j < m && (i >= n || lcs[i * (m + 1) + j + 1] >= lcs[(i + 1) * (m + 1) + j])) { parts.push(h('ins', {}, b[j])); j++; }
    else { parts.push(h('del', {}, a[i])); i++; }
  }
  return parts;
}
