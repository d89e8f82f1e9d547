// crm-jobs.js - the employer summary's vetting panel (WSB staff only, never
// the converter), the lock notice with its reason, and the job orders of a
// recruiting employer with the referrals made to them (participants by
// reference only); a job order is offered once the employer is vetted.
// Used by crm-lead.js.
import { api, el } from './api.js';
import { $, API, clearErrors, showErrors, table, fmtDate, filled, saving } from './crm-common.js';

const UNIT = { hour: 'an hour', week: 'a week', month: 'a month', year: 'a year' };
const money = (w, u) => `$${Number(w).toFixed(2)} ${UNIT[u] || u}`;

export function renderJobs(emp, m, status) {
  const locked = !!emp.locked;
  $('lock-notice').hidden = !locked;
  $('lock-reason').textContent = emp.vetting_reason || 'no reason recorded';
  const canVet = m.me.can_vet && emp.account_type === 'recruiting' && m.me.id !== emp.converted_by;
  $('vetting').hidden = !(canVet && emp.vetting_status === 'pending');
  $('unlock').hidden = !(canVet && locked);
  $('vet-self').hidden = !(m.me.can_vet && emp.account_type === 'recruiting' && m.me.id === emp.converted_by &&
    (emp.vetting_status === 'pending' || locked));
  $('vet-overdue').hidden = !emp.vetting_overdue;
  const recruiting = emp.account_type === 'recruiting';
  $('jo-lead').hidden = recruiting;
  // No job order before WSB staff have vetted the employer (the node says 409).
  const pending = recruiting && emp.vetting_status === 'pending';
  $('jo-pending').hidden = !pending;
  $('d-jo').hidden = !recruiting || locked || pending || !m.me.can_edit;
  const jobs = emp.job_orders || [];
  $('job-orders').replaceChildren(jobs.length ? table('Job orders', ['Title', 'Openings', 'Location', 'Wage', 'Open', 'Closes', 'Referrals', 'Status'],
    jobs.map(j => [j.title, String(j.openings), j.location, money(j.wage, j.wage_unit), j.open_date, j.close_date || '',
      String(j.referrals), j.is_open ? 'Open' : 'Closed'])) : el('p', { class: 'muted' }, 'No job orders.'));
  const refs = emp.referrals || [];
  $('referrals').replaceChildren(refs.length ? table('Referrals', ['Date', 'Job order', 'Participant ref.', 'Referred by', 'Office'],
    refs.map(r => [r.referral_date, r.job_title || '', r.participant_ref, r.staff_name || '', r.office_id || '']))
    : el('p', { class: 'muted' }, 'No referrals recorded at this office\'s Local Area.'));
  if (status) $('status').textContent = status;
}

export function wireJobs(id, m, reload) {
  $('jo-open_date').value = m.today;
  $('jo-form').addEventListener('submit', ev => {
    ev.preventDefault();
    const f = $('jo-form');
    return saving(f, async () => {
      clearErrors(f);
      const body = filled(['title', 'location', 'open_date', 'close_date', 'description', 'wage_unit'], 'jo-');
      for (const k of ['openings', 'wage']) { const v = $('jo-' + k).value.trim(); if (v) body[k] = Number(v); }
      try {
        await api(`${API}/employers/${encodeURIComponent(id)}/job-orders`, { method: 'POST', body });
        f.reset();
        $('jo-open_date').value = m.today;
        await reload('Job order posted.');
      } catch (e) { showErrors(f, e, 'jo-'); }
    });
  });
  const vet = async (result, reason) => {
    const body = { result };
    if (reason) body.reason = reason;
    try {
      await api(`${API}/employers/${encodeURIComponent(id)}/vetting`, { method: 'POST', body });
      await reload(result === 'approved' ? 'Vetting passed: the account is open.' : 'Account locked: the information did not match.');
    } catch (e) { showErrors($('vetting'), e, 'vet-'); }
  };
  $('vet-ok').addEventListener('click', () => { clearErrors($('vetting')); vet('approved'); });
  $('vet-lock').addEventListener('click', () => { clearErrors($('vetting')); vet('locked', $('vet-reason').value.trim()); });
  $('unlock-btn').addEventListener('click', () => vet('approved'));
}
