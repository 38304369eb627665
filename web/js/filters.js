// The results filters, as URL parameters: the original UI's names (search, annotation, has_error,
// has_url, has_messages, score_value=key,op,val, score_passed=key,bool, dataset_in/out, label_in/out,
// all repeatable where they name several), plus regex=1, status and sort. The dashboard's URL and the
// rows endpoint's query use the same names, so a view's link is also its data request.
import {h} from './dom.js';

/** Parameters that narrow the rows (they travel with a detail page so that "back" restores them). */
export const FILTER_KEYS = ['search', 'regex', 'annotation', 'has_error', 'has_url', 'has_messages', 'score_value',
  'score_passed', 'dataset_in', 'dataset_out', 'label_in', 'label_out', 'status'];
/** Filter, sort and paging parameters: what a results view is. */
export const VIEW_KEYS = [...FILTER_KEYS, 'sort', 'offset', 'limit'];

export const OPS = {gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=', neq: '≠'};
/** Typed rules: `accuracy < 0.5`, `quality >= 0.8`, `passed = false` (any key's passed), `accuracy passed`. */
const TYPED_OPS = {'>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte', '=': 'eq', '==': 'eq', '!=': 'neq'};

/** Only the view's parameters of a URL (run_id and page stay apart). */
export function viewParams(params) {
  const q = new URLSearchParams();
  for (const k of VIEW_KEYS) params.getAll(k).forEach((v) => q.append(k, v));
  return q;
}

export function filterParams(params) {
  const q = new URLSearchParams();
  for (const k of FILTER_KEYS) params.getAll(k).forEach((v) => q.append(k, v));
  return q;
}

/** How many filters narrow the view (search included). */
export function activeCount(params) {
  return FILTER_KEYS.filter((k) => k !== 'regex' && k !== 'annotation').reduce((n, k) => n + params.getAll(k).filter(Boolean).length, 0)
    + (params.get('annotation') && params.get('annotation') !== 'any' ? 1 : 0);
}

/**
 * Parses a typed score rule into a URL parameter [name, value], or throws with what was wrong.
 * `accuracy < 0.5` → score_value=accuracy,lt,0.5; `accuracy = false` or `accuracy failed` →
 * score_passed=accuracy,false; `accuracy passed` → score_passed=accuracy,true.
 */
export function parseRule(textRule, keys) {
  const t = textRule.trim();
  let m = t.match(/^(.+?)\s+(passed|failed)$/i);
  if (m) return ['score_passed', `${m[1].trim()},${m[2].toLowerCase() === 'passed'}`];
  m = t.match(/^(.+?)\s*(>=|<=|!=|==|=|>|<)\s*(\S+)$/);
  if (!m) throw new Error('Write a rule as "key < 0.5", "key = false" or "key passed"');
  const [, rawKey, op, raw] = m;
  let key = rawKey.trim();
  if (/^(true|false)$/i.test(raw)) {
    if (op !== '=' && op !== '==' && op !== '!=') throw new Error('passed/failed rules take = or !=');
    let passed = raw.toLowerCase() === 'true';
    if (op === '!=') passed = !passed;
    if (key === 'passed' && keys && keys.length) key = keys[0];
    return ['score_passed', `${key},${passed}`];
  }
  if (!Number.isFinite(Number(raw))) throw new Error(`"${raw}" is not a number`);
  return ['score_value', `${key},${TYPED_OPS[op]},${Number(raw)}`];
}

/** A rule parameter as people read it: `accuracy < 0.5`, `accuracy passed`. */
export function describe(name, value) {
  if (name === 'score_value') {
    const [k, op, v] = value.split(',');
    return `${k} ${OPS[op] || op} ${v}`;
  }
  if (name === 'score_passed') {
    const [k, v] = value.split(',');
    return `${k} ${v === 'true' ? 'passed' : 'failed'}`;
  }
  const names = {
    search: 'search', dataset_in: 'dataset', dataset_out: 'not dataset', label_in: 'label', label_out: 'not label',
    status: 'status', has_error: value === '1' ? 'has error' : 'no error', has_url: value === '1' ? 'has trace' : 'no trace',
    has_messages: value === '1' ? 'has messages' : 'no messages', annotation: value === 'yes' ? 'has note' : 'no note',
  };
  if (['has_error', 'has_url', 'has_messages', 'annotation'].includes(name)) return names[name];
  return `${names[name] || name}: ${value}`;
}

/** Removable chips for the active filters; `remove(name, value)` is called on ×. */
export function chips(params, remove) {
  const out = [];
  for (const k of FILTER_KEYS) {
    if (k === 'regex') continue;
    for (const v of params.getAll(k)) {
      if (!v || (k === 'annotation' && v === 'any')) continue;
      out.push(h('span', {class: 'filter-chip', dataset: {name: k, value: v}},
        describe(k, v), h('button', {type: 'button', class: 'ghost', title: 'Remove this filter', onclick: () => remove(k, v)}, '×')));
    }
  }
  return out;
}

/** Off → include → exclude → off, for the has_* toggles (values 1 / 0) and the annotation one (yes / no). */
export function nextTriState(name, current) {
  const [on, off] = name === 'annotation' ? ['yes', 'no'] : ['1', '0'];
  return current === on ? off : current === off ? null : on;
}
