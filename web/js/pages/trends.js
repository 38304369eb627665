// Trends: for one session, each score key's pass rate (or scaled average) across its runs, oldest to
// newest, as a line chart and a table; a click on a point or a row opens that run.
// URL: ?page=trends&session=NAME
import * as api from '../api.js';
import * as router from '../router.js';
import {h, fill, chipPct, pctClass, chipLabel, toast, empty, code, download} from '../dom.js';
import {loadChart, SERIES_COLOURS, baseOptions, chartPng} from '../charts.js';
import {runLabel} from '../runs.js';

export const title = 'Trends';
const MAX_RUNS = 40;

export function mount(el, params) {
  let alive = true;
  let chart = null;
  let points = null;   // {runs, keys, chips}

  async function load() {
    let sessions;
    let session = params.get('session');
    try {
      ({sessions} = await api.sessions());
      if (!session) {
        const active = await api.rows('latest', new URLSearchParams('limit=1')).catch(() => null);
        if (active) session = await sessionOf(active.run_id, sessions);
      }
    } catch (e) {
      fill(el, empty('Trends could not be loaded', e.message));
      return;
    }
    if (!alive) return;
    if (!sessions.length) {
      fill(el, h('h2', {}, 'Trends'), empty('No sessions yet',
        'A session collects the runs of one suite over time; each run adds a point here. Start one with:',
        code('./run.sh run evals --session nightly'),
        code(`curl -H "X-User-Token: $TOKEN" -d '{"session_name":"nightly"}' ${location.origin}/api/runs`)));
      return;
    }
    session = session && sessions.includes(session) ? session : sessions[0];
    const picker = h('select', {id: 'trend-session', 'aria-label': 'Session',
      onchange: (e) => router.go('trends', {session: e.target.value})}, sessions.map((x) => h('option', {value: x, selected: x === session}, x)));
    fill(el, h('div', {class: 'page-head'}, h('h2', {}, 'Trends'), h('label', {}, h('span', {class: 'label'}, 'Session'), picker),
      h('button', {type: 'button', id: 'trend-png', onclick: savePng}, 'PNG')), h('p', {class: 'muted', id: 'trend-status'}, 'Loading the runs…'));
    const {runs: newestFirst} = await api.sessionRuns(session);
    const runs = newestFirst.slice(0, MAX_RUNS).reverse();
    const chips = await Promise.all(runs.map((r) => api.rows(r.run_id, new URLSearchParams('limit=1')).then((a) => a.chips || [], () => [])));
    if (!alive) return;
    const keys = [...new Set(chips.flat().map((c) => c.key))];
    points = {runs, keys, chips};
    const status = el.querySelector('#trend-status');
    status.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}${newestFirst.length > MAX_RUNS ? ` (the newest ${MAX_RUNS})` : ''}, `
      + `${keys.length} score key${keys.length === 1 ? '' : 's'}. Click a point to open its run.`;
    if (!keys.length) {
      el.append(empty('These runs have no scores', 'Scores come from the suites\' scorers, or from the "scores" of posted results.'));
      return;
    }
    el.append(h('div', {class: 'chart-box tall'}, h('canvas', {id: 'trend-chart'})), table());
    draw();
  }

  async function sessionOf(runId, sessions) {
    for (const s of sessions) {
      const {runs} = await api.sessionRuns(s);
      if (runs.some((r) => r.run_id === runId)) return s;
    }
    return null;
  }

  function table() {
    const {runs, keys, chips} = points;
    return h('div', {class: 'table-wrap'}, h('table', {class: 'results', id: 'trend-table'},
      h('thead', {}, h('tr', {}, h('th', {}, 'Run'), keys.map((k) => h('th', {}, k)))),
      h('tbody', {}, runs.map((r, i) => h('tr', {dataset: {runId: r.run_id}},
        h('td', {}, h('a', {href: router.href('results', {run_id: r.run_id})}, runLabel(r))),
        keys.map((k) => {
          const c = chips[i].find((x) => x.key === k);
          return h('td', {}, c ? [h('b', {class: pctClass(chipPct(c))}, `${chipPct(c)}%`), h('span', {class: 'muted'}, ` ${chipLabel(c)}`)] : '—');
        }))).reverse())));
  }

  async function draw() {
    const canvas = el.querySelector('#trend-chart');
    if (!canvas) return;
    let Chart;
    try { Chart = await loadChart(); } catch (e) { toast(e.message, 'error'); return; }
    if (!alive || !canvas.isConnected) return;
    const {runs, keys, chips} = points;
    if (chart) chart.destroy();
    const opts = baseOptions();
    opts.scales.y.min = 0;
    opts.scales.y.max = 100;
    opts.scales.y.title = {display: true, text: '% (pass rate, or average scaled)', color: opts.color};
    opts.onClick = (evt, elements) => {
      const hit = elements[0] || chart.getElementsAtEventForMode(evt, 'index', {intersect: false}, false)[0];
      if (hit) router.go('results', {run_id: runs[hit.index].run_id});
    };
    opts.interaction = {mode: 'index', intersect: false};
    chart = new Chart(canvas, {
      type: 'line',
      data: {
        labels: runs.map((r) => runLabel(r)),
        datasets: keys.map((k, j) => ({
          label: k, borderColor: SERIES_COLOURS[j % SERIES_COLOURS.length], backgroundColor: SERIES_COLOURS[j % SERIES_COLOURS.length],
          spanGaps: true, tension: 0.2, pointRadius: 4, pointHoverRadius: 7,
          data: chips.map((cs) => { const c = cs.find((x) => x.key === k); return c ? chipPct(c) : null; }),
        })),
      },
      options: opts,
    });
    canvas.dataset.ready = '1';
  }

  async function savePng() {
    if (!chart) { toast('No chart to save yet', 'error'); return; }
    download(await chartPng(chart), `scorebook-trends-${params.get('session') || 'session'}.png`);
  }

  const retheme = () => { if (points) draw(); };
  document.addEventListener('themechange', retheme);
  el.append(h('p', {class: 'muted'}, 'Loading…'));
  load().catch((e) => { if (alive) toast('Trends: ' + e.message, 'error'); });
  return () => {
    alive = false;
    if (chart) chart.destroy();
    document.removeEventListener('themechange', retheme);
  };
}
