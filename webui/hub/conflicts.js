// conflicts.js - conflicts with their base / hub / office values next to
// the value now, resolved by keeping one (an edit that replicates); and
// quarantined entries decoded change by change next to the hub's row,
// marked handled with a note.
import { api, el, $, fmtDateTime, table, pill, clearErrors, showError, latest } from './console.js';

let nodes = [];
let offices = [];
let current = null;

function val(v) {
  if (v === null || v === undefined) return el('span', { class: 'val null' }, 'empty');
  if (typeof v === 'object') return el('span', { class: 'val' }, JSON.stringify(v));
  return el('span', { class: 'val' }, String(v));
}
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
// Names, not ids: an office computer by its office's name (and its own).
const officeName = id => (offices.find(o => o.id === id) || {}).name || id || '';
function nodeLabel(id) {
  const n = nodes.find(x => x.id === id);
  return n ? `${officeName(n.office_id)} (${n.name || 'office computer'})` : id;
}
const human = s => String(s || '').replace(/_/g, ' ');
// Two offices' corrections of one employer service or participant activity
// (model/corrections.h): both stand, the conflict on the later one (the
// hub value the earlier correction, the office value the later); its values
// are the rows, shown in words.
const corrected = { employer_services: 'service', participant_activities: 'activity' };
const twoCorrections = c => Object.hasOwn(corrected, c.tbl) && c.column_name === 'corrects_id';
const service = v => v && typeof v === 'object' && v.code
  ? `${v.voided ? 'void of ' : ''}${v.code} from ${v.start_date}${v.end_date ? ' to ' + v.end_date : ''}` : v;

// A row's Review button, which opens the row's dialog (open(id)); label
// names the row for a screen reader.
const reviewButton = (label, id, open) => el('button', { type: 'button', class: 'secondary', 'aria-label': label,
  'data-id': id, onclick: () => open(id) }, 'Review');

// The item at path for its dialog (ids starting with prefix): it becomes
// current, and the dialog's field errors and note are cleared.
async function openItem(path, prefix) {
  current = await api(path);
  clearErrors($(prefix + 'form'));
  $(prefix + 'note').value = '';
  return current;
}

// ---- conflicts ----------------------------------------------------------
// "Show" changed while a list is coming: only the last one asked for draws.
const conflictLoads = latest(), quarantineLoads = latest();
async function loadConflicts() {
  const mine = conflictLoads();
  const open = $('c-show').value === 'open';
  const rows = await api('/api/v1/conflicts' + (open ? '?open=1' : ''));
  if (!mine()) return rows.length;
  $('conflicts').replaceChildren(table('Conflicts',
    ['When', 'Record', 'Field', 'Base', 'Hub', 'Office', 'Kept', 'From', 'Status', ''],
    rows.map(c => {
      const p = x => { try { return x == null ? null : JSON.parse(x); } catch { return x; } };
      return [fmtDateTime(c.created_at), el('span', {}, human(c.tbl), el('div', { class: 'muted small val' }, c.row_id)),
        c.column_name === '*deleted*' ? 'edited after a delete' : twoCorrections(c) ? `two corrections of one ${corrected[c.tbl]}` : human(c.column_name),
        ...(c.values_hidden
          // a participant's or a visitor's data: shown in the review, whose reading is recorded
          ? [0, 1, 2].map(() => el('span', { class: 'muted small' }, 'shown in the review'))
          : twoCorrections(c) ? [c.base_value, c.local_value, c.remote_value].map(x => val(service(p(x))))
          : [val(p(c.base_value)), val(p(c.local_value)), val(p(c.remote_value))]),
        twoCorrections(c) ? el('span', {}, 'both', el('div', { class: 'muted small' },
          c.tbl === 'employer_services' ? 'the later correction counts' : 'both shown'))
          : c.reason ? el('span', {}, 'hub', el('div', { class: 'muted small' }, 'a rule')) : c.winner === 'remote' ? 'office' : 'hub',
        nodeLabel(c.node_id),
        c.resolved_at ? pill('Resolved', 'ok') : pill('Open', 'warn'),
        reviewButton(`Review conflict on ${human(c.tbl)} ${human(c.column_name)}`, c.id, openConflict)];
    }), { empty: open ? 'No open conflicts.' : 'No conflicts have been recorded.' }));
  return rows.length;
}

async function openConflict(id) {
  const c = await openItem(`/api/v1/conflicts/${encodeURIComponent(id)}`, 'c-');
  const deleted = c.column_name === '*deleted*', twice = twoCorrections(c);
  const activity = c.tbl === 'participant_activities';
  $('c-dlg-h').textContent = twice ? `Two corrections of one ${activity ? 'participant activity' : 'employer service'}`
    : `Conflict on ${human(c.tbl)}${deleted ? '' : ': ' + human(c.column_name)}`;
  $('c-info').replaceChildren(...[
    el('dt', {}, 'Record'), el('dd', { class: 'val' }, `${c.tbl} ${c.row_id}`),
    el('dt', {}, 'Recorded'), el('dd', {}, fmtDateTime(c.created_at)),
    el('dt', {}, 'Office edit from'), el('dd', {}, nodeLabel(c.node_id) + (c.actor ? ` by ${c.actor}` : '')),
    el('dt', {}, 'Kept automatically'), el('dd', {}, twice
      ? (activity ? 'both entries, both shown in the participant’s timeline'
        : 'both entries; the later correction counts')
      : c.reason ? 'the hub’s value'
      : c.winner === 'remote' ? 'the office’s value (the later edit)' : 'the hub’s value (the later edit)'),
    c.reason ? el('dt', {}, 'Why') : null, c.reason ? el('dd', { id: 'c-reason' }, c.reason) : null,
    c.resolved_at ? el('dt', {}, 'Resolved') : null,
    c.resolved_at ? el('dd', {}, `${fmtDateTime(c.resolved_at)} by ${c.resolved_by || ''}`) : null].filter(Boolean));
  const box = (cls, title, v, hint) => el('div', { class: cls }, el('h3', {}, title), val(v), hint ? el('p', { class: 'muted small' }, hint) : null);
  $('c-values').replaceChildren(...(twice ? [
    box('', activity ? 'Activity' : 'Service', service(c.base), 'as first entered'),
    box('', 'Earlier correction', service(c.hub), 'entered first'),
    box('', 'Later correction', service(c.office), activity ? 'entered last' : 'entered last: it counts')] : [
    box('', 'Base', c.base, 'before either edit'),
    box('', 'Hub', c.hub, 'at the hub, before the merge'),
    box('', 'Office', c.office, 'sent by the office'),
    box('current', 'Now', deleted ? (c.row_exists ? 'row kept' : 'row gone') : c.current, 'what every office has now')]));
  // The office's edit changed other fields of the record that are still in
  // conflict too: they can be kept together, checked as one record (a ZIP
  // and its five-digit form, a conversion: each alone breaks a rule).
  const edit = Array.isArray(c.edit) && c.edit.length > 1 ? c.edit : null;
  const editList = () => el('ul', { class: 'small', id: 'c-edit-fields' }, ...edit.map(f =>
    el('li', {}, human(f.column_name), ': ', val(f.office))));
  // A service or an activity is never edited: acknowledged, or corrected
  // again at an office.
  const choices = twice ? [['current', activity
    ? 'Acknowledge: keep both entries (to change them, correct the activity again through a Help Request at an office)'
    : 'Acknowledge: keep both entries, the later correction counts (to change it, enter a further correction at an office)']]
    : deleted ? [['current', 'Keep the row as it is now']] : [
    ['current', 'Keep the value it has now', c.current],
    ['office', 'Use the office’s value', c.office],
    edit ? ['office_edit', `Use the office’s whole edit (${edit.length} fields, kept together)`, null, editList] : null,
    ['hub', 'Use the hub’s earlier value', c.hub],
    ['base', 'Go back to the base value', c.base]].filter(Boolean);
  $('c-options').replaceChildren(...choices.map(([k, label, v, more], i) => el('div', { class: 'choice' },
    el('label', { for: 'keep-' + k, style: 'display:flex;gap:.5rem;align-items:center;font-weight:400' },
      el('input', { type: 'radio', name: 'keep', id: 'keep-' + k, value: k, checked: i === 0 ? true : null, style: 'width:auto' }),
      el('span', {}, label, k !== 'current' && !more && same(v, c.current) ? el('span', { class: 'muted' }, ' (same as now)') : null,
        k === 'current' || more ? null : el('span', {}, ': ', val(v)))),
    more ? more() : null)));
  const done = !!c.resolved_at;
  $('c-choice').disabled = done;
  $('c-note').disabled = done;
  $('c-resolve').hidden = done;
  if (done && c.resolution) {
    let r = {}; try { r = JSON.parse(c.resolution); } catch { /* shown raw */ }
    $('c-err').textContent = '';
    const kept = r.kept === 'office_edit' ? 'the office’s whole edit' : `the ${r.kept || ''} value`;
    $('c-options').prepend(el('p', {}, `Resolved by keeping ${kept}.` + (r.note ? ` Note: ${r.note}` : '')));
  }
  $('c-dlg').showModal();
}

async function resolveConflict() {
  const keep = ($('c-form').querySelector('input[name=keep]:checked') || {}).value;
  clearErrors($('c-form'));
  try {
    const body = { keep };
    if ($('c-note').value.trim()) body.note = $('c-note').value.trim();
    await api(`/api/v1/conflicts/${encodeURIComponent(current.id)}/resolve`, { method: 'POST', body });
    $('c-dlg').close();
    const n = keep === 'office_edit' && current.edit ? current.edit.length : 1;
    await load(`${n > 1 ? n + ' conflicts' : 'Conflict'} on ${human(current.tbl)} resolved; the change reaches every office at its next synchronization.`);
  } catch (e) { showError($('c-form'), e, 'c-'); }
}

// ---- quarantine -----------------------------------------------------------
async function loadQuarantine() {
  const mine = quarantineLoads();
  const open = $('q-show').value === 'open';
  let rows = await api('/api/v1/quarantine');
  if (open) rows = rows.filter(q => !q.resolved_at);
  if (!mine()) return rows.length;
  $('quarantine').replaceChildren(table('Quarantined entries',
    ['When', 'From', 'Entry', 'Table', 'Reason', 'Status', ''],
    rows.map(q => [fmtDateTime(q.created_at), nodeLabel(q.node_id), `#${q.seq}`, human(q.tbl), q.reason,
      q.resolved_at ? pill('Handled', 'ok') : pill('Needs review', 'warn'),
      reviewButton(`Review quarantined entry ${q.seq} from ${nodeLabel(q.node_id)}`, q.id, openQuarantine)]),
    { empty: open ? 'No entry waits for review.' : 'No entry has been quarantined.' }));
  return rows.length;
}

async function openQuarantine(id) {
  const q = await openItem(`/api/v1/quarantine/${encodeURIComponent(id)}`, 'q-');
  let res = {}; try { res = JSON.parse(q.resolution || '{}'); } catch { /* raw */ }
  $('q-dlg-h').textContent = `Quarantined entry #${q.seq} from ${nodeLabel(q.node_id)}`;
  $('q-info').replaceChildren(...[
    el('dt', {}, 'Reason'), el('dd', {}, q.reason),
    el('dt', {}, 'Received'), el('dd', {}, fmtDateTime(q.created_at)),
    el('dt', {}, 'Office'), el('dd', {}, officeName(q.office_id)),
    el('dt', {}, 'Made by'), el('dd', {}, q.actor || 'unknown'),
    q.resolved_at ? el('dt', {}, 'Handled') : null,
    q.resolved_at ? el('dd', {}, `${fmtDateTime(q.resolved_at)} by ${res.by || ''}: ${res.note || ''}`) : null].filter(Boolean));
  $('q-changes').replaceChildren(...(q.changes.length ? q.changes : [{ error: 'The entry holds no readable change.' }]).map((ch, i) => {
    if (ch.error) return el('p', { class: 'notice warn' }, 'The rest of the entry cannot be read: ' + ch.error);
    const rows = ch.columns.map(c => {
      const differs = ch.op !== 'delete' && 'new' in c && ch.hub_row_exists && !same(c.new, c.hub);
      const tr = el('tr', { class: differs ? 'differs' : null },
        el('th', { scope: 'row' }, human(c.name)),
        el('td', {}, ch.op === 'insert' ? '' : ('old' in c ? val(c.old) : el('span', { class: 'muted' }, '—'))),
        el('td', {}, ch.op === 'delete' ? el('span', { class: 'muted' }, 'deleted') : ('new' in c ? val(c.new) : el('span', { class: 'muted' }, 'unchanged'))),
        el('td', {}, ch.hub_row_exists ? val(c.hub) : el('span', { class: 'muted' }, 'no such row')));
      return tr;
    });
    return el('section', {}, el('h3', {}, `Change ${i + 1}: ${ch.op} in ${human(ch.table)}`),
      el('table', {}, el('caption', { class: 'sr-only' }, `Change ${i + 1} side by side`),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Field'), el('th', { scope: 'col' }, 'Office had'),
          el('th', { scope: 'col' }, 'Office sent'), el('th', { scope: 'col' }, 'Hub has now'))),
        el('tbody', {}, rows)),
      el('p', { class: 'muted small' }, 'Highlighted rows differ from what the hub holds.'));
  }));
  $('q-handle').hidden = !!q.resolved_at;
  $('q-resolve').hidden = !!q.resolved_at;
  $('q-dlg').showModal();
}

async function resolveQuarantine() {
  clearErrors($('q-form'));
  const note = $('q-note').value.trim();
  if (note.length < 3) {
    showError($('q-form'), { message: 'Say in a few words how the entry was handled.', field: 'note' }, 'q-');
    return;
  }
  try {
    await api(`/api/v1/quarantine/${encodeURIComponent(current.id)}/resolve`, { method: 'POST', body: { note } });
    $('q-dlg').close();
    await load(`Entry #${current.seq} marked handled.`);
  } catch (e) { showError($('q-form'), e, 'q-'); }
}

async function load(msg) {
  try {
    [nodes, offices] = await Promise.all([api('/api/v1/nodes'), api('/api/v1/offices').catch(() => [])]);
    const nc = await loadConflicts(), nq = await loadQuarantine();
    $('status').textContent = typeof msg === 'string' ? msg :
      `${nc} conflict${nc === 1 ? '' : 's'} and ${nq} quarantined entr${nq === 1 ? 'y' : 'ies'} listed · updated ${fmtDateTime(Date.now())}`;
  } catch (e) { $('status').textContent = 'Could not load: ' + e.message; }
}

$('c-show').addEventListener('change', () => load());
$('q-show').addEventListener('change', () => load());
$('c-resolve').addEventListener('click', resolveConflict);
$('q-resolve').addEventListener('click', resolveQuarantine);
load();
