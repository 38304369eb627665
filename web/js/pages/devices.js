// Devices: each model server or agent with its health, circuit, in-flight calls, models and last contact
// (agents: battery and temperature); register, reload, remove, and warm a model up. Live every few seconds.
// URL: ?page=devices (…&register=1 opens the form)
import * as api from '../api.js';
import * as router from '../router.js';
import * as keys from '../keys.js';
import {poll} from '../live.js';
import {h, fill, toast, empty, code, confirmDialog, copy} from '../dom.js';
import {when} from './jobs.js';
import {isShared, shareButton} from '../share.js';

export const title = 'Devices';
const POLL_MS = 3000;

/** The circuit breaker's state: open (calls refused until a time), recovering after failures, or closed. */
export function circuit(d) {
  if (d.open_until && new Date(d.open_until) > new Date()) return {state: 'open', label: 'open', tip: `refuses calls until ${d.open_until}`};
  if (d.consecutive_failures > 0) return {state: 'failing', label: `closed, ${d.consecutive_failures} failure${d.consecutive_failures === 1 ? '' : 's'}`, tip: d.last_error || ''};
  return {state: 'closed', label: 'closed', tip: 'calls go through'};
}

function health(d) {
  if (d.mode === 'pull') {
    const present = d.present ? (d.ready === false ? 'present, not ready' : 'present') : 'not seen lately';
    return h('span', {class: `health ${d.present ? 'ok' : 'unknown'}`, title: 'an agent is present when it sent a heartbeat in the last 45 s'}, present);
  }
  if (d.healthy === null || d.healthy === undefined) return h('span', {class: 'health unknown'}, 'not checked yet');
  return h('span', {class: `health ${d.healthy ? 'ok' : 'bad'}`, title: d.reason || ''}, d.healthy ? 'healthy' : `unhealthy${d.reason ? `: ${d.reason}` : ''}`);
}

function agentState(d) {
  if (d.mode !== 'pull') return '';
  const parts = [];
  if (d.battery_pct !== null && d.battery_pct !== undefined) parts.push(`🔋 ${d.battery_pct}%${d.charging ? ' ⚡' : ''}`);
  if (d.temp_c !== null && d.temp_c !== undefined) parts.push(`🌡 ${d.temp_c} °C${d.thermal_status ? ` (${d.thermal_status})` : ''}`);
  return parts.join(' · ') || '—';
}

export function mount(el, params) {
  let alive = true;
  const list = h('div', {id: 'devices-list'});
  const formBox = h('div', {id: 'register-box'});
  const tokenBox = h('div', {id: 'device-token-box'});
  const warmBox = h('div', {id: 'warm-box'});
  fill(el, h('div', {class: 'page-head'}, h('h2', {}, 'Devices'), h('span', {class: 'spacer'}),
    isShared() ? h('span', {class: 'muted', id: 'shared-note'}, 'Shared view, read-only') : [
      h('button', {type: 'button', class: 'primary', id: 'register-device', onclick: () => toggleForm()}, 'Register a device'),
      h('button', {type: 'button', id: 'reload-devices', title: 'Re-read the devices and check them now (closes circuits that pass)', onclick: reload}, 'Reload and check'),
      shareButton({kind: 'devices'})]),
  formBox, tokenBox, warmBox, list);

  async function refresh() {
    let data;
    try { ({data} = await api.devices()); } catch (e) { if (alive) fill(list, empty('Devices could not be loaded', e.message)); return; }
    if (!alive) return;
    draw(data);
  }

  function draw(data) {
    if (!data.length) {
      fill(list, empty('No devices yet', 'A device is a model server Scorebook calls (Ollama or OpenAI-compatible) or an agent that pulls jobs. Register one above, or:',
        code(`curl -H "X-User-Token: $TOKEN" -d '{"serial":"gpu1","kind":"ollama","base_url":"http://127.0.0.1:11434","models":["llama3.2"]}' ${location.origin}/devices/register`)));
      return;
    }
    fill(list, h('div', {class: 'table-wrap'}, h('table', {class: 'results', id: 'devices-table'},
      h('thead', {}, h('tr', {}, ['Device', 'Kind', 'Health', 'Circuit', 'In flight', 'Models', 'Last seen', 'Battery · temperature', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, data.map((d) => {
        const c = circuit(d);
        const seen = d.mode === 'pull' ? d.last_seen_at : d.last_ok_at;
        return h('tr', {class: 'row', dataset: {serial: d.serial}},
          h('td', {}, h('b', {}, d.serial), d.name && d.name !== d.serial ? h('div', {class: 'muted small'}, d.name) : null,
            d.base_url ? h('div', {class: 'muted small'}, d.base_url) : null),
          h('td', {}, `${d.kind} (${d.mode})`),
          h('td', {}, health(d)),
          h('td', {}, d.mode === 'push' ? h('span', {class: `circuit ${c.state}`, title: c.tip}, c.label) : h('span', {class: 'muted', title: 'agents pull jobs: no circuit'}, '—')),
          h('td', {class: 'inflight'}, `${d.inflight} / ${d.max_concurrency}`),
          h('td', {}, (d.models || []).map((m) => h('span', {class: 'label-chip'}, m))),
          h('td', {}, seen ? when(seen) : h('span', {class: 'muted'}, 'never')),
          h('td', {class: 'agent-state'}, agentState(d)),
          h('td', {class: 'row-gap'},
            d.mode === 'push' ? h('button', {type: 'button', class: 'small', dataset: {warm: d.serial}, onclick: () => warm(d)}, 'Warm up') : null,
            h('button', {type: 'button', class: 'small danger', dataset: {remove: d.serial}, onclick: () => remove(d)}, 'Remove')));
      })))));
  }

  async function reload() {
    try {
      const {data} = await api.reloadDevices();
      toast(`Checked ${data.length} device${data.length === 1 ? '' : 's'}`);
      draw(data);
    } catch (e) {
      toast('Reload failed: ' + e.message, 'error');
    }
  }

  async function remove(d) {
    if (!await confirmDialog(`Remove the device "${d.serial}"? Jobs pinned to it wait until a device of that serial comes back.`, 'Remove')) return;
    try { await api.removeDevice(d.serial); toast(`Device ${d.serial} removed`); refresh(); } catch (e) { toast('Remove failed: ' + e.message, 'error'); }
  }

  function warm(d) {
    const models = d.models || [];
    const pick = h('select', {id: 'warm-model', 'aria-label': 'Model'}, models.length ? models.map((m) => h('option', {value: m}, m)) : h('option', {value: ''}, 'its default model'));
    const out = h('div', {id: 'warm-result'});
    fill(warmBox, h('div', {class: 'card form inline'}, h('b', {}, `Warm up ${d.serial}`),
      h('label', {}, h('span', {}, 'Model'), pick),
      h('button', {type: 'button', class: 'primary', id: 'warm-go', onclick: async (e) => {
        e.target.disabled = true;
        fill(out, h('span', {class: 'muted'}, 'Loading the model…'));
        try {
          const r = await api.warmup(pick.value, [d.serial]);
          fill(out, (r.results || []).map((x) => h('p', {class: x.ok ? 'good' : 'poor'},
            x.ok ? `${x.device} · ${x.model}: loaded in ${Math.round(x.load_ms)} ms, answered in ${Math.round(x.latency_ms)} ms`
              : `${x.device} · ${x.model}: ${x.error}`)));
        } catch (err) {
          fill(out, h('p', {class: 'poor'}, err.message));
        }
        e.target.disabled = false;
      }}, 'Warm up'),
      h('button', {type: 'button', onclick: () => fill(warmBox)}, 'Close'), out));
  }

  function toggleForm(open = !params.get('register')) {
    if (open) params.set('register', '1'); else params.delete('register');
    router.setQuery(params);
    drawForm();
  }

  function drawForm() {
    if (!params.get('register')) { fill(formBox); return; }
    const field = (label, input, hint) => h('label', {}, h('span', {}, label), input, hint ? h('small', {class: 'muted'}, hint) : null);
    const input = (name, attrs = {}) => h('input', {id: `device-${name}`, name, ...attrs});
    const kind = h('select', {id: 'device-kind', name: 'kind'}, ['ollama', 'openai', 'agent'].map((k) => h('option', {value: k}, k)));
    const error = h('p', {class: 'field-error', id: 'register-error', role: 'alert'});
    const form = h('form', {class: 'card form', id: 'register-form', onsubmit: (e) => submit(e, form, error)},
      h('div', {class: 'form-grid'},
        field('Serial', input('serial', {required: true, placeholder: 'gpu1'})),
        field('Kind', kind),
        field('Base URL', input('base_url', {placeholder: 'http://127.0.0.1:11434'}), 'for ollama and openai'),
        field('Models', input('models', {placeholder: 'llama3.2, qwen2.5'}), 'comma-separated'),
        field('Name', input('name', {placeholder: 'optional'})),
        field('Max concurrency', input('max_concurrency', {type: 'number', min: 1, placeholder: '1'})),
        field('Weight', input('weight', {type: 'number', min: 1, placeholder: '1'})),
        field('Queue tags', input('queue_tags', {placeholder: 'default'}), 'comma-separated; the job queues it takes'),
        field('API key', input('api_key', {type: 'password', autocomplete: 'off', placeholder: 'sent upstream as Bearer'}))),
      error,
      h('div', {class: 'row-gap'}, h('button', {class: 'primary', id: 'register-submit'}, 'Register'),
        h('button', {type: 'button', onclick: () => toggleForm(false)}, 'Close')));
    fill(formBox, form);
  }

  async function submit(e, form, error) {
    e.preventDefault();
    error.textContent = '';
    const v = (name) => form.elements[name].value.trim();
    const listOf = (name) => v(name).split(',').map((x) => x.trim()).filter(Boolean);
    const body = {serial: v('serial'), kind: v('kind')};
    for (const name of ['base_url', 'name', 'api_key']) if (v(name)) body[name] = v(name);
    for (const name of ['max_concurrency', 'weight']) if (v(name)) body[name] = Number(v(name));
    if (listOf('models').length) body.models = listOf('models');
    if (listOf('queue_tags').length) body.queue_tags = listOf('queue_tags');
    try {
      const r = await api.registerDevice(body);
      toast(`Device ${r.device.serial} ${r.created ? 'registered' : 'updated'}`);
      toggleForm(false);
      if (r.device_token) {
        fill(tokenBox, h('div', {class: 'secret card'},
          h('p', {}, h('b', {}, `Agent "${r.device.serial}" registered. `), 'Copy its device token now: it is shown only this once.'),
          h('div', {class: 'row-gap'}, h('code', {id: 'device-token'}, r.device_token),
            h('button', {type: 'button', onclick: () => copy(r.device_token, 'Token copied')}, 'Copy')),
          code(`curl -H "X-Device-Token: ${r.device_token}" -d '{"wait_s":30}' ${location.origin}/worker/claim`)));
      }
      refresh();
    } catch (err) {
      error.textContent = err.message;
    }
  }

  drawForm();
  const stopPoll = poll(refresh, POLL_MS);
  const unkeys = keys.registerPage([
    {key: 'n', label: 'Register a device', run: () => toggleForm(true)},
    {key: 'r', label: 'Reload and check the devices', run: reload},
  ]);
  return () => { alive = false; stopPoll(); unkeys(); };
}
