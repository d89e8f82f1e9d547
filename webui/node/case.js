// case.js - case work home: find a participant (by name, or by full SSN
// matched at the office through its keyed hash), filtered by staff and state.
import { api, el, fmtDate } from './api.js';
import { can } from './office.js';
import { $, API, meta, options, table, pill, partLink, clockNotice, latest } from './case-common.js';

const searches = latest();
async function search(ev) {
  if (ev) ev.preventDefault();
  const current = searches();
  $('err').textContent = '';
  try {
    // POST: the query may be an SSN, which never goes in a URL.
    const rows = await api(API + '/participants/search', { method: 'POST',
      body: { q: $('q').value.trim(), staff_id: $('f-staff').value, state: $('f-state').value } });
    if (!current()) return;
    $('results').replaceChildren(rows.length
      ? table('Participants', ['Name', 'Birth date', 'SSN', 'Office', 'Assigned staff', 'Case'],
        rows.map(p => [partLink(p), fmtDate(p.birth_date), p.ssn_masked || '—', p.office_name || p.office_id,
          p.assigned_staff_name || '—', p.exit_state === 'exited' ? pill('exited ' + fmtDate(p.exit_date), 'exited') : pill('active', 'ok')]))
      : el('p', { class: 'muted' }, 'No participant matches.'));
  } catch (e) {
    if (current()) $('err').textContent = e.message;
  }
}

async function init() {
  // Only those who may reveal an SSN search by one (the node refuses the
  // rest: a match would confirm a guess).
  if (!(await can('participant_edit'))) $('q-label').textContent = 'Name';
  const m = await meta();
  options($('f-staff'), m.staff, { label: 'display_name', blank: 'Anyone' });
  clockNotice($('clock'));
  $('search').addEventListener('submit', search);
  search();
}
init();
