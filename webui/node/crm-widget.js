// crm-widget.js - the CRM's part of the staff home page (the page staff land
// on after signing in): the notice of work items due today and the top of
// My Queue.  Shown only to staff who can read the CRM.
import { api, el, fmtDate } from './api.js';

async function load() {
  let d, q;
  try {
    [d, q] = await Promise.all([api('/api/v1/crm/work-items/due-today'), api('/api/v1/crm/work-items?queue=mine&limit=5')]);
  } catch { return; /* no CRM access: nothing to show */ }
  const box = document.getElementById('crm-widget');
  box.hidden = false;
  const due = document.getElementById('crm-due');
  due.hidden = !(d.count || d.overdue);
  if (!due.hidden) {
    due.replaceChildren(el('strong', {}, `${d.count} work item${d.count === 1 ? '' : 's'} due today`),
      d.overdue ? `, ${d.overdue} overdue: ` : ': ',
      ...d.items.map(w => el('a', { href: '/crm-work.html?open=' + encodeURIComponent(w.id), style: 'margin-right:.6rem' }, w.ref)));
  }
  const list = document.getElementById('crm-queue');
  list.replaceChildren(q.items.length
    ? el('ul', {}, q.items.map(w => el('li', {}, el('a', { href: '/crm-work.html?open=' + encodeURIComponent(w.id) }, w.ref),
      ` ${w.employer_name || ''} — ${w.category}, ${w.status}${w.due_date ? ', due ' + fmtDate(w.due_date) : ''}`)))
    : el('p', { class: 'muted' }, 'Nothing in your queue.'));
}
load();
