// Charts: Chart.js from its WebJar, loaded only by the pages that draw one (it is 200 KB, the rest of
// the dashboard about a quarter of that). The Content-Security-Policy blocks inline import maps, and
// Chart.js's ES module imports the bare name "@kurkle/color", so the self-contained UMD build is
// loaded as a same-origin classic script instead; it defines window.Chart.
const CHART_URL = '/vendor/chart.js/4.5.1/dist/chart.umd.js';
let loading = null;

export function loadChart() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = CHART_URL;
      s.onload = () => resolve(window.Chart);
      s.onerror = () => { loading = null; reject(new Error('Chart.js could not be loaded from ' + CHART_URL)); };
      document.head.append(s);
    });
  }
  return loading;
}

/** Run colours, as the original tool's comparison uses them: blue, orange, green, purple. */
export const RUN_COLOURS = ['#3b82f6', '#f97316', '#22c55e', '#a855f7'];
/** Score-key colours for line charts. */
export const SERIES_COLOURS = ['#3b82f6', '#f97316', '#22c55e', '#a855f7', '#ef4444', '#14b8a6', '#eab308', '#64748b'];

/** The theme's colours, read from the CSS variables so charts follow light and dark. */
export function themeColours() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {fg: v('--fg'), muted: v('--muted'), line: v('--line'), bg: v('--panel')};
}

/** Options shared by every chart: theme colours, no animation (charts are read, not watched). */
export function baseOptions() {
  const c = themeColours();
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    color: c.fg,
    scales: {
      x: {ticks: {color: c.muted}, grid: {color: c.line}},
      y: {ticks: {color: c.muted}, grid: {color: c.line}},
    },
    plugins: {legend: {labels: {color: c.fg}}},
  };
}

/** A chart's image with the page background behind it (a PNG of a transparent canvas is unreadable). */
export function chartPng(chart) {
  const src = chart.canvas;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height;
  const g = out.getContext('2d');
  g.fillStyle = themeColours().bg || '#fff';
  g.fillRect(0, 0, out.width, out.height);
  g.drawImage(src, 0, 0);
  return new Promise((resolve) => out.toBlob(resolve, 'image/png'));
}
