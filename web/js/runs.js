// What several pages need to know about runs: a run's names, a session's runs for pickers, labels.
import * as api from './api.js';

/** A run's id, name, session and eval path: from a rows answer when it has them, else from its first result. */
export async function runInfo(runId, answer) {
  if (answer && answer.run_name !== undefined && answer.session_name !== undefined) {
    return {run_id: answer.run_id, run_name: answer.run_name, session_name: answer.session_name, eval_path: answer.eval_path};
  }
  try {
    const r = await api.result(runId, 0);
    return {run_id: r.run_id, run_name: r.run_name, session_name: r.session_name, eval_path: r.eval_path};
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  // an empty run has no first result: find it among the sessions' runs
  const {sessions} = await api.sessions();
  for (const s of sessions) {
    const {runs} = await api.sessionRuns(s);
    const r = runs.find((x) => x.run_id === runId);
    if (r) return {run_id: r.run_id, run_name: r.run_name, session_name: s, eval_path: null};
  }
  return {run_id: runId, run_name: runId, session_name: null, eval_path: null};
}

const DATE = new Intl.DateTimeFormat('en-US', {month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit'});

/** When a run was made, from the runs list's timestamp (seconds, or an ISO text). */
export function runDate(ts) {
  if (ts === null || ts === undefined) return '';
  const d = typeof ts === 'number' ? new Date(ts < 1e12 ? ts * 1000 : ts) : new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : DATE.format(d);
}

/** `name (Mon D, h:mm AM)`, as the original's run picker writes a run. */
export const runLabel = (r) => `${r.run_name}${r.timestamp ? ` (${runDate(r.timestamp)})` : ''}`;

/** A case's identity across runs: function and dataset, as the original's comparison matches them. */
export const caseKey = (row) => `${row.function}::${row.dataset ?? ''}`;
