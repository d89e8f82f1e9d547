// case-compliance.js - what is due this week, what is overdue and which cases
// near their soft exit, per staff member and office, with case-note
// compliance; printable and as CSV.  Computed at the office on its trusted
// date (GET /api/v1/case/compliance).
import { api, el, fmtDate } from './api.js';
import { printLine } from './office.js';
import { $, API, meta, qs, options, table, pill, partLink, clockNotice, latest } from './case-common.js';

const KIND = { case_note: 'Case note', soft_exit: 'Soft exit', closure_form: 'Closure form', follow_up: 'Follow-up', followup_form: 'Follow-up form', activity_note: 'Activity note' };

function items(list, caption, empty) {
  return list.length ? table(caption, ['Participant', 'What', 'Due', 'Staff', 'Office'],
    list.map(i => [partLink(i), el('span', {}, pill(KIND[i.kind] || i.kind), ' ', i.what), fmtDate(i.due_date), i.assigned_staff_name || '—', i.office_name || i.office_id]))
    : el('p', { class: 'muted' }, empty);
}

function stat(label, value, id) {
  return el('div', { class: 'card' }, el('div', { class: 'stat', id }, String(value ?? '—')), el('div', {}, label));
}

const shows = latest();
async function show(ev) {
  if (ev) ev.preventDefault();
  const current = shows();
  $('err').textContent = '';
  const q = qs({ staff_id: $('f-staff').value, office_id: $('f-office').value });
  $('csv').href = API + '/compliance?' + qs({ staff_id: $('f-staff').value, office_id: $('f-office').value, format: 'csv' });
  try {
    const c = await api(API + '/compliance?' + q);
    if (!current()) return;
    const s = c.summary;
    $('asof').textContent = `As of ${fmtDate(c.today)} (the office's trusted date).`;
    printLine($('print-head'), `Case compliance as of ${fmtDate(c.today)}: ${$('f-staff').selectedOptions[0]?.textContent || 'Everyone'}, ` +
      `${$('f-office').selectedOptions[0]?.textContent || 'Every office'}`);
    $('stats').replaceChildren(
      stat('Due this week', s.due_this_week, 'n-due'), stat('Overdue', s.overdue, 'n-over'),
      stat('Nearing soft exit', s.nearing_exit, 'n-near'), stat('Closure forms due', s.closure_forms_due, 'n-closure'),
      stat('Case notes current', s.note_compliance_pct == null ? '—' : s.note_compliance_pct + '%', 'n-pct'),
      stat('Entries made late', s.late_entries, 'n-late'));
    $('due').replaceChildren(items(c.due_this_week, 'Due this week', 'Nothing due in the next 7 days.'));
    $('over').replaceChildren(items(c.overdue, 'Overdue', 'Nothing overdue.'));
    $('near').replaceChildren(items(c.nearing_exit, 'Nearing soft exit', 'No case is within 30 days of its soft exit.'));
    $('bystaff').replaceChildren(c.by_staff.length ? table('By staff member', ['Staff', 'Participants', 'Due this week', 'Overdue', 'Nearing exit', 'Notes current'],
      c.by_staff.map(b => [b.staff_name || b.staff_id || 'Unassigned', b.participants, b.due_this_week, b.overdue, b.nearing_exit, b.notes_current]))
      : el('p', { class: 'muted' }, 'No cases.'));
    const t = c.timeliness;
    const trow = x => [x.name || '—', x.entries, x.late, x.timely_pct == null ? '—' : x.timely_pct + '%'];
    const thead = first => [first, 'Entries', 'Entered late', 'On time'];
    $('timely').replaceChildren(
      el('p', { class: 'muted' }, `Entered within ${t.business_days} business days of the service (weekends and state holidays do not count; a case note within 5 days of its contact).`),
      table('Timeliness by kind of entry', thead('Kind of entry'), t.by_kind.map(trow)),
      el('h3', {}, 'By staff member'),
      t.by_staff.length ? table('Timeliness by staff member', thead('Staff'), t.by_staff.map(trow)) : el('p', { class: 'muted' }, 'No entries.'),
      el('h3', {}, 'By office'),
      t.by_office.length ? table('Timeliness by office', thead('Office'), t.by_office.map(trow)) : el('p', { class: 'muted' }, 'No entries.'));
    $('timely-csv').href = API + '/compliance?' + qs({ staff_id: $('f-staff').value, office_id: $('f-office').value, format: 'csv', report: 'timeliness' });
    $('all').replaceChildren(c.participants.length ? table('Case-note compliance by participant',
      ['Participant', 'Staff', 'Last note', 'Next note due', 'Soft exit', 'Case'],
      c.participants.map(p => {
        const st = p.status;
        return [partLink(p), p.staff_name || '—', fmtDate(st.last_note_date) || 'none',
          st.exited ? '—' : el('span', {}, fmtDate(st.note_due_date), ' ', st.note_status === 'overdue' ? pill('overdue', 'overdue') : st.note_status === 'due_this_week' ? pill('due this week', 'due') : pill('on time', 'ok')),
          st.exited ? '—' : `${fmtDate(st.soft_exit_date)} (${st.days_to_exit} days)`,
          st.exited ? pill('exited ' + fmtDate(st.exit_date), 'exited') : 'active'];
      })) : el('p', { class: 'muted' }, 'No cases.'));
  } catch (e) {
    if (current()) $('err').textContent = e.message;
  }
}

async function init() {
  const m = await meta();
  // Staff see their own caseload first; "Everyone" shows the office's.
  const sel = new URLSearchParams(location.search).get('staff_id') ?? (m.staff.some(s => s.id === m.user_id) ? m.user_id : '');
  options($('f-staff'), m.staff, { label: 'display_name', blank: 'Everyone', selected: sel });
  options($('f-office'), m.offices, { blank: 'Every office' });
  clockNotice($('clock'));
  $('filters').addEventListener('submit', show);
  $('print').addEventListener('click', () => window.print());
  show();
}
init();
