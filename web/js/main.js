// Scorebook's dashboard: the active run (or ?run=ID) with its totals, score chips and results,
// live while it runs. Page state lives in the URL (run, q, row), so every view is a link.
import * as api from './api.js';
import {renderRun} from './runs.js';

const show = (id) => { for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id; };

document.getElementById('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  location.href = '/?token=' + encodeURIComponent(document.getElementById('token').value.trim());
});

try {
  const {user} = await api.me();
  document.getElementById('who').textContent = user.name;
  show('runs');
  await renderRun(document.getElementById('runs'));
} catch (e) {
  if (e.status === 401) show('login');
  else {
    show('runs');
    document.getElementById('runs').textContent = 'Failed to load: ' + e.message;
  }
}
