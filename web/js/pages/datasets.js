// Datasets: the list (rows, time span, adapter); one dataset's charts (one per metric its adapter maps,
// from /user/data/metrics), its adapter editor (the dataset's own field names offered for each mapping,
// a preview of how the newest rows map before saving) and its rows, newest first, paged, as NDJSON.
// URL: ?page=datasets  ·  ?page=datasets&dataset=NAME[&bucket=auto|1m…1d][&cursor=C]
import * as api from '../api.js';
import * as router from '../router.js';
import {registerPage} from '../keys.js';
import {h, fill, fmtInt, toast, empty, code, text} from '../dom.js';
import {loadChart, SERIES_COLOURS, baseOptions} from '../charts.js';

export const title = 'Datasets';

const PAGE = 50;
const SAMPLE = 50;        // rows read for the field names and the preview
const PREVIEW = 10;       // rows shown in the preview
const BUCKETS = ['auto', '1m', '5m', '15m', '1h', '6h', '1d'];
/** The adapter's mappings, as the API names them, with what each is. */
const MAPPINGS = [
  ['x_field', 'Time', 'time'], ['device_field', 'Device', 'text'], ['model_field', 'Model', 'text'],
  ['prompt_tokens_field', 'Prompt tokens', 'tokens'], ['completion_tokens_field', 'Completion tokens', 'tokens'],
  ['latency_ms_field', 'Latency (ms)', 'number'], ['ttft_ms_field', 'TTFT (ms)', 'number'],
];

const fmtTs = (iso) => (iso ? new Date(iso).toLocaleString('en-GB', {dateStyle: 'medium', timeStyle: 'short'}) : '—');

function span(first, last) {
  if (!first || !last) return '—';
  const s = (Date.parse(last) - Date.parse(first)) / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

export function mount(el, params) {
  const name = params.get('dataset');
  return name ? mountOne(el, params, name) : mountList(el);
}

// ---- the list ----
function mountList(el) {
  let alive = true;
  el.append(h('p', {class: 'muted'}, 'Loading…'));
  api.datasets().then(({datasets}) => {
    if (!alive) return;
    if (!datasets.length) {
      fill(el, h('h2', {}, 'Datasets'), empty('No datasets yet',
        'A dataset is a named collection of JSON rows a script sends (server metrics, benchmark results, anything with numbers and a time):',
        code(`curl -H "X-User-Token: $TOKEN" -d '{"dataset": "my_server_metrics", "rows": [{"ts": "2025-12-03T18:00:00Z", "latency_ms": 900}]}' ${location.origin}/user/data/append_jsonl`)));
      return;
    }
    fill(el, h('h2', {}, 'Datasets'), h('div', {class: 'table-wrap'}, h('table', {class: 'results', id: 'datasets-table'},
      h('thead', {}, h('tr', {}, ['Dataset', 'Rows', 'First row', 'Last row', 'Span', 'Adapter'].map((c) => h('th', {}, c)))),
      h('tbody', {}, datasets.map((d) => h('tr', {dataset: {name: d.name}},
        h('td', {}, h('a', {href: router.href('datasets', {dataset: d.name})}, d.name)),
        h('td', {}, fmtInt(d.rows)), h('td', {}, fmtTs(d.first_ts)), h('td', {}, fmtTs(d.last_ts)), h('td', {}, span(d.first_ts, d.last_ts)),
        h('td', {}, d.adapter_enabled ? 'enabled' : h('span', {class: 'muted'}, 'none or off'))))))));
  }, (e) => { if (alive) fill(el, empty('The datasets could not be loaded', e.message)); });
  return () => { alive = false; };
}

// ---- one dataset ----
function mountOne(el, params, name) {
  let alive = true;
  const charts = [];
  let sample = [];          // the newest rows, for field names and the preview
  let adapter = null;       // as saved, or a new one
  const chartLib = loadChart();   // fetched while the server answers
  chartLib.catch(() => {});
  const bucket = BUCKETS.includes(params.get('bucket')) ? params.get('bucket') : 'auto';
  const cursor = params.get('cursor');

  const chartsBox = h('div', {class: 'chart-grid', id: 'dataset-charts'}, h('p', {class: 'muted'}, 'Loading the charts…'));
  const editor = h('div', {class: 'panel', id: 'adapter-editor'}, h('p', {class: 'muted'}, 'Loading the adapter…'));
  const rowsBox = h('div', {id: 'dataset-rows'}, h('p', {class: 'muted'}, 'Loading the rows…'));
  const info = h('span', {class: 'muted', id: 'dataset-info'});

  fill(el,
    h('div', {class: 'page-head'}, h('a', {href: router.href('datasets'), title: 'All datasets'}, '← Datasets'), h('h2', {id: 'dataset-name'}, name), info,
      h('span', {class: 'spacer'}),
      h('label', {}, h('span', {class: 'label'}, 'Bucket'), h('select', {id: 'ds-bucket', onchange: (e) => router.go('datasets', {dataset: name, bucket: e.target.value === 'auto' ? '' : e.target.value})},
        BUCKETS.map((b) => h('option', {value: b, selected: b === bucket}, b)))),
      h('a', {class: 'button', id: 'ndjson', href: api.datasetNdjsonUrl(name), download: `${name}.jsonl`}, 'Download NDJSON')),
    h('h3', {}, 'Charts'), chartsBox, h('h3', {}, 'Adapter'), editor, h('h3', {}, 'Rows, newest first'), rowsBox);

  // ---- charts ----
  async function loadCharts() {
    const q = new URLSearchParams();
    if (bucket !== 'auto') q.set('bucket', bucket);
    let m;
    try {
      m = await api.datasetMetrics(name, q);
    } catch (e) {
      if (alive) fill(chartsBox, empty('The charts could not be loaded', e.message));
      return;
    }
    if (!alive) return;
    info.textContent = `${fmtInt(m.rows)} rows · ${fmtInt(m.usage_rows)} mapped to usage · ${fmtTs(m.from)} → ${fmtTs(m.to)}`;
    charts.splice(0).forEach((c) => c.destroy());
    const fields = Object.entries(m.fields || {});
    if (!fields.length) {
      fill(chartsBox, empty('No charts: the adapter maps no metric',
        'Each numeric field the adapter maps (tokens, latency, TTFT and every extra field) gets a chart. Map some below, or:',
        code(`curl -H "X-User-Token: $TOKEN" -d '{"dataset": "${name}", "latency_ms_field": "latency_ms", "extra_fields": [{"label": "GPU power (W)", "field": "gpu_power_w"}]}' ${location.origin}/user/data/save_adapter`)));
      chartsBox.dataset.metrics = '';
      return;
    }
    let Chart;
    try { Chart = await chartLib; } catch (e) { toast(e.message, 'error'); return; }
    if (!alive) return;
    const starts = fields[0][1].series.map((p) => Date.parse(p.t));
    const date = new Intl.DateTimeFormat('en-GB', m.bucket === '1d' ? {month: 'short', day: 'numeric'}
      : {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'});
    const labels = starts.map((t) => date.format(t));
    fill(chartsBox);
    fields.forEach(([metric, f], i) => {
      const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
      const canvas = h('canvas', {id: `ds-chart-${i}`});
      chartsBox.append(h('div', {class: 'chart-card', dataset: {metric}},
        h('h4', {}, metric, h('span', {class: 'muted'}, ` · field ${f.field}`)),
        h('div', {class: 'muted small metric-stats'}, f.count
          ? `${fmtInt(f.count)} value${f.count === 1 ? '' : 's'} · avg ${fmtNum(f.avg)} · p50 ${fmtNum(f.p50)} · p95 ${fmtNum(f.p95)} · min ${fmtNum(f.min)} · max ${fmtNum(f.max)}`
          : 'No values yet: rows appended after the adapter maps this field get them (rows already stored keep their mapping).'),
        h('div', {class: 'chart-box'}, canvas)));
      const opts = baseOptions();
      opts.interaction = {mode: 'index', intersect: false};
      opts.scales.x.ticks.maxTicksLimit = 8;
      opts.scales.x.ticks.maxRotation = 0;
      const line = (label, pick, dash) => ({label, data: f.series.map(pick), borderColor: colour, backgroundColor: colour,
        borderDash: dash, spanGaps: false, pointRadius: 2, borderWidth: 1.6});
      charts.push(new Chart(canvas, {type: 'line', options: opts, data: {labels,
        datasets: [line('avg', (p) => p.avg), line('p95', (p) => p.p95, [5, 4]), line('max', (p) => p.max, [1, 3])]}}));
      canvas.dataset.ready = '1';
    });
    chartsBox.dataset.metrics = fields.map(([k]) => k).join('\n');
    performance.mark('scorebook:dataset-charts');
  }

  const fmtNum = (v) => (v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US', {maximumFractionDigits: 2}));

  // ---- rows ----
  async function loadRows() {
    const q = new URLSearchParams({limit: String(PAGE), order: 'desc'});
    if (cursor) q.set('cursor', cursor);
    let page;
    try {
      page = await api.datasetRows(name, q);
    } catch (e) {
      if (alive) fill(rowsBox, empty(e.status === 404 ? `No dataset named ${name}` : 'The rows could not be loaded', e.message));
      return null;
    }
    if (!alive) return null;
    const rows = page.rows;
    if (!rows.length) {
      fill(rowsBox, empty('No rows yet', 'Append some:', code(`curl -H "X-User-Token: $TOKEN" -d '{"dataset": "${name}", "rows": [{"ts": "2025-12-03T18:00:00Z", "latency_ms": 900}]}' ${location.origin}/user/data/append_jsonl`)));
      return page;
    }
    const cols = [];
    for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    cols.sort((a, b) => (a.startsWith('_meta_') ? 1 : 0) - (b.startsWith('_meta_') ? 1 : 0));
    const shown = cols.filter((c) => c !== '_meta_user_id' && c !== '_meta_dataset');
    fill(rowsBox,
      h('div', {class: 'table-wrap'}, h('table', {class: 'results data-rows', id: 'rows-table'},
        h('thead', {}, h('tr', {}, shown.map((c) => h('th', {}, c === '_meta_ts' ? 'received' : c)))),
        h('tbody', {}, rows.map((r) => h('tr', {class: 'data-row'}, shown.map((c) => h('td', {}, h('div', {class: 'cell-json'}, c === '_meta_ts' ? fmtTs(r[c]) : text(r[c], 0))))))))),
      h('div', {class: 'pager'},
        cursor ? h('button', {type: 'button', id: 'rows-newest', onclick: () => router.go('datasets', {dataset: name, bucket: params.get('bucket')})}, '⇤ Newest') : null,
        cursor ? h('button', {type: 'button', id: 'rows-newer', onclick: () => history.back()}, '← Newer') : null,
        h('span', {class: 'muted'}, `${rows.length} rows`),
        page.next_cursor ? h('button', {type: 'button', id: 'rows-older', onclick: () => router.go('datasets', {dataset: name, bucket: params.get('bucket'), cursor: page.next_cursor})}, 'Older →') : null));
    return page;
  }

  // ---- the adapter editor ----
  async function loadEditor() {
    try {
      [sample, adapter] = await Promise.all([
        api.datasetRows(name, new URLSearchParams({limit: String(SAMPLE), order: 'desc'})).then((p) => p.rows),
        api.datasetAdapter(name).catch((e) => { if (e.status === 404) return null; throw e; }),
      ]);
    } catch (e) {
      if (alive) fill(editor, empty('The adapter could not be loaded', e.message));
      return;
    }
    if (!alive) return;
    drawEditor(adapter || {dataset: name, enabled: true, extra_fields: []}, !adapter);
  }

  /** The field names of the newest rows, in the order they first appear (the _meta_ fields last). */
  function fieldNames() {
    const names = [];
    for (const r of sample) for (const [k, v] of Object.entries(r)) {
      if (!names.includes(k) && k !== '_meta_user_id' && k !== '_meta_dataset' && (v === null || typeof v !== 'object')) names.push(k);
    }
    return names.sort((a, b) => (a.startsWith('_meta_') ? 1 : 0) - (b.startsWith('_meta_') ? 1 : 0));
  }

  function fieldSelect(id, current, names) {
    const options = [h('option', {value: ''}, '— not mapped —')];
    for (const n of names) options.push(h('option', {value: n, selected: n === current}, n));
    if (current && !names.includes(current)) options.push(h('option', {value: current, selected: true}, `${current} (not in the newest rows)`));
    return h('select', {id, class: 'field-pick'}, options);
  }

  function drawEditor(a, isNew) {
    const names = fieldNames();
    const enabled = h('input', {type: 'checkbox', id: 'adapter-enabled', checked: a.enabled !== false});
    const picks = Object.fromEntries(MAPPINGS.map(([key]) => [key, fieldSelect(`map-${key}`, a[key], names)]));
    const extrasBox = h('div', {id: 'extra-fields'});
    const state = h('span', {class: 'save-state', id: 'adapter-state'}, isNew ? 'No adapter yet: nothing is mapped to usage.' : 'Saved');
    const preview = h('div', {id: 'adapter-preview'});

    const extraRow = (e = {}) => {
      const row = h('div', {class: 'extra-row'},
        h('input', {type: 'text', class: 'extra-label', placeholder: 'label, e.g. GPU power (W)', value: e.label || '', 'aria-label': 'Label'}),
        fieldSelect(null, e.field, names),
        h('button', {type: 'button', class: 'ghost remove-extra', title: 'Remove this metric', onclick: () => { row.remove(); changed(); }}, '×'));
      row.querySelector('select').classList.add('extra-field');
      return row;
    };
    (a.extra_fields || []).forEach((e) => extrasBox.append(extraRow(e)));

    const current = () => {
      const out = {dataset: name, enabled: enabled.checked};
      for (const [key] of MAPPINGS) out[key] = picks[key].value || null;
      out.extra_fields = [...extrasBox.querySelectorAll('.extra-row')].map((r) => ({
        label: r.querySelector('.extra-label').value.trim() || r.querySelector('.extra-field').value,
        field: r.querySelector('.extra-field').value, kind: 'number'})).filter((e) => e.field);
      return out;
    };
    const changed = () => {
      state.textContent = 'Unsaved changes';
      state.className = 'save-state dirty';
      drawPreview(preview, current());
    };
    const save = async () => {
      saveButton.disabled = true;
      state.textContent = 'Saving…';
      state.className = 'save-state';
      try {
        const {adapter: saved} = await api.saveAdapter(current());
        adapter = saved;
        state.textContent = 'Saved: rows appended from now on are mapped this way';
        state.className = 'save-state saved';
        toast('Adapter saved');
        loadCharts();
      } catch (e) {
        state.textContent = `Not saved: ${e.message}`;
        state.className = 'save-state failed';
      } finally {
        saveButton.disabled = false;
      }
    };
    const saveButton = h('button', {type: 'button', class: 'primary', id: 'adapter-save', onclick: save}, 'Save adapter');
    editor.addEventListener('change', changed);
    editor.addEventListener('input', (e) => { if (e.target.classList.contains('extra-label')) changed(); });
    fill(editor,
      !names.length ? h('p', {class: 'muted'}, 'The dataset has no rows yet, so there are no field names to offer; append rows first.') : null,
      h('div', {class: 'adapter-grid'},
        h('span', {class: 'label'}, 'Enabled'), h('label', {}, enabled, ' map appended rows to usage rows'),
        MAPPINGS.map(([key, label]) => [h('label', {class: 'label', for: `map-${key}`}, label), picks[key]])),
      h('h4', {}, 'Extra metrics'), extrasBox,
      h('button', {type: 'button', id: 'add-extra', onclick: () => { extrasBox.append(extraRow()); changed(); }}, '+ Extra metric'),
      h('h4', {}, `Preview: the newest ${Math.min(PREVIEW, sample.length)} rows as usage rows`), preview,
      h('div', {class: 'row-gap'}, saveButton, state));
    if (sample.length) drawPreview(preview, current());
    else fill(preview, h('p', {class: 'muted'}, 'No rows to preview.'));
  }

  /**
   * How the newest rows map under adapter `a`, asked of the server (POST /user/data/preview_adapter: the append's own
   * rules, nothing saved); while the editor changes, only the answer to the latest ask is drawn.
   */
  let previewAsked = 0;
  async function drawPreview(box, a) {
    const asked = ++previewAsked;
    let answer;
    try {
      answer = await api.previewAdapter(a, PREVIEW);
    } catch (e) {
      if (alive && asked === previewAsked) fill(box, h('p', {class: 'muted', id: 'preview-error'}, `No preview: ${e.message}`));
      return;
    }
    if (!alive || asked !== previewAsked) return;
    fill(box, previewTable(a, answer.rows));
  }

  function previewTable(a, rows) {
    if (!rows.length) return h('p', {class: 'muted'}, 'No rows to preview.');
    const extras = a.extra_fields || [];
    const head = ['Time (UTC)', 'Device', 'Model', 'Prompt', 'Completion', 'Latency ms', 'TTFT ms', ...extras.map((e) => e.label), 'Mapped'];
    const keys = ['device', 'model', 'prompt_tokens', 'completion_tokens', 'latency_ms', 'ttft_ms'];
    return h('div', {class: 'table-wrap'}, h('table', {class: 'results data-rows', id: 'preview-table'},
      h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
      h('tbody', {}, rows.map(({usage, skipped}) => {
        const u = usage || {extra: {}};
        return h('tr', {class: skipped ? 'skipped' : 'mapped'},
          h('td', {}, u.ts ? u.ts.replace('T', ' ').slice(0, 19) : ''),
          keys.map((k) => h('td', {}, cell(u[k]))),
          extras.map((e) => h('td', {}, cell(u.extra[e.label]))),
          h('td', {class: 'row-state'}, skipped ? `skipped: ${skipped}` : a.enabled === false ? 'off (adapter disabled)' : 'ok'));
      }))));
  }

  const cell = (v) => (v === null || v === undefined ? '' : typeof v === 'number' ? fmtNum(v) : String(v));

  const unkeys = registerPage([
    {key: ']', label: 'Older rows', run: () => document.getElementById('rows-older')?.click()},
    {key: '[', label: 'Newer rows', run: () => document.getElementById('rows-newer')?.click()},
    {key: 's', label: 'Save the adapter', run: () => document.getElementById('adapter-save')?.click()},
  ]);
  const retheme = () => loadCharts();
  document.addEventListener('themechange', retheme);
  loadCharts();
  loadRows();
  loadEditor();
  return () => {
    alive = false;
    charts.forEach((c) => c.destroy());
    unkeys();
    document.removeEventListener('themechange', retheme);
  };
}
