// crm-work.js - work items: My Queue and Group Queue, the due-today notice,
// add a work item (assignable only to the CRM work group, linked to an
// employer), and the item dialog: status, re-assignment, due date, notes,
// delete.  ?open=ID opens an item; ?employer=ID&name=... presets the link.
import { api, el, fmtDate, fmtDateTime } from './api.js';
import { showNotFound } from './office.js';
import { $, API, meta, options, qs, clearErrors, showError, table, pill, filled, latest, saving } from './crm-common.js';

const params = new URLSearchParams(location.search);
let m = null, current = null, empTimer = null;

// The list, and its count in the status line after what was just done
// (done: "Work item X saved.", shown with the count, not replaced by it).
async function load(ev, done = '') {
  if (ev) ev.preventDefault();
  try {
    clearErrors($('filters'));
    const r = await api(`${API}/work-items?${qs({ queue: $('f-queue').value, status: $('f-status').value, q: $('f-q').value.trim(), limit: 200 })}`);
    $('status').textContent = (done ? done + ' ' : '') + `${r.items.length}${r.more ? '+' : ''} work item${r.items.length === 1 ? '' : 's'}` +
      (r.order === 'newest' ? ': many match, newest first; add words to narrow the search.' : '.');
    $('list').replaceChildren(r.items.length ? table('Work items', ['ID', 'Employer', 'Category', 'Priority', 'Status', 'Due', 'Assigned to', 'Description', 'Action'],
      r.items.map(w => [el('a', { href: '?open=' + w.id, onclick: ev2 => { ev2.preventDefault(); open(w.id); } }, w.ref),
        w.employer_name ? el('a', { href: '/crm-lead.html?id=' + w.employer_id }, w.employer_name) : '—', w.category, w.priority,
        pill(w.status, w.status === 'Closed' ? 'closed' : ''), w.overdue ? pill(fmtDate(w.due_date) + ' overdue', 'overdue') : fmtDate(w.due_date),
        w.assignee_name || '', w.description,
        el('button', { type: 'button', class: 'secondary', 'aria-label': `Edit work item ${w.ref}`, onclick: () => open(w.id) }, 'Edit')]))
      : el('p', { class: 'muted' }, 'No work items in this queue.'));
  } catch (e) { $('status').textContent = done; showError($('filters'), e, 'f-'); }
}

async function dueNotice() {
  const d = await api(API + '/work-items/due-today');
  if (!d.count && !d.overdue) { $('due-notice').hidden = true; return; }
  $('due-notice').hidden = false;
  $('due-notice').replaceChildren(el('strong', {}, `${d.count} work item${d.count === 1 ? '' : 's'} due today`),
    d.overdue ? `, ${d.overdue} overdue. ` : '. ',
    ...d.items.map(w => el('a', { href: '?open=' + w.id, style: 'margin-right:.6rem', onclick: ev => { ev.preventDefault(); open(w.id); } }, w.ref)));
}

// A crossed edit in words: the field's label and names, not ids.
const COL_LABEL = { assignee_id: 'Assigned to', category_id: 'Category', priority_id: 'Priority', due_date: 'Due date',
  employer_id: 'Employer', status: 'Status', description: 'Description' };
function crossedValue(col, v) {
  if (v == null || v === '') return 'nothing';
  const list = { assignee_id: [m.work_group, 'display_name'], category_id: [m.categories, 'name'], priority_id: [m.priorities, 'name'] }[col];
  const hit = list && (list[0] || []).find(x => x.id === v);
  if (hit) return hit[list[1]];
  if (col === 'due_date') return fmtDate(v);
  return col.endsWith('_id') ? 'another value' : v;
}

async function open(wid, fromLink = false) {
  try {
    current = await api(`${API}/work-items/${encodeURIComponent(wid)}`);
    if (current.deleted) throw Object.assign(new Error('deleted'), { status: 404 });
  } catch (e) {
    if (e.status === 404 && fromLink) {
      showNotFound('Work item', '/crm-work.html', 'Go to the work items');
    } else if (e.status === 404) {
      await load(null, 'This work item no longer exists (deleted); the list is up to date.');
    } else {
      $('status').textContent = e.message;
    }
    return;
  }
  const w = current, f = $('wi-form');
  clearErrors(f);
  $('wi-h').textContent = `Work item ${w.ref}`;
  $('wi-info').replaceChildren(...[['Employer', w.employer_name || '—'], ['Category', w.category], ['Priority', w.priority],
    ['Description', w.description], ['Created by', w.created_by_name || 'another office\'s staff member']].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('e-status').value = w.status;
  options($('e-assignee_id'), m.work_group, { label: 'display_name', selected: w.assignee_id });
  // The item's own category or priority, retired since, stays its choice:
  // the lists hold the active ones only, and the first of them was shown
  // (and saved) in its place.
  const withOwn = (items, id, name) => !id || items.some(i => i.id === id) ? items
    : [{ id, name: `${name || id} (retired)` }, ...items];
  options($('e-category_id'), withOwn(m.categories, w.category_id, w.category), { selected: w.category_id });
  options($('e-priority_id'), withOwn(m.priorities, w.priority_id, w.priority), { selected: w.priority_id });
  // Job Order, as in the add form, for the employer it is linked to (a
  // closed item's category is read-only).
  jobOrderFor(null, 'e-');
  if (w.employer_id && w.status !== 'Closed') {
    api(`${API}/employers/${encodeURIComponent(w.employer_id)}`, { background: true })
      .then(e => { if (current === w) jobOrderFor(e, 'e-', w.category_id); })
      .catch(() => {});
  }
  $('e-description').value = w.description || '';
  $('e-due_date').value = w.due_date || '';
  const crossed = w.conflicts || [];
  $('e-crossed').hidden = !crossed.length;
  $('e-crossed').replaceChildren(...(crossed.length ? [el('strong', {}, 'Edits that crossed between offices: '),
    ...crossed.map(c => `${COL_LABEL[c.column_name] || c.column_name} kept "${crossedValue(c.column_name, c.kept_value)}" (the other office had "${crossedValue(c.column_name, c.other_value)}"${c.reason ? ': ' + c.reason : ''}). `)] : []));
  // Status: on your own items (assigned to you or created by you).
  const own = w.assignee_id === m.me.id || w.created_by === m.me.id;
  $('e-status-hint').hidden = own;
  $('e-body').value = '';
  $('wi-notes').replaceChildren(...(w.notes.length ? w.notes.map(n => el('li', {}, `${fmtDateTime(n.created_at)} — ${n.staff_name || ''}: ${n.body}`))
    : [el('li', { class: 'muted' }, 'No notes yet.')]));
  // Closed, a record of work done: its fields are read-only (the node
  // answers 409 to an edit), and the one action left is adding a note.
  const closed = w.status === 'Closed';
  for (const i of ['e-status', 'e-assignee_id', 'e-due_date', 'e-category_id', 'e-priority_id', 'e-description']) $(i).disabled = closed;
  if (!own) $('e-status').disabled = true;
  $('e-closed').hidden = !closed;
  $('e-save').textContent = closed ? 'Add note' : 'Save';
  $('wi-dlg').showModal();
}

async function saveItem(ev) {
  ev.preventDefault();
  const f = $('wi-form'), w = current;
  clearErrors(f);
  try {
    const note = $('e-body').value.trim();
    if (!note && w.status === 'Closed') {
      showError(f, { field: 'body', message: 'write the note to add (a closed work item\'s fields are read-only)' }, 'e-');
      return;
    }
    if (note) await api(`${API}/work-items/${w.id}/notes`, { method: 'POST', body: { body: note } });
    if (w.status !== 'Closed') {
      const body = {};
      if ($('e-assignee_id').value !== w.assignee_id) body.assignee_id = $('e-assignee_id').value;
      if ($('e-due_date').value !== (w.due_date || '')) body.due_date = $('e-due_date').value || null;
      if ($('e-status').value !== w.status) body.status = $('e-status').value;
      for (const k of ['category_id', 'priority_id', 'description']) if ($('e-' + k).value.trim() !== (w[k] || '')) body[k] = $('e-' + k).value.trim();
      if (Object.keys(body).length) await api(`${API}/work-items/${w.id}`, { method: 'PATCH', body });
    }
    $('wi-dlg').close();
    await Promise.all([load(null, `Work item ${w.ref} saved.`), dueNotice()]);
  } catch (e) { showError(f, e, e.field === 'body' ? 'e-' : 'e-'); }
}

async function deleteItem() {
  const w = current;
  if (!confirm(`Delete work item ${w.ref}?`)) return;
  try {
    await api(`${API}/work-items/${w.id}`, { method: 'DELETE' });
    $('wi-dlg').close();
    await load(null, `Work item ${w.ref} deleted.`);
  } catch (e) { showError($('wi-form'), e); }
}

// A "Job Order" work item is for a recruiting employer WSB staff have
// vetted (the node refuses it for a lead, 400, and while the vetting is
// pending, 409, when an item is made one): for the employer linked (e, or
// none) the category is shown unavailable, with why, in the add form (p
// 'w-') or the item dialog ('e-'; own: the item's category).  An item that
// is a Job Order item already (made before these rules) keeps it, as the
// node and the hub keep it with the item's other edits: for a lead, or
// while the vetting is pending, the dialog shows it as the item's own,
// selected but not offered afresh (moved to another category, the item
// cannot be moved back), and says so.
function jobOrderFor(e, p = 'w-', own = '') {
  const jo = m.categories.find(c => c.name.toLowerCase() === 'job order');
  const opt = jo && [...$(p + 'category_id').options].find(o => o.value === jo.id);
  if (!opt) return;
  const kept = own === jo.id, lead = e && e.account_type !== 'recruiting';
  const why = !e ? '' : lead ? 'A Job Order work item is for recruiting employers only: marketing leads do not post job orders.'
    : e.vetting_status === 'pending' ? 'A Job Order work item is made once WSB staff have vetted this employer (vetting pending).' : '';
  opt.disabled = !!why;
  opt.textContent = jo.name + (!why ? '' : kept ? ' (this item\'s; no new ones for this employer yet)' : ' (not for this employer yet)');
  if (why && opt.selected && !kept) $(p + 'category_id').value = '';
  $(p + 'category-why').textContent = why && kept
    ? 'This item is a Job Order item already: it keeps that category, and its other fields can be edited. ' + why : why;
  $(p + 'category-why').hidden = !why;
}

// The answer for what is typed now: one for an earlier text must not pick
// its employer (an exact name) for the text shown.
const empSearches = latest();
function employerSearch() {
  clearTimeout(empTimer);
  $('w-employer_id').value = '';
  jobOrderFor(null);
  const mine = empSearches();
  empTimer = setTimeout(async () => {
    const q = $('w-employer_q').value.trim();
    if (q.length < 2) return;
    const r = await api(`${API}/employers?${qs({ q, owner: 'all', account_type: 'all', limit: 10 })}`);
    if (!mine()) return;
    $('w-employers').replaceChildren(...r.items.map(e => el('option', { value: e.company_name }, `${e.zip} ${e.city || ''}`)));
    const hit = r.items.find(e => e.company_name === q);
    if (hit) $('w-employer_id').value = hit.id;
    jobOrderFor(hit);
  }, 200);
}

function add(ev) {
  ev.preventDefault();
  return saving($('add'), addItem);
}
async function addItem() {
  const f = $('add');
  clearErrors(f);
  const body = filled(['category_id', 'assignee_id', 'status', 'due_date', 'priority_id', 'employer_id', 'description'], 'w-');
  if ($('w-employer_q').value.trim() && !body.employer_id) {
    showError(f, { field: 'employer_id', message: 'choose an employer from the list (type part of its name)' }, 'w-');
    return;
  }
  try {
    const w = await api(API + '/work-items', { method: 'POST', body });
    f.reset();
    $('w-employer_id').value = '';
    jobOrderFor(null);
    await Promise.all([load(null, `Work item ${w.ref} added.`), dueNotice()]);
    if (params.get('employer')) location.href = '/crm-lead.html?id=' + encodeURIComponent(params.get('employer'));
  } catch (e) { showError(f, e, 'w-'); }
}

async function init() {
  m = await meta();
  options($('w-category_id'), m.categories, { blank: 'Choose a category' });
  options($('w-priority_id'), m.priorities, { selected: (m.priorities.find(p => p.is_default) || {}).id });
  options($('w-assignee_id'), m.work_group, { label: 'display_name', selected: m.me.id });
  if (params.get('employer')) {
    // The name shown is the employer's own, never one a link carries (a
    // crafted link could show one employer and file under another).
    const id = params.get('employer');
    $('w-employer_id').value = id;
    $('w-employer_q').value = id;
    api(`${API}/employers/${encodeURIComponent(id)}`, { background: true })
      .then(e => { if ($('w-employer_id').value === id) { $('w-employer_q').value = e.company_name; jobOrderFor(e); } })
      .catch(() => {});
  }
  $('filters').addEventListener('submit', load);
  $('add').addEventListener('submit', add);
  $('w-employer_q').addEventListener('input', employerSearch);
  $('wi-form').addEventListener('submit', saveItem);
  $('e-delete').addEventListener('click', deleteItem);
  $('e-cancel').addEventListener('click', () => $('wi-dlg').close());
  await Promise.all([load(), dueNotice()]);
  if (params.get('open')) open(params.get('open'), true);
}
init();
