// The only place that calls fetch(): one function per endpoint. The session cookie rides along; the
// browser adds this page's Origin to writes, which the server checks. Failures become an ApiError
// carrying the server's message (the JSON envelope's detail), its code and the HTTP status.

import {isShared, sharedPath} from './share.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Set by main.js: what to do when the session is gone (show the sign-in page). */
let onUnauthorized = null;
export const whenUnauthorized = (fn) => { onUnauthorized = fn; };

async function send(method, path, body, {signal, raw, headers} = {}) {
  if (isShared()) {
    const to = method === 'GET' ? sharedPath(path) : null;
    if (!to) throw new ApiError(403, 'read_only', 'This is a shared, read-only view');
    path = to;
  }
  let res;
  try {
    res = await fetch(path, {
      method,
      signal,
      credentials: 'same-origin',
      headers: {...(body === undefined ? {Accept: 'application/json'} : {'Content-Type': 'application/json', Accept: 'application/json'}), ...headers},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server cannot be reached (is it still running?)');
  }
  if (res.ok && raw) return res;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const message = data.detail && typeof data.detail === 'string' ? data.detail
      : data.error && data.error.message ? data.error.message : `${res.status} ${res.statusText}`;
    const err = new ApiError(res.status, (data.error && data.error.code) || String(res.status), message);
    if (res.status === 401 && onUnauthorized && !path.startsWith('/api/me')) onUnauthorized(err);
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;
const get = (path, opts) => send('GET', path, undefined, opts);

// ---- who, sign-out ----
export const me = () => get('/api/me');
export const logout = () => send('POST', '/logout');

// ---- runs and results ----
/** One page of a run's rows, filtered and sorted by the server; `query` is a URLSearchParams. */
export const rows = (runId, query, signal) => get(`/api/runs/${enc(runId)}/rows?${query}`, {signal});
export const result = (runId, index) => get(`/api/runs/${enc(runId)}/results/${index}`);
export const runData = (runId) => get(`/api/runs/${enc(runId)}/data`);
export const compare = (query, signal) => get(`/api/compare?${query}`, {signal});
export const sessions = () => get('/api/sessions');
export const sessionRuns = (name) => get(`/api/sessions/${enc(name)}/runs`);
export const activate = (runId) => send('POST', `/api/runs/${enc(runId)}/activate`);
export const renameRun = (runId, runName) => send('PATCH', `/api/runs/${enc(runId)}`, {run_name: runName});
export const annotate = (runId, index, annotation) =>
  send('PATCH', `/api/runs/${enc(runId)}/results/${index}`, {result: {annotation}});
export const rerun = (indices) => send('POST', '/api/runs/rerun', indices && indices.length ? {indices} : {});
export const newRun = (runName, indices) =>
  send('POST', '/api/runs/new', {run_name: runName || null, indices: indices && indices.length ? indices : null});
export const stop = () => send('POST', '/api/runs/stop');
export const suites = () => get('/api/suites');
export const exportUrl = (runId, format) => (isShared() ? sharedPath(`/api/runs/${enc(runId)}/export/${format}`)
  : `/api/runs/${enc(runId)}/export/${format}`);
export const eventsUrl = (runId) => `/api/runs/${enc(runId)}/events`;
/** The Markdown report of the visible rows (or of compared runs): a Response, read as a Blob by the caller. */
export const exportMarkdown = (runId, body) => send('POST', `/api/runs/${enc(runId)}/export/markdown`, body, {raw: true});

// ---- settings, keys, users ----
export const config = () => get('/api/config');
export const saveConfig = (values) => send('PUT', '/api/config', values);
export const retention = () => get('/api/retention');
export const saveRetention = (values) => send('PUT', '/api/retention', values);
export const keys = () => get('/api/keys');
export const addKey = (name) => send('POST', '/api/keys', name ? {name} : {});
export const revokeKey = (id) => send('DELETE', `/api/keys/${enc(id)}`);
export const users = () => get('/api/users');
export const addUser = (name) => send('POST', '/api/users', {name});
export const deleteUser = (id) => send('DELETE', `/api/users/${enc(id)}`);

// ---- usage analytics and datasets ----
/** `query` is a URLSearchParams of the range and filters (docs/usage.md). */
export const usageSummary = (query, signal) => get(`/usage/summary?${query}`, {signal});
export const usageSeries = (query, signal) => get(`/usage?${query}`, {signal});
export const usageBreakdown = (query, signal) => get(`/usage?view=breakdown&${query}`, {signal});
export const usageCompare = (query, signal) => get(`/usage/compare?${query}`, {signal});

/**
 * Sends a file's text to /usage/import as `type` (text/csv, application/json, application/x-ndjson). Answers
 * {status, data} whatever the status: a 422 of strict=1 carries the per-row errors the page shows.
 */
export async function usageImport(text, type, query) {
  let res;
  try {
    res = await fetch(`/usage/import?${query}`, {method: 'POST', credentials: 'same-origin', body: text,
      headers: {'Content-Type': type, Accept: 'application/json'}});
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached (is it still running?)');
  }
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && onUnauthorized) onUnauthorized(new ApiError(401, 'unauthorized', data.detail || 'signed out'));
  return {status: res.status, data};
}

export const datasets = () => get('/user/data/list');
/** A page of a dataset's rows; `query` holds limit, order and cursor. */
export const datasetRows = (name, query) => get(`/user/data/get?dataset=${enc(name)}&${query}`);
export const datasetNdjsonUrl = (name) => `/user/data/get?dataset=${enc(name)}&format=ndjson`;
export const datasetMetrics = (name, query) => get(`/user/data/metrics?dataset=${enc(name)}&${query}`);
export const datasetAdapter = (name) => get(`/user/data/get_adapter?dataset=${enc(name)}`);
export const saveAdapter = (adapter) => send('POST', '/user/data/save_adapter', adapter);
/** How the newest `limit` rows map under `adapter`, by the server's rules; nothing is saved. */
export const previewAdapter = (adapter, limit) => send('POST', `/user/data/preview_adapter?limit=${limit}`, adapter);
// ---- jobs ----
/** A page of jobs, newest first; `query` (URLSearchParams) holds state, model, device, queue_tag, limit, cursor. */
export const jobs = (query, signal) => get(`/api/jobs?${query}`, {signal});
export const job = (id) => get(`/api/jobs/${enc(id)}`);
/** The result with the request, raw answer and attempts (202 {state} while the job has not ended). */
export const jobResult = (id) => get(`/api/jobs/${enc(id)}/result?format=json&full=1`);
export const jobDeliveries = (id) => get(`/api/jobs/${enc(id)}/deliveries`);
export const cancelJob = (id) => send('POST', `/api/jobs/${enc(id)}/cancel`);
/** Enqueues; an idempotency key replays the same job for 24 h. */
export const enqueueJob = (body, idempotencyKey) =>
  send('POST', '/api/jobs', body, {headers: idempotencyKey ? {'Idempotency-Key': idempotencyKey} : {}});
export const dlq = (query) => get(`/jobs/dlq?${query}`);
export const requeueJob = (id, body = {}) => send('POST', `/jobs/${enc(id)}/requeue`, body);
export const deleteJob = (id) => send('DELETE', `/jobs/${enc(id)}`);

// ---- devices ----
export const devices = () => get('/devices');
export const registerDevice = (body) => send('POST', '/devices/register', body);
export const reloadDevices = () => send('POST', '/devices/reload');
export const removeDevice = (serial) => send('DELETE', `/devices/${enc(serial)}`);

// ---- the gateway (the login cookie with this page's Origin: docs/dashboard.md) ----
export const models = () => get('/v1/models');
export const warmup = (model, serials) => send('POST', '/warmup', {model: model || undefined, devices: serials});
/** /ask_stream as a Response whose body is read line by line (NDJSON). */
export const askStream = (body, signal) => send('POST', '/ask_stream', body, {signal, raw: true});
