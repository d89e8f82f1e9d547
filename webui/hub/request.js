// request.js - a System Access Request from record to result: the form
// (fields by kind, with the signed forms to upload), then the request's page:
// its forms and what is still missing, approve or reject, and carrying it
// out - create the account (temporary password shown once), reset, change,
// recertify or deactivate (refused, and told why, until the signed form is
// uploaded).
import { showNotFound } from './ui.js';
import { api, el, $, qs, table, pill, options, fmtDate, fmtDateTime, clearErrors, showError, showErrors,
  shownOnce, confirmDialog, KIND_LABEL, isoToday, privLabels, ownerName } from './console.js';

const FILE_LABEL = {
  request_form: 'Signed System Access Request form',
  ispa_certificate: 'ISPA training certificate',
  confidentiality_statement: 'Signed confidentiality statement (Attachment E-1)',
  separation_form: 'Separation form (optional)',
};
const FILES_FOR = {
  new: ['request_form', 'ispa_certificate', 'confidentiality_statement'],
  recertify: ['request_form', 'ispa_certificate', 'confidentiality_statement'],
  reset: ['request_form'], change: ['request_form'],
  deactivate: ['request_form', 'separation_form'],
};
const PRIVS = [['view', 'View'], ['participant_edit', 'Edit participant data'],
  ['program_edit', 'Program applications and activities'], ['case_notes', 'Case notes'],
  ['crm', 'Employer / CRM'], ['reports', 'Reports'], ['greeter_desk', 'Greeter desk'], ['greeter_setup', 'Greeter setup']];
const STATUS_PILL = { submitted: ['Waiting for forms and approval', 'warn'], approved: ['Approved', 'ok'],
  fulfilled: ['Done', 'ok'], rejected: ['Rejected', 'bad'] };

const params = new URLSearchParams(location.search);
let groups = [], offices = [], areas = [];

// ---- the form --------------------------------------------------------------
function kindChanged() {
  const k = $('kind').value;
  document.querySelectorAll('#req-form [data-kinds]').forEach(f => { f.hidden = !f.dataset.kinds.split(' ').includes(k); });
  const etype = $('confidentiality_type').value === 'E-1';
  $('file-inputs').replaceChildren(...FILES_FOR[k].filter(f => etype || (k !== 'new' && k !== 'recertify') || (f !== 'ispa_certificate' && f !== 'confidentiality_statement'))
    .map(f => el('div', {}, el('label', { for: 'file-' + f }, FILE_LABEL[f] + (f === 'request_form' ? ' (required before approval)' : '')),
      el('input', { type: 'file', id: 'file-' + f, accept: 'application/pdf,image/png,image/jpeg', 'aria-describedby': 'file-' + f + '-err' }),
      el('p', { class: 'field-err error', id: 'file-' + f + '-err', role: 'alert' }))));
  $('title').textContent = `System Access Request: ${KIND_LABEL[k]}`;
}

function groupChanged() {
  const g = groups.find(x => x.name === $('privilege_group').value);
  $('privilege_group-desc').textContent = g ? `${g.description || ''} Privileges: ${privLabels(g.privileges)}.` : '';
}

function officesFor() {
  const la = $('local_area_id').value;
  const sel = $('office_id').value;
  options($('office_id'), offices.filter(o => !la || o.local_area_id === la), { blank: $('kind').value === 'change' ? 'No change' : 'None', selected: sel });
}

function checked(id) { return [...document.querySelectorAll(`#${id} input:checked`)].map(i => i.value); }
function sameSet(a, b) { return [...a].sort().join(',') === [...b].sort().join(','); }
// A change of an account: its CRM work group and privilege adjustments as
// the form showed them first ({crm, add, remove}), else null.
let current = null;

function body() {
  const k = $('kind').value, v = id => $(id).value.trim();
  const b = { kind: k, requestor_name: v('requestor_name') };
  if (v('requestor_email')) b.requestor_email = v('requestor_email');
  if (k !== 'new') b.staff_id = params.get('staff_id');
  if (k === 'new') Object.assign(b, { username: v('username'), display_name: v('display_name'), local_area_id: v('local_area_id') || null });
  if (k === 'new' && v('email')) b.email = v('email');
  if (k === 'new' && v('field_division')) b.field_division = v('field_division');
  if (k === 'new' || k === 'change') {
    if (v('privilege_group')) b.privilege_group = v('privilege_group');
    if (v('office_id')) b.office_id = v('office_id');
    // A change says only what the user changed: the boxes start as the
    // account has them, and what is sent replaces the account's (a request
    // for a new office alone keeps the CRM work group and the adjustments).
    const crm = $('crm_work_group').checked, add = checked('priv_add'), rem = checked('priv_remove');
    if (k === 'new' || !current || crm !== current.crm) b.crm_work_group = crm;
    if (k === 'new' || !current || !sameSet(add, current.add)) b.priv_add = add;
    if (k === 'new' || !current || !sameSet(rem, current.remove)) b.priv_remove = rem;
  }
  if (k === 'new' || k === 'recertify') Object.assign(b, { ispa_date: v('ispa_date'), confidentiality_type: v('confidentiality_type'),
    confidentiality_date: v('confidentiality_date'), business_need: v('business_need') });
  if (k === 'deactivate') b.separation_date = v('separation_date');
  return b;
}

async function upload(reqId, kind, file) {
  if (file.size > 2 * 1024 * 1024) throw Object.assign(new Error(`${file.name} is larger than 2 MB`), { field: 'file-' + kind });
  return api(`/api/v1/admin/access-requests/${encodeURIComponent(reqId)}/files?` + qs({ kind, filename: file.name }),
    { method: 'POST', rawBody: file, contentType: file.type || 'application/octet-stream' });
}

async function save(ev) {
  ev.preventDefault();
  const form = $('req-form');
  clearErrors(form);
  const k = $('kind').value;
  const b = body();
  // Checks the hub makes too, said before the round trip.
  const req = { new: ['display_name', 'username', 'local_area_id', 'privilege_group', 'ispa_date', 'confidentiality_date', 'business_need'],
    recertify: ['ispa_date', 'confidentiality_date', 'business_need'], deactivate: ['separation_date'] }[k] || [];
  // Every missing field at once, each next to its field; the first is focused.
  const missing = ['requestor_name', ...req].filter(f => !b[f]);
  if (missing.length) return showErrors(form, { errors: missing.map(f => ({ field: f, error: 'This is required.' })) });
  const files = FILES_FOR[k].map(f => [f, $('file-' + f)?.files?.[0]]).filter(([, x]) => x);
  for (const [f, x] of files) if (x.size > 2 * 1024 * 1024) return showError(form, { message: `${x.name} is larger than 2 MB.`, field: 'file-' + f });
  $('req-save').disabled = true;
  let r;
  try {
    r = await api('/api/v1/admin/access-requests', { method: 'POST', body: b });
  } catch (e) {
    $('req-save').disabled = false;
    return showErrors(form, e);
  }
  const failed = [];
  for (const [f, x] of files) {
    try { await upload(r.id, f, x); } catch (e) { failed.push(`${FILE_LABEL[f]}: ${e.message}`); }
  }
  // What failed goes to the next page in this tab's sessionStorage, not in
  // its address: a link must not be able to put words on the page.
  if (failed.length) sessionStorage.setItem('upload-failed:' + r.id, failed.join(' · '));
  location.href = '/request.html?' + qs({ id: r.id, saved: 1 });
}

async function showForm() {
  const [la, divs, g, o] = await Promise.all([api('/api/v1/admin/local-areas'), api('/api/v1/admin/field-divisions').catch(() => []),
    api('/api/v1/admin/privilege-groups'), api('/api/v1/admin/offices')]);
  areas = la; groups = g.filter(x => x.assignable !== false); offices = o;
  options($('local_area_id'), la, { blank: 'Choose a Local Area' });
  if (la.length === 1) $('local_area_id').value = la[0].id;
  options($('field_division'), divs, { blank: 'None (Local Area staff)' });
  const kind = params.get('kind') || 'new';
  $('kind').value = kind;
  options($('privilege_group'), groups, { value: 'name', label: 'name', blank: kind === 'change' ? 'No change' : 'Choose a group' });
  const box = (name, [v, label]) => el('label', { for: `${name}-${v}`, style: 'display:flex;gap:.5rem;align-items:center;font-weight:400;margin:.2rem 0' },
    el('input', { type: 'checkbox', id: `${name}-${v}`, value: v, style: 'width:auto' }), label);
  $('priv_add').replaceChildren(...PRIVS.map(p => box('priv_add', p)));
  $('priv_remove').replaceChildren(...PRIVS.map(p => box('priv_remove', p)));
  const sid = params.get('staff_id');
  if (sid) {
    const s = await api('/api/v1/admin/staff/' + encodeURIComponent(sid));
    $('kind').disabled = true;
    $('for-staff').hidden = false;
    $('for-staff-name').textContent = `${s.display_name} (${s.username})`;
    $('local_area_id').value = s.local_area_id || '';
    if (kind === 'recertify') $('confidentiality_type').value = s.confidentiality_type || 'E-1';
    if (kind === 'change') {
      current = { crm: !!s.crm_work_group, add: s.priv_add || [], remove: s.priv_remove || [] };
      $('crm_work_group').checked = current.crm;
      for (const [list, id] of [[current.add, 'priv_add'], [current.remove, 'priv_remove']])
        for (const p of list) { const box = $(`${id}-${p}`); if (box) box.checked = true; }
      if (current.add.length || current.remove.length) $('priv_add').closest('details').open = true;
    }
  } else {
    // Without an account only a new one can be requested.
    [...$('kind').options].forEach(o => { o.disabled = o.value !== 'new'; });
    $('kind').value = 'new';
  }
  officesFor();
  kindChanged();
  groupChanged();
  for (const id of ['ispa_date', 'confidentiality_date']) $(id).max = isoToday();
  $('kind').addEventListener('change', kindChanged);
  $('confidentiality_type').addEventListener('change', kindChanged);
  $('privilege_group').addEventListener('change', groupChanged);
  $('local_area_id').addEventListener('change', officesFor);
  $('req-form').addEventListener('submit', save);
  $('req-form').hidden = false;
  (sid ? $('requestor_name') : $('display_name')).focus();
}

// ---- one request -------------------------------------------------------------
let R = null, S = null;

function filesMissing() { return R.missing_files || []; }
function missingNames() { return filesMissing().map(m => `the ${(FILE_LABEL[m] || m).replace(/ \(optional\)$/, '')}`).join(' and '); }

// Someone leaving who still has participants, leads or open work items:
// the hub names them (409, field new_owner_id); choose who takes them over.
async function askNewOwner(message) {
  const who = await api(`/api/v1/admin/staff/${encodeURIComponent(R.staff_id)}/owners`).catch(() => []);
  const sel = el('select', { id: 'new_owner_id', 'aria-describedby': 'new_owner_id-err' },
    who.map(x => el('option', { value: x.id }, ownerName(x))));
  $('act-out').replaceChildren(el('div', {},
    el('label', { for: 'new_owner_id' }, 'New owner of the caseload'), sel,
    el('p', { class: 'field-err error', id: 'new_owner_id-err', role: 'alert' }, message),
    el('p', {}, el('button', { type: 'button', class: 'danger', id: 'hand-over', onclick: () => carryOut(sel.value) },
      'Hand over and deactivate'))));
  sel.focus();
}

async function carryOut(newOwner) {
  const err = $('act-err');
  err.textContent = '';
  const sid = R.staff_id;
  if (typeof newOwner !== 'string') newOwner = undefined;
  if (R.kind === 'deactivate' && filesMissing().includes('request_form')) {
    err.textContent = 'Deactivation is refused until the signed request form with the separation date is uploaded (WSD24-13). Upload it above, then try again.';
    err.focus();
    return;
  }
  if (R.kind === 'deactivate' && newOwner === undefined) {
    const ok = await confirmDialog(`Deactivate ${S ? S.display_name : 'this account'}?`,
      `The account stops working at the hub and, within seconds, at every connected office; offline offices refuse it within their offline bound. Separation date: ${fmtDate(R.separation_date)}.`,
      'Deactivate account');
    if (!ok) return;
  }
  try {
    let r;
    if (R.kind === 'new') r = await api('/api/v1/admin/staff', { method: 'POST', body: { request_id: R.id } });
    else r = await api(`/api/v1/admin/staff/${encodeURIComponent(sid)}/${R.kind}`, { method: 'POST',
      body: newOwner ? { request_id: R.id, new_owner_id: newOwner } : { request_id: R.id } });
    const staff = r.staff || (r.id ? r : S);
    const id = (staff && staff.id) || sid;
    $('act-buttons').replaceChildren(el('a', { class: 'button secondary', href: '/account.html?id=' + encodeURIComponent(id) }, 'Open the account'));
    if (r.temporary_password) {
      const who = staff ? `${staff.display_name} (user name ${staff.username})` : 'the staff member';
      $('act-text').textContent = R.kind === 'new' ? `Account created for ${who}.` : `New temporary password issued for ${who}.`;
      $('act-out').replaceChildren(shownOnce('temp-password', 'Temporary password', r.temporary_password,
        `Shown only this once — copy it now. It is valid 24 hours (until ${fmtDateTime(r.temporary_password_expires_at)}) and works only while the office is connected to the hub. ` +
        `Give the user name and this password to the staff member, copying the requestor; they choose their own password at first sign-in. ` +
        `No one can see it again: if it is lost, record a reset request.`));
      $('temp-password').focus();
    } else {
      $('act-text').textContent = { change: 'The change was applied.', recertify: 'The recertification was recorded.',
        deactivate: 'The account was deactivated; its sessions were ended.' }[R.kind] || 'Done.';
    }
    if (newOwner) $('act-out').replaceChildren();
    $('status').textContent = $('act-text').textContent;
    R.status = 'fulfilled';
    renderInfo();
  } catch (e) {
    if (e.field === 'new_owner_id' && R.kind === 'deactivate') { await askNewOwner(e.message); return; }
    if (e.field === 'files') await loadRequest().catch(() => {});
    err.textContent = e.field === 'files' ? `Refused: upload ${missingNames() || 'the missing forms'} above first.` : e.message;
    err.focus();
  }
}

async function approve() {
  $('act-err').textContent = '';
  try {
    await api(`/api/v1/admin/access-requests/${encodeURIComponent(R.id)}/approve`, { method: 'POST', body: {} });
    await loadRequest('Request approved.');
  } catch (e) {
    if (e.field === 'files') {
      await loadRequest().catch(() => {});
      $('act-err').textContent = `Cannot approve yet: upload ${missingNames() || 'the missing forms'} first.` +
        (R.kind === 'deactivate' ? ' Deactivation needs the signed request form with the separation date.' : '');
    } else $('act-err').textContent = e.message;
    $('act-err').focus();
  }
}

async function reject() {
  $('reject-note').value = '';
  const dlg = $('reject-dlg');
  dlg.showModal();
  await new Promise(r => dlg.addEventListener('close', r, { once: true }));
  if (dlg.returnValue !== 'ok' || !$('reject-note').value.trim()) return;
  try {
    await api(`/api/v1/admin/access-requests/${encodeURIComponent(R.id)}/reject`, { method: 'POST', body: { note: $('reject-note').value.trim() } });
    await loadRequest('Request rejected.');
  } catch (e) { $('act-err').textContent = e.message; }
}

const CARRY = { new: 'Create the account', reset: 'Issue a temporary password', change: 'Apply the change',
  recertify: 'Record the recertification', deactivate: 'Deactivate the account' };

function renderInfo() {
  const who = S ? `${S.display_name} (${S.username})` : `${R.display_name || ''} (${R.username || ''})`;
  const [pt, pc] = STATUS_PILL[R.status] || [R.status, ''];
  const rows = [['Kind', KIND_LABEL[R.kind] || R.kind], ['Status', pill(pt, pc)], ['Staff member', who],
    ['Requested by', [R.requestor_name, R.requestor_email].filter(Boolean).join(', ')], ['Recorded', fmtDateTime(R.created_at)],
    R.privilege_group && ['Privilege group', R.privilege_group], R.office_id && ['Office', (offices.find(o => o.id === R.office_id) || {}).name || R.office_id],
    R.local_area_id && ['Local Area', (areas.find(a => a.id === R.local_area_id) || {}).name || R.local_area_id], R.field_division && ['Field division', R.field_division],
    R.ispa_date && ['ISPA training', fmtDate(R.ispa_date)],
    R.confidentiality_date && ['Confidentiality statement', `${R.confidentiality_type || ''} signed ${fmtDate(R.confidentiality_date)}`],
    R.business_need && ['Business need', R.business_need], R.separation_date && ['Separation date', fmtDate(R.separation_date)],
    R.note && ['Note', R.note]].filter(Boolean);
  $('info').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('title').textContent = `${KIND_LABEL[R.kind] || 'Request'}: ${S ? S.display_name : R.display_name || ''}`;
}

function renderFiles() {
  const miss = filesMissing();
  $('missing').hidden = !miss.length;
  $('missing').textContent = miss.length ? `Still missing: ${miss.map(m => FILE_LABEL[m] || m).join('; ')}. ` +
    (R.kind === 'deactivate' ? 'The account cannot be deactivated until the signed request form with the separation date is uploaded.' :
      'The request cannot be approved until they are uploaded.') : '';
  $('files').replaceChildren(table('Uploaded forms', ['Form', 'File', 'Size', ''],
    (R.files || []).map(f => [FILE_LABEL[f.kind] || f.kind, f.filename, `${Math.max(1, Math.round(f.size / 1024))} KB`,
      el('a', { href: '/api/v1/admin/files/' + encodeURIComponent(f.id) }, `Download ${f.filename}`)]), { empty: 'No form uploaded yet.' }));
  const kinds = FILES_FOR[R.kind] || ['request_form'];
  options($('up-kind'), kinds.map(k => ({ id: k, name: FILE_LABEL[k] })), { selected: miss[0] });
  $('upload').hidden = R.status === 'fulfilled' || R.status === 'rejected';
}

function renderAction() {
  const b = $('act-buttons');
  if (R.status === 'submitted') {
    $('act-text').textContent = filesMissing().length ? 'Upload the missing forms, then approve the request.' :
      'Check the request against the signed form, then approve it.';
    b.replaceChildren(el('button', { type: 'button', id: 'approve', onclick: approve }, 'Approve request'),
      el('button', { type: 'button', class: 'secondary', id: 'reject', onclick: reject }, 'Reject'));
  } else if (R.status === 'approved') {
    $('act-text').textContent = 'Approved. Carry it out now:';
    // The hub rejects only a request still waiting for approval.
    b.replaceChildren(el('button', { type: 'button', id: 'carry-out', class: R.kind === 'deactivate' ? 'danger' : null, onclick: carryOut }, CARRY[R.kind]));
  } else {
    $('act-text').textContent = R.status === 'fulfilled' ? 'This request has been carried out.' : 'This request was rejected.';
    b.replaceChildren(R.staff_id ? el('a', { class: 'button secondary', href: '/account.html?id=' + encodeURIComponent(R.staff_id) }, 'Open the account') : '');
  }
}

async function loadRequest(msg) {
  R = await api('/api/v1/admin/access-requests/' + encodeURIComponent(params.get('id')));
  S = R.staff_id ? await api('/api/v1/admin/staff/' + encodeURIComponent(R.staff_id)).catch(() => null) : null;
  renderInfo();
  renderFiles();
  renderAction();
  if (msg) $('status').textContent = msg;
}

async function uploadMore(ev) {
  ev.preventDefault();
  $('up-err').textContent = '';
  const f = $('up-file').files[0];
  if (!f) { $('up-err').textContent = 'Choose a file first.'; $('up-file').focus(); return; }
  try {
    await upload(R.id, $('up-kind').value, f);
    $('upload').reset();
    await loadRequest(`${f.name} uploaded.`);
  } catch (e) { $('up-err').textContent = e.message; }
}

async function init() {
  try {
    if (params.get('id')) {
      $('view').hidden = false;
      $('upload').addEventListener('submit', uploadMore);
      await loadRequest(params.get('saved') ? 'Request recorded.' : '');
      const failed = sessionStorage.getItem('upload-failed:' + params.get('id'));
      if (failed) {
        sessionStorage.removeItem('upload-failed:' + params.get('id'));
        $('act-err').textContent = 'Some forms were not uploaded: ' + failed;
      }
    } else {
      await showForm();
    }
  } catch (e) {
    if (e.status === 404 && params.get('id')) showNotFound('Access request', '/accounts.html', 'Go to the accounts and their requests');
    else $('status').textContent = 'Could not load: ' + e.message;
  }
}
init();
