// audit.js - the audit trail with filters (source, actor, action, dates),
// printable and as CSV.  The hub answers at most 1000 events, newest first.
import { api, el, $, qs, table, fmtDate, fmtDateTime, downloadCsv, auditChanges, actionLabel, actionCell, showError, clearErrors, latest } from './console.js';

let rows = [];
const ACTIONS = ['login', 'login_failed', 'logout', 'password_change', 'password_change_failed', 'request.create',
  'request.approve', 'request.reject', 'request.reopen', 'file.upload', 'staff.create', 'staff.reset', 'staff.change', 'staff.recertify',
  'staff.deactivate', 'staff.roles', 'review.create', 'review.item', 'review.complete', 'local_area.create',
  'field_division.create', 'office.create', 'credential_change.applied', 'credential_change.refused',
  'login_offline', 'participant_read', 'node.revoke', 'enroll_code.create', 'enroll_code.cancel', 'conflict_resolve', 'quarantine_resolve'];

function dayMs(iso, end) {
  if (!iso) return '';
  const [y, m, d] = iso.split('-').map(Number);
  return String(new Date(y, m - 1, d + (end ? 1 : 0)).getTime() - (end ? 1 : 0));
}

const details = a => auditChanges(a);
const who = a => a.actor || a.actor_id || '';

// Names, not ids: the staff, Local Areas, offices and nodes the console knows.
let names = new Map();
async function loadNames() {
  const [staff, areas, offices, nodes] = await Promise.all(['/api/v1/admin/staff', '/api/v1/admin/local-areas',
    '/api/v1/admin/offices', '/api/v1/nodes'].map(u => api(u).catch(() => [])));
  const m = new Map();
  for (const s of Array.isArray(staff) ? staff : []) m.set('staff:' + s.id, `${s.display_name} (${s.username})`);
  for (const x of Array.isArray(areas) ? areas : []) m.set('la:' + x.id, x.name);
  for (const x of Array.isArray(offices) ? offices : []) m.set('office:' + x.id, x.name);
  for (const x of Array.isArray(nodes) ? nodes : nodes.nodes || []) m.set('node:' + x.id, x.name || x.hostname || x.id);
  names = m;
}
const TABLE_LABEL = { staff: 'Account', access_requests: 'Access request', local_areas: 'Local Area', offices: 'Office',
  nodes: 'Node', participants: 'Participant', field_divisions: 'Field division' };
function subjectText(a) {
  const id = a.subject_id || a.subject || '';
  const t = a.subject_table || '';
  const n = names.get((t === 'staff' ? 'staff:' : t === 'local_areas' ? 'la:' : t === 'offices' ? 'office:' : t === 'nodes' ? 'node:' : '?') + id);
  if (n) return `${TABLE_LABEL[t] || t}: ${n}`;
  return [TABLE_LABEL[t] || t, id].filter(Boolean).join(' ');
}
function subject(a) {
  const text = subjectText(a);
  return a.subject_table === 'staff' && a.subject_id ? el('a', { href: '/account.html?id=' + encodeURIComponent(a.subject_id) }, text) : text;
}
const where = a => [names.get('la:' + a.local_area_id) || a.local_area_id,
  a.reported_by ? 'reported by node ' + (names.get('node:' + a.reported_by) || a.reported_by) : a.client].filter(Boolean).join(' · ');

const loads = latest();
async function load(ev) {
  if (ev) ev.preventDefault();
  const current = loads();
  clearErrors($('filters'));
  const from = $('f-from').value, to = $('f-to').value;
  if (from && to && from > to) return showError($('filters'), { message: '“From” is after “To”.', field: 'from' }, 'f-');
  const p = { source: $('f-source').value, actor: $('f-actor').value.trim(), action: $('f-action').value.trim(),
    from: dayMs(from, false), to: dayMs(to, true) };
  try {
    const got = await api('/api/v1/admin/audit?' + qs(p));
    if (!current()) return;
    rows = got;
    $('list').replaceChildren(table('Audit events', ['When', 'Who', 'Action', 'Subject', 'Where', 'Details'],
      rows.map(a => [fmtDateTime(a.at), who(a), actionCell(a.action), subject(a), where(a), details(a)]),
      { empty: 'No event matches these filters.' }));
    $('status').textContent = `${rows.length} event${rows.length === 1 ? '' : 's'}${rows.length >= 1000 ? ' (the newest 1000: narrow the dates to see older ones)' : ''}`;
    $('print-head').textContent = `Audit trail (${$('f-source').selectedOptions[0].textContent}), ${fmtDate(from) || 'start'} to ${fmtDate(to) || 'today'}` +
      (p.actor ? `, by ${p.actor}` : '') + (p.action ? `, action ${p.action}` : '') + `. Printed ${fmtDateTime(Date.now())}.`;
  } catch (e) { if (current()) $('status').textContent = 'Could not load the audit trail: ' + e.message; }
}

$('actions').replaceChildren(...ACTIONS.map(a => el('option', { value: a }, actionLabel(a))));
$('filters').addEventListener('submit', load);
$('csv').addEventListener('click', () => downloadCsv('audit.csv', ['When', 'Who', 'Action', 'Action code', 'Subject', 'Local Area', 'Client', 'Details'],
  rows.map(a => [fmtDateTime(a.at), who(a), actionLabel(a.action), a.action, subjectText(a), names.get('la:' + a.local_area_id) || a.local_area_id || '', a.client || '', details(a)])));
$('print').addEventListener('click', () => window.print());
const p = new URLSearchParams(location.search);
for (const k of ['source', 'actor', 'action']) if (p.get(k)) $('f-' + k).value = p.get(k);
loadNames().finally(load);
