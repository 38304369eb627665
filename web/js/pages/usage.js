// Usage: the KPIs of /usage/summary and time series of /usage over a range, with filters and a group-by;
// a comparison of two ranges or two filter sets (/usage/compare); CSV export and CSV/JSON import.
// URL: ?page=usage&range=1h|24h|7d|30d|custom[&from=YYYY-MM-DDTHH:MM&to=…] (UTC) &bucket=auto|1m…1d
//      &group_by=model &model=…&device=…&tag=…&dataset=…&source_kind=… (repeatable)
//      &compare=1&b_range=prev|1h|24h|7d|30d|custom[&b_from=&b_to=] [&b_filters=1&b_model=…]
import * as api from '../api.js';
import * as router from '../router.js';
import {registerPage} from '../keys.js';
import {h, fill, fmtInt, toast, empty, code} from '../dom.js';
import {loadChart, SERIES_COLOURS, baseOptions} from '../charts.js';
import {isShared, sharedPath, shareButton} from '../share.js';

export const title = 'Usage';

const RANGES = {'1h': 60, '24h': 1440, '7d': 10080, '30d': 43200};
const RANGE_LABELS = {'1h': 'Last hour', '24h': 'Last day', '7d': 'Last week', '30d': 'Last 30 days', custom: 'Custom'};
const DIMS = [['model', 'Model'], ['device', 'Device'], ['tag', 'Tag'], ['dataset', 'Dataset'], ['source_kind', 'Source']];
const GROUPS = ['', 'model', 'device', 'tag', 'dataset', 'source_kind', 'tenant', 'ok'];
const BUCKETS = ['auto', '1m', '5m', '15m', '1h', '6h', '1d'];
/** The compared metrics in the order shown, with how each is written. */
const COMPARED = [
  ['requests', 'Requests', fmtInt], ['error_rate', 'Error rate', pct], ['total_tokens', 'Tokens', fmtInt],
  ['latency_ms.avg', 'Latency avg', ms], ['latency_ms.p50', 'Latency p50', ms], ['latency_ms.p95', 'Latency p95', ms],
  ['latency_ms.p99', 'Latency p99', ms], ['ttft_ms.avg', 'TTFT avg', ms], ['ttft_ms.p50', 'TTFT p50', ms], ['ttft_ms.p95', 'TTFT p95', ms],
  ['tok_s.avg', 'Tokens/s avg', num], ['tok_s.p50', 'Tokens/s p50', num], ['throughput_tok_per_min', 'Throughput tok/min', num],
];

function ms(v) {
  if (v === null || v === undefined) return '—';
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v).toLocaleString('en-US')} ms`;
}
function num(v) {
  return v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US', {maximumFractionDigits: v >= 100 ? 0 : 2});
}
function pct(v) {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(v && v < 0.001 ? 3 : 2)}%`;
}

/** A group's key value: null is the calls without one. */
const keyText = (v) => (v === null || v === undefined || v === '' ? '(none)' : String(v));
/** A URL's time inputs (UTC, YYYY-MM-DDTHH:MM) as epoch ms, or NaN. */
const utcMs = (s) => (s ? Date.parse(s.length === 16 ? `${s}:00Z` : s) : NaN);
const utcText = (t) => new Date(t).toISOString().slice(0, 16);
/** Filter values from the URL: repeated parameters or comma lists. */
const listOf = (params, name) => params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

export function mount(el, params) {
  let alive = true;
  let state = new URLSearchParams(params);
  let loading = null;          // the AbortController of the loads on their way
  const charts = new Map();    // chart id → Chart, reused across redraws
  let lastSummary = null;
  let lastSummaryKey = null;   // the range and filters lastSummary answered (baseQuery)
  // Chart.js is fetched and parsed while the server answers, not after
  const chartLib = loadChart();
  chartLib.catch(() => {});

  // ---- the state and the API queries made from it ----
  const range = () => (RANGE_LABELS[state.get('range')] ? state.get('range') : '24h');

  /** The time part of an API query: minutes=N (the server's now) or from/to. */
  function timeQuery(q) {
    const r = range();
    if (r === 'custom') {
      const from = utcMs(state.get('from'));
      const to = utcMs(state.get('to'));
      if (Number.isFinite(from)) q.set('from', String(from));
      if (Number.isFinite(to)) q.set('to', String(to));
    } else {
      q.set('minutes', String(RANGES[r]));
    }
    return q;
  }

  function filterQuery(q, prefix = '', from = state, fromPrefix = '') {
    for (const [d] of DIMS) listOf(from, fromPrefix + d).forEach((v) => q.append(prefix + d, v));
    return q;
  }

  const baseQuery = () => filterQuery(timeQuery(new URLSearchParams()));
  /**
   * The KPIs' and series' own query: a range longer than the two days of minute cells starts on a whole hour
   * (align=1h: the server moves its start back by its own clock), so no answer reads an old partial hour row by
   * row; the export link and share scopes keep the rolling range.
   */
  const answerQuery = (q) => {
    if (range() !== 'custom' && RANGES[range()] > 2 * 1440) q.set('align', '1h');
    return q;
  };
  /** This view's range and filters as a share link's scope ({name: [values]}). */
  function scopeFilters() {
    const filters = {};
    for (const [k, v] of baseQuery()) (filters[k] ||= []).push(v);
    return filters;
  }

  function seriesQuery() {
    const q = baseQuery();
    q.set('bucket', state.get('bucket') || 'auto');
    if (state.get('group_by')) q.set('group_by', state.get('group_by'));
    return q;
  }

  /** Changes the URL (a step back can undo it) and draws the new view. */
  function update(changes) {
    const next = new URLSearchParams(state);
    for (const [k, v] of Object.entries(changes)) {
      next.delete(k);
      if (Array.isArray(v)) v.forEach((x) => next.append(k, x));
      else if (v !== null && v !== undefined && v !== '' && v !== false) next.set(k, v === true ? '1' : v);
    }
    state = next;
    router.setQuery(next, {push: true});
    controls();
    // a new grouping or bucket leaves the range and filters, so the KPIs just drawn stay: only the series is asked
    load({summaryStays: Object.keys(changes).every((k) => k === 'group_by' || k === 'bucket')});
  }

  // ---- controls ----
  const head = h('div', {class: 'page-head'});
  const bar = h('div', {class: 'tools usage-tools', id: 'usage-tools'});
  const filterBar = h('div', {class: 'tools', id: 'usage-filters'});
  const comparePanel = h('div', {id: 'usage-compare-panel'});
  const importPanel = h('div', {id: 'usage-import-panel', hidden: true});
  const kpis = h('div', {class: 'kpis', id: 'kpis'});
  const compareOut = h('div', {id: 'usage-compare'});
  const chartsBox = h('div', {class: 'chart-grid', id: 'usage-charts'});
  const status = h('p', {class: 'muted', id: 'usage-status'}, 'Loading…');
  const suggestions = {};    // dimension → datalist, filled when its field is first used

  function controls() {
    const r = range();
    const exportLink = h('a', {class: 'button', id: 'export-csv', href: `/usage/export.csv?${baseQuery()}`, download: '',
      title: 'The rows of this range and these filters as CSV'}, 'Export CSV');
    if (isShared()) {
      // a share link's range and filters are fixed by the server; reads only
      exportLink.href = sharedPath(`/usage/export.csv?${baseQuery()}`);
      fill(head, h('h2', {}, 'Usage'), h('span', {class: 'spacer'}),
        h('span', {class: 'muted', id: 'shared-note'}, 'Shared view, read-only'), exportLink);
    } else {
      fill(head, h('h2', {}, 'Usage'), h('span', {class: 'spacer'}),
        exportLink,
        h('button', {type: 'button', id: 'import-button', onclick: () => { importPanel.hidden = !importPanel.hidden; }}, 'Import…'),
        h('button', {type: 'button', id: 'compare-toggle', class: state.get('compare') === '1' ? 'active' : '', 'aria-pressed': String(state.get('compare') === '1'),
          onclick: () => update({compare: state.get('compare') !== '1'})}, 'Compare'),
        shareButton({kind: 'usage', filters: scopeFilters()}));
    }
    fill(bar,
      h('div', {class: 'segmented', id: 'range', role: 'group', 'aria-label': 'Range'},
        Object.keys(RANGE_LABELS).map((k) => h('button', {type: 'button', class: k === r ? 'active' : '', dataset: {range: k},
          'aria-pressed': String(k === r), onclick: () => pickRange(k)}, RANGE_LABELS[k]))),
      r === 'custom' ? customRange('', state.get('from'), state.get('to')) : null,
      h('label', {}, h('span', {class: 'label'}, 'Bucket'), h('select', {id: 'bucket', onchange: (e) => update({bucket: e.target.value === 'auto' ? '' : e.target.value})},
        BUCKETS.map((b) => h('option', {value: b, selected: (state.get('bucket') || 'auto') === b}, b)))),
      h('label', {}, h('span', {class: 'label'}, 'Group by'), h('select', {id: 'group-by', onchange: (e) => update({group_by: e.target.value})},
        GROUPS.map((g) => h('option', {value: g, selected: (state.get('group_by') || '') === g}, g || 'nothing')))));
    fill(filterBar, DIMS.map(([d, label]) => filterField(d, label, '', state)),
      DIMS.some(([d]) => state.has(d)) ? h('button', {type: 'button', class: 'ghost', id: 'clear-filters',
        onclick: () => update(Object.fromEntries(DIMS.map(([d]) => [d, null])))}, 'Clear filters') : null);
    fill(comparePanel, state.get('compare') === '1' ? compareControls() : null);
  }

  function pickRange(k) {
    if (k !== 'custom') { update({range: k === '24h' ? '' : k, from: null, to: null}); return; }
    // custom starts from the range on screen
    const to = lastSummary ? Date.parse(lastSummary.to) : Date.now();
    const from = lastSummary ? Date.parse(lastSummary.from) : to - 86_400_000;
    update({range: 'custom', from: utcText(from), to: utcText(to)});
  }

  /** From/to inputs (UTC) for a custom range; prefix '' for the main range, 'b_' for the compared one. */
  function customRange(prefix, from, to) {
    const f = h('input', {type: 'datetime-local', id: `${prefix}from`, value: from || '', 'aria-label': 'From (UTC)'});
    const t = h('input', {type: 'datetime-local', id: `${prefix}to`, value: to || '', 'aria-label': 'To (UTC)'});
    const apply = () => {
      if (!f.value || !t.value) return;
      if (utcMs(f.value) >= utcMs(t.value)) { toast('The range must end after it starts', 'error'); return; }
      update({[`${prefix}from`]: f.value, [`${prefix}to`]: t.value});
    };
    f.addEventListener('change', apply);
    t.addEventListener('change', apply);
    return h('span', {class: 'custom-range'}, f, h('span', {class: 'muted'}, '→'), t, h('span', {class: 'muted small'}, 'UTC'));
  }

  /** A filter: a comma list of values, with the values of the range suggested. */
  function filterField(dim, label, prefix, from) {
    const listId = `suggest-${dim}`;
    if (!suggestions[dim]) suggestions[dim] = h('datalist', {id: listId});
    const input = h('input', {type: 'search', id: `filter-${prefix}${dim}`, list: listId, placeholder: 'any',
      value: listOf(from, prefix + dim).join(', '), 'aria-label': `${label} filter`});
    input.addEventListener('focus', () => suggest(dim));
    input.addEventListener('change', () => update({[prefix + dim]: input.value.split(',').map((v) => v.trim()).filter(Boolean)}));
    return h('label', {}, h('span', {class: 'label'}, label), input, suggestions[dim]);
  }

  async function suggest(dim) {
    const list = suggestions[dim];
    if (list.dataset.loaded) return;
    list.dataset.loaded = '1';
    try {
      const q = timeQuery(new URLSearchParams());
      q.set('group_by', dim);
      q.set('top', '200');
      const {rows} = await api.usageBreakdown(q);
      list.replaceChildren(...rows.map((r) => r.key[dim]).filter((v) => v !== null && v !== undefined && v !== 'other')
        .map((v) => h('option', {value: String(v)})));
    } catch (e) {
      delete list.dataset.loaded;
    }
  }

  function compareControls() {
    const b = state.get('b_range') || 'prev';
    const own = state.get('b_filters') === '1';
    return h('div', {class: 'panel', id: 'compare-controls'},
      h('div', {class: 'panel-row'}, h('span', {class: 'label'}, 'A'), h('span', {}, 'the view above')),
      h('div', {class: 'panel-row'}, h('span', {class: 'label'}, 'B range'),
        h('select', {id: 'b-range', onchange: (e) => {
          const v = e.target.value;
          if (v !== 'custom') { update({b_range: v === 'prev' ? '' : v, b_from: null, b_to: null}); return; }
          const to = lastSummary ? Date.parse(lastSummary.from) : Date.now() - 86_400_000;
          update({b_range: 'custom', b_from: utcText(to - 86_400_000), b_to: utcText(to)});
        }}, [['prev', 'The period before A'], ...Object.entries(RANGE_LABELS)].map(([k, l]) => h('option', {value: k, selected: k === b}, l))),
        b === 'custom' ? customRange('b_', state.get('b_from'), state.get('b_to')) : null),
      h('div', {class: 'panel-row'}, h('span', {class: 'label'}, 'B filters'),
        h('label', {}, h('input', {type: 'checkbox', id: 'b-own-filters', checked: own, onchange: (e) => {
          const changes = {b_filters: e.target.checked};
          // B starts from A's filters
          for (const [d] of DIMS) changes[`b_${d}`] = e.target.checked ? listOf(state, d) : null;
          update(changes);
        }}), ' its own (otherwise the same as A)')),
      own ? h('div', {class: 'panel-row', id: 'b-filters'}, DIMS.map(([d, label]) => filterField(d, label, 'b_', state))) : null);
  }

  // ---- import ----
  function importForm() {
    const file = h('input', {type: 'file', id: 'import-file', accept: '.csv,.json,.ndjson,.jsonl,text/csv,application/json'});
    const dry = h('input', {type: 'checkbox', id: 'import-dry-run'});
    const strict = h('input', {type: 'checkbox', id: 'import-strict'});
    const result = h('div', {id: 'import-result'});
    const go = h('button', {type: 'button', class: 'primary', id: 'import-go', onclick: async () => {
      const f = file.files[0];
      if (!f) { toast('Pick a file first', 'error'); return; }
      const name = f.name.toLowerCase();
      const type = name.endsWith('.csv') ? 'text/csv' : name.endsWith('.ndjson') || name.endsWith('.jsonl') ? 'application/x-ndjson' : 'application/json';
      go.disabled = true;
      fill(result, h('p', {class: 'muted'}, `Importing ${f.name}…`));
      try {
        const q = new URLSearchParams();
        if (dry.checked) q.set('dry_run', '1');
        if (strict.checked) q.set('strict', '1');
        const {status: answered, data} = await api.usageImport(await f.text(), type, q);
        fill(result, importResult(answered, data));
        if (answered === 200 && data.imported && !data.dry_run) load();
      } catch (e) {
        fill(result, h('p', {class: 'err'}, e.message));
      } finally {
        go.disabled = false;
      }
    }}, 'Import');
    return h('div', {class: 'panel'},
      h('div', {class: 'panel-row'}, h('b', {}, 'Import usage rows'),
        h('span', {class: 'muted'}, 'The export\'s CSV, a JSON array or NDJSON; at most 10,000 rows and 10 MB a file.')),
      h('div', {class: 'panel-row'}, file, h('label', {}, dry, ' dry run (check only)'), h('label', {}, strict, ' all or nothing'), go),
      result);
  }

  function importResult(answered, d) {
    const errors = Array.isArray(d.errors) ? d.errors : [];
    const line = answered === 200 || errors.length
      ? `${d.dry_run ? 'Dry run: ' : ''}${fmtInt(d.received)} received, ${fmtInt(d.imported)} imported, ${fmtInt(d.duplicates)} duplicates, ${fmtInt(d.failed)} failed`
        + (answered !== 200 ? ` (${d.detail || 'nothing imported'})` : '')
      : (d.detail || (d.error && d.error.message) || `The server answered ${answered}`);
    return h('div', {},
      h('p', {id: 'import-summary', class: answered === 200 && !errors.length ? 'good' : 'err'}, line),
      errors.length ? h('div', {class: 'table-wrap'}, h('table', {class: 'results', id: 'import-errors'},
        h('thead', {}, h('tr', {}, ['Row', 'Line', 'Event id', 'Field', 'Problem'].map((c) => h('th', {}, c)))),
        h('tbody', {}, errors.map((e) => h('tr', {dataset: {index: e.index}},
          h('td', {}, String(e.index)), h('td', {}, e.line === null || e.line === undefined ? '' : String(e.line)),
          h('td', {}, e.event_id || ''), h('td', {}, e.field || ''), h('td', {class: 'err'}, e.message)))))) : null);
  }

  // ---- loading and drawing ----
  async function load({summaryStays = false} = {}) {
    if (loading) loading.abort();
    const ctl = new AbortController();
    loading = ctl;
    status.textContent = 'Loading…';
    el.classList.add('busy');
    let summary;
    let series;
    const summaryKey = baseQuery().toString();
    try {
      const summaryCall = summaryStays && lastSummary && lastSummaryKey === summaryKey
        ? Promise.resolve(lastSummary) : api.usageSummary(answerQuery(baseQuery()), ctl.signal);
      [summary, series] = await Promise.all([summaryCall, api.usageSeries(answerQuery(seriesQuery()), ctl.signal)]);
    } catch (e) {
      if (e.name === 'AbortError' || !alive) return;
      status.textContent = '';
      fill(kpis, empty('Usage could not be loaded', e.message));
      fill(chartsBox);
      return;
    } finally {
      if (loading === ctl) el.classList.remove('busy');
    }
    if (!alive || loading !== ctl) return;
    lastSummary = summary;
    lastSummaryKey = summaryKey;
    status.textContent = `${fmtTime(summary.from)} → ${fmtTime(summary.to)} · buckets of ${series.bucket}`
      + (series.group_by.length ? ` · by ${series.group_by.join(', ')}` : '');
    if (!summary.requests && !Object.keys(summary.extra || {}).length) {
      fill(kpis, empty('No usage in this range',
        'Model calls through the gateway (/ask, /v1), eval targets, jobs and datasets with an adapter record usage rows. Rows from elsewhere can be imported (Import…, or):',
        code(`curl -H "X-User-Token: $TOKEN" -H 'Content-Type: text/csv' --data-binary @usage.csv ${location.origin}/usage/import`)));
      clearCharts();
    } else {
      drawKpis(summary);
      await drawCharts(series, summary);
      if (!alive || loading !== ctl) return;
    }
    performance.mark('scorebook:usage');   // the benchmark times views by this mark
    el.dataset.drawn = String(Number(el.dataset.drawn || 0) + 1);
    if (state.get('compare') === '1') loadCompare(summary, ctl);
    else fill(compareOut);
  }

  const fmtTime = (iso) => new Date(iso).toLocaleString('en-GB', {dateStyle: 'medium', timeStyle: 'short'});

  function kpi(id, label, value, ...sub) {
    return h('div', {class: 'kpi', dataset: {kpi: id}}, h('span', {class: 'label'}, label), h('b', {class: 'kpi-value'}, value),
      sub.filter(Boolean).map((s) => h('span', {class: 'muted small'}, s)));
  }

  function drawKpis(s) {
    const lat = s.latency_ms || {};
    const ttft = s.ttft_ms || {};
    const tok = s.tok_s || {};
    fill(kpis,
      kpi('requests', 'Requests', fmtInt(s.requests), `${fmtInt(s.ok)} ok`),
      kpi('error_rate', 'Error rate', pct(s.error_rate), `${fmtInt(s.errors)} errors`),
      kpi('tokens', 'Tokens', fmtInt(s.total_tokens), `${fmtInt(s.prompt_tokens)} prompt · ${fmtInt(s.completion_tokens)} completion`),
      kpi('latency', 'Latency p50', ms(lat.p50), `p95 ${ms(lat.p95)} · p99 ${ms(lat.p99)}`, `avg ${ms(lat.avg)} · max ${ms(lat.max)}`),
      kpi('ttft', 'TTFT p50', ms(ttft.p50), `p95 ${ms(ttft.p95)} · p99 ${ms(ttft.p99)}`, `${fmtInt(ttft.n)} calls with TTFT`),
      kpi('tok_s', 'Tokens/s avg', num(tok.avg), `p50 ${num(tok.p50)} · p05 ${num(tok.p05)}`, tok.cv === null || tok.cv === undefined ? null : `cv ${num(tok.cv)}`),
      kpi('throughput', 'Throughput', `${num(s.throughput_tok_per_min)} tok/min`, `${fmtInt(s.devices_active)} devices · ${fmtInt(s.models)} models`),
      Object.entries(s.extra || {}).map(([label, x]) =>
        kpi(`extra:${label}`, label, num(x.avg), `min ${num(x.min)} · max ${num(x.max)}`, `${fmtInt(x.n)} values`)));
  }

  /** The charts: one per standard metric and one per extra metric label, a line per group. */
  async function drawCharts(series, summary) {
    let Chart;
    try { Chart = await chartLib; } catch (e) { toast(e.message, 'error'); return; }
    if (!alive) return;
    const groups = series.series;
    const starts = groups.length ? groups[0].points.map((p) => Date.parse(p.t)) : [];
    const labels = starts.map(labelFor(series.bucket, starts));
    const name = (g) => (series.group_by.length ? series.group_by.map((k) => keyText(g.key[k])).join(' · ') : 'all');
    const extras = new Set(Object.keys(summary.extra || {}));
    groups.forEach((g) => g.points.forEach((p) => Object.keys(p.extra || {}).forEach((l) => extras.add(l))));
    // a week of hours is 169 points a line: drawing a dot and a curve for each is most of a redraw, so long
    // series are plain lines, with a dot only where a value stands alone between empty buckets
    const dense = starts.length > 48;
    const gap = (v) => v === null || v === undefined;
    const lone = (data, i) => !gap(data[i]) && (i === 0 || gap(data[i - 1])) && (i === data.length - 1 || gap(data[i + 1]));
    const radius = (data) => (!dense ? 1.5 : data.some((_, i) => lone(data, i)) ? data.map((_, i) => (lone(data, i) ? 2 : 0)) : 0);
    const lines = (pick, opts = {}) => groups.map((g, i) => {
      const data = g.points.map(pick);
      return {
        label: name(g) + (opts.suffix || ''), data, borderColor: SERIES_COLOURS[i % SERIES_COLOURS.length],
        backgroundColor: SERIES_COLOURS[i % SERIES_COLOURS.length], borderDash: opts.dash, spanGaps: false,
        pointRadius: radius(data), pointHoverRadius: 3, borderWidth: 1.6, tension: dense ? 0 : 0.15,
      };
    });
    const specs = [
      ['requests', 'Requests', lines((p) => p.requests)],
      ['errors', 'Errors', lines((p) => p.errors)],
      ['tokens', 'Tokens', lines((p) => p.total_tokens)],
      ['latency', 'Latency p50 and p95 (dashed), ms', [...lines((p) => p.latency_p50_ms, {suffix: ' p50'}), ...lines((p) => p.latency_p95_ms, {suffix: ' p95', dash: [5, 4]})]],
      ['ttft', 'TTFT p50 and p95 (dashed), ms', [...lines((p) => p.ttft_p50_ms, {suffix: ' p50'}), ...lines((p) => p.ttft_p95_ms, {suffix: ' p95', dash: [5, 4]})]],
      ['tok_s', 'Tokens/s (average)', lines((p) => p.tok_s_avg)],
      ...[...extras].sort().map((l, i) => [`extra-${i}`, `${l} (average)`, lines((p) => (p.extra && p.extra[l] ? p.extra[l].avg : null)), l]),
    ];
    const wanted = new Set(specs.map((s) => s[0]));
    for (const [id, chart] of charts) {
      if (!wanted.has(id)) { chart.destroy(); charts.delete(id); chartsBox.querySelector(`[data-chart="${id}"]`)?.remove(); }
    }
    for (const [id, heading, datasets, extraLabel] of specs) {
      let box = chartsBox.querySelector(`[data-chart="${id}"]`);
      if (!box) {
        box = h('div', {class: 'chart-card', dataset: {chart: id}}, h('h4', {}, heading), h('div', {class: 'chart-box'}, h('canvas', {id: `chart-${id}`})));
        chartsBox.append(box);
      }
      box.querySelector('h4').textContent = heading;
      if (extraLabel) box.dataset.label = extraLabel;
      const existing = charts.get(id);
      if (existing) {
        existing.data.labels = labels;
        existing.data.datasets = datasets;
        existing.options.plugins.legend.display = datasets.length > 1;
        existing.update('none');
      } else {
        const opts = baseOptions();
        opts.interaction = {mode: 'index', intersect: false};
        opts.plugins.legend.display = datasets.length > 1;
        opts.scales.x.ticks.maxTicksLimit = 8;
        opts.scales.x.ticks.maxRotation = 0;
        opts.scales.y.beginAtZero = true;
        charts.set(id, new Chart(box.querySelector('canvas'), {type: 'line', data: {labels, datasets}, options: opts}));
      }
      box.querySelector('canvas').dataset.ready = '1';
    }
    // keep the order of the specs
    specs.forEach(([id]) => chartsBox.append(chartsBox.querySelector(`[data-chart="${id}"]`)));
  }

  function clearCharts() {
    charts.forEach((c) => c.destroy());
    charts.clear();
    fill(chartsBox);
  }

  /** Bucket starts as labels in local time: days as dates, shorter buckets with the time (and the date when they span days). */
  function labelFor(bucket, starts) {
    const spansDays = starts.length > 1 && starts[starts.length - 1] - starts[0] >= 86_400_000;
    const date = new Intl.DateTimeFormat('en-GB', {month: 'short', day: 'numeric'});
    const time = new Intl.DateTimeFormat('en-GB', {hour: '2-digit', minute: '2-digit'});
    return (t) => (bucket === '1d' ? date.format(t) : spansDays ? `${date.format(t)} ${time.format(t)}` : time.format(t));
  }

  // ---- comparison ----
  /** B's range from A's (as the server answered it): the period before, a preset ending with A, or custom. */
  function bRange(summary) {
    const aFrom = Date.parse(summary.from);
    const aTo = Date.parse(summary.to);
    const b = state.get('b_range') || 'prev';
    if (b === 'prev') return [aFrom - (aTo - aFrom), aFrom];
    if (b === 'custom') return [utcMs(state.get('b_from')), utcMs(state.get('b_to'))];
    return [aTo - RANGES[b] * 60_000, aTo];
  }

  async function loadCompare(summary, ctl) {
    const [bFrom, bTo] = bRange(summary);
    const q = new URLSearchParams();
    q.set('a_from', String(Date.parse(summary.from)));
    q.set('a_to', String(Date.parse(summary.to)));
    if (Number.isFinite(bFrom)) q.set('b_from', String(bFrom));
    if (Number.isFinite(bTo)) q.set('b_to', String(bTo));
    filterQuery(q, 'a_');
    if (state.get('b_filters') === '1') filterQuery(q, 'b_', state, 'b_'); else filterQuery(q, 'b_');
    if (state.get('group_by')) q.set('group_by', state.get('group_by'));
    fill(compareOut, h('p', {class: 'muted'}, 'Comparing…'));
    let c;
    try {
      c = await api.usageCompare(q, ctl.signal);
    } catch (e) {
      if (e.name === 'AbortError' || !alive) return;
      fill(compareOut, empty('The comparison could not be loaded', e.message));
      return;
    }
    if (!alive || loading !== ctl) return;
    const side = (s) => `${fmtTime(s.filters.from)} → ${fmtTime(s.filters.to)}` + describe(s.filters);
    fill(compareOut, h('div', {class: 'panel', id: 'compare-result'},
      h('div', {class: 'compare-sides'},
        h('div', {}, h('span', {class: 'label'}, 'A'), side(c.a)), h('div', {}, h('span', {class: 'label'}, 'B'), side(c.b))),
      (c.warnings || []).length ? h('p', {class: 'warn', id: 'compare-warnings'}, c.warnings.map(warning).join(' · ')) : null,
      h('div', {class: 'table-wrap'}, h('table', {class: 'results compare-table', id: 'compare-table'},
        h('thead', {}, h('tr', {}, ['Metric', 'A', 'B', 'Change', ''].map((x) => h('th', {}, x)))),
        h('tbody', {}, COMPARED.filter(([m]) => c.delta[m]).map(([m, label, fmt]) => deltaRow(m, label, fmt, c.delta[m]))))),
      (c.rows || []).length ? groupTable(c) : null));
    performance.mark('scorebook:usage-compare');
  }

  function describe(filters) {
    const parts = DIMS.filter(([d]) => filters[d]).map(([d, label]) => `${label.toLowerCase()} ${[].concat(filters[d]).join(', ')}`);
    return parts.length ? ` · ${parts.join(' · ')}` : '';
  }

  const warning = (w) => (w.startsWith('low_sample:') ? `side ${w.slice(11).toUpperCase()} has fewer than 10 requests: read the change with care` : w);

  /** The class of a change: better (green), worse (red), the same, or no direction (requests, tokens). */
  const betterClass = (d) => (d.better === 'b' ? 'up' : d.better === 'a' ? 'down' : d.better === 'same' ? 'same' : 'neutral');
  const betterWord = (d) => (d.better === 'b' ? 'better' : d.better === 'a' ? 'worse' : d.better === 'same' ? 'same' : '');

  function change(d, fmt) {
    if (d.abs === null || d.abs === undefined) return '—';
    const sign = d.abs > 0 ? '+' : d.abs < 0 ? '−' : '±';
    const abs = fmt === pct ? `${(Math.abs(d.abs) * 100).toFixed(2)} pts` : fmt(Math.abs(d.abs));
    return `${sign}${abs}${d.pct === null || d.pct === undefined ? '' : ` (${d.pct > 0 ? '+' : ''}${d.pct.toFixed(1)}%)`}`;
  }

  function deltaRow(metric, label, fmt, d) {
    return h('tr', {dataset: {metric, better: d.better || 'none'}},
      h('td', {}, label), h('td', {}, fmt(d.a)), h('td', {}, fmt(d.b)),
      h('td', {class: `delta ${betterClass(d)}`}, change(d, fmt)), h('td', {class: `delta ${betterClass(d)} small`}, betterWord(d)));
  }

  function groupTable(c) {
    const shown = [['requests', fmtInt], ['error_rate', pct], ['latency_ms.p95', ms], ['ttft_ms.p50', ms], ['tok_s.avg', num]];
    const cell = (r, m, fmt) => {
      const d = r.delta[m];
      if (!d) return h('td', {}, '—');
      return h('td', {class: `delta ${betterClass(d)}`}, `${fmt(d.a)} → ${fmt(d.b)}`);
    };
    return h('div', {class: 'table-wrap'}, h('table', {class: 'results compare-table', id: 'compare-groups'},
      h('thead', {}, h('tr', {}, h('th', {}, c.group_by.join(' · ')), shown.map(([m]) => h('th', {}, COMPARED.find((x) => x[0] === m)[1])), h('th', {}, ''))),
      h('tbody', {}, c.rows.map((r) => h('tr', {},
        h('td', {}, c.group_by.map((k) => keyText(r.key[k])).join(' · ')), shown.map(([m, fmt]) => cell(r, m, fmt)),
        h('td', {class: 'muted small'}, (r.warnings || []).length ? 'few requests' : ''))))));
  }

  // ---- keyboard ----
  const unkeys = registerPage([
    {key: '1', label: 'Last hour', run: () => pickRange('1h')},
    {key: '2', label: 'Last day', run: () => pickRange('24h')},
    {key: '3', label: 'Last week', run: () => pickRange('7d')},
    {key: '4', label: 'Last 30 days', run: () => pickRange('30d')},
    {key: 'c', label: 'Compare on/off', run: () => update({compare: state.get('compare') !== '1'})},
    {key: 'f', label: 'Filter by model', run: () => document.getElementById('filter-model')?.focus()},
  ]);

  const retheme = () => { clearCharts(); load(); };
  document.addEventListener('themechange', retheme);
  importPanel.append(importForm());
  controls();
  fill(el, head, bar, filterBar, importPanel, comparePanel, status, kpis, compareOut, chartsBox);
  load();
  return () => {
    alive = false;
    if (loading) loading.abort();
    charts.forEach((c) => c.destroy());
    unkeys();
    document.removeEventListener('themechange', retheme);
  };
}
