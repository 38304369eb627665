// The sign-in page: shown when there is no session, a session expired, or a login link was wrong.
import {h, fill, code} from '../dom.js';
import * as router from '../router.js';

export const title = 'Sign in';

const MESSAGES = {
  invalid_token: 'That login link holds a token this server does not know: it is mistyped, from another data folder, or the user was deleted.',
};

export function mount(el) {
  const params = router.current();
  const error = params.get('login_error');
  const said = sessionStorage.getItem('scorebook:login_message') || '';
  sessionStorage.removeItem('scorebook:login_message');
  const message = error ? MESSAGES[error] || 'That login link did not work.' : said;
  const token = h('input', {id: 'token', type: 'password', autocomplete: 'off', placeholder: 'your user token', 'aria-label': 'User token'});
  const form = h('form', {id: 'login-form', class: 'form inline', onsubmit: (e) => {
    e.preventDefault();
    const t = token.value.trim();
    if (!t) return;
    const q = new URLSearchParams(location.search);
    q.delete('login_error');
    q.set('token', t);
    location.href = `/?${q}`;
  }}, token, h('button', {class: 'primary'}, 'Sign in'));
  fill(el, h('section', {class: 'login card', id: 'login'},
    h('h2', {}, 'Sign in to Scorebook'),
    message ? h('p', {class: 'login-error', id: 'login-error', role: 'alert'}, message) : null,
    h('p', {}, 'Open the login link the server printed when it started:'),
    code('Scorebook listening on http://127.0.0.1:8080\nDashboard: http://127.0.0.1:8080/?token=sbu_…'),
    h('p', {}, 'The owner\'s token is also in the data folder, in ', h('code', {}, 'data/owner.token'),
      '. Other users get a link from the owner (', h('code', {}, './run.sh user add NAME'), '). Or paste a token:'),
    form));
  if (error) history.replaceState(null, '', '/');
  token.focus();
  return () => {};
}
