// Applies the remembered theme (light, dark, or the system's when none) before the page is drawn, so
// there is no flash of the wrong colours. A classic script: it must run before the body renders.
(function () {
  var choice = null;
  try { choice = localStorage.getItem('scorebook:theme'); } catch (e) { /* storage may be off */ }
  var dark = choice === 'dark' || (choice !== 'light' && window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
})();
