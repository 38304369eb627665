// Share links: the read-only view a share link opens (/?share=TOKEN), and the "Share" button that makes one.
// In a shared view every API read is sent to the link's scoped endpoints under /share/TOKEN (the server forces
// the scope there) and every write is refused here before it leaves the page.
import {h, toast} from './dom.js';

export const shareToken = new URLSearchParams(location.search).get('share');
export const isShared = () => !!shareToken;

const RUN = /^\/api\/runs\/[^/?]+\/(data|rows|results\/\d+|export\/(csv|json))(\?.*)?$/;
const PLAIN = [
  [/^\/usage(\/summary|\/export\.csv)?(\?.*)?$/, (m) => `/usage${m[1] || ''}${m[2] || ''}`],
  [/^\/api\/jobs(\/[^/?]+)?(\?.*)?$/, (m) => `/jobs${m[1] || ''}${m[2] || ''}`],
  [/^\/devices(\?.*)?$/, (m) => `/devices${m[1] || ''}`],
];

/** Where a read goes in the shared view, or null when the link offers no such read. */
export function sharedPath(path) {
  const base = `/share/${encodeURIComponent(shareToken)}`;
  if (path === '/results') return `${base}/results`;
  const run = RUN.exec(path);
  if (run) {
    const what = run[1] === 'data' ? 'results' : run[1].startsWith('export/') ? `export.${run[2]}` : run[1];
    return `${base}/${what}${run[3] || ''}`;
  }
  for (const [re, to] of PLAIN) {
    const m = re.exec(path);
    if (m) return base + to(m);
  }
  return null;
}

/** What the link opens: {kind, scope, user, expires_at}. */
export async function describe() {
  const res = await fetch(`/share/${encodeURIComponent(shareToken)}`, {headers: {Accept: 'application/json'}});
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.detail || `${res.status} ${res.statusText}`);
  return data;
}

/**
 * A "Share" button for a scope ({kind: 'run', run_id} | {kind: 'usage', filters} | {kind: 'jobs'} | {kind: 'devices'}):
 * asks how long the link should work, makes it and copies its address. Absent in a shared view.
 */
export function shareButton(scope) {
  if (isShared()) return null;
  return h('button', {type: 'button', class: 'share-button', title: 'A read-only link to this view, no login needed',
    onclick: async () => {
      const days = prompt('The link works for how many days? (empty: until you revoke it)', '7');
      if (days === null) return;
      const body = {scope};
      if (days.trim() !== '') {
        const n = Number(days);
        if (!Number.isInteger(n) || n < 1) { toast('Days must be a whole number, 1 or more', 'error'); return; }
        body.expires_in = n * 86400;
      }
      const res = await fetch('/share', {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', Accept: 'application/json'}, body: JSON.stringify(body)});
      const data = await res.json().catch(() => ({}));
      if (!res.ok) { toast('No link made: ' + (data.detail || res.status), 'error'); return; }
      try { await navigator.clipboard.writeText(data.url); toast('Link copied: ' + data.url); } catch (e) { prompt('The share link:', data.url); }
    }}, 'Share');
}
