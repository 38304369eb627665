// One job: its record, request, output, metrics, every attempt with its error, and its callback deliveries;
// cancel while it is active, requeue or delete once it failed. Live until the job ends.
// URL: ?page=job&id=JOB_ID
import * as api from '../api.js';
import * as router from '../router.js';
import * as keys from '../keys.js';
import {poll} from '../live.js';
import {h, fill, text, toast, empty, code, confirmDialog} from '../dom.js';
import {statePill, when} from './jobs.js';

export const title = 'Job';
const ACTIVE = new Set(['queued', 'running', 'retrying']);
const POLL_MS = 1000;

export function mount(el, params) {
  let alive = true;
  const id = params.get('id') || '';
  const head = h('div', {class: 'detail-bar'});
  const main = h('div', {class: 'job-detail', id: 'job-detail'}, h('p', {class: 'muted'}, 'Loading…'));
  fill(el, head, main);
  let stopPoll = () => {};

  async function load() {
    let job;
    try {
      job = await api.job(id);
    } catch (e) {
      if (!alive) return;
      stopPoll();
      fill(head, h('a', {href: router.href('jobs')}, '« Jobs'));
      fill(main, empty(e.status === 404 ? `No job ${id}` : 'The job could not be loaded', e.status === 404
        ? 'It was deleted, belongs to someone else, or the link is wrong. Your jobs:' : e.message,
      code(`curl -H "X-User-Token: $TOKEN" ${location.origin}/api/jobs`)));
      return;
    }
    const ended = !ACTIVE.has(job.state);
    const [result, deliveries] = await Promise.all([
      ended ? api.jobResult(id).catch(() => null) : null,
      api.jobDeliveries(id).then((d) => d.deliveries, () => []),
    ]);
    if (!alive) return;
    draw(job, result, deliveries);
    if (ended) stopPoll();
  }

  function draw(job, result, deliveries) {
    fill(head, h('a', {href: router.href('jobs'), title: 'Back to the jobs (Esc)'}, '« Jobs'),
      h('h2', {}, h('code', {}, job.job_id)), statePill(job.state),
      job.cancel_requested && job.state === 'running' ? h('span', {class: 'muted'}, 'cancel asked: it stops when the attempt does') : null,
      h('span', {class: 'spacer'}),
      ACTIVE.has(job.state) && !job.cancel_requested ? h('button', {type: 'button', class: 'danger', id: 'job-cancel', onclick: () => act('cancel')}, 'Cancel') : null,
      job.state === 'failed' ? [h('button', {type: 'button', id: 'job-requeue', onclick: () => act('requeue')}, 'Requeue'),
        h('button', {type: 'button', class: 'danger', id: 'job-delete', onclick: () => act('delete')}, 'Delete')] : null);
    const fact = (k, v) => (v === null || v === undefined || v === '' ? null : [h('dt', {}, k), h('dd', {}, v)]);
    const facts = h('dl', {class: 'facts', id: 'job-facts'},
      fact('State', job.state), fact('Priority', String(job.priority)), fact('Queue tag', job.queue_tag), fact('Model', job.model),
      fact('Pinned to', job.device_serial), fact('Ran on', job.device), fact('Dataset', job.adapter_id), fact('Callback', job.callback_url),
      fact('Attempt', `${job.attempt} of ${job.max_attempts}`), fact('Backoff', `${job.backoff_s} s`),
      fact('Error', job.error ? `${job.error.type}: ${job.error.message}` : null),
      fact('Enqueued', when(job.enqueued_at)), fact('Started', when(job.started_at)), fact('Finished', when(job.finished_at)),
      fact('Next run', when(job.next_run_at)), fact('Lease until', when(job.lease_expires_at)));
    const section = (titleText, idName, ...body) => h('section', {class: 'card', id: idName}, h('h3', {}, titleText), body);
    const parts = [h('div', {class: 'detail'}, h('div', {class: 'job-main'}, result
      ? [section('Request', 'job-request',
        h('h4', {}, 'Prompt'), h('pre', {}, text(result.request && result.request.prompt)),
        result.request && result.request.system ? [h('h4', {}, 'System'), h('pre', {}, text(result.request.system))] : null,
        result.request && result.request.options ? [h('h4', {}, 'Options'), h('pre', {}, text(result.request.options, 2))] : null),
      section('Output', 'job-output', result.output
        ? [h('pre', {class: 'output'}, text(result.output.text)), h('p', {class: 'muted small'}, `done_reason: ${result.output.done_reason || '—'}`)]
        : h('p', {class: 'muted'}, 'No output: the job did not finish.')),
      section('Metrics', 'job-metrics', metricsTable(result.metrics))]
      : section('Request and output', 'job-request', h('p', {class: 'muted', id: 'job-waiting'},
        `The job is ${job.state}; its request, output, metrics and attempts show here when it ends (the result endpoint answers 202 until then).`))),
    h('div', {class: 'detail-side'}, facts)),
    section('Attempts', 'job-attempts', attemptsTable(result && result.attempts)),
    section('Callback deliveries', 'job-deliveries', deliveriesTable(job, deliveries))];
    fill(main, parts);
  }

  function metricsTable(m) {
    if (!m || !Object.keys(m).length) return h('p', {class: 'muted'}, 'No metrics reported.');
    const rows = Object.entries(m).filter(([k]) => k !== 'extra').map(([k, v]) => [k, v]);
    for (const [k, v] of Object.entries(m.extra || {})) rows.push([k, v]);
    return h('table', {class: 'results'}, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('td', {class: 'metric-key'}, k), h('td', {}, text(v))))));
  }

  function attemptsTable(attempts) {
    if (!attempts) return h('p', {class: 'muted'}, 'Shown when the job ends.');
    if (!attempts.length) return h('p', {class: 'muted'}, 'No attempt was made (cancelled while queued).');
    return h('table', {class: 'results', id: 'attempts-table'},
      h('thead', {}, h('tr', {}, ['#', 'Device', 'Started', 'Ended', 'Outcome', 'Error'].map((t) => h('th', {}, t)))),
      h('tbody', {}, attempts.map((a) => h('tr', {},
        h('td', {}, String(a.attempt)), h('td', {}, a.device || ''), h('td', {}, when(a.started_at)), h('td', {}, when(a.ended_at)),
        h('td', {}, a.outcome || ''), h('td', {class: 'err'}, a.error_type ? `${a.error_type}: ${a.error_message || ''}` : '')))));
  }

  function deliveriesTable(job, deliveries) {
    if (!job.callback_url) {
      return empty('No callback for this job', 'A job with a callback_url POSTs its outcome there when it ends, signed as Standard Webhooks:',
        code(`curl -H "X-User-Token: $TOKEN" -d '{"prompt":"Hello","callback_url":"https://example.com/hook"}' ${location.origin}/api/jobs`));
    }
    if (!deliveries.length) return h('p', {class: 'muted'}, `Nothing sent yet: the callback goes to ${job.callback_url} when the job ends.`);
    return h('table', {class: 'results', id: 'deliveries-table'},
      h('thead', {}, h('tr', {}, ['Event', 'URL', 'State', 'Tries', 'Last status', 'Last error', 'Next try', 'Webhook id'].map((t) => h('th', {}, t)))),
      h('tbody', {}, deliveries.map((d) => h('tr', {dataset: {state: d.state}},
        h('td', {}, d.event), h('td', {}, d.url), h('td', {}, d.state), h('td', {}, String(d.attempts)),
        h('td', {}, d.last_status === null || d.last_status === undefined ? '' : String(d.last_status)),
        h('td', {class: 'err'}, d.last_error || ''), h('td', {}, when(d.next_attempt_at)), h('td', {}, h('code', {}, d.webhook_id))))));
  }

  async function act(what) {
    try {
      if (what === 'cancel') {
        const r = await api.cancelJob(id);
        toast(r.state === 'cancelled' ? 'Job cancelled' : 'Cancel asked: the job stops when its attempt does');
      } else if (what === 'requeue') {
        await api.requeueJob(id);
        toast('Job requeued');
      } else {
        if (!await confirmDialog(`Delete the job ${id} for good?`, 'Delete')) return;
        await api.deleteJob(id);
        toast('Job deleted');
        router.go('jobs', {view: 'dlq'});
        return;
      }
    } catch (e) {
      toast(`${what} failed: ${e.message}`, 'error');
    }
    stopPoll();
    stopPoll = poll(load, POLL_MS);
  }

  stopPoll = poll(load, POLL_MS);
  const unkeys = keys.registerPage([
    {key: 'Esc', label: 'Back to the jobs', run: () => router.go('jobs')},
    {key: 'c', label: 'Cancel the job', run: () => { const b = el.querySelector('#job-cancel'); if (b) b.click(); }},
  ]);
  return () => { alive = false; stopPoll(); unkeys(); };
}
