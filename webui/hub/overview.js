// overview.js - the console's home: replication at a glance and the way to
// every task.
import { api, el, $, ago, fmtDateTime, table } from './console.js';

// background: the page's poll, which does not extend the session.
async function load(background = false) {
  try {
    const s = await api('/api/v1/console/status', { background });
    $('s-nodes').textContent = s.nodes_enrolled;
    $('s-oldest').textContent = s.nodes_enrolled ? ago(s.oldest_contact_ms, s.hub_time_ms) : '–';
    $('s-conflicts').textContent = s.open_conflicts;
    $('s-quarantined').textContent = s.quarantined;
    const h = await api('/healthz', { background });
    $('hub-info').replaceChildren(
      el('dt', {}, 'Version'), el('dd', {}, h.version),
      el('dt', {}, 'Schema version'), el('dd', {}, String(s.schema_version)),
      el('dt', {}, 'Changes in the log'), el('dd', {}, String(s.change_log_rows)),
      el('dt', {}, 'Revoked nodes'), el('dd', {}, String(s.nodes_revoked)),
      el('dt', {}, 'Public key pin (nodes check it)'), el('dd', { class: 'val' }, s.hub_pin),
      el('dt', {}, 'Hub time'), el('dd', {}, fmtDateTime(s.hub_time_ms)));
    const refused = await api('/api/v1/admin/credential-changes?status=refused', { background }).catch(() => []);

    // Names, not ids: the office whose computer sent the change (the node's
    // id stays in the cell's title, for IT).
    const [nodes, offices] = refused.length ? await Promise.all([api('/api/v1/nodes', { background }).catch(() => []),
      api('/api/v1/admin/offices', { background }).catch(() => [])]) : [[], []];
    const where = id => {
      const n = (Array.isArray(nodes) ? nodes : []).find(x => x.id === id);
      const o = n && offices.find(x => x.id === n.office_id);
      if (!n) return el('span', { title: id || '' }, id ? 'An office computer no longer listed' : '');
      return el('span', { title: id }, o ? o.name : 'Office computer', n.name ? el('div', { class: 'muted small' }, n.name) : null);
    };
    $('cred').replaceChildren(table('Refused password changes', ['When', 'Account', 'Office', 'Why'],
      refused.slice(0, 50).map(c => [fmtDateTime(c.changed_at), el('a', { href: '/account.html?id=' + encodeURIComponent(c.staff_id) }, c.username || c.staff_id),
        where(c.node_id), c.why || ''])));
    // shown once it is filled (never an empty section while names load)
    $('cred-sec').hidden = !refused.length;
    $('status').textContent = `Updated ${fmtDateTime(Date.now())}.`;
  } catch (e) {
    $('status').textContent = e.status === 403 ? 'Replication is run by the CalJOBS Operations Unit; its figures are shown to them.' :
      'Could not load the hub status: ' + e.message;
  }
}
// A quarter that ended without a completed access review (WSD24-13: a
// random sample every quarter) is flagged for every administrator.
async function reviewFlag() {
  const q = await api('/api/v1/admin/review-quarters').catch(() => null);
  const f = $('review-flag');
  f.hidden = !(q && q.skipped.length);
  if (!f.hidden)
    f.replaceChildren(`No completed quarterly access review for ${q.skipped.join(', ')}. `,
      el('a', { href: '/reports.html?report=review' }, 'Open the quarterly access review'));
}
// Vetting past its 72 hours (CRM training), listed for every administrator.
async function vetting() {
  const v = await api('/api/v1/admin/crm/vetting').catch(() => null);
  $('vet-sec').hidden = !(v && v.overdue.length);
  if (v && v.overdue.length)
    $('vet').replaceChildren(table('Employer vetting overdue', ['Employer', 'User name', 'Converted by', 'Due', 'Hours overdue'],
      v.overdue.map(e => [e.company_name, e.username, e.converted_by_name || e.converted_by || '', fmtDateTime(e.vetting_due_at), String(e.hours_overdue)])));
}
load();
reviewFlag();
vetting();
setInterval(() => load(true), 30000);
