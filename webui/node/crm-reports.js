// crm-reports.js - CRM reports on screen with SVG charts, printable, CSV:
// work items (owner, assignee, category, status, dates, account type),
// Services Provided Employer (DOL category roll-up) and employers by
// account type.
import { showNotFound, printLine } from './office.js';
import { api, el, fmtDate } from './api.js';
import { $, API, meta, options, qs, barChart, table, clearErrors, showError, TYPE_LABEL } from './crm-common.js';
import { latest } from './ui.js';

function section(title, rows, cols, pick) {
  return el('section', { class: 'card' }, el('h2', {}, title),
    rows.length ? barChart(rows.map(r => ({ label: r.label, value: r.count })), title) : el('p', { class: 'muted' }, 'Nothing in this period.'),
    rows.length ? table(title, cols, rows.map(pick)) : '');
}

function params() {
  const kind = $('r-kind').value;
  const p = { from: $('r-from').value, to: $('r-to').value, account_type: $('r-account_type').value, owner: $('r-owner').value };
  if (kind === 'work-items') Object.assign(p, { assignee: $('r-assignee').value, category_id: $('r-category_id').value, status: $('r-status').value });
  if (kind === 'services') p.staff = $('r-staff').value;
  return [kind, p];
}

const runs = latest();
async function run(ev) {
  if (ev) ev.preventDefault();
  const current = runs();
  clearErrors($('filters'));
  const [kind, p] = params();
  $('csv').href = `${API}/reports/${kind}?${qs({ ...p, format: 'csv' })}`;
  try {
    const r = await api(`${API}/reports/${kind}?${qs(p)}`);
    if (!current()) return;
    const sel = id => $(id).selectedOptions[0]?.textContent || '';
    printLine($('print-head'), `${sel('r-kind')}, ${fmtDate(p.from) || 'from the start'} to ${fmtDate(p.to) || 'today'}` +
      (p.account_type ? `, ${sel('r-account_type')}` : ''));
    let parts = [];
    if (kind === 'work-items') {
      $('total').textContent = `${r.total} work item${r.total === 1 ? '' : 's'} linked to employers`;
      parts = [section('By status', r.by_status, ['Status', 'Work items'], x => [x.label, String(x.count)]),
        section('By category', r.by_category, ['Category', 'Work items'], x => [x.label, String(x.count)]),
        section('By assignee', r.by_assignee, ['Assigned to', 'Work items', 'Open'], x => [x.label, String(x.count), String(x.open)]),
        section('By lead owner', r.by_owner, ['Lead owner', 'Work items'], x => [x.label, String(x.count)]),
        el('section', { class: 'card' }, el('h2', {}, 'Work items'), table('Work items', ['ID', 'Employer', 'Category', 'Status', 'Due', 'Assigned to'],
          r.items.map(w => [w.ref, w.employer_name, w.category, w.status, fmtDate(w.due_date), w.assignee_name || ''])))];
    } else if (kind === 'services') {
      $('total').textContent = `${r.total} service${r.total === 1 ? '' : 's'} provided to employers`;
      parts = [section('By DOL employer-services category', r.by_dol_category, ['DOL category', 'Services', 'Employers'],
        x => [`${x.dol_category} ${x.label}`, String(x.count), String(x.employers)]),
        section('By activity code', r.by_code.map(x => ({ ...x, label: `${x.code} ${x.label}` })), ['Code', 'Services', 'Employers'],
          x => [x.label, String(x.count), String(x.employers)]),
        section('By staff', r.by_staff, ['Staff', 'Services'], x => [x.label, String(x.count)]),
        el('section', { class: 'card' }, el('h2', {}, 'By employer'), table('By employer', ['Employer', 'Account type', 'Services', 'Codes'],
          r.by_employer.map(x => [x.label, TYPE_LABEL[x.account_type] || x.account_type, String(x.count), x.codes])))];
    } else {
      $('total').textContent = `${r.total} active employer${r.total === 1 ? '' : 's'}`;
      parts = [section('By account type', r.by_account_type.map(x => ({ ...x, label: x.label === 'lead' ? 'Marketing Lead' : 'Recruiting Employer' })),
        ['Account type', 'Employers', 'Vetting pending'], x => [x.label, String(x.count), String(x.vetting_pending)]),
        section('By office', r.by_office, ['Office', 'Leads', 'Recruiting', 'All'], x => [x.label, String(x.leads), String(x.recruiting), String(x.count)]),
        section('By lead owner', r.by_owner, ['Lead owner', 'Leads', 'Recruiting', 'All'], x => [x.label, String(x.leads), String(x.recruiting), String(x.count)]),
        section('By source', r.by_source, ['Source', 'Employers'], x => [x.label, String(x.count)])];
    }
    $('out').replaceChildren(...parts);
  } catch (e) {
    if (!current()) return;
    $('out').replaceChildren();
    $('total').textContent = '';
    showError($('filters'), e, 'r-');
  }
}

function kindChanged() {
  const k = $('r-kind').value;
  document.querySelectorAll('.wi-only').forEach(d => { d.hidden = k !== 'work-items'; });
  document.querySelectorAll('.svc-only').forEach(d => { d.hidden = k !== 'services'; });
  run();
}

async function init() {
  const m = await meta();
  const staff = [{ id: 'all', display_name: 'All' }, { id: 'me', display_name: 'Me' }, ...m.staff];
  options($('r-owner'), staff, { label: 'display_name' });
  options($('r-assignee'), [{ id: '', display_name: 'All' }, ...m.work_group], { label: 'display_name' });
  options($('r-staff'), [{ id: '', display_name: 'All' }, ...m.staff], { label: 'display_name' });
  options($('r-category_id'), m.categories, { blank: 'All' });
  const kind = new URLSearchParams(location.search).get('report');
  if (kind && ![...$('r-kind').options].some(o => o.value === kind)) {
    showNotFound('Report', '/crm-reports.html', 'Choose a CRM report');
    return;
  }
  if (kind) $('r-kind').value = kind;
  $('r-kind').addEventListener('change', kindChanged);
  $('filters').addEventListener('submit', run);
  $('print').addEventListener('click', () => window.print());
  kindChanged();
}
init();
