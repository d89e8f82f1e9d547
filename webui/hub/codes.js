// codes.js - the hub's code lists: each list's version and counts, loading a
// new version (operations; CSV with a version name and an effective date),
// the codes of a list with their status and when they were retired, and
// (worklists.js) the work item categories and priorities.
import { $, api, el, table, pill, options, clearErrors, showErrors, isoToday, fmtDate, latest, confirmDialog } from './console.js';
import './worklists.js'; // the work item categories and priorities

const NAMES = { employer: 'Employer activity codes', activity: 'Participant activity codes', followup: 'Follow-up codes', groups: 'Privilege groups' };
let lists = [];
// A list chosen while another's codes (or the page's own refresh after a
// load) are still coming: only the last one asked for draws.
const codeLoads = latest();

async function loadLists() {
  lists = await api('/api/v1/admin/code-lists');
  const opts = lists.map(l => ({ id: l.list, name: NAMES[l.list] || l.list }));
  options($('v-list'), opts, { selected: $('v-list').value });
  options($('c-list'), opts, { selected: $('c-list').value });
  $('lists').replaceChildren(table('Code lists', ['List', 'Version', 'Effective', 'In use', 'Retired', 'Waiting'],
    lists.map(l => [NAMES[l.list] || l.list, l.version || '–', fmtDate(l.effective_date) || '–', String(l.active), String(l.retired),
      l.pending.length ? el('span', {}, ...l.pending.map(p => el('span', { class: 'pending' },
        `${p.version} (from ${fmtDate(p.effective_date)}) `,
        el('button', { type: 'button', class: 'secondary small', onclick: () => withdraw(l.list, p),
          'aria-label': `Withdraw version ${p.version} of ${NAMES[l.list] || l.list}` }, 'Withdraw'), ' '))) : 'None'])));
}

// A version still waiting for its date, dropped: a version dated before it
// is refused while it waits (it is a whole list and would undo that one).
async function withdraw(list, p) {
  if (!await confirmDialog('Withdraw this version?', `Version ${p.version} of ${NAMES[list] || list} will not apply on ${fmtDate(p.effective_date)}. Its file is dropped; load it again to bring it back.`, 'Withdraw')) return;
  try {
    await api(`/api/v1/admin/code-lists/${encodeURIComponent(list)}/versions/${encodeURIComponent(p.version)}/withdraw`, { method: 'POST' });
    $('status').textContent = `Version ${p.version} withdrawn.`;
    await loadLists();
  } catch (e) { $('status').textContent = 'Could not withdraw the version: ' + e.message; }
}

async function loadCodes() {
  const current = codeLoads();
  const r = await api('/api/v1/admin/code-lists/' + encodeURIComponent($('c-list').value));
  if (!current()) return;
  $('codes').replaceChildren(table('Codes of ' + (NAMES[r.list] || r.list), ['Code', 'Title', 'Status'],
    r.codes.map(c => [c.code, c.title, c.status === 'active' ? pill('In use', 'ok')
      : pill(c.retired_on ? `Retired ${fmtDate(c.retired_on)} (${c.retired_in})` : 'Retired', 'muted')])));
}

async function loadVersion(ev) {
  ev.preventDefault();
  const form = $('load-form');
  clearErrors(form);
  const file = $('v-csv').files[0];
  const body = { version: $('v-version').value.trim(), effective_date: $('v-effective_date').value, csv: file ? await file.text() : '' };
  try {
    const r = await api('/api/v1/admin/code-lists/' + encodeURIComponent($('v-list').value), { method: 'POST', body });
    $('status').textContent = r.applied
      ? `Version ${r.version} applied: ${r.added} added, ${r.changed} changed, ${r.retired} retired.`
      : `Version ${r.version} waits for ${fmtDate(r.effective_date)}.`;
    form.reset();
    $('v-effective_date').value = isoToday();
    await loadLists();
    await loadCodes();
  } catch (e) {
    showErrors(form, e, 'v-');
  }
}

$('v-effective_date').value = isoToday();
$('load-form').addEventListener('submit', loadVersion);
$('c-list').addEventListener('change', () => loadCodes().catch(e => { $('status').textContent = e.message; }));
loadLists().then(loadCodes).catch(e => { $('status').textContent = 'Could not load the code lists: ' + e.message; });
