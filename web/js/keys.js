// Keyboard shortcuts: pages register theirs while mounted; "?" lists the global ones and the current
// page's. Keys typed into a text field stay there (except Escape, which leaves the field).
import {h, modal} from './dom.js';

const global = [];
let page = [];
let pendingG = false;

/** Adds global shortcuts: [{key: 'g r', label, run}]. */
export function registerGlobal(list) {
  global.push(...list);
}

/** Sets the current page's shortcuts; returns a function that removes them. */
export function registerPage(list) {
  page = list;
  return () => { if (page === list) page = []; };
}

function typing(e) {
  const t = e.target;
  return t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

function keyName(e) {
  if (e.key === 'ArrowUp') return '↑';
  if (e.key === 'ArrowDown') return '↓';
  if (e.key === 'ArrowLeft') return '←';
  if (e.key === 'ArrowRight') return '→';
  if (e.key === 'Escape') return 'Esc';
  if (e.key === 'Enter') return 'Enter';
  return e.key;
}

export function install() {
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey) return;
    if (typing(e)) {
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    if (document.querySelector('.backdrop')) return;   // a dialog has the keyboard
    let name = keyName(e);
    if (pendingG) {
      pendingG = false;
      name = 'g ' + name;
    } else if (name === 'g') {
      pendingG = true;
      setTimeout(() => { pendingG = false; }, 1500);
      e.preventDefault();
      return;
    }
    const hit = [...page, ...global].find((s) => s.key === name || (s.keys && s.keys.includes(name)));
    if (hit) {
      e.preventDefault();
      hit.run(e);
    }
  });
}

export function showHelp() {
  const rows = (list) => list.map((s) => h('tr', {}, h('td', {}, h('kbd', {}, s.key)), h('td', {}, s.label)));
  modal('Keyboard shortcuts', h('div', {class: 'help', id: 'shortcuts'},
    page.length ? [h('h4', {}, 'This page'), h('table', {}, rows(page))] : null,
    h('h4', {}, 'Everywhere'), h('table', {}, rows(global))));
}
