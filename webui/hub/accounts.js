// accounts.js - the staff accounts in the administrator's area with filters
// (Local Area, field division, group, status, recertification due/overdue)
// and the access requests still waiting to be approved or carried out.
import { api, el, $, qs, table, pill, options, fmtDate, fmtDateTime, downloadCsv, KIND_LABEL, recertState, latest } from './console.js';

let shown = [];
let areas = [];
let offices = [];

function statusPill(s) {
  if (!s.active) return pill('Deactivated', 'muted');
  const p = s.suspended ? pill('Suspended', 'bad') : s.password_temp ? pill('Temporary password', 'warn') : pill('Active', 'ok');
  return s.deactivate_on ? el('span', {}, p, ' ', pill('Deactivation scheduled', 'warn'), ' ', fmtDate(s.deactivate_on)) : p;
}
function recertPill(s) {
  if (s.recertification_exempt) return pill('Exempt', 'muted');
  const r = recertState(s);
  if (r === 'overdue') return el('span', {}, pill('Overdue', 'bad'), ' ', fmtDate(s.recertification_due_on));
  if (r === 'due') return el('span', {}, pill('Due', 'warn'), ' ', fmtDate(s.recertification_due_on));
  return fmtDate(s.recertification_due_on);
}
const officeName = id => (offices.find(o => o.id === id) || {}).name || id || '';
const areaName = id => (areas.find(a => a.id === id) || {}).name || id || '';

const loads = latest();
async function load(ev) {
  if (ev) ev.preventDefault();
  const current = loads();
  try {
    // The hub filters on active; suspended (an active account on leave) is
    // filtered here.
    const st = $('f-active').value, suspendedOnly = st === 'suspended';
    const list = await api('/api/v1/admin/staff?' + qs({ local_area_id: $('f-la').value, active: suspendedOnly ? '1' : st, q: $('f-q').value.trim() }));
    if (!current()) return;
    const div = $('f-div').value, group = $('f-group').value, rc = $('f-recert').value;
    shown = list.filter(s => (!div || s.field_division === div) && (!group || s.privilege_group === group) &&
      (!rc || recertState(s) === rc) && (!suspendedOnly || s.suspended));
    $('list').replaceChildren(table('Staff accounts', ['Name', 'User name', 'Local Area / division', 'Office', 'Group', 'Status', 'Recertification due', 'Last sign-in'],
      shown.map(s => [el('a', { href: '/account.html?id=' + encodeURIComponent(s.id) }, s.display_name), s.username,
        s.field_division ? `${s.field_division} (division)` : areaName(s.local_area_id), officeName(s.office_id), s.privilege_group,
        statusPill(s), recertPill(s), fmtDateTime(s.last_login_at)]), { empty: 'No account matches these filters.' }));
    $('status').textContent = `${shown.length} account${shown.length === 1 ? '' : 's'}`;
  } catch (e) { if (current()) $('status').textContent = 'Could not load the accounts: ' + e.message; }
}

async function loadPending() {
  try {
    const reqs = (await api('/api/v1/admin/access-requests')).filter(r => r.status === 'submitted' || r.status === 'approved');
    $('pending').replaceChildren(table('Requests waiting', ['Received', 'Kind', 'Staff member', 'Requested by', 'Status', ''],
      reqs.map(r => [fmtDateTime(r.created_at), KIND_LABEL[r.kind] || r.kind, r.display_name || r.username || r.staff_id || '',
        r.requestor_name || '', r.status === 'approved' ? pill('Approved: carry it out', 'ok') : pill('Needs forms and approval', 'warn'),
        el('a', { href: '/request.html?id=' + encodeURIComponent(r.id) }, 'Open request')]),
      { empty: 'No request is waiting.' }));
  } catch (e) { $('pending').replaceChildren(el('p', { class: 'error' }, 'Could not load the requests: ' + e.message)); }
}

function csv() {
  downloadCsv('accounts.csv', ['Name', 'User name', 'Local Area', 'Field division', 'Office', 'Group', 'Active', 'Recertification due', 'Deactivated at'],
    shown.map(s => [s.display_name, s.username, s.local_area_id ? areaName(s.local_area_id) : '', s.field_division || '',
      s.office_id ? officeName(s.office_id) : '', s.privilege_group,
      s.active ? 'yes' : 'no', fmtDate(s.recertification_due_on), fmtDateTime(s.deactivated_at)]));
}

async function init() {
  const [la, divs, groups, offs] = await Promise.all([
    api('/api/v1/admin/local-areas').catch(() => []), api('/api/v1/admin/field-divisions').catch(() => []),
    api('/api/v1/admin/privilege-groups').catch(() => []), api('/api/v1/admin/offices').catch(() => [])]);
  areas = la;
  offices = offs;
  options($('f-la'), la, { blank: 'All' });
  options($('f-div'), divs, { blank: 'All' });
  options($('f-group'), groups, { value: 'name', label: 'name', blank: 'All' });
  const p = new URLSearchParams(location.search);
  if (p.get('recert')) $('f-recert').value = p.get('recert');
  $('filters').addEventListener('submit', load);
  $('csv').addEventListener('click', csv);
  await Promise.all([load(), loadPending()]);
}
init();
