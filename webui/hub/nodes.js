// nodes.js - offices, their nodes with replication lag, last contact and
// the release they run, one-time enrollment codes (shown once; those not used yet listed, and
// cancelled after a confirmation), revoking a node after a
// confirmation, and each Local Area's SSN keys: rotating its key (after a
// confirmation) and retiring its older keys (past the nodes that have not
// synced since the rotation only after a confirmation), both for operations
// only.
import { api, el, $, ago, fmtDateTime, table, pill, options, clearErrors, showError, showErrors,
  confirmDialog, shownOnce, session } from './console.js';
import { saving } from './ui.js';

let offices = [];
let nodes = [];
let codes = [];
let hubNow = Date.now();
let shownCodeId = null; // the code in #code-out, if any

const officeName = id => (offices.find(o => o.id === id) || {}).name || id;

function lagCell(n) {
  if (n.revoked) return pill('Revoked', 'bad');
  const behind = n.pull_lag || 0;
  const stale = !n.last_seen_ms || hubNow - n.last_seen_ms > 72 * 3600 * 1000;
  return el('span', {},
    behind === 0 ? pill('Up to date', 'ok') : pill(`${behind} change${behind === 1 ? '' : 's'} to pull`, 'warn'),
    stale ? el('span', {}, ' ', pill('No contact in 72 h', 'bad')) : null);
}

// The release and schema version the node last spoke with; another schema
// than the hub's is refused (426), and the older side is the one to
// upgrade: this office PC, or the hub when the office PC went first.
function versionCell(n) {
  if (n.schema_version == null) return 'not known yet';
  const text = `${n.release ? n.release + ', ' : ''}schema ${n.schema_version}`;
  if (n.revoked || n.schema_version === n.hub_schema_version) return text;
  return el('span', {}, `${text} — `, pill(n.schema_version < n.hub_schema_version
    ? 'refused, upgrade this office PC' : `refused, upgrade the hub (schema ${n.hub_schema_version})`, 'bad'));
}

function renderNodes() {
  const show = $('show-revoked').checked;
  const list = nodes.filter(n => show || !n.revoked);
  // Names, not ids: the office and its Local Area (the ids stay in a title, for IT).
  const officeCell = id => {
    const o = offices.find(x => x.id === id);
    return o ? el('span', { title: o.id }, o.name, el('div', { class: 'muted small' }, o.local_area_name || o.local_area_id || '')) : id;
  };
  $('nodes').replaceChildren(table('Office nodes',
    ['Node', 'Office', 'Enrolled', 'Last contact', 'Last pull', 'Version', 'Pushed up to', 'Replication', 'Quarantined', 'Last error', 'Action'],
    list.map(n => [
      el('strong', { title: n.id }, n.name || 'Office computer'),
      officeCell(n.office_id),
      fmtDateTime(n.enrolled_at),
      n.last_seen_ms ? el('span', { title: fmtDateTime(n.last_seen_ms) }, ago(n.last_seen_ms, hubNow)) : 'never',
      n.last_pull_ms ? ago(n.last_pull_ms, hubNow) : 'never',
      versionCell(n),
      `entry ${n.acked_seq}`,
      lagCell(n),
      n.quarantined ? el('a', { href: '/conflicts.html#quarantine-h' }, String(n.quarantined)) : '0',
      n.last_error || '',
      n.revoked ? `revoked ${fmtDateTime(n.revoked_at)}` :
        el('button', { type: 'button', class: 'danger', 'aria-label': `Revoke node ${n.name || n.id} of ${officeName(n.office_id)}`,
          onclick: () => revoke(n, officeName(n.office_id)) }, 'Revoke'),
    ]), { empty: show ? 'No node has enrolled yet.' : 'No active node. Create an enrollment code above to add one.' }));
}

// The codes not used yet (the hub also lists recent used, expired and
// cancelled ones): whoever printed one for the wrong office, or fears it
// was seen, cancels it here.
function renderCodes() {
  const pending = codes.filter(c => c.state === 'pending');
  $('codes').replaceChildren(table('Enrollment codes not used yet',
    ['Office', 'Created', 'By', 'Valid until', 'Action'],
    pending.map(c => [
      el('span', { title: c.office_id }, officeName(c.office_id)),
      fmtDateTime(c.created_at),
      c.created_by || '',
      fmtDateTime(c.expires_at),
      el('button', { type: 'button', class: 'danger',
        'aria-label': `Cancel code for ${officeName(c.office_id)}, created ${fmtDateTime(c.created_at)}`,
        onclick: () => cancelCode(c) }, 'Cancel code'),
    ]), { empty: 'No enrollment code is waiting to be used.' }));
}

function renderOffices() {
  $('offices').replaceChildren(table('Offices', ['Office', 'Local Area', 'Address', 'Time zone', 'Title I partner', 'Active nodes'],
    offices.map(o => [el('span', { title: o.id }, o.name), o.local_area_name || o.local_area_id || '', o.address || '', o.timezone || '', o.has_title1_partner ? 'Yes' : 'No (set up by the SPOC)', String(o.nodes)])));
}

// background: the page's poll, which does not extend the session.
async function load(background = false) {
  try {
    const [o, n, s, c] = await Promise.all([api('/api/v1/offices', { background }), api('/api/v1/nodes', { background }),
      api('/api/v1/console/status', { background }), api('/api/v1/enroll-codes', { background })]);
    offices = o; nodes = n; codes = c; hubNow = s.hub_time_ms || Date.now();
    const sel = $('code-office_id').value;
    options($('code-office_id'), offices, { blank: 'Choose an office', selected: sel });
    renderCodes();
    renderNodes();
    renderOffices();
    const active = nodes.filter(x => !x.revoked).length;
    $('status').textContent = `${active} active node${active === 1 ? '' : 's'} in ${offices.length} office${offices.length === 1 ? '' : 's'} · updated ${fmtDateTime(Date.now())}`;
  } catch (e) {
    $('status').textContent = 'Could not load the nodes: ' + e.message;
  }
}

async function createCode(ev) {
  ev.preventDefault();
  const form = $('code-form');
  clearErrors(form);
  $('code-out').replaceChildren();
  shownCodeId = null;
  const office = $('code-office_id').value;
  if (!office) {
    showError(form, { message: 'Choose the office the new computer belongs to.', field: 'office_id' }, 'code-');
    $('code-office_id').focus();
    return;
  }
  try {
    const r = await api('/api/v1/enroll-codes', { method: 'POST', body: { office_id: office } });
    const name = (offices.find(o => o.id === office) || {}).name || office;
    $('code-out').replaceChildren(shownOnce('enroll-code', `Enrollment code for ${name}`, r.code,
      `Shown only this once: copy it now and give it to whoever sets up the office computer. ` +
      `It works one time, until ${fmtDateTime(r.expires_at)} (24 hours). On that computer run: ` +
      `outpost-sync enroll --hub https://THIS-HUB:PORT --code - (it asks for the code; ` +
      `typed on the command line, other users of that computer could read it while it runs)`));
    shownCodeId = r.id;
    $('enroll-code').focus();
    $('enroll-code').select();
    load(true); // lists the new code (the focus stays on it)
  } catch (e) { showErrors(form, e, 'code-'); }
}

async function cancelCode(c) {
  const name = officeName(c.office_id);
  const ok = await confirmDialog(`Cancel the enrollment code for ${name}?`,
    `The code created ${fmtDateTime(c.created_at)}${c.created_by ? ' by ' + c.created_by : ''} will enroll no computer: ` +
    `whoever holds it is refused. This cannot be undone; create a new code when the office needs one.`,
    'Cancel code', { cancelLabel: 'Keep code' });
  if (!ok) return;
  try {
    await api(`/api/v1/enroll-codes/${encodeURIComponent(c.id)}/cancel`, { method: 'POST', body: {} });
    if (shownCodeId === c.id) { $('code-out').replaceChildren(); shownCodeId = null; }
    await load();
    $('status').textContent = `Enrollment code for ${name} cancelled.`;
  } catch (e) {
    await load();
    $('status').textContent = 'Could not cancel the code: ' + e.message;
  }
  $('codes-h').focus();
}

async function revoke(n, officeName) {
  const ok = await confirmDialog(`Revoke node “${n.name || n.id}”?`,
    `The node of ${officeName} will be refused from now on: it can no longer send or receive data. ` +
    `Changes it has not sent yet stay on that computer. This cannot be undone; the office enrolls a computer again with a new code.`,
    'Revoke node');
  if (!ok) return;
  try {
    await api(`/api/v1/nodes/${encodeURIComponent(n.id)}/revoke`, { method: 'POST', body: {} });
    await load();
    $('status').textContent = `Node ${n.name || n.id} revoked.`;
  } catch (e) { $('status').textContent = 'Could not revoke: ' + e.message; }
}

// One add per submit: while it is in flight the form's button is disabled
// and another submit (a double click, a second Enter) does nothing.
async function addPlace(ev, form, path, prefix, fields) {
  ev.preventDefault();
  return saving(form, async () => {
    clearErrors(form);
    const body = {};
    for (const f of fields) {
      const input = $(prefix + f);
      if (input.type === 'checkbox') { body[f] = input.checked; continue; }
      const v = input.value.trim();
      if (v) body[f] = v;
    }
    try {
      const r = await api(path, { method: 'POST', body });
      form.reset();
      await load();
      $('status').textContent = `${r.name} added.`;
    } catch (e) { showErrors(form, e, prefix); }
  });
}

// A Local Area's SSN keys: the newest key's epoch and how many older ones
// are kept; for operations (ops), Rotate key and Retire older keys beside
// them (the hub refuses both to anyone else).
function keysCell(a, ops) {
  const older = Math.max((a.ssn_keys || 0) - 1, 0);
  const text = a.ssn_key_epoch
    ? `Epoch ${a.ssn_key_epoch}${older ? `, ${older} older key${older === 1 ? '' : 's'} kept` : ', no older key'}`
    : 'No SSN key';
  const button = (action, label, onclick) => el('button', { type: 'button', class: 'secondary',
    id: `key-${action}-${a.id}`, 'aria-label': `${label} of ${a.name}`, onclick }, label);
  return el('div', {}, el('div', {}, text),
    ops && a.ssn_key_epoch ? el('div', { class: 'actions no-print' },
      button('rotate', 'Rotate key', () => rotateKey(a)),
      button('retire', 'Retire older keys', () => retireKeys(a))) : null);
}

function renderAreas(areas, ops) {
  $('areas').replaceChildren(table('Local Areas', ['Local Area', 'Offices', 'SSN keys'],
    areas.map(a => [el('span', { title: a.id }, a.name), String(a.offices ?? ''), keysCell(a, ops)]),
    { empty: 'No Local Area yet.' }));
}

// POST .../ssn-key/ACTION (rotate or retire) for Local Area a: the hub's
// answer; a refusal is shown as the hub words it (after what failed), and
// thrown on.  Either way the Local Areas are read again (their keys) and
// the focus goes back to the row's button, which that replaced.
async function keyAction(a, action, body, failed) {
  const msg = $('areas-msg');
  msg.textContent = '';
  try {
    return await api(`/api/v1/admin/local-areas/${encodeURIComponent(a.id)}/ssn-key/${action}`,
      { method: 'POST', body });
  } catch (e) {
    msg.textContent = `${failed}: ${e.message}`;
    throw e;
  } finally {
    await loadPlaces();
    const b = document.getElementById(`key-${action}-${a.id}`);
    if (b) b.focus();
  }
}

// POST .../ssn-key/rotate, after a dialog saying what a rotation does
// (README "SSN key rotation").
async function rotateKey(a) {
  const ok = await confirmDialog(`Rotate the SSN key of ${a.name}?`,
    `The hub gives ${a.name} a new SSN key (epoch ${a.ssn_key_epoch + 1}): new SSNs are written under it, ` +
    `and the hub writes the SSNs it holds again under it, 100 at a time. Each office computer of the ` +
    `Local Area picks the new key up at its next sync; a computer revoked before reads nothing recorded ` +
    `after the rotation. An office computer still running a release from before key epochs can no longer ` +
    `show or record SSNs until it is upgraded. The older keys stay, so that what is still under them stays ` +
    `readable, until they are retired here once every office computer of the Local Area has synced since.`,
    'Rotate key', { danger: false, cancelLabel: 'Keep the current key' });
  if (!ok) return;
  try {
    const r = await keyAction(a, 'rotate', {}, 'Could not rotate the SSN key');
    $('status').textContent = `${a.name}: new SSN key, epoch ${r.epoch}; the stored SSNs are being written again under it.`;
  } catch { /* shown in #areas-msg */ }
}

// POST .../ssn-key/retire: refused (409) with the hub's reason, shown as
// it is; when the reason is offices not synced since the rotation (field
// "force"), a dialog says what retiring past them does before it is asked
// again with force.
async function retireKeys(a, force = false) {
  try {
    const r = await keyAction(a, 'retire', force ? { force: true } : {}, 'Could not retire the older SSN keys');
    $('status').textContent = r.retired
      ? `${a.name}: ${r.retired} older SSN key${r.retired === 1 ? '' : 's'} retired; only the newest (epoch ${r.epoch}) is left.`
      : `${a.name}: no SSN key older than the newest (epoch ${r.epoch}) to retire.`;
    if (r.warning) $('areas-msg').textContent = `Retired past office computers that had not synced: ${r.warning}`;
  } catch (e) {
    if (e.status !== 409 || e.field !== 'force' || force) return;
    const ok = await confirmDialog(`Retire the older SSN keys of ${a.name} anyway?`,
      `${e.message}. Those office computers may still hold SSNs recorded under an older key. ` +
      `Once it is retired, a participant they send with such an SSN is quarantined at the hub, and a record they ` +
      `hold under it can no longer show its SSN: the SSN must be recorded again at the office. This cannot be undone.`,
      'Retire anyway', { cancelLabel: 'Keep the keys' });
    if (ok) await retireKeys(a, true);
  }
}

async function loadPlaces() {
  const [la, divs, me] = await Promise.all([api('/api/v1/admin/local-areas').catch(() => []),
    api('/api/v1/admin/field-divisions').catch(() => []), session()]);
  renderAreas(la, !!(me && me.staff && (me.staff.roles || []).includes('operations')));
  options($('of-local_area_id'), la, { blank: 'Choose a Local Area', selected: $('of-local_area_id').value });
  options($('la-field_division'), divs, { blank: 'None', selected: $('la-field_division').value });
}

$('fd-form').addEventListener('submit', ev => addPlace(ev, $('fd-form'), '/api/v1/admin/field-divisions', 'fd-', ['name']).then(loadPlaces));
$('la-form').addEventListener('submit', ev => addPlace(ev, $('la-form'), '/api/v1/admin/local-areas', 'la-', ['name', 'id', 'field_division', 'pseudo_ssn_prefix']).then(loadPlaces));
$('office-form').addEventListener('submit', ev => addPlace(ev, $('office-form'), '/api/v1/admin/offices', 'of-', ['name', 'id', 'local_area_id', 'address', 'timezone', 'has_title1_partner']));
loadPlaces();
$('code-form').addEventListener('submit', createCode);
$('show-revoked').addEventListener('change', renderNodes);
$('refresh').addEventListener('click', () => load());
load();
setInterval(() => load(true), 30000);
