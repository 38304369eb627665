// Settings: the eval runner's concurrency and timeout (GET/PUT /api/config), retention (GET/PUT /api/retention)
// and the theme.
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

  const retention = retentionForm();

  fill(el, h('h2', {}, 'Settings'),
    h('form', {class: 'card form', id: 'config-form', onsubmit: save, novalidate: true},
      h('h3', {}, 'Running suites'),
      h('label', {}, h('span', {}, 'Concurrency'), concurrency, h('small', {class: 'muted'}, 'Cases run at once')),
      h('label', {}, h('span', {}, 'Timeout (s)'), timeout, h('small', {class: 'muted'}, 'Per case; empty for none')),
      h('div', {class: 'row-gap'}, h('button', {class: 'primary', id: 'save-config'}, 'Save'), state)),
    retention.form,
    h('div', {class: 'card form'}, h('h3', {}, 'Appearance'), h('label', {}, h('span', {}, 'Theme'), theme),
      h('small', {class: 'muted'}, 'Also T anywhere, or the ◐ button in the header.')));
  api.config().then((cfg) => { if (alive) show(cfg); }).catch((e) => toast('Settings could not be loaded: ' + e.message, 'error'));
  api.retention().then((r) => { if (alive) retention.show(r); }).catch((e) => toast('Retention could not be loaded: ' + e.message, 'error'));
  return () => { alive = false; };
}

// Retention: days to keep raw usage rows, dataset rows and finished jobs; empty keeps them forever.
const RETENTION = [
  ['usage_days', 'Raw usage rows', 'Charts stay whole: the hourly and daily totals are kept'],
  ['dataset_days', 'Dataset rows', 'By the time each row was received'],
  ['job_days', 'Finished jobs', 'Done, failed and cancelled jobs, with their attempts'],
];

function retentionForm() {
  const inputs = Object.fromEntries(RETENTION.map(([field, label]) => [field,
    h('input', {id: 'retention-' + field, type: 'number', min: 1, max: 36500, step: 1, placeholder: 'forever', 'aria-label': label + ' (days)'})]));
  const state = h('span', {class: 'save-state', id: 'retention-state'});
  const show = (r) => RETENTION.forEach(([field]) => { inputs[field].value = r[field] ?? ''; });

  async function save(e) {
    e.preventDefault();
    const values = {};
    for (const [field, label] of RETENTION) {
      const raw = inputs[field].value.trim();
      const n = Number(raw);
      if (raw !== '' && (!Number.isInteger(n) || n < 1 || n > 36500)) {
        state.textContent = label + ': a whole number of days from 1 to 36500, or empty to keep forever';
        state.className = 'save-state failed';
        return;
      }
      values[field] = raw === '' ? null : n;
    }
    state.textContent = 'Saving…';
    state.className = 'save-state saving';
    try {
      show(await api.saveRetention(values));
      state.textContent = 'Saved';
      state.className = 'save-state saved';
    } catch (err) {
      state.textContent = 'Not saved: ' + err.message;
      state.className = 'save-state failed';
    }
  }

  const form = h('form', {class: 'card form', id: 'retention-form', onsubmit: save, novalidate: true},
    h('h3', {}, 'Retention'),
    ...RETENTION.map(([field, label, note]) => h('label', {}, h('span', {}, label + ' (days)'), inputs[field],
      h('small', {class: 'muted'}, note + '; empty keeps them forever'))),
    h('div', {class: 'row-gap'}, h('button', {class: 'primary', id: 'save-retention'}, 'Save'), state));
  return {form, show};
}
