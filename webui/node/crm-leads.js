// crm-leads.js - Marketing Leads (account type preset to lead) and the
// Contacts List (contacts of leads and converted leads; owner = me by
// default, "All" for everyone's: the duplicate check before creating).
import { api, el } from './api.js';
import { $, API, meta, options, qs, table, pill, clearErrors, showError, TYPE_LABEL } from './crm-common.js';

const params = new URLSearchParams(location.search);
const contacts = params.get('view') === 'contacts';
let offset = 0;
const LIMIT = 50;

async function load(ev) {
  if (ev) { ev.preventDefault(); offset = 0; }
  const q = { q: $('f-q').value.trim(), owner: $('f-owner').value, account_type: $('f-type').value, limit: LIMIT, offset };
  if (!contacts) q.zip = $('f-zip').value.trim();
  clearErrors($('filters'));
  try {
    const r = await api(`${API}/${contacts ? 'contacts' : 'employers'}?${qs(q)}`);
    $('status').textContent = (r.items.length ? `Showing ${offset + 1}–${offset + r.items.length}${r.more ? ' (more on the next page)' : ''}.` : 'No matches.') +
      (r.order === 'newest' ? ' Many match: newest first. Add words to narrow the search.' : '');
    $('prev').disabled = offset === 0;
    $('next').disabled = !r.more;
    const link = (id, name) => el('a', { href: '/crm-lead.html?id=' + encodeURIComponent(id) }, name);
    $('list').replaceChildren(contacts
      ? table('Contacts List', ['Company', 'Contact', 'Kind', 'Phone', 'Email', 'Account type', 'Lead owner'],
        r.items.map(c => [link(c.employer_id, c.company_name), c.contact_name || '—', c.kind || '', c.phone || '', c.email || '',
          pill(TYPE_LABEL[c.account_type], c.account_type), c.lead_owner_name || '']))
      : table('Marketing Leads', ['Company', 'User name', 'ZIP', 'City', 'Primary contact', 'Account type', 'Lead owner'],
        r.items.map(e => [link(e.id, e.company_name), e.username, e.zip, e.city || '', e.primary_contact || '',
          el('span', {}, pill(TYPE_LABEL[e.account_type], e.account_type), e.possible_duplicate ? pill('possible duplicate', 'dup') : ''),
          e.lead_owner_name || ''])));
  } catch (e) {
    $('status').textContent = '';
    // The account type select is named for the API's field.
    showError($('filters'), e.field === 'account_type' ? { ...e, message: e.message, field: 'type' } : e, 'f-');
  }
}

async function init() {
  if (contacts) {
    $('title').textContent = 'Contacts List';
    document.title = 'Contacts List — Outpost';
    $('f-zip').parentElement.hidden = true;
    $('f-type').value = 'all';
    $('f-q-label').textContent = 'Company or contact name';
  }
  const m = await meta();
  options($('f-owner'), [{ id: 'me', display_name: 'Me' }, { id: 'all', display_name: 'All' },
    ...m.staff.filter(s => s.id !== m.me.id)], { label: 'display_name', selected: contacts ? 'me' : 'me' });
  $('filters').addEventListener('submit', load);
  $('prev').addEventListener('click', () => { offset = Math.max(0, offset - LIMIT); load(); });
  $('next').addEventListener('click', () => { offset += LIMIT; load(); });
  load();
}
init();
