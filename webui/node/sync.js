// sync.js - the node's Sync page: how far this office is from the hub
// (GET /api/v1/sync/status), the changes the hub refused, and the conflicts
// recorded in this office (GET /api/v1/sync/conflicts).  Refreshes itself.
import { api, el, fmtTime, fmtDate, fmtDateTime, inWords } from './api.js';

// The office's name (its id stays beside it for IT).
let officeName = '';
fetch('/healthz').then(r => r.json()).then(h => { officeName = h.office_name || ''; }).catch(() => {});

export function ago(ms) {
  if (ms == null) return 'never';
  if (ms < 10000) return 'just now';
  return inWords(ms) + ' ago';
}

function changes(n) { return n === 1 ? '1 change' : `${n} changes`; }

// One sentence and a colour on the state of replication, for this page and
// the home page: {ok, level: 'ok'|'warn'|'bad', text, more}.
export function summary(s) {
  if (s.disk_full) {
    return { ok: false, level: 'bad', text: 'The disk of this computer is full: new changes cannot be saved ' +
      'until some space is freed. Nothing already saved is lost.', more: 'Tell your IT help desk.' };
  }
  if (!s.enrolled) {
    return { ok: true, level: 'ok', text: 'This office is not enrolled with a hub: everything is kept on this computer.', more: '' };
  }
  if (s.last_error || s.consecutive_failures > 0) {
    const since = s.last_success_ms ? `since ${fmtTime(s.last_success_ms)}` +
      (Date.now() - s.last_success_ms > 20 * 3600 * 1000 ? ` on ${fmtDate(s.last_success_ms)}` : '') : 'since this computer started';
    const long = s.last_success_ms && s.now_ms - s.last_success_ms > 3600 * 1000;
    return { ok: false, level: long ? 'bad' : 'warn',
      text: `Working offline ${since}, ${changes(s.pending)} waiting.`,
      more: 'The office keeps working: check-ins, notes and every other change are kept here and sent to the hub by themselves when it can be reached.' +
        (long ? ' This has lasted more than an hour: tell your IT help desk.' : '') };
  }
  if (s.pending) {
    return { ok: true, level: 'ok', text: `All is well: ${changes(s.pending)} on the way to the hub.`,
      more: `Last contact with the hub ${ago(s.last_contact_age_ms)}.` };
  }
  return { ok: true, level: 'ok', text: 'All changes are at the hub.',
    more: `Last contact with the hub ${ago(s.last_contact_age_ms)}.` };
}

function when(ms) {
  return ms == null ? '–' : fmtDateTime(ms);
}

function table(caption, head, rows) {
  return el('table', {},
    el('caption', { class: 'sr-only' }, caption),
    el('thead', {}, el('tr', {}, head.map(h => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows));
}

function show(s, conflicts) {
  const sum = summary(s);
  document.getElementById('summary').textContent = sum.text;
  document.getElementById('summary-more').textContent = sum.more;
  document.getElementById('state').className = 'state ' + sum.level;
  document.getElementById('try-now').hidden = !s.enrolled;
  document.getElementById('s-pending').textContent = s.pending;
  document.getElementById('s-oldest').textContent = s.pending ? ago(s.oldest_pending_age_ms) : 'none';
  document.getElementById('s-contact').textContent = ago(s.last_contact_age_ms);
  document.getElementById('s-pull').textContent = ago(s.last_pull_age_ms);
  const rows = [
    ['Hub', s.hub_url || 'not enrolled'],
    ['This node', s.node_id],
    ['Office', s.office_id ? (officeName ? `${officeName} (${s.office_id})` : s.office_id) : '–'],
    ['Last change the hub confirmed', s.acked_seq == null ? 'none yet' : String(s.acked_seq)],
    ['Hub changes applied here', s.cursor == null ? 'none yet' :
      `${s.cursor} of ${s.head_seq == null ? '?' : s.head_seq}` +
      (s.head_seq != null && s.cursor >= s.head_seq ? ' (up to date)' : '')],
    ['Next attempt', s.next_attempt_in_ms == null ? (s.syncing ? 'now' : '–') :
      s.next_attempt_in_ms < 10000 ? 'in a few seconds' : `in ${inWords(s.next_attempt_in_ms)}`],
    ['Last error', s.last_error || 'none'],
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
        // Not a participant's values (each read of a record is audited), nor
        // a visit's without the front desk's privilege (GET answers null).
        ...(x.values_hidden
          ? [el('td', { colspan: 3, class: 'muted' }, hiddenWhy(x.tbl))]
          : [el('td', {}, x.base_value ?? 'null'),
            el('td', {}, x.local_value ?? 'null'),
            el('td', {}, x.remote_value ?? 'null')]),
        el('td', {}, x.values_hidden ? (x.winner === 'remote' ? 'the office\'s value' : 'the hub\'s value')
          : (x.winner === 'remote' ? x.remote_value : x.local_value) ?? 'null',
          x.resolved_at != null ? ' (resolved)' : '',
          x.reason ? el('div', { class: 'muted small' }, x.reason) : null))))
    : el('p', {}, 'None.'));
}

function hiddenWhy(tbl) {
  return tbl === 'participants' || tbl.startsWith('participant_') || tbl.startsWith('case_')
    ? 'Values of a participant\'s record are not listed here (administrators see them in the hub console).'
    : 'Values not shown here: they need the front desk privilege.';
}

async function tryNow() {
  const b = document.getElementById('try-now');
  b.disabled = true;
  document.getElementById('summary').textContent = 'Trying to reach the hub now…';
  try {
    await api('/api/v1/sync/now', { method: 'POST' });
    // The cycle runs in the background: read the state until it is over.
    for (let i = 0; i < 20; i++) {
      await new Promise(r => setTimeout(r, 500));
      const s = await api('/api/v1/sync/status', { background: true });
      if (!s.syncing && s.next_attempt_in_ms != null) break;
    }
  } catch (e) {
    document.getElementById('err').textContent = 'Could not try now: ' + e.message;
  } finally {
    b.disabled = false;
    await load();
  }
}

async function load() {
  const err = document.getElementById('err');
  try {
    const [s, conflicts] = await Promise.all([api('/api/v1/sync/status', { background: true }),
      api('/api/v1/sync/conflicts', { background: true })]);
    err.textContent = '';
    show(s, conflicts);
  } catch (e) {
    err.textContent = 'Could not read the sync state: ' + e.message;
  }
}

if (document.getElementById('summary')) {
  document.getElementById('try-now').addEventListener('click', tryNow);
  load();
  setInterval(load, 5000);
}
