// Jobs: the queue (filters, live state, cancel), the dead-letter queue (requeue and delete, one or many)
// and the form that enqueues a job with every field of POST /api/jobs.
// URL: ?page=jobs&state=&model=&device=&queue_tag=&cursor=   ?page=jobs&view=dlq&cursor=   …&new=1 opens the form
import * as api from '../api.js';
import * as router from '../router.js';
import * as keys from '../keys.js';
import {poll} from '../live.js';
import {h, fill, toast, empty, code, confirmDialog, debounce} from '../dom.js';
import {isShared, shareButton} from '../share.js';

export const title = 'Jobs';
export const STATES = ['queued', 'running', 'retrying', 'done', 'failed', 'cancelled'];
const ACTIVE = new Set(['queued', 'running', 'retrying']);
const FILTERS = ['state', 'model', 'device', 'queue_tag'];
const POLL_MS = 2000;
const PAGE = 50;

/** A job's state as a coloured pill. */
export const statePill = (state) => h('span', {class: `pill job-${state}`, dataset: {state}}, state);

/** An ISO time as a short local one (the full value in the tooltip). */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return h('time', {datetime: iso, title: iso}, Number.isNaN(d.getTime()) ? iso : d.toLocaleString());
}

export function mount(el, params) {
  let alive = true;
  let stopPoll = null;
  const view = params.get('view') === 'dlq' ? 'dlq' : 'queue';
  const selected = new Set();   // dead-letter jobs ticked for a bulk action

  const query = () => {
    const q = new URLSearchParams();
    for (const f of FILTERS) if (params.get(f)) q.set(f, params.get(f));
    q.set('limit', String(PAGE));
    if (params.get('cursor')) q.set('cursor', params.get('cursor'));
    return q;
  };
  const setParam = (name, value, push = false) => {
    if (value) params.set(name, value); else params.delete(name);
    params.delete('cursor');
    router.setQuery(params, {push});
  };

  // ---- head: tabs, enqueue, refresh ----
  const tab = (name, label) => h('a', {class: `tab${view === name ? ' current' : ''}`, id: `tab-${name}`,
    href: router.href('jobs', name === 'dlq' ? {view: 'dlq'} : {})}, label);
  const formBox = h('div', {id: 'enqueue-box'});
  const body = h('div', {id: 'jobs-body'});
  fill(el, h('div', {class: 'page-head'}, h('h2', {}, 'Jobs'),
    // a share link reads the queue only (the dead-letter queue is its failed state)
    isShared() ? null : h('nav', {class: 'tabs'}, tab('queue', 'Queue'), tab('dlq', 'Dead-letter queue')),
    h('span', {class: 'spacer'}),
    isShared() ? h('span', {class: 'muted', id: 'shared-note'}, 'Shared view, read-only')
      : [h('button', {type: 'button', class: 'primary', id: 'new-job', onclick: () => toggleForm()}, 'Enqueue a job'),
        shareButton({kind: 'jobs'})],
    h('button', {type: 'button', id: 'jobs-refresh', title: 'Refresh (r)', onclick: () => refresh()}, 'Refresh')),
  formBox, body);

  // ---- the queue ----
  const filterBar = () => {
    const text = (name, label, placeholder) => h('label', {}, h('span', {class: 'label'}, label),
      h('input', {id: `filter-${name}`, value: params.get(name) || '', placeholder,
        oninput: debounce((e) => { setParam(name, e.target.value.trim()); refresh(); }, 300)}));
    return h('div', {class: 'tools job-filters'},
      h('label', {}, h('span', {class: 'label'}, 'State'),
        h('select', {id: 'filter-state', onchange: (e) => { setParam('state', e.target.value, true); refresh(); }},
          h('option', {value: ''}, 'any'), STATES.map((s) => h('option', {value: s, selected: params.get('state') === s}, s)))),
      text('model', 'Model', 'any model'), text('device', 'Device', 'any device'), text('queue_tag', 'Tag', 'any tag'));
  };

  const table = h('div', {class: 'table-wrap', id: 'jobs-table-wrap'});
  const pager = h('div', {class: 'pager', id: 'jobs-pager'});
  let firstDraw = true;

  let asked = 0;   // a later question (a filter typed while a poll was out) wins over an earlier answer

  async function loadQueue() {
    const my = ++asked;
    const page = await api.jobs(query());
    if (!alive || my !== asked) return;
    if (!page.jobs.length) {
      const filtered = FILTERS.some((f) => params.get(f));
      fill(table, filtered || params.get('cursor')
        ? empty('No jobs match these filters', 'Clear a filter, or ask the API the same question:',
          code(`curl -H "X-User-Token: $TOKEN" "${location.origin}/api/jobs?${query()}"`))
        : empty('No jobs yet', 'A job is a prompt queued to run on one of your devices. Enqueue one above, or:',
          code(`curl -H "X-User-Token: $TOKEN" -d '{"prompt":"Hello","model":"llama3.2"}' ${location.origin}/api/jobs`)));
    } else {
      fill(table, h('table', {class: 'results', id: 'jobs-table'},
        h('thead', {}, h('tr', {}, ['Job', 'State', 'Priority', 'Tag', 'Model', 'Device', 'Attempt', 'Enqueued', 'Finished', 'Error', '']
          .map((t) => h('th', {}, t)))),
        h('tbody', {}, page.jobs.map(jobRow))));
    }
    fill(pager,
      params.get('cursor') ? h('a', {href: router.href('jobs', withoutCursor()), id: 'jobs-newest'}, '« Newest') : null,
      page.next_cursor ? h('a', {href: router.href('jobs', {...withoutCursor(), cursor: page.next_cursor}), id: 'jobs-older'}, 'Older »') : null);
    if (firstDraw) { firstDraw = false; performance.mark('scorebook:jobs'); }
  }

  const withoutCursor = () => {
    const o = {};
    for (const f of FILTERS) if (params.get(f)) o[f] = params.get(f);
    return o;
  };

  function jobRow(j) {
    return h('tr', {class: 'row', dataset: {jobId: j.job_id, state: j.state}},
      h('td', {}, h('a', {href: router.href('job', {id: j.job_id}), class: 'job-link'}, h('code', {}, j.job_id))),
      h('td', {}, statePill(j.state), j.cancel_requested && j.state === 'running' ? h('span', {class: 'muted small'}, ' cancel asked') : null),
      h('td', {}, String(j.priority)), h('td', {}, j.queue_tag), h('td', {}, j.model || ''),
      h('td', {}, j.device || j.device_serial || ''), h('td', {}, `${j.attempt}/${j.max_attempts}`),
      h('td', {}, when(j.enqueued_at)), h('td', {}, when(j.finished_at)),
      h('td', {class: 'err'}, j.error ? `${j.error.type}: ${j.error.message}` : ''),
      h('td', {}, ACTIVE.has(j.state) && !j.cancel_requested && !isShared()
        ? h('button', {type: 'button', class: 'danger small', dataset: {cancel: j.job_id}, onclick: () => cancel(j)}, 'Cancel') : null));
  }

  async function cancel(j) {
    try {
      const r = await api.cancelJob(j.job_id);
      toast(r.state === 'cancelled' ? `Job ${j.job_id} cancelled` : `Cancel asked: job ${j.job_id} stops when its attempt does`);
      refresh();
    } catch (e) {
      toast('Cancel failed: ' + e.message, 'error');
    }
  }

  // ---- the dead-letter queue ----
  const bulk = h('div', {class: 'tools', id: 'dlq-bulk'});
  const requeuePriority = h('input', {id: 'requeue-priority', type: 'number', min: 0, max: 9, placeholder: 'same', 'aria-label': 'Priority'});
  const requeueDevice = h('input', {id: 'requeue-device', placeholder: 'same', 'aria-label': 'Device serial'});
  const requeueTag = h('input', {id: 'requeue-tag', placeholder: 'same', 'aria-label': 'Queue tag'});

  async function loadDlq() {
    const q = new URLSearchParams({limit: String(PAGE)});
    if (params.get('cursor')) q.set('cursor', params.get('cursor'));
    const page = await api.dlq(q);
    if (!alive) return;
    const ids = new Set(page.jobs.map((j) => j.job_id));
    for (const id of [...selected]) if (!ids.has(id)) selected.delete(id);
    if (!page.jobs.length) {
      fill(table, empty('The dead-letter queue is empty',
        'Jobs land here when their attempts are used up or an error is not retryable. To see it from a script:',
        code(`curl -H "X-User-Token: $TOKEN" ${location.origin}/jobs/dlq`)));
    } else {
      const all = h('input', {type: 'checkbox', id: 'dlq-all', 'aria-label': 'Select all', checked: page.jobs.every((j) => selected.has(j.job_id)),
        onchange: (e) => { page.jobs.forEach((j) => (e.target.checked ? selected.add(j.job_id) : selected.delete(j.job_id))); loadDlqView(); }});
      fill(table, h('table', {class: 'results', id: 'dlq-table'},
        h('thead', {}, h('tr', {}, h('th', {class: 'pick'}, all), ['Job', 'User', 'Model', 'Device', 'Attempts', 'Last error', 'Failed', '']
          .map((t) => h('th', {}, t)))),
        h('tbody', {}, page.jobs.map((j) => h('tr', {class: 'row', dataset: {jobId: j.job_id}},
          h('td', {class: 'pick'}, h('input', {type: 'checkbox', 'aria-label': `Select ${j.job_id}`, dataset: {pick: j.job_id},
            checked: selected.has(j.job_id),
            onchange: (e) => { if (e.target.checked) selected.add(j.job_id); else selected.delete(j.job_id); drawBulk(); }})),
          h('td', {}, h('a', {href: router.href('job', {id: j.job_id})}, h('code', {}, j.job_id))),
          h('td', {}, j.user ? j.user.name : ''), h('td', {}, j.model || ''), h('td', {}, j.device || j.device_serial || ''),
          h('td', {}, `${j.attempt}/${j.max_attempts}`),
          h('td', {class: 'err'}, j.error ? `${j.error.type}: ${j.error.message}` : ''), h('td', {}, when(j.finished_at)),
          h('td', {class: 'row-gap'},
            h('button', {type: 'button', class: 'small', dataset: {requeue: j.job_id}, onclick: () => requeue([j.job_id])}, 'Requeue'),
            h('button', {type: 'button', class: 'small danger', dataset: {delete: j.job_id}, onclick: () => remove([j.job_id])}, 'Delete')))))));
    }
    fill(pager,
      params.get('cursor') ? h('a', {href: router.href('jobs', {view: 'dlq'})}, '« Newest') : null,
      page.next_cursor ? h('a', {href: router.href('jobs', {view: 'dlq', cursor: page.next_cursor}), id: 'jobs-older'}, 'Older »') : null);
    drawBulk();
    if (firstDraw) { firstDraw = false; performance.mark('scorebook:jobs'); }
  }

  function loadDlqView() {
    // re-draws the boxes after "select all" without asking the server again
    for (const box of table.querySelectorAll('input[data-pick]')) box.checked = selected.has(box.dataset.pick);
    drawBulk();
  }

  // built once, so that a poll's redraw keeps what is typed into the requeue fields
  const selectedText = h('span', {id: 'dlq-selected'});
  const requeueButton = h('button', {type: 'button', id: 'dlq-requeue', onclick: () => requeue([...selected])}, 'Requeue selected');
  const deleteButton = h('button', {type: 'button', class: 'danger', id: 'dlq-delete', onclick: () => remove([...selected])}, 'Delete selected');
  fill(bulk, selectedText,
    h('label', {}, h('span', {class: 'label'}, 'Priority'), requeuePriority),
    h('label', {}, h('span', {class: 'label'}, 'Device'), requeueDevice),
    h('label', {}, h('span', {class: 'label'}, 'Tag'), requeueTag),
    requeueButton, deleteButton);

  function drawBulk() {
    const n = selected.size;
    selectedText.textContent = n ? `${n} selected` : 'Tick jobs to requeue or delete several at once.';
    requeueButton.disabled = !n;
    deleteButton.disabled = !n;
  }

  /** Runs one call per job; reports how many worked and the first failure. */
  async function each(ids, call, done) {
    const results = await Promise.allSettled(ids.map(call));
    const failed = results.filter((r) => r.status === 'rejected');
    ids.forEach((id, i) => { if (results[i].status === 'fulfilled') selected.delete(id); });
    if (results.length - failed.length) toast(`${results.length - failed.length} job${results.length - failed.length === 1 ? '' : 's'} ${done}`);
    if (failed.length) toast(`${failed.length} failed: ${failed[0].reason.message}`, 'error');
    refresh();
  }

  function requeue(ids) {
    const body = {};
    if (requeuePriority.value !== '') body.priority = Number(requeuePriority.value);
    if (requeueDevice.value.trim()) body.device_serial = requeueDevice.value.trim();
    if (requeueTag.value.trim()) body.queue_tag = requeueTag.value.trim();
    return each(ids, (id) => api.requeueJob(id, body), 'requeued');
  }

  async function remove(ids) {
    if (!await confirmDialog(`Delete ${ids.length === 1 ? `the job ${ids[0]}` : `${ids.length} jobs`} for good?`, 'Delete')) return;
    return each(ids, (id) => api.deleteJob(id), 'deleted');
  }

  // ---- the enqueue form ----
  function toggleForm(open = !params.get('new')) {
    setParam('new', open ? '1' : '', false);
    drawForm();
  }

  function drawForm() {
    if (!params.get('new')) { fill(formBox); return; }
    const field = (name, label, input, hint) => h('label', {}, h('span', {}, label), input, hint ? h('small', {class: 'muted'}, hint) : null);
    const input = (name, attrs = {}) => h('input', {id: `job-${name}`, name, ...attrs});
    const error = h('p', {class: 'field-error', id: 'enqueue-error', role: 'alert'});
    const form = h('form', {class: 'card form job-form', id: 'enqueue-form', onsubmit: (e) => submit(e, form, error)},
      field('prompt', 'Prompt', h('textarea', {id: 'job-prompt', name: 'prompt', rows: 4, required: true})),
      field('system', 'System', h('textarea', {id: 'job-system', name: 'system', rows: 2})),
      h('div', {class: 'form-grid'},
        field('model', 'Model', input('model', {list: 'job-models', placeholder: 'any model of the device'})),
        field('device_serial', 'Device', input('device_serial', {list: 'job-devices', placeholder: 'any device'})),
        field('priority', 'Priority', input('priority', {type: 'number', min: 0, max: 9, placeholder: '5'}), '0 is the most urgent'),
        field('queue_tag', 'Queue tag', input('queue_tag', {placeholder: 'default'})),
        field('max_attempts', 'Max attempts', input('max_attempts', {type: 'number', min: 1, max: 10, placeholder: '3'})),
        field('backoff_s', 'Backoff (s)', input('backoff_s', {type: 'number', min: 0, step: 'any', placeholder: '10'})),
        field('adapter_id', 'Dataset (adapter_id)', input('adapter_id', {placeholder: 'none'})),
        field('callback_url', 'Callback URL', input('callback_url', {type: 'url', placeholder: 'https://…'})),
        field('idempotency', 'Idempotency-Key', input('idempotency', {placeholder: 'optional'}), 'the same key replays the same job for 24 h')),
      field('options', 'Options (JSON)', h('textarea', {id: 'job-options', name: 'options', rows: 2, placeholder: '{"num_predict": 256, "temperature": 0.7}'})),
      h('datalist', {id: 'job-models'}), h('datalist', {id: 'job-devices'}),
      error,
      h('div', {class: 'row-gap'}, h('button', {class: 'primary', id: 'enqueue-submit'}, 'Enqueue'),
        h('button', {type: 'button', onclick: () => toggleForm(false)}, 'Close')));
    fill(formBox, form);
    form.querySelector('#job-prompt').focus();
    api.devices().then(({data}) => {
      if (!alive) return;
      fill(form.querySelector('#job-devices'), data.map((d) => h('option', {value: d.serial}, d.name || d.kind)));
      fill(form.querySelector('#job-models'), [...new Set(data.flatMap((d) => d.models || []))].map((m) => h('option', {value: m})));
    }).catch(() => { /* the lists only help typing */ });
  }

  async function submit(e, form, error) {
    e.preventDefault();
    error.textContent = '';
    const v = (name) => form.elements[name].value.trim();
    const body = {prompt: form.elements.prompt.value};
    for (const name of ['system', 'model', 'device_serial', 'queue_tag', 'adapter_id', 'callback_url']) if (v(name)) body[name] = v(name);
    for (const name of ['priority', 'max_attempts', 'backoff_s']) if (v(name) !== '') body[name] = Number(v(name));
    if (v('options')) {
      try { body.options = JSON.parse(v('options')); } catch (err) { error.textContent = 'options: not valid JSON (' + err.message + ')'; return; }
    }
    try {
      const job = await api.enqueueJob(body, v('idempotency'));
      toast(`Job ${job.job_id} queued`);
      router.go('job', {id: job.job_id});
    } catch (err) {
      error.textContent = err.message;
    }
  }

  // ---- loading and live state ----
  async function refresh() {
    try {
      await (view === 'dlq' ? loadDlq() : loadQueue());
    } catch (e) {
      if (alive) fill(table, empty('Jobs could not be loaded', e.message));
    }
  }

  fill(body, view === 'queue' ? filterBar() : bulk, table, pager);
  if (view === 'dlq') drawBulk();
  drawForm();
  stopPoll = poll(refresh, POLL_MS);
  const unkeys = keys.registerPage([
    {key: 'n', label: 'Enqueue a job', run: () => toggleForm(true)},
    {key: 'r', label: 'Refresh', run: () => refresh()},
    {key: 'd', label: 'Switch between the queue and the dead-letter queue', run: () => router.go('jobs', view === 'dlq' ? {} : {view: 'dlq'})},
    {key: ']', label: 'Older jobs', run: () => { const a = el.querySelector('#jobs-older'); if (a) a.click(); }},
  ]);
  return () => { alive = false; stopPoll(); unkeys(); };
}
