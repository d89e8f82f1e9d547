// crm.js - CRM home: the due-today notice shown at login, My Queue, and the
// recruiting employers whose 72-hour vetting is overdue, and the possible
// duplicates flagged at the hub.
import { api, el, fmtDate } from './api.js';
import { $, API, table, pill, DUP_WHY } from './crm-common.js';

async function load() {
  try {
    const d = await api(API + '/work-items/due-today');
    if (d.count || d.overdue) {
      $('due-notice').hidden = false;
      $('due-notice').replaceChildren(
        el('strong', {}, `${d.count} work item${d.count === 1 ? '' : 's'} due today`),
        d.overdue ? ` and ${d.overdue} overdue. ` : '. ',
        ...d.items.map(w => el('a', { href: '/crm-work.html?open=' + w.id, style: 'margin-right:.6rem' }, w.ref)));
    }
    const q = await api(API + '/work-items?queue=mine&limit=10');
    $('queue').replaceChildren(q.items.length ? table('My Queue', ['ID', 'Employer', 'Category', 'Priority', 'Status', 'Due'],
      q.items.map(w => [el('a', { href: '/crm-work.html?open=' + w.id }, w.ref), w.employer_name || '—', w.category, w.priority,
        w.status, w.overdue ? pill(fmtDate(w.due_date) + ' overdue', 'overdue') : fmtDate(w.due_date)]))
      : el('p', { class: 'muted' }, 'Nothing in your queue.'));
    const vo = await api(API + '/vetting/overdue');
    $('vetting-overdue').replaceChildren(vo.length ? table('Vetting overdue', ['Employer', 'User name', 'Converted by', 'Hours overdue'],
      vo.map(x => [el('a', { href: '/crm-lead.html?id=' + x.id }, x.company_name), x.username,
        x.converted_by_name || x.converted_by || '', pill(String(x.hours_overdue), 'overdue')]))
      : el('p', { class: 'muted' }, 'No vetting is overdue.'));
    const f = await api(API + '/duplicate-flags');
    $('dups').replaceChildren(f.length ? table('Possible duplicates', ['Employer', 'Office', 'Possible duplicate of', 'Office', 'Why'],
      f.map(x => [el('a', { href: '/crm-lead.html?id=' + x.employer_id }, x.employer_name || x.employer_id), x.employer_office || '',
        el('a', { href: '/crm-lead.html?id=' + x.other_employer_id }, x.other_name || x.other_employer_id), x.other_office || '',
        DUP_WHY[x.reason] || DUP_WHY.name_zip]))
      : el('p', { class: 'muted' }, 'No possible duplicates to review.'));
  } catch (e) {
    $('queue').textContent = 'Could not load the CRM: ' + e.message;
  }
}
load();
