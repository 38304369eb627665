// Settings: the eval runner's concurrency and timeout (GET/PUT /api/config) and the theme.
import * as api from '../api.js';
import {h, fill, toast} from '../dom.js';

export const title = 'Settings';

export function mount(el) {
  let alive = true;
  const concurrency = h('input', {id: 'concurrency', type: 'number', min: 1, step: 1, 'aria-label': 'Concurrency'});
  const timeout = h('input', {id: 'timeout', type: 'number', min: 0, step: 'any', placeholder: 'none', 'aria-label': 'Timeout in seconds'});
  const state = h('span', {class: 'save-state', id: 'config-state'});
  const theme = h('select', {id: 'theme-choice', 'aria-label': 'Theme'},
    ['system', 'light', 'dark'].map((t) => h('option', {value: t}, t === 'system' ? 'Follow the system' : t[0].toUpperCase() + t.slice(1))));
  try { theme.value = localStorage.getItem('scorebook:theme') || 'system'; } catch (e) { theme.value = 'system'; }
  theme.addEventListener('change', async () => (await import('../main.js')).setTheme(theme.value));

  async function save(e) {
    e.preventDefault();
    const values = {};
    const c = Number(concurrency.value);
    if (concurrency.value !== '') {
      if (!Number.isInteger(c) || c < 1) { state.textContent = 'Concurrency must be a whole number, 1 or more'; state.className = 'save-state failed'; return; }
      values.concurrency = c;
    }
    values.timeout = timeout.value === '' ? null : Number(timeout.value);
    state.textContent = 'Saving…';
    state.className = 'save-state saving';
    try {
      const r = await api.saveConfig(values);
      show(r.config);
      state.textContent = 'Saved';
      state.className = 'save-state saved';
    } catch (err) {
      state.textContent = 'Not saved: ' + err.message;
      state.className = 'save-state failed';
    }
  }

  function show(cfg) {
    concurrency.value = cfg.concurrency ?? '';
    timeout.value = cfg.timeout ?? '';
  }

  fill(el, h('h2', {}, 'Settings'),
    h('form', {class: 'card form', id: 'config-form', onsubmit: save, novalidate: true},
      h('h3', {}, 'Running suites'),
      h('label', {}, h('span', {}, 'Concurrency'), concurrency, h('small', {class: 'muted'}, 'Cases run at once')),
      h('label', {}, h('span', {}, 'Timeout (s)'), timeout, h('small', {class: 'muted'}, 'Per case; empty for none')),
      h('div', {class: 'row-gap'}, h('button', {class: 'primary', id: 'save-config'}, 'Save'), state)),
    h('div', {class: 'card form'}, h('h3', {}, 'Appearance'), h('label', {}, h('span', {}, 'Theme'), theme),
      h('small', {class: 'muted'}, 'Also T anywhere, or the ◐ button in the header.')));
  api.config().then((cfg) => { if (alive) show(cfg); }).catch((e) => toast('Settings could not be loaded: ' + e.message, 'error'));
  return () => { alive = false; };
}
