// case-common.js - helpers shared by the case-work pages: the lists the forms
// need (GET /api/v1/case/meta: codes, staff, offices, the office's trusted
// date and clock skew), field-level errors from the API's {error, field},
// tables and small formatters.  Every case page has <header id="top"> and
// <main id="main">; nothing here keeps a participant's data beyond the page.
import { api, el, fmtDate } from './api.js';

export const $ = id => document.getElementById(id);
export const API = '/api/v1/case';
let metaP = null;
export function meta() { return metaP || (metaP = api(API + '/meta')); }

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
  return u.toString();
}

export function options(select, items, { value = 'id', label = 'name', blank = null, selected = null } = {}) {
  select.replaceChildren(...(blank !== null ? [el('option', { value: '' }, blank)] : []),
    ...items.map(i => el('option', { value: i[value], selected: String(i[value]) === String(selected) ? true : null },
      typeof label === 'function' ? label(i) : i[label])));
}

export function clearErrors(form) {
  form.querySelectorAll('.field-err').forEach(p => { p.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach(i => i.removeAttribute('aria-invalid'));
  const g = form.querySelector('.form-err');
  if (g) g.textContent = '';
}

// Show an ApiError next to its field: input id = prefix + field (dots become
// dashes), message in the element with id input.id + '-err'.
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

export function table(caption, headers, rows) {
  return el('table', {}, el('caption', { class: 'sr-only' }, caption),
    el('thead', {}, el('tr', {}, headers.map(h => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map(r => el('tr', {}, r.map(c => el('td', {}, c))))));
}

export function pill(text, cls = '') { return el('span', { class: 'pill ' + cls }, text); }
export function name(p) { return `${p.last_name}, ${p.first_name}`; }
export function partLink(p, id = p.id || p.participant_id) {
  return el('a', { href: '/case-participant.html?id=' + encodeURIComponent(id) }, name(p));
}

// The clock banner: a skewed or unchecked office clock is shown to staff.
export async function clockNotice(target) {
  const m = await meta();
  if (m.clock_skew_warning) {
    target.hidden = false;
    target.className = 'notice warn';
    target.textContent = `This computer's clock is ${Math.round(Math.abs(m.clock_offset_ms) / 60000)} minutes off the hub's. ` +
      `Dates are checked against the hub's time (${fmtDate(m.today)}); tell your administrator.`;
  } else if (!m.clock_checked) {
    target.hidden = false;
    target.className = 'notice';
    target.textContent = `Dates are checked against this office's clock (today is ${fmtDate(m.today)}); it has not yet been compared with the hub's.`;
  }
}

for (const a of document.querySelectorAll('.case-sub a')) {
  const u = new URL(a.href, location.href);
  if (u.pathname === location.pathname) a.setAttribute('aria-current', 'page');
}
