// Exports from the results view. Without filters JSON and CSV are the server's own downloads of the
// whole run (the reference's formats). With filters they hold exactly the filtered rows: fetched in
// pages from the rows endpoint, CSV with the visible columns. Markdown is always the server's report
// of the filtered rows and visible columns; PNG is the stats bar drawn on a canvas.
import * as api from './api.js';
import * as F from './filters.js';
import {h, download, chipPct, chipLabel, fmtInt, fmtLatency, toast, text} from './dom.js';

const PAGE = 500;

/** Every filtered row of a run, in the view's order (pages of the rows endpoint). */
export async function allRows(runId, params, onProgress) {
  const q = F.viewParams(params);
  q.delete('offset');
  q.delete('limit');
  const out = [];
  let offset = 0;
  for (;;) {
    const page = new URLSearchParams(q);
    page.set('offset', offset);
    page.set('limit', PAGE);
    const a = await api.rows(runId, page);
    out.push(...a.rows);
    if (onProgress) onProgress(out.length, a.filtered);
    offset += a.rows.length;
    if (!a.rows.length || offset >= a.filtered) return out;
  }
}

export async function exportRun(format, ctx) {
  const {runId, params} = ctx;
  const filtered = F.activeCount(params) > 0;
  const name = ctx.info.run_name || runId;
  if ((format === 'json' || format === 'csv') && !filtered) {
    const a = h('a', {href: api.exportUrl(runId, format), download: `${runId}.${format}`});
    document.body.append(a);
    a.click();
    a.remove();
    return;
  }
  if (format === 'png') {
    download(await statsPng(ctx), `scorebook-${safe(name)}.png`);
    return;
  }
  const note = toast('Preparing the export…');
  const rows = await allRows(runId, params, (n, total) => { note.textContent = `Preparing the export… ${fmtInt(n)}/${fmtInt(total)}`; });
  note.remove();
  if (format === 'json') {
    const doc = {session_name: ctx.info.session_name, run_name: ctx.info.run_name, run_id: runId,
      filters: Object.fromEntries(F.filterParams(params)), total: ctx.answer.total, filtered: rows.length, results: rows};
    download(new Blob([JSON.stringify(doc, null, 2)], {type: 'application/json'}), `${runId}-filtered.json`);
  } else if (format === 'csv') {
    download(new Blob([csv(rows, ctx.columns)], {type: 'text/csv'}), `${runId}-filtered.csv`);
  } else if (format === 'md') {
    const body = {
      visible_indices: rows.map((r) => r.index),
      visible_columns: ['function', ...ctx.columns.filter((c) => c !== 'function')],
      stats: {total: ctx.answer.total, filtered: ctx.answer.filtered, avgLatency: ctx.answer.average_latency ?? avgLatency(rows),
        chips: ctx.answer.chips || []},
      run_name: name,
      session_name: ctx.info.session_name || null,
      comparison_mode: false,
      comparison_runs: null,
    };
    const res = await api.exportMarkdown(runId, body);
    download(await res.blob(), `${runId}.md`);
  }
}

function avgLatency(rows) {
  const ls = rows.map((r) => r.result && r.result.latency).filter((l) => typeof l === 'number');
  return ls.length ? ls.reduce((a, b) => a + b, 0) / ls.length : 0;
}

const safe = (s) => String(s).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);

/** CSV (RFC 4180, CRLF) of the rows with the visible columns, plus index, dataset and labels. */
export function csv(rows, columns) {
  const header = ['index', 'function', 'dataset', 'labels', ...columns.filter((c) => c !== 'function')];
  const value = (r, c) => {
    const res = r.result || {};
    switch (c) {
      case 'index': return String(r.index);
      case 'function': return r.function;
      case 'dataset': return r.dataset || '';
      case 'labels': return (r.labels || []).join(';');
      case 'scores': return res.scores ? JSON.stringify(res.scores) : '';
      case 'latency': return res.latency === null || res.latency === undefined ? '' : String(res.latency);
      case 'error': return res.error || '';
      default: return res[c] === undefined || res[c] === null ? '' : typeof res[c] === 'string' ? res[c] : JSON.stringify(res[c]);
    }
  };
  const quote = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header, ...rows.map((r) => header.map((c) => value(r, c)))].map((line) => line.map(quote).join(',')).join('\r\n') + '\r\n';
}

/** The stats bar as a 1200×630 image (drawn at 2×) in the current theme. */
export function statsPng(ctx) {
  const W = 1200;
  const H = 630;
  const canvas = document.createElement('canvas');
  canvas.width = W * 2;
  canvas.height = H * 2;
  const g = canvas.getContext('2d');
  g.scale(2, 2);
  const css = getComputedStyle(document.documentElement);
  const col = (n) => css.getPropertyValue(n).trim();
  g.fillStyle = col('--panel') || '#fff';
  g.fillRect(0, 0, W, H);
  g.fillStyle = col('--fg') || '#000';
  g.font = '600 34px system-ui, sans-serif';
  g.fillText(ctx.info.run_name || ctx.runId, 60, 80);
  g.font = '20px system-ui, sans-serif';
  g.fillStyle = col('--muted') || '#666';
  const a = ctx.answer;
  const count = a.filtered !== a.total ? `${fmtInt(a.filtered)}/${fmtInt(a.total)} tests` : `${fmtInt(a.total)} tests`;
  const parts = [ctx.info.session_name ? `Session ${ctx.info.session_name}` : null, count,
    a.average_latency !== undefined ? `avg latency ${fmtLatency(a.average_latency)}` : null].filter(Boolean);
  g.fillText(parts.join('   ·   '), 60, 118);
  const chips = a.chips || [];
  if (!chips.length) {
    g.font = '24px system-ui, sans-serif';
    g.fillText('No score data', 60, 320);
  }
  const top = 170;
  const bottom = 540;
  const slot = Math.min(160, (W - 120) / Math.max(chips.length, 1));
  chips.forEach((c, i) => {
    const pct = chipPct(c);
    const x = 60 + i * slot + slot * 0.2;
    const w = slot * 0.6;
    const hgt = ((bottom - top) * pct) / 100;
    g.fillStyle = col('--line') || '#ddd';
    g.fillRect(x, top, w, bottom - top);
    g.fillStyle = pct >= 80 ? col('--pass') : pct >= 50 ? col('--warn') : col('--fail');
    g.fillRect(x, bottom - hgt, w, hgt);
    g.fillStyle = col('--fg');
    g.font = '600 18px system-ui, sans-serif';
    g.textAlign = 'center';
    g.fillText(`${pct}%`, x + w / 2, bottom - hgt - 8 < top + 18 ? top + 20 : bottom - hgt - 8);
    g.font = '15px system-ui, sans-serif';
    g.fillText(text(c.key).slice(0, 12), x + w / 2, bottom + 24);
    g.fillStyle = col('--muted');
    g.fillText(chipLabel(c), x + w / 2, bottom + 44);
    g.textAlign = 'left';
  });
  g.fillStyle = col('--muted');
  g.font = '14px system-ui, sans-serif';
  g.fillText('Scorebook', 60, H - 24);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}
