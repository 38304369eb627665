// The router: the page and all of its state live in the URL query (/?page=compare&run_id=…), so
// every view is a link and back/forward work. Pages are modules under pages/, loaded when first
// shown; each exports mount(el, params) returning an unmount function at once (data loads after).
//
// The dashboard stays at "/" and names the page in the query, not the path: API routes such as
// /devices or /jobs share the path space, and a page path could never collide with them this way.

import {shareToken} from './share.js';

const PAGES = {
  results: () => import('./pages/results.js'),
  result: () => import('./pages/result.js'),
  compare: () => import('./pages/compare.js'),
  trends: () => import('./pages/trends.js'),
  settings: () => import('./pages/settings.js'),
  keys: () => import('./pages/apikeys.js'),
  users: () => import('./pages/users.js'),
  login: () => import('./pages/login.js'),
  usage: () => import('./pages/usage.js'),
  datasets: () => import('./pages/datasets.js'),
  jobs: () => import('./pages/jobs.js'),
  job: () => import('./pages/job.js'),
  devices: () => import('./pages/devices.js'),
  playground: () => import('./pages/playground.js'),
};

let root = null;
let unmount = null;
let shown = null;       // the page name on screen
let generation = 0;     // drops a slow page load that a later navigation overtook
const listeners = [];

/** The page a URL asks for: ?page=, or the original UI's comparison link (compare_run_id), else results. */
export function pageOf(params) {
  const p = params.get('page');
  if (p && PAGES[p]) return p;
  return params.has('compare_run_id') ? 'compare' : 'results';
}

export const current = () => new URLSearchParams(location.search);
export const currentPage = () => shown;

/** A link to a page with its parameters: a plain object (arrays repeat a parameter) or URLSearchParams. */
export function href(page, params = {}) {
  const q = toParams(params);
  q.delete('page');
  if (page !== 'results') q.set('page', page);
  if (shareToken) q.set('share', shareToken); // a shared view stays shared, link after link
  const s = q.toString();
  return s ? `/?${s}` : '/';
}

export function toParams(params) {
  if (params instanceof URLSearchParams) return new URLSearchParams(params);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '' || v === false) continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.set(k, v === true ? '1' : v);
  }
  return q;
}

/** Goes to a page (a new history entry unless replace). */
export function go(page, params = {}, {replace = false} = {}) {
  const url = href(page, params);
  if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
  return render();
}

/**
 * Changes the current page's query without mounting it again (the page already shows the new state):
 * replace for typing, push for a step worth going back to.
 */
export function setQuery(params, {push = false} = {}) {
  const url = href(shown || 'results', params);
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url); else history.replaceState(null, '', url);
  listeners.forEach((f) => f(shown));
}

/** Called with the page name after each navigation (the header marks the current page). */
export const onNavigate = (fn) => listeners.push(fn);

/** Shows the page the URL names, after unmounting the one on screen. */
export async function render(forcePage) {
  const my = ++generation;
  const params = current();
  const page = forcePage || pageOf(params);
  let mod;
  try {
    mod = await PAGES[page]();
  } catch (e) {
    root.textContent = `This page could not be loaded (${e.message}). Reload to try again.`;
    return;
  }
  if (my !== generation) return;
  if (unmount) {
    try { unmount(); } catch (e) { console.error(e); }
  }
  unmount = null;
  root.replaceChildren();
  shown = page;
  document.title = `Scorebook · ${mod.title || page}`;
  listeners.forEach((f) => f(page));
  unmount = mod.mount(root, params) || null;   // synchronous: pages load their data behind it
}

/** Starts routing in `el`: back/forward, and clicks on same-origin dashboard links. */
export function start(el, firstPage) {
  root = el;
  window.addEventListener('popstate', () => render());
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download') || e.defaultPrevented) return;
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname !== '/') return;
    e.preventDefault();
    history.pushState(null, '', url.pathname + url.search);
    render();
  });
  return render(firstPage);
}
