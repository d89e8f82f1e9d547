// approvals-page.js - the Approvals page the office node (case-approvals.html)
// and the hub console (approvals.html) share (issue 15): the requests
// addressed to the signed-in approver's roles, and at an office those the
// user made: a backdated entry (DSS Program Manager, WDB Director, EDD) or
// a change to entered data (DSS WIOA staff).  Each approver decides once,
// in their own session (POST BASE/:id/decision): approve, or refuse with a
// reason.  The comment is trimmed and at most 1,000 characters; the
// buttons are off while a decision is on its way; a refusal's errors show
// beside the comment and in the page's error summary.
import { el, fmtDate, fmtDateTime } from './api.js';
import { $, pill, clearErrors, clearSummary, showSummary, latest } from './ui.js';

export const TITLE = { dss_program_manager: 'DSS Program Manager', wdb_director: 'WDB Director', edd: 'EDD', dss_wioa: 'DSS WIOA staff' };

/*
 * Run the page in <div id="approvals">: the choice of requests (#state),
 * the error and notice lines (#err, #ok) and the list (#list) go there; the
 * roles line goes in #roles.  page:
 *   api      the page's JSON fetch wrapper (the node's or the console's)
 *   base     the approvals URL (GET base?state=, POST base/:id/decision)
 *   pills    { pending, approved, refused }: the pill class of each state
 *   heading  q => what the request's heading shows of the participant
 *   where    q => ' at OFFICE' after "Requested by NAME", or ''
 *   noRole   the line for a user who holds no approver role
 *   empty    the line for an empty list
 *   listClass the class of the list
 */
export function approvalsPage(page) {
  const state = s => [{ pending: 'waiting for approval', approved: 'approved', refused: 'refused' }[s] || s, page.pills[s] || ''];

  function decideForm(q, role) {
    const cid = `c-${q.id}-${role}`;
    const form = el('form', { class: 'no-print decide', novalidate: true, 'aria-label': `Decide as ${TITLE[role]}` },
      el('label', { for: cid }, `Comment (required to refuse) — deciding as ${TITLE[role]}`),
      el('textarea', { id: cid, 'data-field': 'comment', rows: 2, maxlength: 1000, 'aria-describedby': cid + '-err' }),
      el('p', { class: 'field-err error', id: cid + '-err' }),
      el('p', { class: 'actions' },
        el('button', { type: 'submit', value: 'approved' }, 'Approve'),
        el('button', { type: 'submit', value: 'refused', class: 'secondary' }, 'Refuse')));
    const buttons = on => form.querySelectorAll('button').forEach(b => { b.disabled = !on; });
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      const decision = ev.submitter ? ev.submitter.value : 'approved';
      clearErrors(form);
      clearSummary();
      buttons(false);
      try {
        const body = { decision, role };
        if ($(cid).value.trim()) body.comment = $(cid).value.trim();
        const r = await page.api(`${page.base}/${encodeURIComponent(q.id)}/decision`, { method: 'POST', body });
        $('ok').hidden = false;
        $('ok').textContent = `Recorded: ${decision} as ${TITLE[role]}. The request is ${state(r.state)[0]}.`;
        await load();
      } catch (e) {
        // Every error at once, in the summary and beside the comment (the
        // one thing the approver types).
        const errs = e.errors && e.errors.length ? e.errors : [{ error: e.message }];
        showSummary(form, errs.map(x => ({ field: 'comment', error: x.error })));
        buttons(true);
      }
    });
    return form;
  }

  function item(q) {
    const [label, cls] = state(q.state);
    const what = q.kind === 'backdate'
      ? `${q.entry_summary || (q.entry_table === 'case_notes' ? 'Case note' : 'Activity')}, dated ${fmtDate(q.entry_date)}: entered more than 30 days later`
      : `Help Request: ${q.change_summary || 'change'}${q.entry_summary ? ` (${q.entry_summary})` : ''}`;
    const li = el('li', { class: 'card request', 'data-id': q.id },
      el('h2', {}, page.heading(q), ' ', pill(label, cls)),
      el('p', {}, what),
      q.reason ? el('p', {}, 'Reason: ', q.reason) : '',
      el('p', { class: 'muted' }, `Requested by ${q.requested_by_name || q.requested_by}${page.where(q)} on ${fmtDateTime(q.requested_at)}`),
      q.decisions.length ? el('ul', {}, q.decisions.map(d => el('li', {},
        `${d.role_title}: ${d.decision} by ${d.staff_name || d.staff_id} on ${fmtDate(d.decided_date)}${d.office_id === 'hub' ? ' at the hub console' : ''}`,
        d.comment ? ` — ${d.comment}` : ''))) : '',
      q.state === 'pending' && q.waiting_for.length ? el('p', {}, 'Waiting for: ', q.waiting_for.join(', ')) : '');
    for (const role of q.can_decide) li.append(decideForm(q, role));
    return li;
  }

  const loads = latest(); // "Show" changed while a list is coming: the last one draws
  async function load() {
    const current = loads();
    $('err').textContent = '';
    try {
      const r = await page.api(`${page.base}?state=${encodeURIComponent($('state').value)}`);
      if (!current()) return;
      $('roles').textContent = r.my_roles.length ? `Your approver roles: ${r.my_roles.map(x => TITLE[x] || x).join(', ')}.` : page.noRole;
      $('list').replaceChildren(r.requests.length ? el('ul', { class: page.listClass }, r.requests.map(item))
        : el('p', { class: 'muted' }, page.empty));
    } catch (e) {
      $('err').textContent = 'Could not load the requests: ' + e.message;
    }
  }

  $('approvals').replaceChildren(
    el('form', { id: 'filter', class: 'no-print', 'aria-label': 'Which requests' },
      el('label', { for: 'state' }, 'Show'),
      el('select', { id: 'state' },
        el('option', { value: 'pending' }, 'Waiting for a decision'),
        el('option', { value: 'all' }, 'All, with decisions'))),
    el('p', { class: 'error', role: 'alert', id: 'err' }),
    el('p', { class: 'notice', role: 'status', id: 'ok', hidden: true }),
    el('div', { id: 'list', 'aria-live': 'polite' }));
  $('state').addEventListener('change', load);
  load();
}
