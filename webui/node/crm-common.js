// crm-common.js - helpers shared by the CRM pages: the lists the forms need,
// field-level errors from the API's {error, field}, SVG bar charts, and small
// formatters.  Every CRM page has <header id="top"> and <main id="main">.
import { api, el } from './api.js';

export const $ = id => document.getElementById(id);
export const API = '/api/v1/crm';
let metaP = null;
export function meta() { return metaP || (metaP = api(API + '/meta')); }

export const TYPE_LABEL = { lead: 'Marketing Lead', recruiting: 'Recruiting Employer' };

// One date format everywhere (MM/DD/YYYY, the office's zone): api.js.
export { fmtDate } from './api.js';

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
  return u.toString();
}

export function options(select, items, { value = 'id', label = 'name', blank = null, selected = null } = {}) {
  select.replaceChildren(...(blank !== null ? [el('option', { value: '' }, blank)] : []),
    ...items.map(i => el('option', { value: i[value], selected: String(i[value]) === String(selected) ? true : null }, i[label])));
}

// Clear the field errors of a form (elements with class field-err).
export function clearErrors(form) {
  form.querySelectorAll('.field-err').forEach(p => { p.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach(i => i.removeAttribute('aria-invalid'));
  const g = form.querySelector('.form-err');
  if (g) g.textContent = '';
}

// Show an ApiError next to its field: input id = prefix + field (dots and
// brackets become dashes), message in the element with id input.id + '-err'.
export function showError(form, e, prefix = '') {
  const f = (e.field || '').replace(/[.[\]]+/g, '-').replace(/-$/, '');
  const input = f && form.querySelector('#' + CSS.escape(prefix + f));
  const p = input && form.querySelector('#' + CSS.escape(input.id + '-err'));
  if (input && p) {
    p.textContent = e.message;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    const g = form.querySelector('.form-err');
    if (g) g.textContent = e.message;
  }
}

// A labelled input with its error line.  attrs go to the input.
export function field(id, label, attrs = {}, tag = 'input') {
  const input = el(tag, { id, name: id, 'aria-describedby': id + '-err', ...attrs });
  return el('div', {}, el('label', { for: id }, label), input,
    el('p', { class: 'field-err error', id: id + '-err', role: 'alert' }));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// Horizontal bar chart for [{label, value}] with a title for screen readers.
export function barChart(items, title) {
  const w = 720, rh = 26, lw = 280, h = Math.max(1, items.length) * rh;
  const max = Math.max(1, ...items.map(i => i.value));
  const s = svg('svg', { class: 'chart', viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': title, width: '100%' });
  s.append(svg('title', {}, title));
  items.forEach((it, i) => {
    const y = i * rh, bw = Math.round((w - lw - 50) * it.value / max);
    const label = String(it.label ?? '');
    s.append(svg('text', { x: lw - 8, y: y + 17, 'text-anchor': 'end' }, label.length > 40 ? label.slice(0, 39) + '…' : label));
    const r = svg('rect', { class: 'bar', x: lw, y: y + 4, width: Math.max(1, bw), height: rh - 8 });
    r.append(svg('title', {}, `${label}: ${it.value}`));
    s.append(r);
    s.append(svg('text', { x: lw + bw + 6, y: y + 17 }, String(it.value)));
  });
  return s;
}

export function table(caption, headers, rows) {
  return el('table', {}, el('caption', { class: 'sr-only' }, caption),
    el('thead', {}, el('tr', {}, headers.map(h => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map(r => el('tr', {}, r.map(c => el('td', {}, c))))));
}

export function pill(text, cls = '') { return el('span', { class: 'pill ' + cls }, text); }

// Mark the current CRM sub-page.
for (const a of document.querySelectorAll('.crm-sub a')) {
  const u = new URL(a.href, location.href);
  if (u.pathname === location.pathname && u.search === location.search) a.setAttribute('aria-current', 'page');
}
