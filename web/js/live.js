// Live updates: the one EventSource of the dashboard. A page watches one run at a time; watching
// another (or unmounting) closes the previous stream. The server sends "hello" on connect, "row" for
// each changed result (with the new totals and chips when it has them) and "done" when a run ends.
// The browser reconnects by itself after a dropped connection; "hello" then tells the page to
// refresh what it shows, since events sent while disconnected are lost.
import {eventsUrl} from './api.js';

let source = null;

/**
 * Watches a run. handlers: {hello(data), row(data), done(data), error()}. Returns a function that
 * stops watching.
 */
export function watch(runId, handlers) {
  stop();
  const es = new EventSource(eventsUrl(runId));
  source = es;
  let connectedBefore = false;
  const on = (type, fn) => es.addEventListener(type, (e) => {
    if (source !== es) return;
    let data = {};
    try { data = e.data ? JSON.parse(e.data) : {}; } catch (err) { return; }
    fn(data);
  });
  on('hello', (d) => { if (handlers.hello) handlers.hello(d, connectedBefore); connectedBefore = true; });
  if (handlers.row) on('row', handlers.row);
  if (handlers.rows) on('rows', handlers.rows);
  if (handlers.totals) on('totals', handlers.totals);
  if (handlers.done) on('done', handlers.done);
  es.onerror = () => { if (source === es && handlers.error) handlers.error(); };
  return () => { if (source === es) stop(); };
}

export function stop() {
  if (source) source.close();
  source = null;
}

/**
 * Polls while a page shows live state that has no event stream (jobs, devices): calls fn at once and then
 * every `ms` while the tab is visible (a hidden tab does not poll; showing it again polls at once). A poll
 * starts only after the previous one ended. Returns a function that stops polling.
 */
export function poll(fn, ms) {
  let timer = null;
  let stopped = false;
  let busy = false;
  const tick = async () => {
    clearTimeout(timer);
    if (stopped || busy || document.hidden) return;
    busy = true;
    try { await fn(); } catch (e) { console.warn('poll', e); } finally { busy = false; }
    if (!stopped && !document.hidden) timer = setTimeout(tick, ms);
  };
  const onVisible = () => { if (!document.hidden) tick(); };
  document.addEventListener('visibilitychange', onVisible);
  tick();
  return () => { stopped = true; clearTimeout(timer); document.removeEventListener('visibilitychange', onVisible); };
}
