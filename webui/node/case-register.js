// case-register.js - register a participant: the minimal record, an optional
// SSN (sent once, stored protected) or the pseudo-SSN computed from the
// birth date, then on to the participant's page.
import { api } from './api.js';
import { $, API, meta, options, clearErrors, clockNotice, filled, sendAndGo } from './case-common.js';

async function showPseudo() {
  $('ssn').disabled = $('pseudo').checked;
  if (!$('pseudo').checked) { $('pseudo-out').textContent = ''; return; }
  if (!$('birth_date').value) { $('pseudo-out').textContent = 'Enter the birth date to see the pseudo-SSN.'; return; }
  try {
    const r = await api(API + '/pseudo-ssn?birth_date=' + encodeURIComponent($('birth_date').value));
    $('pseudo-out').textContent = 'Pseudo-SSN: ' + r.pseudo_ssn;
  } catch (e) { $('pseudo-out').textContent = e.message; }
}

async function save(ev) {
  ev.preventDefault();
  const form = $('reg');
  clearErrors(form);
  const body = filled(['first_name', 'last_name', 'birth_date', 'phone', 'email', 'address', 'office_id', 'assigned_staff_id']);
  if ($('pseudo').checked) body.pseudo_ssn = true;
  else if ($('ssn').value.trim()) body.ssn = $('ssn').value.trim();
  await sendAndGo($('save'), form, async () => {
    const p = await api(API + '/participants', { method: 'POST', body });
    $('ssn').value = '';
    return '/case-participant.html?id=' + encodeURIComponent(p.id);
  });
}

async function init() {
  const m = await meta();
  options($('office_id'), m.offices, { selected: m.office_id });
  options($('assigned_staff_id'), m.staff, { label: 'display_name', selected: m.user_id });
  clockNotice($('clock'));
  $('pseudo').addEventListener('change', showPseudo);
  $('birth_date').addEventListener('change', showPseudo);
  $('reg').addEventListener('submit', save);
}
init();
