// The gateway playground: one prompt to a chosen model (and device), the answer shown as it streams from
// /ask_stream, with its timings: time to first token and total as this page saw them, and the server's own
// TTFT, latency and tokens/s. The page calls the gateway with the login cookie (docs/dashboard.md).
// URL: ?page=playground&model=&device=&prompt=&system=
import * as api from '../api.js';
import * as router from '../router.js';
import * as keys from '../keys.js';
import {h, fill, empty, code, debounce} from '../dom.js';

export const title = 'Playground';

const ms = (v) => (v === null || v === undefined || Number.isNaN(Number(v)) ? '—' : `${Math.round(Number(v))} ms`);
const rate = (v) => (v === null || v === undefined || !Number(v) ? '—' : `${Number(v).toFixed(1)} tok/s`);

export function mount(el, params) {
  let alive = true;
  let running = null;   // the AbortController of the answer streaming in

  const model = h('select', {id: 'pg-model', 'aria-label': 'Model', onchange: () => remember('model', model.value)});
  const device = h('select', {id: 'pg-device', 'aria-label': 'Device', onchange: () => remember('device', device.value)});
  const system = h('input', {id: 'pg-system', placeholder: 'optional system prompt', value: params.get('system') || '',
    oninput: debounce(() => remember('system', system.value), 300)});
  const prompt = h('textarea', {id: 'pg-prompt', rows: 4, placeholder: 'Ask the model something (Ctrl/Cmd+Enter sends)',
    value: params.get('prompt') || '', oninput: debounce(() => remember('prompt', prompt.value), 300),
    onkeydown: (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); } }});
  const sendButton = h('button', {type: 'submit', class: 'primary', id: 'pg-send'}, 'Send');
  const stopButton = h('button', {type: 'button', id: 'pg-stop', disabled: true, onclick: () => running && running.abort()}, 'Stop');
  const answer = h('pre', {class: 'pg-answer', id: 'pg-answer', 'aria-live': 'polite'});
  const timings = h('dl', {class: 'facts pg-timings', id: 'pg-timings'});
  const status = h('p', {class: 'muted', id: 'pg-status'});
  const body = h('div', {id: 'pg-body'}, h('p', {class: 'muted'}, 'Loading your devices…'));
  fill(el, h('div', {class: 'page-head'}, h('h2', {}, 'Playground')), body);

  function remember(name, value) {
    if (value) params.set(name, value); else params.delete(name);
    router.setQuery(params);
  }

  async function load() {
    let devices;
    try {
      ({data: devices} = await api.devices());
    } catch (e) {
      if (alive) fill(body, empty('Devices could not be loaded', e.message));
      return;
    }
    if (!alive) return;
    const push = devices.filter((d) => d.mode === 'push');
    if (!push.length) {
      fill(body, empty('No model server to ask', 'The playground sends prompts through the gateway to your model servers. Register one on the Devices page, or:',
        code(`curl -H "X-User-Token: $TOKEN" -d '{"serial":"gpu1","kind":"ollama","base_url":"http://127.0.0.1:11434","models":["llama3.2"]}' ${location.origin}/devices/register`)));
      return;
    }
    const models = [...new Set(push.flatMap((d) => d.models || []))].sort();
    const want = params.get('model');
    fill(model, h('option', {value: ''}, 'the device\'s default'), models.map((m) => h('option', {value: m, selected: m === want}, m)));
    const wantDevice = params.get('device');
    fill(device, h('option', {value: ''}, 'any device serving it'), push.map((d) => h('option', {value: d.serial, selected: d.serial === wantDevice},
      `${d.serial}${d.healthy === false ? ' (unhealthy)' : ''}`)));
    fill(body, h('form', {class: 'card form', id: 'pg-form', onsubmit: (e) => { e.preventDefault(); send(); }},
      h('div', {class: 'form-grid'}, h('label', {}, h('span', {}, 'Model'), model), h('label', {}, h('span', {}, 'Device'), device)),
      h('label', {}, h('span', {}, 'System'), system), h('label', {}, h('span', {}, 'Prompt'), prompt),
      h('div', {class: 'row-gap'}, sendButton, stopButton)),
    h('section', {class: 'card'}, h('h3', {}, 'Answer'), status, answer, timings));
  }

  function showTimings(seen, envelope) {
    const t = (envelope && envelope.timings) || {};
    const u = (envelope && envelope.usage) || {};
    const rows = [
      ['First token (this page)', ms(seen.ttft)], ['Total (this page)', ms(seen.total)],
      ['TTFT (server)', ms(t.ttft_ms)], ['Latency (server)', ms(t.latency_ms)], ['Load', ms(t.load_ms)],
      ['Decode', rate(t.decode_tok_s)], ['Prefill', rate(t.prefill_tok_s)],
      ['Tokens', u.completion_tokens === undefined ? '—' : `${u.prompt_tokens ?? '?'} in, ${u.completion_tokens} out`],
      ['Model · device', envelope ? `${envelope.model || '?'} · ${envelope.device || '?'}` : '—'],
    ];
    fill(timings, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {dataset: {timing: k}}, v)]));
  }

  async function send() {
    if (running || !prompt.value.trim()) return;
    // what was sent is in the URL at once (typing only debounces it), so the view is a link to this question
    remember('prompt', prompt.value);
    remember('system', system.value);
    const request = {prompt: prompt.value};
    if (system.value.trim()) request.system = system.value;
    if (model.value) request.model = model.value;
    if (device.value) request.device_serial = device.value;
    running = new AbortController();
    sendButton.disabled = true;
    stopButton.disabled = false;
    answer.textContent = '';
    delete answer.dataset.done;
    status.textContent = 'Waiting for the first token…';
    const start = performance.now();
    const seen = {ttft: null, total: null};
    showTimings(seen, null);
    let envelope = null;
    try {
      const res = await api.askStream(request, running.signal);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffered = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, {stream: true});
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          const msg = JSON.parse(line);
          if (msg.delta !== undefined) {
            if (seen.ttft === null) { seen.ttft = performance.now() - start; status.textContent = 'Streaming…'; showTimings(seen, null); }
            answer.append(msg.delta);
          } else if (msg.done) {
            envelope = msg;
          }
        }
      }
      seen.total = performance.now() - start;
      if (envelope && envelope.ok === false) {
        status.textContent = `The call failed: ${(envelope.error && envelope.error.message) || envelope.detail || 'unknown error'}`;
      } else {
        status.textContent = 'Done.';
        answer.dataset.done = '1';
      }
    } catch (e) {
      seen.total = performance.now() - start;
      status.textContent = e.name === 'AbortError' ? 'Stopped.' : `The call failed: ${e.message}`;
    }
    showTimings(seen, envelope);
    running = null;
    sendButton.disabled = false;
    stopButton.disabled = true;
  }

  load();
  const unkeys = keys.registerPage([
    {key: '/', label: 'Type a prompt', run: () => prompt.focus()},
    {key: 's', label: 'Stop the answer', run: () => running && running.abort()},
  ]);
  return () => { alive = false; if (running) running.abort(); unkeys(); };
}
