// The only place that calls fetch(): one function per endpoint. The session cookie rides along;
// the browser adds this page's Origin to writes, which the server checks.
async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : {'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.detail || res.statusText), {status: res.status});
  return data;
}

const enc = encodeURIComponent;

export const me = () => call('GET', '/api/me');
export const activeRun = () => call('GET', '/results');
export const runData = (runId) => call('GET', `/api/runs/${enc(runId)}/data`);
export const sessionRuns = (name) => call('GET', `/api/sessions/${enc(name)}/runs`);
export const activate = (runId) => call('POST', `/api/runs/${enc(runId)}/activate`);
export const renameRun = (runId, runName) => call('PATCH', `/api/runs/${enc(runId)}`, {run_name: runName});
export const annotate = (runId, index, annotation) =>
  call('PATCH', `/api/runs/${enc(runId)}/results/${index}`, {result: {annotation}});
export const rerun = (indices) => call('POST', '/api/runs/rerun', indices ? {indices} : {});
export const newRun = (runName, indices) => call('POST', '/api/runs/new', {run_name: runName || null, indices: indices || null});
export const stop = () => call('POST', '/api/runs/stop');
export const suites = () => call('GET', '/api/suites');
export const exportUrl = (runId, format) => `/api/runs/${enc(runId)}/export/${format}`;
export const eventsUrl = (runId) => `/api/runs/${enc(runId)}/events`;
