import * as api from './api.js';

const show = (id) => { for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id; };

document.getElementById('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  location.href = '/?token=' + encodeURIComponent(document.getElementById('token').value.trim());
});

try {
  const {user} = await api.me();
  document.getElementById('who').textContent = user.name;
  show('home');
} catch (e) {
  show('login');
}
