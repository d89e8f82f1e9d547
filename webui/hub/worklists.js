// worklists.js - the code lists page's work item categories and priorities
// (operations; hub_setup.c): add, rename, reorder, retire and restore, and
// which priority a new work item gets by default.  Two lists of one shape:
// LISTS says where they differ.
import { $, api, el, table, pill, clearErrors, showErrors } from './console.js';

const LISTS = [
  { key: 'wc', path: '/api/v1/admin/work-item-categories', order: 'sort', what: 'category', orderLabel: 'Order' },
  { key: 'wp', path: '/api/v1/admin/work-item-priorities', order: 'rank', what: 'priority', orderLabel: 'Rank', withDefault: true },
];

function status(t) { $('status').textContent = t; }

async function load(l) {
  l.rows = await api(l.path);
  $(l.key + '-list').replaceChildren(table(l.what === 'category' ? 'Work item categories' : 'Work item priorities',
    [l.orderLabel, 'Name', 'Status', 'Work items', 'Actions'],
    l.rows.map(r => [String(r[l.order]), r.name,
      !r.active ? pill('Retired', 'muted') : r.is_default ? pill('In use, the default', 'ok') : pill('In use', 'ok'),
      String(r.work_items),
      el('span', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary small', 'data-edit': r.id, 'aria-label': `Edit ${r.name}` }, 'Edit'),
        el('button', { type: 'button', class: 'secondary small', 'data-toggle': r.id, 'aria-label': `${r.active ? 'Retire' : 'Restore'} ${r.name}` },
          r.active ? 'Retire' : 'Restore'),
        l.withDefault && r.active && !r.is_default
          ? el('button', { type: 'button', class: 'secondary small', 'data-default': r.id, 'aria-label': `Make default: ${r.name}` }, 'Make default')
          : null)]),
    { empty: `No ${l.what} yet: an office cannot add a work item until one is added.` }));
}

function editForm(l, r) {
  $(l.key + '-id').value = r ? r.id : '';
  $(l.key + '-name').value = r ? r.name : '';
  $(l.key + '-' + l.order).value = r ? r[l.order] : '';
  $(l.key + '-form-h').textContent = r ? `Change "${r.name}"` : `Add a ${l.what}`;
  $(l.key + '-save').textContent = r ? 'Save changes' : `Add ${l.what}`;
  $(l.key + '-cancel').hidden = !r;
  if (r) $(l.key + '-name').focus();
}

// After a change the hub took: the list read again, and a list that does
// not load is said as such (the change stands), not as a refusal.
async function reload(l, done) {
  try {
    await load(l);
    status(done);
  } catch (e) {
    status(`${done} The list could not be read again: ${e.message}`);
  }
}

async function save(l, ev) {
  ev.preventDefault();
  const form = $(l.key + '-form');
  clearErrors(form);
  status('');
  const id = $(l.key + '-id').value;
  const body = { name: $(l.key + '-name').value.trim() };
  const order = $(l.key + '-' + l.order).value;
  if (order !== '') body[l.order] = Number(order);
  let r;
  try {
    r = await api(l.path + (id ? '/' + encodeURIComponent(id) : ''), { method: id ? 'PATCH' : 'POST', body });
  } catch (e) {
    showErrors(form, e, l.key + '-');
    return;
  }
  editForm(l, null);
  await reload(l, `"${r.name}" ${id ? 'saved' : 'added'}. The offices receive it with their next sync.`);
}

// Retire, restore or make default from the table: a refusal (the default
// or the last entry in use retired, a name in use again) is said under the
// list, in its form's message.
async function onClick(l, ev) {
  const b = ev.target.closest('button');
  if (!b) return;
  const r = (l.rows || []).find(x => x.id === (b.dataset.edit || b.dataset.toggle || b.dataset.default));
  if (!r) return;
  if (b.dataset.edit) return editForm(l, r);
  const form = $(l.key + '-form');
  clearErrors(form);
  status('');
  const body = b.dataset.default ? { is_default: true } : { active: !r.active };
  try {
    await api(l.path + '/' + encodeURIComponent(r.id), { method: 'PATCH', body });
  } catch (e) {
    showErrors(form, e, l.key + '-');
    // (another operator may have changed the list meanwhile)
    await load(l).catch(() => {});
    return;
  }
  await reload(l, b.dataset.default ? `"${r.name}" is now the default priority of a new work item.`
    : r.active ? `"${r.name}" retired: it can no longer be chosen; the work items that have it keep it.`
      : `"${r.name}" is in use again.`);
  // The table was drawn again: keyboard focus goes back to the entry's row
  // (its Edit button), not to the top of the page.
  const again = $(l.key + '-list').querySelector(`button[data-edit="${CSS.escape(r.id)}"]`);
  if (again) again.focus();
}

for (const l of LISTS) {
  $(l.key + '-form').addEventListener('submit', ev => save(l, ev));
  $(l.key + '-cancel').addEventListener('click', () => editForm(l, null));
  $(l.key + '-list').addEventListener('click', ev => onClick(l, ev));
  load(l).catch(e => status(`Could not load the work item ${l.what === 'category' ? 'categories' : 'priorities'}: ` + e.message));
}
