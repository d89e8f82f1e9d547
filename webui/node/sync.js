// sync.js - the node's Sync page: how far this office is from the hub
// (GET /api/v1/sync/status), the changes the hub refused, and the conflicts
// recorded in this office (GET /api/v1/sync/conflicts).  Refreshes itself.
import { api, el } from './api.js';

export function ago(ms) {
  if (ms == null) return 'never';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

// One sentence on the state of replication, for this page and the home page.
export function summary(s) {
  if (s.disk_full) {
    return { ok: false, text: 'The disk of this computer is full: new changes cannot be saved ' +
      'until some space is freed. Nothing already saved is lost.' };
  }
  if (!s.enrolled) {
    return { ok: true, text: 'This office node is not enrolled with a hub: everything is kept on this computer.' };
  }
  const waiting = s.pending === 1 ? '1 change is' : `${s.pending} changes are`;
  if (s.last_error) {
    return { ok: false, text: `The hub cannot be reached or refused this node (${s.last_error}). ` +
      (s.pending ? `${waiting} waiting and will be sent when it can. ` : '') +
      'The office keeps working meanwhile.' };
  }
  if (s.pending) return { ok: true, text: `${waiting} being sent to the hub.` };
  return { ok: true, text: `In sync with the hub (last contact ${ago(s.last_contact_age_ms)}).` };
}

function when(ms) {
  return ms == null ? '–' : new Date(ms).toLocaleString();
}

function table(caption, head, rows) {
  return el('table', {},
    el('caption', { class: 'sr-only' }, caption),
    el('thead', {}, el('tr', {}, head.map(h => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows));
}

function show(s, conflicts) {
  const sum = summary(s);
  const p = document.getElementById('summary');
  p.textContent = sum.text;
  p.className = sum.ok ? 'notice' : 'notice warn';
  document.getElementById('s-pending').textContent = s.pending;
  document.getElementById('s-oldest').textContent = s.pending ? ago(s.oldest_pending_age_ms) : 'none';
  document.getElementById('s-contact').textContent = ago(s.last_contact_age_ms);
  document.getElementById('s-pull').textContent = ago(s.last_pull_age_ms);
  const rows = [
    ['Hub', s.hub_url || 'not enrolled'],
    ['This node', s.node_id],
    ['Office', s.office_id || '–'],
    ['Last change the hub confirmed', s.acked_seq == null ? 'none yet' : String(s.acked_seq)],
    ['Hub changes applied here', s.cursor == null ? 'none yet' :
      `${s.cursor} of ${s.head_seq == null ? '?' : s.head_seq}` +
      (s.head_seq != null && s.cursor >= s.head_seq ? ' (up to date)' : '')],
    ['Next attempt', s.next_attempt_in_ms == null ? (s.syncing ? 'now' : '–') :
      `in ${Math.round(s.next_attempt_in_ms / 1000)} s`],
    ['Failed attempts in a row', String(s.consecutive_failures)],
    ['Clock', s.clock_offset_ms == null ? 'not compared yet' :
      `hub is ${(Math.abs(s.clock_offset_ms) / 1000).toFixed(1)} s ${s.clock_offset_ms >= 0 ? 'ahead of' : 'behind'} this computer` +
      (s.clock_skew_warning ? ' — set this computer\'s clock' : '')],
  ];
  document.getElementById('detail').replaceChildren(...rows.map(([k, v]) =>
    el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, v))));

  const q = document.getElementById('quarantine');
  q.replaceChildren(s.quarantined.length
    ? table('Changes the hub refused', ['Change', 'Reason', 'When'],
      s.quarantined.map(e => el('tr', {}, el('td', {}, String(e.seq)), el('td', {}, e.reason),
        el('td', {}, when(e.at)))))
    : el('p', {}, 'None.'));

  const c = document.getElementById('conflicts');
  c.replaceChildren(conflicts.length
    ? table('Conflicts in this office', ['When', 'Record', 'Field', 'Before', 'Hub had', 'Node wrote', 'Kept'],
      conflicts.map(x => el('tr', {},
        el('td', {}, when(x.created_at)),
        el('td', {}, `${x.tbl} ${x.row_id}`),
        el('td', {}, x.column_name),
        el('td', {}, x.base_value ?? 'null'),
        el('td', {}, x.local_value ?? 'null'),
        el('td', {}, x.remote_value ?? 'null'),
        el('td', {}, (x.winner === 'remote' ? x.remote_value : x.local_value) ?? 'null',
          x.resolved_at != null ? ' (resolved)' : ''))))
    : el('p', {}, 'None.'));
}

async function load() {
  const err = document.getElementById('err');
  try {
    const [s, conflicts] = await Promise.all([api('/api/v1/sync/status'), api('/api/v1/sync/conflicts')]);
    err.textContent = '';
    show(s, conflicts);
  } catch (e) {
    err.textContent = 'Could not read the sync state: ' + e.message;
  }
}

if (document.getElementById('summary')) {
  load();
  setInterval(load, 5000);
}
