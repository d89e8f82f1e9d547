// case-approvals.js - the requests this user made and those their approver
// roles decide (GET /api/v1/case/approvals): a backdated entry (DSS Program
// Manager, WDB Director, EDD) or a change to entered data (DSS WIOA staff).
// An approver approves or refuses (with a reason) in their own session
// (POST /api/v1/case/approvals/:id/decision); the author sees where it stands.
import { api, el, fmtDate, fmtDateTime } from './api.js';
import { $, API, pill } from './case-common.js';

const TITLE = { dss_program_manager: 'DSS Program Manager', wdb_director: 'WDB Director', edd: 'EDD', dss_wioa: 'DSS WIOA staff' };
const STATE = { pending: ['waiting for approval', 'due'], approved: ['approved', 'ok'], refused: ['refused', 'overdue'] };

function decideForm(q, role) {
  const cid = `c-${q.id}-${role}`;
  const form = el('form', { class: 'no-print decide', novalidate: true, 'aria-label': `Decide as ${TITLE[role]}` },
    el('label', { for: cid }, `Comment (required to refuse) — deciding as ${TITLE[role]}`),
    el('textarea', { id: cid, rows: 2, 'aria-describedby': cid + '-err' }),
    el('p', { class: 'field-err error', id: cid + '-err' }),
    el('p', { class: 'actions' },
      el('button', { type: 'submit', value: 'approved' }, 'Approve'),
      el('button', { type: 'submit', value: 'refused', class: 'secondary' }, 'Refuse')));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const decision = ev.submitter ? ev.submitter.value : 'approved';
    $(cid + '-err').textContent = '';
    try {
      const body = { decision, role };
      if ($(cid).value) body.comment = $(cid).value;
      const r = await api(`${API}/approvals/${encodeURIComponent(q.id)}/decision`, { method: 'POST', body });
      $('ok').hidden = false;
      $('ok').textContent = `Recorded: ${decision} as ${TITLE[role]}. The request is ${STATE[r.state][0]}.`;
      await load();
    } catch (e) {
      $(cid + '-err').textContent = e.message;
      $(cid).setAttribute('aria-invalid', 'true');
    }
  });
  return form;
}

function item(q) {
  const [label, cls] = STATE[q.state] || [q.state, ''];
  const what = q.kind === 'backdate'
    ? `${q.entry_table === 'case_notes' ? 'Case note' : 'Activity'} dated ${fmtDate(q.entry_date)}, entered later than 30 days`
    : `Help Request: ${q.change_summary || 'change'}`;
  const li = el('li', { class: 'card request', 'data-id': q.id },
    el('h2', {}, el('a', { href: '/case-participant.html?id=' + encodeURIComponent(q.participant_id) }, q.participant_name), ' ', pill(label, cls)),
    el('p', {}, what),
    q.reason ? el('p', {}, 'Reason: ', q.reason) : '',
    el('p', { class: 'muted' }, `Requested by ${q.requested_by_name || q.requested_by} on ${fmtDateTime(q.requested_at)}`),
    q.decisions.length ? el('ul', {}, q.decisions.map(d => el('li', {},
      `${d.role_title}: ${d.decision} by ${d.staff_name || d.staff_id} on ${fmtDate(d.decided_date)}`, d.comment ? ` — ${d.comment}` : ''))) : '',
    q.state === 'pending' && q.waiting_for.length ? el('p', {}, 'Waiting for: ', q.waiting_for.join(', ')) : '');
  for (const role of q.can_decide) li.append(decideForm(q, role));
  return li;
}

async function load() {
  $('err').textContent = '';
  try {
    const r = await api(`${API}/approvals?state=${encodeURIComponent($('state').value)}`);
    $('roles').textContent = r.my_roles.length ? `Your approver roles: ${r.my_roles.map(x => TITLE[x] || x).join(', ')}.` : 'You hold no approver role: you see the requests you made.';
    $('list').replaceChildren(r.requests.length ? el('ul', { class: 'requests' }, r.requests.map(item))
      : el('p', { class: 'muted' }, 'Nothing waiting.'));
  } catch (e) {
    $('err').textContent = 'Could not load the requests: ' + e.message;
  }
}

$('state').addEventListener('change', load);
load();
