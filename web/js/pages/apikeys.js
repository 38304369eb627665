// API keys for the LLM gateway: mint one (its secret is shown once), list, revoke.
import * as api from '../api.js';
import {h, fill, toast, copy, confirmDialog, empty, code} from '../dom.js';

export const title = 'API keys';

export function mount(el) {
  let alive = true;
  const name = h('input', {id: 'key-name', placeholder: 'laptop, ci, notebook…', 'aria-label': 'Key name'});
  const secretBox = h('div', {id: 'new-key'});
  const list = h('div', {id: 'key-list'});

  async function refresh() {
    let keys;
    try { ({keys} = await api.keys()); } catch (e) { toast('Keys could not be loaded: ' + e.message, 'error'); return; }
    if (!alive) return;
    const live = keys.filter((k) => !k.revoked_at);
    if (!live.length) {
      fill(list, empty('No API keys yet', 'Programs call the gateway (/ask, /v1/chat/completions) with a key. Mint one above, or:',
        code(`curl -H "X-User-Token: $TOKEN" -d '{"name":"laptop"}' ${location.origin}/api/keys`)));
    } else {
      fill(list, h('table', {class: 'results', id: 'keys-table'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Key'), h('th', {}, 'Created'), h('th', {}, ''))),
        h('tbody', {}, live.map((k) => h('tr', {dataset: {id: k.id}},
          h('td', {}, k.name), h('td', {}, h('code', {}, `${k.prefix}…`)), h('td', {}, k.created_at),
          h('td', {}, h('button', {type: 'button', class: 'danger', dataset: {revoke: k.id}, onclick: () => revoke(k)}, 'Revoke')))))));
    }
  }

  async function mint(e) {
    e.preventDefault();
    try {
      const r = await api.addKey(name.value.trim());
      name.value = '';
      fill(secretBox, h('div', {class: 'secret card'},
        h('p', {}, h('b', {}, `Key "${r.key.name}" created. `), 'Copy the secret now: it is shown only this once.'),
        h('div', {class: 'row-gap'}, h('code', {id: 'key-secret'}, r.secret),
          h('button', {type: 'button', onclick: () => copy(r.secret, 'Key copied')}, 'Copy')),
        code(`curl -H "X-Api-Key: ${r.secret}" -d '{"prompt":"hello"}' ${location.origin}/ask`)));
      refresh();
    } catch (err) {
      toast('The key was not created: ' + err.message, 'error');
    }
  }

  async function revoke(k) {
    if (!await confirmDialog(`Revoke the key "${k.name}"? Programs using it stop working at once.`, 'Revoke')) return;
    try {
      await api.revokeKey(k.id);
      fill(secretBox);
      toast(`Key "${k.name}" revoked`);
      refresh();
    } catch (e) {
      toast('Revoke failed: ' + e.message, 'error');
    }
  }

  fill(el, h('h2', {}, 'API keys'),
    h('form', {class: 'card form inline', id: 'key-form', onsubmit: mint}, h('label', {}, h('span', {}, 'Name'), name),
      h('button', {class: 'primary', id: 'mint-key'}, 'Create key')),
    secretBox, list);
  refresh();
  return () => { alive = false; };
}
