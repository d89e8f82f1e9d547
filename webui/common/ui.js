// ui.js - page helpers shared by the office node's pages and the hub
// console's: $, query strings, <select> options, field errors next to their
// inputs, tables, pills, SVG drawing and a section's sub-page links.
// api.js holds the JSON calls, el() and the date formats; this builds on el().
import { el } from './api.js';

export const $ = id => document.getElementById(id);

// A page's loads in order, so that only the latest one draws: an answer to
// an earlier search (still loading when the next was sent) comes too late.
//   const loads = latest();  ...  const current = loads();
//   const r = await api(...); if (!current()) return;
export function latest() {
  let asked = 0;
  return () => { const mine = ++asked; return () => mine === asked; };
}

// What a form sends: the trimmed value of each input with id prefix + key,
// by key, leaving out the empty ones.
export function filled(keys, prefix = '') {
  const body = {};
  for (const k of keys) { const v = $(prefix + k).value.trim(); if (v) body[k] = v; }
  return body;
}

// A query string of the parameters that have a value ('', null, undefined
// and false are left out).
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null && v !== false) u.set(k, v);
  return u.toString();
}

// Fill a <select> with items; label is a key of the item or a function of it.
export function options(select, items, { value = 'id', label = 'name', blank = null, selected = null } = {}) {
  select.replaceChildren(...(blank !== null ? [el('option', { value: '' }, blank)] : []),
    ...items.map(i => el('option', { value: i[value], selected: String(i[value]) === String(selected) ? true : null },
      typeof label === 'function' ? label(i) : i[label])));
}

// ---- field errors -----------------------------------------------------------
// An ApiError {message, field} goes next to its input: input id = prefix +
// field (dots and brackets become dashes), message in the element with id
// input.id + '-err' (class field-err).  An error with no such input goes to
// the form's message (class form-err).

// Clear the field errors and the form's message.
export function clearErrors(form) {
  form.querySelectorAll('.field-err').forEach(p => { p.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach(i => i.removeAttribute('aria-invalid'));
  form.querySelectorAll('.form-err').forEach(p => { p.textContent = ''; });
}

function fieldInput(form, field, prefix) {
  const f = (field || '').replace(/[.[\]]+/g, '-').replace(/-$/, '');
  const input = f && form.querySelector('#' + CSS.escape(prefix + f));
  const p = input && form.querySelector('#' + CSS.escape(input.id + '-err'));
  return input && p ? [input, p] : [null, null];
}

// One error; the input is focused (or the form's message, when it can be).
export function showError(form, e, prefix = '') {
  const [input, p] = fieldInput(form, e.field, prefix);
  if (input) {
    p.textContent = e.message;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    const g = form.querySelector('.form-err');
    if (g) { g.textContent = e.message; g.focus?.(); }
  }
}

// Where to go after signing in (the login pages' ?next=): a page of this
// site only.  The value is resolved as the browser would resolve it (a tab
// or newline is dropped, a backslash is a slash), so "/%09/evil.example" or
// "/\evil.example" cannot lead to another site; the login page itself, or
// anything else, gives '/'.
export function nextPage(n = new URLSearchParams(location.search).get('next')) {
  if (!n || !n.startsWith('/')) return '/';
  let u;
  try { u = new URL(n, location.origin); } catch { return '/'; }
  if (u.origin !== location.origin || !u.pathname.startsWith('/') || u.pathname.startsWith('//') ||  // "/.//evil.example"
      u.pathname.startsWith('/login')) return '/';
  return u.pathname + u.search + u.hash;
}

// A form's save: while run() is in flight the form's submit buttons are
// disabled and another submit of the form does nothing, so a double click
// or a second Enter saves once.  Afterwards (saved or refused) the buttons
// come back.  Call it at once from the submit handler, after
// ev.preventDefault().  Returns run()'s value (undefined when already busy).
export async function saving(form, run) {
  if (form.dataset.saving) return undefined;
  form.dataset.saving = '1';
  const buttons = [...form.querySelectorAll('button:not([type]), button[type="submit"], input[type="submit"]')]
    .filter(b => !b.disabled);
  buttons.forEach(b => { b.disabled = true; });
  try {
    return await run();
  } finally {
    delete form.dataset.saving;
    buttons.forEach(b => { b.disabled = false; });
  }
}

// A form that creates something and then shows it: button (and the form) is
// disabled while send() runs; send resolves to the page to go to, and stays
// disabled while the browser goes there (a second click would create a
// second record).  On an error onError(e) runs first (when given), then the
// error shows at the form and the button comes back.
export async function sendAndGo(button, form, send, onError = null) {
  if (form.dataset.saving) return;
  form.dataset.saving = '1';
  button.disabled = true;
  try {
    const to = await send();
    // Back to this page from the browser's cache: usable again.
    window.addEventListener('pageshow', () => { delete form.dataset.saving; button.disabled = false; }, { once: true });
    location.href = to;
  } catch (e) {
    delete form.dataset.saving;
    button.disabled = false;
    if (onError) onError(e);
    showError(form, e);
  }
}

// Every field error of a reply (ApiError.errors, else its one error); the
// errors with no input are added one after another to the form's message,
// and the first input in error is focused.
export function showErrors(form, e, prefix = '') {
  const errs = e.errors && e.errors.length ? e.errors : [{ field: e.field, error: e.message }];
  let first = null;
  for (const x of errs) {
    const [input, p] = fieldInput(form, x.field, prefix);
    if (input) {
      p.textContent = x.error;
      input.setAttribute('aria-invalid', 'true');
      first = first || input;
    } else {
      const g = form.querySelector('.form-err');
      if (g) g.textContent = (g.textContent ? g.textContent + ' ' : '') + x.error;
    }
  }
  if (first) first.focus();
}

// ---- the error summary (GOV.UK / USWDS) --------------------------------------
// Every error of a reply at the top of the page in plain words, each linking
// to its field, and the same words beside the field: the office node's
// pages (office.js, on every failed form write) and the hub console's
// (console.js showErrors) alike.

// The input of form for an API field name (prefix: the form's id prefix).
function summaryInput(form, field, prefix = '') {
  if (!field) return null;
  const f = String(field).replace(/[.[\]]+/g, '-').replace(/-$/, '');
  const sel = [prefix && '#' + CSS.escape(prefix + f), `[data-field="${CSS.escape(field)}"]`, '#' + CSS.escape(f),
    `[name="${CSS.escape(field)}"]`, `[id$="-${CSS.escape(f)}"]`].filter(Boolean);
  for (const s of sel) {
    const x = form.querySelector(s) || (form.id ? null : document.querySelector(s));
    if (x && !x.closest('[hidden]')) return x;
  }
  return null;
}

export function labelOf(input) {
  if (!input) return '';
  const l = input.id && document.querySelector(`label[for="${CSS.escape(input.id)}"]`);
  const t = l ? l.textContent : input.closest('fieldset')?.querySelector('legend')?.textContent || input.getAttribute('aria-label') || '';
  return t.replace(/\*|\((optional|required)[^)]*\)/gi, '').replace(/\s+/g, ' ').trim();
}

function human(field) {
  return String(field || '').replace(/\.|\[|\]/g, ' ').replace(/_id$/, '').replace(/_/g, ' ').trim();
}

// The API's message in plain words: its field names become the form's labels.
export function plainMessage(msg, field, input) {
  const label = labelOf(input) || human(field);
  let m = String(msg || '');
  if (field) {
    // A field's name becomes its label (not a plain word that only differs
    // in case: "the office" stays, "office_id" goes).
    for (const name of [field, String(field).replace(/_id$/, '')]) {
      if (label && name.replace(/_/g, ' ').toLowerCase() === label.toLowerCase() && !name.includes('_')) continue;
      m = m.split(name).join(label);
    }
  }
  // "Full name" reads "full name" mid-sentence; "Local Area" and "SSN" stay.
  const lower = label && /^[A-Z][a-z'’]*(\s+[^A-Z\s]\S*)*$/.test(label) ? label[0].toLowerCase() + label.slice(1) : label;
  const req = m.match(/^(.+?) (is|are) required\.?$/i);
  if (req) m = `${input && input.tagName === 'SELECT' ? 'Choose' : 'Enter'} ${req[1] === label || /^(this|it)$/i.test(req[1]) ? lower : req[1]}`;
  m = m.charAt(0).toUpperCase() + m.slice(1);
  return m;
}

export function clearSummary() {
  const old = $('error-summary');
  if (old) old.remove();
}

// Show errors [{field, error}] for form: a summary at the top of the page
// (of the dialog, inside an open modal) linking to each field, and the
// message beside each field that has a place for one (id + '-err').
// Returns the plain message of the first error.
export function showSummary(form, errors, prefix = '') {
  clearSummary();
  const items = errors.map(x => {
    const input = summaryInput(form, x.field, prefix);
    return { input, text: plainMessage(x.error, x.field, input) };
  });
  for (const { input, text } of items) {
    if (!input) continue;
    const d = input.closest('details');
    if (d) d.open = true;
    input.setAttribute('aria-invalid', 'true');
    const p = input.id && document.getElementById(input.id + '-err');
    if (p) p.textContent = text;
  }
  const box = el('div', { id: 'error-summary', class: 'error-summary', role: 'alert', tabindex: '-1', 'aria-labelledby': 'error-summary-h' },
    el('h2', { id: 'error-summary-h' }, 'There is a problem'),
    el('ul', {}, items.map(({ input, text }) => el('li', {}, input
      ? el('a', { href: '#' + input.id, onclick: ev => { ev.preventDefault(); input.focus(); input.scrollIntoView({ block: 'center' }); } }, text)
      : text))));
  const host = form && form.closest && form.closest('dialog[open]') ? form : document.querySelector('main');
  host.prepend(box);
  box.focus();
  return items.length ? items[0].text : '';
}

// ---- tables and small things ------------------------------------------------
// A table with a caption (visually hidden unless showCaption), header cells
// with scope, and rows of cells (strings or nodes).  With `empty`, no rows
// give a line saying so instead of an empty table.
export function table(caption, headers, rows, { showCaption = false, empty = null } = {}) {
  if (empty !== null && !rows.length) return el('p', { class: 'muted' }, empty);
  return el('table', {}, el('caption', { class: showCaption ? null : 'sr-only' }, caption),
    el('thead', {}, el('tr', {}, headers.map(h => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map(r => el('tr', {}, r.map(c => el('td', {}, c))))));
}

export function pill(text, cls = '') { return el('span', { class: 'pill ' + cls }, text); }

const SVG = 'http://www.w3.org/2000/svg';
// An SVG element (charts are drawn with these).
export function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// A section's sub-page links ([[href, label], ...]) in the page's
// <nav id="sub" aria-label="...">, as a list of class "sub-pages" and cls,
// the current page marked; matchSearch: a link is current only when its
// query string is the page's too (one page with several views).
export function subNav(cls, links, { matchSearch = false } = {}) {
  const nav = $('sub');
  if (!nav) return;
  nav.replaceChildren(el('ul', { class: 'sub-pages ' + cls }, links.map(([href, text]) => {
    const u = new URL(href, location.href);
    const here = u.pathname === location.pathname && (!matchSearch || u.search === location.search);
    return el('li', {}, el('a', { href, 'aria-current': here ? 'page' : null }, text));
  })));
}

// A record that does not exist (a 404 from its API, a link to nothing): the
// page's forms give way to a plain "not found" page with a way back, on
// the office node's pages and the hub console's alike.
export function showNotFound(what, back, backLabel) {
  const main = document.querySelector('main');
  document.querySelectorAll('dialog[open]').forEach(d => d.close());
  document.title = `${what} not found — Outpost`;
  main.replaceChildren(
    el('h1', { id: 'not-found' }, `${what} not found`),
    el('p', {}, `There is no ${what.toLowerCase()} at this link. It may have been removed, or the link may be incomplete.`),
    el('p', {}, el('a', { href: back }, backLabel)));
}
