// account.js - one staff account: details (never a password), the actions
// that start a request (reset, change of group, recertification,
// deactivation), suspension, reactivation and a deactivation scheduled for
// the separation date (each handing the caseload to a new owner), the
// administrator designation (Attachment 1 and training date), its access
// requests and forms, and its history from the audit trail.
import { api, el, $, table, pill, fmtDate, fmtDateTime, isoDate, isoToday, KIND_LABEL, recertState, session, auditChanges,
  options, clearErrors, showErrors, privLabels, actionCell, confirmDialog, ownerName } from './console.js';
import { showNotFound } from './ui.js';

const id = new URLSearchParams(location.search).get('id');
const FILE_LABEL = { request_form: 'System Access Request form', ispa_certificate: 'ISPA certificate',
  confidentiality_statement: 'Confidentiality statement', separation_form: 'Separation form',
  attachment_1: 'Attachment 1 (administrator designation)' };

// Names, not ids: the Local Areas and offices the console knows.
let places = null;
function loadPlaces() {
  return places || (places = Promise.all([api('/api/v1/admin/local-areas').catch(() => []),
    api('/api/v1/admin/offices').catch(() => [])]));
}
const nameOf = (list, v) => (list.find(x => x.id === v) || {}).name || v || '';

let shownAccount = null;
async function load() {
  if (!id) throw Object.assign(new Error('no account named'), { status: 404 });
  const s = await api('/api/v1/admin/staff/' + encodeURIComponent(id));
  shownAccount = s;
  const [areas, offices] = await loadPlaces();
  $('title').textContent = `${s.display_name} (${s.username})`;
  const rc = recertState(s);
  const rows = [
    ['Status', !s.active ? pill('Deactivated', 'muted') : s.suspended ? el('span', {}, pill('Suspended', 'bad'), ' ', s.suspend_reason || '') :
      s.password_temp ? pill('Active, temporary password', 'warn') : pill('Active', 'ok')],
    s.active && s.deactivate_on && ['Deactivation scheduled for', fmtDate(s.deactivate_on)],
    s.active && s.suspend_on && !s.suspended && ['Suspended from (recertification overdue)', fmtDate(s.suspend_on)],
    ['User name', s.username], ['Email', s.email || ''],
    ['Local Area', nameOf(areas, s.local_area_id)], ['Field division', s.field_division || ''], ['Office', nameOf(offices, s.office_id)],
    ['Privilege group', s.privilege_group],
    ['Privileges', privLabels(s.privileges)],
    (s.priv_add || []).length && ['Added', privLabels(s.priv_add)], (s.priv_remove || []).length && ['Removed', privLabels(s.priv_remove)],
    (s.roles || []).length && ['Roles', s.roles.join(', ')],
    s.admin_training_date && ['Administrator training', fmtDate(s.admin_training_date)],
    s.admin_form_id && ['Attachment 1', el('a', { href: '/api/v1/admin/files/' + encodeURIComponent(s.admin_form_id) }, 'Download the signed designation form')],
    ['CRM work group', s.crm_work_group ? 'yes' : 'no'],
    ['ISPA training', fmtDate(s.ispa_date)],
    ['Confidentiality statement', s.confidentiality_date ? `${s.confidentiality_type || ''} signed ${fmtDate(s.confidentiality_date)}` : ''],
    s.recertification_exempt ? ['Recertification due', el('span', { id: 'recert-exempt' }, pill('Exempt', 'muted'), ' the hub\'s built-in operations account (made at first start, with no access request)')] :
    ['Recertification due', el('span', {}, fmtDate(s.recertification_due_on), rc === 'overdue' ? [' ', pill('Overdue', 'bad')] : rc === 'due' ? [' ', pill('Due soon', 'warn')] : '')],
    s.password_temp && ['Temporary password expires', fmtDateTime(s.password_expires_at)],
    ['Password last changed', fmtDateTime(s.password_changed_at) || 'never'],
    ['Last sign-in', fmtDateTime(s.last_login_at) || 'never'],
    ['Created', fmtDateTime(s.created_at)],
    !s.active && ['Deactivated', fmtDateTime(s.deactivated_at)],
    s.separation_date && ['Separation date', el('span', {}, fmtDate(s.separation_date),
      s.deactivated_at ? [' ', isoDate(s.deactivated_at) <= s.separation_date ? pill('on time', 'ok') : pill('late', 'bad')] : '')],
  ].filter(Boolean);
  $('info').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const act = (kind, label, hint) => el('li', {}, el('a', { href: `/request.html?kind=${kind}&staff_id=${encodeURIComponent(s.id)}`, id: 'act-' + kind }, label),
    el('div', { class: 'muted small' }, hint));
  $('actions').replaceChildren(...(s.active ? [
    act('reset', 'Reset the password', 'A new temporary password, valid 24 hours.'),
    act('change', 'Change group, privileges or office', ''),
    !s.recertification_exempt && act('recertify', 'Annual recertification', 'Updated ISPA and confidentiality dates.'),
    act('deactivate', 'Deactivate (separation)', 'No later than the separation date; the signed form is needed first.'),
  ].filter(Boolean) : [el('li', {}, 'This account is deactivated.')]));
  $('requests').replaceChildren(table('Access requests', ['Recorded', 'Kind', 'Requested by', 'Status', ''],
    (s.requests || []).map(r => [fmtDateTime(r.created_at), KIND_LABEL[r.kind] || r.kind, r.requestor_name || '', r.status,
      el('a', { href: '/request.html?id=' + encodeURIComponent(r.id) }, 'Open request')]), { empty: 'No request on file.' }));
  $('files').replaceChildren(table('Forms on file', ['Form', 'File', ''],
    (s.files || []).map(f => [FILE_LABEL[f.kind] || f.kind, f.filename,
      el('a', { href: '/api/v1/admin/files/' + encodeURIComponent(f.id) }, `Download ${f.filename}`)]), { empty: 'No form on file.' }));
  const me = await session();
  const ops = me && me.staff && (me.staff.roles || []).includes('operations');
  $('roles-card').hidden = !(ops && s.active && !(s.roles || []).includes('operations'));
  for (const r of ['mis_admin', 'spoc']) $('role-' + r).checked = (s.roles || []).includes(r);
  if (!$('roles-card').hidden) {
    // the person's field account: recorded so the administrator never acts on it
    const field = (await api('/api/v1/admin/staff?local_area_id=' + encodeURIComponent(s.local_area_id || '')).catch(() => []))
      .filter(x => x.id !== s.id && !(x.roles || []).length)
      .map(x => ({ id: x.id, name: `${x.display_name} (${x.username})` }));
    options($('role-field_staff_id'), field, { blank: 'None', selected: s.field_staff_id });
  }
  await renderState(s, me, ops);
  const hist = await api('/api/v1/admin/audit?subject_id=' + encodeURIComponent(s.id)).catch(() => []);
  $('history').replaceChildren(table('History', ['When', 'Who', 'What', 'Details'],
    hist.map(a => [fmtDateTime(a.at), a.actor || a.actor_id || '', actionCell(a.action), auditChanges(a)]), { empty: 'No recorded action yet.' }));
}
async function saveRoles(ev) {
  ev.preventDefault();
  const form = $('roles-form');
  clearErrors(form);
  const roles = ['mis_admin', 'spoc'].filter(r => $('role-' + r).checked);
  const body = { roles };
  try {
    const file = $('role-attachment_id').files[0];
    if (roles.length && file) {
      const f = await api(`/api/v1/admin/staff/${encodeURIComponent(id)}/files?kind=attachment_1&filename=${encodeURIComponent(file.name)}`,
        { method: 'POST', rawBody: file, contentType: file.type || 'application/octet-stream' });
      body.attachment_id = f.id;
    }
    if (roles.length && $('role-admin_training_date').value) body.admin_training_date = $('role-admin_training_date').value;
    if (roles.length && $('role-field_staff_id').value) body.field_staff_id = $('role-field_staff_id').value;
    await api(`/api/v1/admin/staff/${encodeURIComponent(id)}/roles`, { method: 'POST', body });
    await load();
    $('status').textContent = roles.length ? `Roles saved: ${roles.join(', ')}.` : 'Roles removed.';
  } catch (e) {
    showErrors(form, e, 'role-');
  }
}
$('roles-form').addEventListener('submit', saveRoles);

// ---- leave and separation ----------------------------------------------------
// Who may take the caseload over: the hub's list of those the hand-over
// takes (active colleagues of the same Local Area working at an office,
// whichever administrator manages them; the staff list shows only ours).
async function owners(s) {
  const list = await api(`/api/v1/admin/staff/${encodeURIComponent(s.id)}/owners`).catch(() => []);
  return list.map(x => ({ id: x.id, name: ownerName(x) }));
}

async function renderState(s, me, ops) {
  const mine = me && me.staff && me.staff.id === s.id;
  const may = s.active && !mine && !(s.roles || []).includes('operations') && (ops || !(s.roles || []).length);
  $('state-card').hidden = !may;
  if (!may) return;
  $('state-now').textContent = s.suspended ? `Suspended: ${s.suspend_reason || ''}.` :
    s.deactivate_on ? `Deactivation scheduled for ${fmtDate(s.deactivate_on)}.` : 'Active.';
  const who = await owners(s);
  for (const f of ['suspend', 'schedule'])
    options($(f + '-new_owner_id'), who, { blank: 'Nobody (only when nothing is assigned)' });
  const reqs = (s.requests || []).filter(r => r.kind === 'deactivate' && r.status === 'approved');
  options($('schedule-request_id'), reqs.map(r => ({ id: r.id, name: `Separation on ${fmtDate(r.separation_date)} (recorded ${fmtDateTime(r.created_at)})` })),
    { blank: reqs.length ? null : 'No approved deactivation request' });
  $('suspend-form').hidden = !!s.suspended;
  $('reactivate-form').hidden = !s.suspended;
  $('schedule-form').hidden = !!s.suspended;
}

// POST one of the hub's account-state routes from form (prefix: its fields');
// done: the message, or a function of the hub's reply (the account) giving it.
async function stateAction(ev, form, prefix, route, body, done) {
  ev.preventDefault();
  clearErrors(form);
  try {
    const r = await api(`/api/v1/admin/staff/${encodeURIComponent(id)}/${route}`, { method: 'POST', body });
    await load();
    $('status').textContent = typeof done === 'function' ? done(r || {}) : done;
  } catch (e) { showErrors(form, e, prefix); }
}

// Scheduling the deactivation: asked first, saying when it takes effect (at
// once when the separation date is today or past: the hub's sweep runs on
// the spot), then told from the hub's reply what happened.
async function schedule(ev) {
  ev.preventDefault();
  const form = $('schedule-form');
  clearErrors(form);
  const rid = $('schedule-request_id').value;
  const s = shownAccount || {};
  const rq = (s.requests || []).find(r => r.id === rid);
  const who = s.display_name ? `${s.display_name} (${s.username})` : 'this account';
  if (rq && rq.separation_date) {
    const now = rq.separation_date <= isoToday();
    const ok = now
      ? await confirmDialog(`Deactivate ${who} now?`,
        `The separation date, ${fmtDate(rq.separation_date)}, is not in the future, so the account is deactivated immediately: ` +
        'it stops working at the hub and, within seconds, at every connected office, and its sessions end. This cannot be undone.',
        'Deactivate now')
      : await confirmDialog(`Schedule the deactivation of ${who}?`,
        `On the separation date, ${fmtDate(rq.separation_date)}, the account stops working at the hub and at every office, offline too. ` +
        'What the person still has assigned goes to the new owner now.', 'Schedule the deactivation');
    if (!ok) return;
  }
  await stateAction(ev, form, 'schedule-', 'schedule-deactivation',
    { request_id: rid, new_owner_id: ownerOf('schedule-new_owner_id') },
    r => r.active === false ? 'The account was deactivated (the separation date has come); its sessions were ended.'
      : `The deactivation is scheduled for ${fmtDate(r.deactivate_on || (rq && rq.separation_date))}.`);
}
const ownerOf = sel => $(sel).value || null;
$('suspend-form').addEventListener('submit', ev => stateAction(ev, $('suspend-form'), 'suspend-', 'suspend',
  { reason: $('suspend-reason').value.trim(), new_owner_id: ownerOf('suspend-new_owner_id') }, 'The account is suspended; its sessions were ended.'));
$('reactivate-form').addEventListener('submit', ev => stateAction(ev, $('reactivate-form'), 'reactivate-', 'reactivate', {},
  'The account is active again, same user name.'));
$('schedule-form').addEventListener('submit', schedule);
load().catch(e => {
  if (e.status === 404) showNotFound('Account', '/accounts.html', 'Find the account in the list of accounts');
  else $('status').textContent = 'Could not load the account: ' + e.message;
});
