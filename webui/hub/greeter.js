// greeter.js - the hub console's greeter page: a Local Area's check-in
// reasons (add, rename, reorder, narrow to an office, retire and restore; a
// rename keeps the former label for the visits made before it, in reports),
// the statewide report of visits by office, day, reason and language with its
// CSV, and the offices with no check-in on a business day.
import { $, api, el, table, pill, options, clearErrors, showErrors, qs, isoToday, addDays, fmtDate, fmtDateTime, latest } from './console.js';

let areas = [], offices = [], reasons = [];
const officeName = id => (offices.find(o => o.id === id) || {}).name || id;

function status(t) { $('status').textContent = t; }

const reasonLoads = latest(); // another Local Area chosen meanwhile: its list draws
async function loadReasons() {
  const current = reasonLoads();
  const la = $('r-la').value;
  const got = la ? await api('/api/v1/admin/greeter-reasons?' + qs({ local_area_id: la })) : [];
  if (!current()) return;
  reasons = got;
  const mine = offices.filter(o => o.local_area_id === la);
  options($('r-office_id'), mine, { blank: 'Every office of the Local Area', selected: $('r-office_id').value });
  $('reasons').replaceChildren(table('Check-in reasons of ' + (($('r-la').selectedOptions[0] || {}).textContent || ''),
    ['Order', 'English', 'Spanish', 'Offered at', 'Status', 'Visits', 'Actions'],
    reasons.map(r => [String(r.sort), formerly(r), el('span', { lang: 'es' }, r.label_es),
      r.office_id ? officeName(r.office_id) : 'Every office',
      r.active ? pill('Offered', 'ok') : pill('Retired', 'muted'), String(r.visits),
      r.editable ? el('span', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary small', 'data-edit': r.id, 'aria-label': `Edit ${r.label}` }, 'Edit'),
        el('button', { type: 'button', class: 'secondary small', 'data-toggle': r.id, 'aria-label': `${r.active ? 'Retire' : 'Offer again'} ${r.label}` }, r.active ? 'Retire' : 'Offer again'))
        : el('span', { class: 'muted small' }, 'Set up by another administrator')]),
    { empty: 'No reason yet: visitors cannot check in at this Local Area\'s offices until one is added.' }));
}

// A reason's English label, with the labels a rename replaced: the reports
// of the visits made before still show those.
function formerly(r) {
  const f = r.former_labels || [];
  if (!f.length) return r.label;
  return el('span', {}, r.label, el('br'), el('span', { class: 'muted small' },
    'Formerly ' + f.map(x => `"${x.label}" (until ${fmtDateTime(x.ended_at)})`).join(', ')));
}

// What a rename does, said before it is saved.  r.visits counts the visits
// the hub holds: an office's visits reach it with its sync, and those it
// takes until it has the new label keep the old one too.  A visit made
// before an earlier rename keeps its own former label.
function renameNote(r) {
  if (!r) return '';
  const held = r.visits === 1 ? '1 visit at the hub so far' : `${r.visits || 'no'} visits at the hub so far`;
  const label = (r.former_labels || []).length ? `the label it was made under ("${r.label}" or a former one)` : `the label "${r.label}"`;
  return `Renaming changes what the kiosks and front desks show from each office's next sync. Each visit made before (${held}, and those the offices take until their next sync) keeps ${label} in reports and CSV exports: a past month's report does not change. To stop offering a reason, retire it instead.`;
}

function editForm(r) {
  $('r-id').value = r ? r.id : '';
  $('r-label').value = r ? r.label : '';
  $('r-label_es').value = r ? r.label_es : '';
  $('r-office_id').value = r && r.office_id ? r.office_id : '';
  $('r-sort').value = r ? r.sort : '';
  $('reason-form-h').textContent = r ? `Change "${r.label}"` : 'Add a reason';
  $('r-save').textContent = r ? 'Save changes' : 'Add reason';
  $('r-cancel').hidden = !r;
  $('r-rename-note').textContent = renameNote(r);
  $('r-rename-note').hidden = !r;
  if (r) $('r-label').focus();
}

async function saveReason(ev) {
  ev.preventDefault();
  const form = $('reason-form');
  clearErrors(form);
  const id = $('r-id').value;
  const body = { label: $('r-label').value.trim(), label_es: $('r-label_es').value.trim(), office_id: $('r-office_id').value || null };
  if ($('r-sort').value !== '') body.sort = Number($('r-sort').value);
  if (!id) body.local_area_id = $('r-la').value;
  const was = id ? reasons.find(x => x.id === id) : null;
  try {
    const r = await api('/api/v1/admin/greeter-reasons' + (id ? '/' + encodeURIComponent(id) : ''), { method: id ? 'PATCH' : 'POST', body });
    editForm(null);
    await loadReasons();
    if (was && was.label !== r.label)
      status(`"${was.label}" renamed "${r.label}". The offices show the new label with their next sync; visits made before stay in reports under "${was.label}".`);
    else
      status(`"${r.label}" ${id ? 'saved' : 'added'}. The offices receive it with their next sync.`);
  } catch (e) {
    showErrors(form, e, 'r-');
  }
}

async function onReasonClick(ev) {
  const b = ev.target.closest('button');
  if (!b) return;
  const r = reasons.find(x => x.id === (b.dataset.edit || b.dataset.toggle));
  if (!r) return;
  if (b.dataset.edit) return editForm(r);
  try {
    await api('/api/v1/admin/greeter-reasons/' + encodeURIComponent(r.id), { method: 'PATCH', body: { active: !r.active } });
    await loadReasons();
    status(r.active ? `"${r.label}" retired: the kiosks no longer offer it; past visits keep it.` : `"${r.label}" is offered again.`);
  } catch (e) { status('Could not change the reason: ' + e.message); }
}

async function loadReport(ev) {
  if (ev) ev.preventDefault();
  clearErrors($('report-form'));
  const q = { from: $('g-from').value, to: $('g-to').value };
  $('g-csv').href = '/api/v1/admin/reports/greeter?' + qs({ ...q, format: 'csv' });
  try {
    const r = await api('/api/v1/admin/reports/greeter?' + qs(q));
    $('g-total').textContent = `${r.visits} visit${r.visits === 1 ? '' : 's'} from ${fmtDate(r.from)} to ${fmtDate(r.to)}.`;
    // Visits by office (and how many in Spanish), from the days: the rows
    // count a visit once per reason it gave.  Keyed by the office's id (two
    // offices may share a name).
    const by = new Map();
    for (const x of r.days) {
      const o = by.get(x.office_id) || { name: x.office_name, visits: 0, es: 0 };
      o.visits += x.visits;
      o.es += x.spanish;
      by.set(x.office_id, o);
    }
    $('by-office').replaceChildren(table('Visits by office', ['Office', 'Visits', 'In Spanish'],
      [...by.values()].sort((a, b) => a.name.localeCompare(b.name)).map(o => [o.name, String(o.visits), String(o.es)]),
      { showCaption: true, empty: '' }));
    $('report').replaceChildren(table('Visits by office, day, reason and language',
      ['Office', 'Day', 'Reason', 'Language', 'Visits'],
      r.rows.map(x => [x.office_name, fmtDate(x.date), x.reason, x.language === 'es' ? 'Spanish' : 'English', String(x.visits)]),
      { empty: 'No visit in these dates.' }));
  } catch (e) { showErrors($('report-form'), e, 'g-'); }
}

async function loadMissing() {
  const m = await api('/api/v1/admin/reports/greeter-missing');
  $('missing').replaceChildren(table('Offices with no check-ins', ['Office', 'Business days with no check-in'],
    m.offices.map(o => [o.office_name, o.dates.map(fmtDate).join(', ')]),
    { empty: `Every office in service checked in visitors on every business day from ${fmtDate(m.from)} to ${fmtDate(m.to)}.` }));
}

async function init() {
  [areas, offices] = await Promise.all([api('/api/v1/admin/local-areas'), api('/api/v1/admin/offices')]);
  options($('r-la'), areas, { blank: areas.length ? null : 'No Local Area yet' });
  $('g-to').value = isoToday();
  $('g-from').value = addDays(isoToday(), -6);
  await Promise.all([loadReasons(), loadReport(), loadMissing()]);
}

$('r-la').addEventListener('change', () => { editForm(null); loadReasons(); });
$('reason-form').addEventListener('submit', saveReason);
$('r-cancel').addEventListener('click', () => editForm(null));
$('reasons').addEventListener('click', onReasonClick);
$('report-form').addEventListener('submit', loadReport);
init().catch(e => status('Could not load the greeter set-up: ' + e.message));
