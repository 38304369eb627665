// Users (the owner's page): add a user (the token is shown once), list, delete.
import * as api from '../api.js';
import {h, fill, toast, copy, confirmDialog} from '../dom.js';

export const title = 'Users';

export function mount(el) {
  let alive = true;
  const name = h('input', {id: 'user-name', placeholder: 'name', 'aria-label': 'User name'});
  const tokenBox = h('div', {});
  const list = h('div', {});

  async function refresh() {
    let users;
    try { ({users} = await api.users()); } catch (e) { toast('Users could not be loaded: ' + e.message, 'error'); return; }
    if (!alive) return;
    fill(list, h('table', {class: 'results', id: 'users-table'},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Role'), h('th', {}, 'Created'), h('th', {}, ''))),
      h('tbody', {}, users.map((u) => {
        const owner = u.is_owner ?? u.owner;
        return h('tr', {}, h('td', {}, u.name), h('td', {}, owner ? 'owner' : 'user'), h('td', {}, u.created_at || ''),
          h('td', {}, owner ? null : h('button', {type: 'button', class: 'danger', onclick: () => remove(u)}, 'Delete')));
      }))));
  }

  async function add(e) {
    e.preventDefault();
    try {
      const r = await api.addUser(name.value.trim());
      name.value = '';
      const link = `${location.origin}/?token=${encodeURIComponent(r.token)}`;
      fill(tokenBox, h('div', {class: 'secret card'},
        h('p', {}, h('b', {}, `User "${r.user.name}" added. `), 'Send them this sign-in link; the token is shown only this once.'),
        h('div', {class: 'row-gap'}, h('code', {id: 'user-link'}, link), h('button', {type: 'button', onclick: () => copy(link, 'Link copied')}, 'Copy'))));
      refresh();
    } catch (err) {
      toast('The user was not added: ' + err.message, 'error');
    }
  }

  async function remove(u) {
    if (!await confirmDialog(`Delete "${u.name}" and everything they own (runs, keys, devices, usage)?`, 'Delete')) return;
    try { await api.deleteUser(u.id); fill(tokenBox); refresh(); } catch (e) { toast('Delete failed: ' + e.message, 'error'); }
  }

  api.me().then(({user}) => {
    if (!alive) return;
    if (!(user.is_owner ?? user.owner)) {
      fill(el, h('h2', {}, 'Users'), h('p', {class: 'muted'}, 'Only the owner manages users.'));
      return;
    }
    fill(el, h('h2', {}, 'Users'),
      h('form', {class: 'card form inline', onsubmit: add}, h('label', {}, h('span', {}, 'Name'), name),
        h('button', {class: 'primary', id: 'add-user'}, 'Add user')),
      tokenBox, list);
    refresh();
  }).catch((e) => toast(e.message, 'error'));
  return () => { alive = false; };
}
