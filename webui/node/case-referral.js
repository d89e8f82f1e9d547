// case-referral.js - refer the participant to an open job order of a
// recruiting employer (WSIN15-21: job referrals are for Recruiting
// Employers only; the node refuses a lead's, a locked employer's or a
// closed job order, and one whose employer's vetting is pending: shown
// unavailable, with why).  The referral shows on the participant's timeline
// (case-participant.js reloads on "participant-changed") and, by reference,
// on the employer's summary.
import { api, el } from './api.js';
import { saving } from './ui.js';

const $ = id => document.getElementById(id);
const pid = new URLSearchParams(location.search).get('id');
const UNIT = { hour: '/hour', week: '/week', month: '/month', year: '/year' };

async function fill() {
  try {
    const jobs = await api('/api/v1/crm/job-orders?open=yes');
    $('ref-job').replaceChildren(el('option', { value: '' }, jobs.length ? 'Choose a job order' : 'No open job orders'),
      ...jobs.map(j => el('option', { value: j.id, disabled: j.vetting_status === 'pending' ? true : null },
        `${j.title} — ${j.employer_name}, ${j.location} ($${Number(j.wage).toFixed(2)}${UNIT[j.wage_unit] || ''})` +
        (j.vetting_status === 'pending' ? ' — not yet: referrals wait until WSB staff have vetted the employer (vetting pending)' : ''))));
  } catch { $('d-ref').hidden = true; }
}

function refer(ev) {
  ev.preventDefault();
  return saving($('ref-form'), referNow);
}
async function referNow() {
  const f = $('ref-form');
  for (const p of f.querySelectorAll('.field-err, .form-err')) p.textContent = '';
  const body = { job_order_id: $('ref-job').value };
  const notes = $('ref-notes').value.trim();
  if (notes) body.notes = notes;
  if (!body.job_order_id) { $('ref-job-err').textContent = 'Choose a job order.'; $('ref-job').focus(); return; }
  try {
    await api(`/api/v1/case/participants/${encodeURIComponent(pid)}/referrals`, { method: 'POST', body });
    f.reset();
    $('ref-ok').hidden = false;
    $('ref-ok').textContent = 'Referral recorded.';
    window.dispatchEvent(new Event('participant-changed'));
  } catch (e) {
    const target = e.field === 'job_order_id' ? $('ref-job-err') : e.field === 'notes' ? $('ref-notes-err') : f.querySelector('.form-err');
    target.textContent = e.message;
  }
}

if (pid && $('ref-form')) {
  $('ref-form').addEventListener('submit', refer);
  fill();
}
