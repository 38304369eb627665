// Element building that always escapes: text goes in as text nodes, attributes through setAttribute,
// styles through element.style (the Content-Security-Policy forbids style attributes and innerHTML is
// never used with data). Plus the small formatting helpers every page shares.

/**
 * h('div', {class: 'x', onclick: f, style: {width: '3px'}, dataset: {index: 1}}, 'text', child, [more])
 * Attribute values false/null/undefined are left out; `value`, `checked`, `disabled`, `indeterminate`
 * and `hidden` are set as properties.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'style') Object.assign(el.style, v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

const PROPS = new Set(['value', 'checked', 'disabled', 'indeterminate', 'hidden', 'selected', 'title']);

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A link only when the address is http(s): data can hold anything, javascript: included. */
export function safeHref(url) {
  try {
    const u = new URL(String(url), location.href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch (e) {
    return null;
  }
}

/** JSON values as readable text: strings as they are, the rest as indented JSON. */
export function text(v, indent = 1) {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v, null, indent);
}

export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

export const fmtLatency = (s) => (s === null || s === undefined || s === '' ? '--' : `${Number(s).toFixed(2)}s`);
/** The original's latency colours: green up to 1 s, muted up to 5 s, red above. */
export const latencyClass = (s) => (s === null || s === undefined ? '' : s <= 1 ? 'lat-fast' : s <= 5 ? 'lat-ok' : 'lat-slow');
export const fmtInt = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));

/** A score chip as a percentage (the original UI's rule, §4.3): ratio, or an average scaled to 0–100. */
export function chipPct(c) {
  if (c.type === 'ratio') return c.total ? Math.round((c.passed / c.total) * 100) : 0;
  const avg = Number(c.avg);
  if (!Number.isFinite(avg)) return 0;
  if (avg <= 1) return Math.round(avg * 100);
  if (avg <= 10) return Math.round(avg * 10);
  return Math.min(Math.round(avg), 100);
}

export const pctClass = (p) => (p >= 80 ? 'good' : p >= 50 ? 'fair' : 'poor');
export const chipLabel = (c) => (c.type === 'ratio' ? `${c.passed}/${c.total}` : `avg ${Number(c.avg).toFixed(2)}`);

/** Score badges: green passed, red failed, grey value (one decimal; three and the notes in the tooltip). */
export function scoreBadges(scores) {
  return (scores || []).map((s) => {
    const hasValue = s.value !== null && s.value !== undefined;
    const kind = s.passed === true ? 'pass' : s.passed === false ? 'fail' : 'value';
    const label = hasValue && (s.passed === null || s.passed === undefined) ? `${s.key}:${Number(s.value).toFixed(1)}` : s.key;
    const tip = [hasValue ? Number(s.value).toFixed(3) : null, s.notes].filter(Boolean).join(' — ');
    return h('span', {class: `badge ${kind}`, title: tip || s.key, dataset: {key: s.key}}, label);
  });
}

/** A short message at the bottom of the window; errors stay until clicked. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const t = h('div', {class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', onclick: () => t.remove()}, message);
  box.append(t);
  if (kind !== 'error') setTimeout(() => t.remove(), 3500);
  return t;
}

/** A modal dialog; returns a close function. Esc or the backdrop closes it. */
export function modal(title, body, {onClose} = {}) {
  const close = () => { back.remove(); document.removeEventListener('keydown', onKey, true); if (onClose) onClose(); };
  const onKey = (e) => { if (e.key === 'Escape') { e.stopPropagation(); e.preventDefault(); close(); } };
  const back = h('div', {class: 'backdrop', onclick: (e) => { if (e.target === back) close(); }},
    h('div', {class: 'dialog', role: 'dialog', 'aria-label': title},
      h('div', {class: 'dialog-head'}, h('b', {}, title), h('button', {type: 'button', class: 'ghost', onclick: close, title: 'Close (Esc)'}, '×')),
      body));
  document.body.append(back);
  document.addEventListener('keydown', onKey, true);
  return close;
}

/** Saves a Blob as a file through a temporary link. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', {href: url, download: name});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A copy button's action, with a short confirmation. */
export async function copy(value, what = 'Copied') {
  try {
    await navigator.clipboard.writeText(value);
    toast(what);
  } catch (e) {
    toast('Copy failed: select the text and copy it by hand', 'error');
  }
}

/** An empty state: what is missing and the command that fills it. */
export function empty(title, ...lines) {
  return h('div', {class: 'empty'}, h('p', {}, h('b', {}, title)), lines.map((l) => (typeof l === 'string' ? h('p', {}, l) : l)));
}

export const code = (s) => h('pre', {class: 'cmd'}, h('code', {}, s));

/** Remembered settings in localStorage (JSON), tolerant of storage being off. */
export const store = {
  get(key, fallback) {
    try { const v = localStorage.getItem('scorebook:' + key); return v === null ? fallback : JSON.parse(v); } catch (e) { return fallback; }
  },
  set(key, value) {
    try { localStorage.setItem('scorebook:' + key, JSON.stringify(value)); } catch (e) { /* storage off */ }
  },
};

/** An in-page confirmation (Promise of true/false); the OK button has id "confirm-ok". */
export function confirmDialog(message, okLabel = 'OK') {
  return new Promise((resolve) => {
    let answered = false;
    const answer = (v) => { if (!answered) { answered = true; close(); resolve(v); } };
    const close = modal('Please confirm', h('div', {},
      h('p', {}, message),
      h('div', {class: 'row-gap'},
        h('button', {type: 'button', class: 'danger', id: 'confirm-ok', onclick: () => answer(true)}, okLabel),
        h('button', {type: 'button', onclick: () => answer(false)}, 'Cancel'))), {onClose: () => answer(false)});
  });
}
