// crm-external.js - external employers (spidered job postings: sort by name
// or active job orders, filter by keyword, industry code, ZIP) and, with
// ?view=directory, the local employer sites search (area, industry,
// keyword, with or without openings).  "Convert to lead" opens the lead
// form prefilled.
import { api, el } from './api.js';
import { $, API, qs, table, showError, pagedSearch } from './crm-common.js';

const dir = new URLSearchParams(location.search).get('view') === 'directory';

function page(p) {
  const q = { q: $('f-q').value.trim(), industry: $('f-industry').value.trim(), zip: $('f-zip').value.trim(), ...p };
  if (dir) { q.area = $('f-area').value.trim(); q.openings = $('f-openings').value; } else q.sort = $('f-sort').value;
  return api(`${API}/${dir ? 'directory' : 'external-employers'}?${qs(q)}`);
}

function render(r) {
  const action = x => x.lead_id ? el('a', { href: '/crm-lead.html?id=' + x.lead_id }, 'View lead')
    : el('a', { href: `/crm-lead-form.html?${dir ? 'directory' : 'external'}=${encodeURIComponent(x.id)}`, 'aria-label': `Convert to lead: ${x.company_name || x.name}` }, 'Convert to lead');
  // Local employer sites: the company name opens its details, with
  // "Convert to lead" at the bottom.
  const review = x => el('button', { type: 'button', class: 'linkish', 'aria-haspopup': 'dialog', onclick: () => showSite(x) }, x.name);
  return dir
    ? table('Local employer sites', ['Company', 'Industry', 'City', 'County', 'ZIP', 'Employees', 'Openings', 'Action'],
      r.items.map(x => [review(x), `${x.industry_code} ${x.industry_title}`, x.city, x.county, x.zip, x.employees, x.has_openings ? 'Yes' : 'No', action(x)]))
    : table('External employers', ['Company', 'Industry', 'City', 'ZIP', 'Active job orders', 'Action'],
      r.items.map(x => [x.company_name, `${x.industry_code} ${x.industry_title}`, x.city, x.zip, String(x.active_job_orders), action(x)]));
}

function showSite(x) {
  $('site-h').textContent = x.name;
  $('site-info').replaceChildren(...[['Address', [x.street, x.city, x.state, x.zip].filter(Boolean).join(', ')], ['County', x.county],
    ['Phone', x.phone], ['Website', x.website], ['Industry', `${x.industry_code} ${x.industry_title}`], ['Employees', x.employees],
    ['Current openings', x.has_openings ? 'Yes' : 'No']].filter(p => p[1]).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const a = $('site-convert');
  if (x.lead_id) { a.textContent = 'View lead'; a.href = '/crm-lead.html?id=' + encodeURIComponent(x.lead_id); }
  else { a.textContent = 'Convert to lead'; a.href = '/crm-lead-form.html?directory=' + encodeURIComponent(x.id); }
  $('site-dlg').showModal();
}
$('site-close').addEventListener('click', () => $('site-dlg').close());

if (dir) {
  $('title').textContent = 'Local employer sites';
  document.title = 'Local employer sites — Outpost';
  $('intro').textContent = 'Search the business directory for employers in an area, with or without current openings.';
  $('area-wrap').hidden = false;
  $('open-wrap').hidden = false;
  $('sort-wrap').hidden = true;
} else {
  $('intro').textContent = 'Employers whose job postings the system gathered, with their active job orders.';
}
pagedSearch({ page, render, empty: 'No employers match: adjust the search.', fail: e => showError($('filters'), e, 'f-') })();
