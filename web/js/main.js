// Scorebook's dashboard: finds out who is signed in, then hands the page to the router. The header
// holds the navigation, the theme switch, the shortcut list and sign-out.
import * as api from './api.js';
import * as router from './router.js';
import * as keys from './keys.js';
import {h, toast} from './dom.js';
import * as share from './share.js';

const app = document.getElementById('app');

// Anything the Content-Security-Policy blocks is a bug of the page: keep a list (the browser tests read it).
window.scorebookCspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.scorebookCspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
  console.warn('blocked by the Content-Security-Policy:', e.violatedDirective, e.blockedURI);
});
const THEME_KEY = 'scorebook:theme';
const dark = window.matchMedia('(prefers-color-scheme: dark)');

// ---- theme: the system's unless chosen; the choice is remembered ----
function themeChoice() {
  try { return localStorage.getItem(THEME_KEY) || 'system'; } catch (e) { return 'system'; }
}

function applyTheme() {
  const choice = themeChoice();
  const theme = choice === 'system' ? (dark.matches ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = theme;
  const b = document.getElementById('theme-button');
  b.title = `Theme: ${choice === 'system' ? `follows the system (${theme})` : choice} — click to change`;
  b.textContent = choice === 'system' ? '◐' : theme === 'dark' ? '☾' : '☀';
  document.dispatchEvent(new CustomEvent('themechange'));
}

export function setTheme(choice) {
  try {
    if (choice === 'system') localStorage.removeItem(THEME_KEY); else localStorage.setItem(THEME_KEY, choice);
  } catch (e) { /* storage off: the theme lasts for this page */ }
  applyTheme();
}

function cycleTheme() {
  const order = ['system', 'light', 'dark'];
  setTheme(order[(order.indexOf(themeChoice()) + 1) % order.length]);
}

dark.addEventListener('change', applyTheme);
document.getElementById('theme-button').addEventListener('click', cycleTheme);
document.getElementById('help-button').addEventListener('click', keys.showHelp);
applyTheme();

// ---- navigation ----
// a page reached from another one's list marks that list's tab (a job marks Jobs, a result Results)
const NAV_OF = {job: 'jobs', result: 'results'};
router.onNavigate((page) => {
  const tab = NAV_OF[page] || page;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('current', a.dataset.page === tab);
});

keys.install();
keys.registerGlobal([
  {key: '?', label: 'Show these shortcuts', run: keys.showHelp},
  {key: 'g r', label: 'Go to results', run: () => router.go('results')},
  {key: 'g c', label: 'Go to compare', run: () => router.go('compare')},
  {key: 'g t', label: 'Go to trends', run: () => router.go('trends')},
  {key: 'g s', label: 'Go to settings', run: () => router.go('settings')},
  {key: 'g k', label: 'Go to API keys', run: () => router.go('keys')},
  {key: 'g u', label: 'Go to usage', run: () => router.go('usage')},
  {key: 'g d', label: 'Go to datasets', run: () => router.go('datasets')},
  {key: 'g j', label: 'Go to jobs', run: () => router.go('jobs')},
  {key: 'g v', label: 'Go to devices', run: () => router.go('devices')},
  {key: 'g p', label: 'Go to the playground', run: () => router.go('playground')},
  {key: 'T', label: 'Switch theme (system, light, dark)', run: cycleTheme},
]);

// ---- sign-in state ----
let signedOutShown = false;

function signedOut(message) {
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  if (signedOutShown) return;
  signedOutShown = true;
  sessionStorage.setItem('scorebook:login_message', message || '');
  router.render('login');
}

/** A 401 from the API: a first visit needs no message, an expired session does. */
const explain = (err) => (/expired/.test(err.message) ? err.message : '');
api.whenUnauthorized((err) => signedOut(explain(err)));

document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await api.logout();
  } catch (e) {
    if (e.status !== 401) { toast('Sign-out failed: ' + e.message, 'error'); return; }
  }
  history.replaceState(null, '', '/');
  signedOutShown = false;
  signedOut('You are signed out.');
});

// A share link (/?share=TOKEN): no sign-in, the link's scope read-only. A run opens in the results view, the other
// kinds in their page (a jobs link also in a job's page); every read goes to the link's scoped endpoints (share.js).
const SHARED_PAGES = {usage: ['usage'], jobs: ['jobs', 'job'], devices: ['devices']};
async function startShared() {
  document.getElementById('who').textContent = 'Shared view (read-only)';
  document.body.dataset.shared = '1';
  try {
    const link = await share.describe();
    if (link.kind === 'run') {
      const params = router.current();
      if (params.get('run_id') !== link.scope.run_id) {
        params.set('run_id', link.scope.run_id);
        params.delete('page');
        history.replaceState(null, '', '/?' + params.toString());
      }
      router.start(app);
      return;
    }
    const pages = SHARED_PAGES[link.kind];
    if (pages) {
      const params = router.current();
      if (!pages.includes(params.get('page'))) {
        history.replaceState(null, '', '/?' + new URLSearchParams({share: share.shareToken, page: pages[0]}).toString());
      }
      router.start(app);
      return;
    }
    app.replaceChildren(h('h2', {}, 'Shared ' + link.kind), h('pre', {id: 'shared-scope'}, JSON.stringify(link.scope, null, 2)),
      h('p', {class: 'muted'}, link.expires_at ? 'This link works until ' + link.expires_at + '.' : 'This link works until it is revoked.'));
  } catch (e) {
    app.replaceChildren(h('h2', {}, 'This share link does not work'), h('p', {id: 'shared-error'}, e.message));
  }
}

// The page starts at once, beside the question of who is signed in: a missing session shows the
// sign-in page either way, and a first view does not wait for two round trips in a row.
const who = share.isShared() ? null : api.me();
if (share.isShared()) await startShared(); else router.start(app);
if (who) try {
  const {user} = await who;
  document.getElementById('who').textContent = user.name;
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  const owner = user.is_owner ?? user.owner;
  document.querySelector('#nav a[data-page=users]').hidden = !owner;
  document.body.dataset.owner = owner ? '1' : '0';
  const params = router.current();
  if (params.has('login_error')) {
    toast('That login link was not valid; you are still signed in as ' + user.name + '.', 'error');
    params.delete('login_error');
    history.replaceState(null, '', router.href(router.pageOf(params), params));
  }
} catch (e) {
  if (e.status === 401) signedOut(explain(e));
  else app.textContent = 'The dashboard could not start: ' + e.message;
}
