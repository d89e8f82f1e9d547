// crm-common.js - what the CRM pages share: the lists the forms need
// (GET /api/v1/crm/meta), labelled inputs, SVG bar charts and the sub-page
// links.  Field errors, tables and the like are ui.js's, passed on here.
// Every CRM page has <header id="top">, <nav id="sub"> and <main id="main">.
import { api, el } from './api.js';
import { $, clearErrors, svg, subNav, latest } from './ui.js';

export { $, qs, options, clearErrors, showError, showErrors, table, pill, filled, sendAndGo, saving, latest } from './ui.js';

export const API = '/api/v1/crm';
let metaP = null;
export function meta() { return metaP || (metaP = api(API + '/meta')); }

export const TYPE_LABEL = { lead: 'Marketing Lead', recruiting: 'Recruiting Employer' };
// Why two employers may be one: a duplicate check's match, a hub flag's reason.
export const DUP_WHY = { edd_account: 'same EDD Account Number', username: 'same user name',
  name_zip: 'same name and ZIP', name: 'same name', similar: 'similar name' };

// A search form (#filters) whose results come a page of 50 at a time: after
// the form go the status line (#status), the list (#list) and the Previous
// and Next buttons.  page(p) asks for one page (p: limit and offset to add
// to the query), render(r) shows the rows of its answer ({items, more}),
// note(r) adds to the status line; empty is that line when nothing matches
// and fail(e) shows a refused search.  Returns load (submit, or a first
// page).
export function pagedSearch({ page, render, empty, note = () => '', fail }) {
  const LIMIT = 50;
  let offset = 0;
  $('filters').after(
    el('p', { id: 'status', role: 'status', 'aria-live': 'polite', class: 'muted' }),
    el('div', { id: 'list' }),
    el('p', { class: 'actions no-print' },
      el('button', { type: 'button', class: 'secondary', id: 'prev' }, 'Previous page'),
      el('button', { type: 'button', class: 'secondary', id: 'next' }, 'Next page')));
  const loads = latest();
  async function load(ev) {
    if (ev) { ev.preventDefault(); offset = 0; }
    const current = loads();
    clearErrors($('filters'));
    try {
      const r = await page({ limit: LIMIT, offset });
      if (!current()) return;
      $('status').textContent = (r.items.length ? `Showing ${offset + 1}–${offset + r.items.length}${r.more ? ' (more on the next page)' : ''}.` : empty) + note(r);
      $('prev').disabled = offset === 0;
      $('next').disabled = !r.more;
      $('list').replaceChildren(render(r));
    } catch (e) {
      if (!current()) return;
      $('status').textContent = '';
      fail(e);
    }
  }
  $('filters').addEventListener('submit', load);
  $('prev').addEventListener('click', () => { offset = Math.max(0, offset - LIMIT); load(); });
  $('next').addEventListener('click', () => { offset += LIMIT; load(); });
  return load;
}

// One date format everywhere (MM/DD/YYYY, the office's zone): api.js.
export { fmtDate } from './api.js';

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

subNav('crm-sub', [
  ['/crm.html', 'CRM home'],
  ['/crm-leads.html', 'Marketing Leads'],
  ['/crm-leads.html?view=contacts', 'Contacts List'],
  ['/crm-lead-form.html', 'Create a lead'],
  ['/crm-external.html', 'External employers'],
  ['/crm-external.html?view=directory', 'Local employer sites'],
  ['/crm-work.html', 'Work items'],
  ['/crm-reports.html', 'Reports'],
], { matchSearch: true });
