// approvals.js - the hub console's approvals (issue 15): the requests
// addressed to the signed-in approver's roles (GET
// /api/v1/admin/case/approvals), each decided once, in this session (POST
// .../approvals/:id/decision): approve, or refuse with a reason.  An account
// holding only approver roles sees this page and nothing else of the console.
import { api, el, $, fmtDate, fmtDateTime, pill, clearErrors, showErrors } from './console.js';

const TITLE = { dss_program_manager: 'DSS Program Manager', wdb_director: 'WDB Director', edd: 'EDD', dss_wioa: 'DSS WIOA staff' };
const STATE = { pending: ['waiting for approval', 'warn'], approved: ['approved', 'ok'], refused: ['refused', 'bad'] };
const BASE = '/api/v1/admin/case/approvals';

function decideForm(q, role) {
  const cid = `c-${q.id}-${role}`;
  const form = el('form', { class: 'no-print decide', novalidate: true, 'aria-label': `Decide as ${TITLE[role]}` },
    el('label', { for: cid }, `Comment (required to refuse) — deciding as ${TITLE[role]}`),
    el('textarea', { id: cid, 'data-field': 'comment', rows: 2, maxlength: 1000, 'aria-describedby': cid + '-err' }),
    el('p', { class: 'field-err error', id: cid + '-err' }),
    el('p', { class: 'actions' },
      el('button', { type: 'submit', value: 'approved' }, 'Approve'),
      el('button', { type: 'submit', value: 'refused', class: 'secondary' }, 'Refuse')));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const decision = ev.submitter ? ev.submitter.value : 'approved';
    clearErrors(form);
    form.querySelectorAll('button').forEach(b => { b.disabled = true; });
    try {
      const body = { decision, role };
      if ($(cid).value.trim()) body.comment = $(cid).value.trim();
      const r = await api(`${BASE}/${encodeURIComponent(q.id)}/decision`, { method: 'POST', body });
      $('ok').hidden = false;
      $('ok').textContent = `Recorded: ${decision} as ${TITLE[role]}. The request is ${STATE[r.state][0]}.`;
      await load();
    } catch (e) {
      // Every error at once, in the summary and beside the comment (the
      // one thing the approver types).
      const errs = e.errors && e.errors.length ? e.errors : [{ error: e.message }];
      showErrors(form, { errors: errs.map(x => ({ field: 'comment', error: x.error })) });
      form.querySelectorAll('button').forEach(b => { b.disabled = false; });
    }
  });
  return form;
}

function item(q) {
  const [label, cls] = STATE[q.state] || [q.state, ''];
  const what = q.kind === 'backdate'
    ? `${q.entry_summary || (q.entry_table === 'case_notes' ? 'Case note' : 'Activity')}, dated ${fmtDate(q.entry_date)}: entered more than 30 days later`
    : `Help Request: ${q.change_summary || 'change'} (${q.entry_summary || q.entry_table})`;
  const li = el('li', { class: 'card request', 'data-id': q.id },
    el('h2', {}, q.participant_name, ' ', pill(label, cls)),
    el('p', {}, what),
    q.reason ? el('p', {}, 'Reason: ', q.reason) : '',
    el('p', { class: 'muted' }, `Requested by ${q.requested_by_name || q.requested_by} at ${q.office_name || q.office_id} on ${fmtDateTime(q.requested_at)}`),
    q.decisions.length ? el('ul', {}, q.decisions.map(d => el('li', {},
      `${d.role_title}: ${d.decision} by ${d.staff_name || d.staff_id} on ${fmtDate(d.decided_date)}${d.office_id === 'hub' ? ' at the hub console' : ''}`,
      d.comment ? ` — ${d.comment}` : ''))) : '',
    q.state === 'pending' && q.waiting_for.length ? el('p', {}, 'Waiting for: ', q.waiting_for.join(', ')) : '');
  for (const role of q.can_decide) li.append(decideForm(q, role));
  return li;
}

async function load() {
  $('err').textContent = '';
  try {
    const r = await api(`${BASE}?state=${encodeURIComponent($('state').value)}`);
    $('roles').textContent = r.my_roles.length ? `Your approver roles: ${r.my_roles.map(x => TITLE[x] || x).join(', ')}.`
      : 'You hold no approver role: no request is addressed to you.';
    $('list').replaceChildren(r.requests.length ? el('ul', { class: 'requests plain' }, r.requests.map(item))
      : el('p', { class: 'muted' }, 'Nothing waiting for you.'));
  } catch (e) {
    $('err').textContent = 'Could not load the requests: ' + e.message;
  }
}

$('state').addEventListener('change', load);
load();
