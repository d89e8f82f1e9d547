// crm-leads.js - Marketing Leads (account type preset to lead) and the
// Contacts List (contacts of leads and converted leads; owner = me by
// default, "All" for everyone's: the duplicate check before creating).
import { api, el } from './api.js';
import { $, API, meta, options, qs, table, pill, showError, pagedSearch, TYPE_LABEL } from './crm-common.js';

const params = new URLSearchParams(location.search);
const contacts = params.get('view') === 'contacts';

function page(p) {
  const q = { q: $('f-q').value.trim(), owner: $('f-owner').value, account_type: $('f-type').value, ...p };
  if (!contacts) q.zip = $('f-zip').value.trim();
  return api(`${API}/${contacts ? 'contacts' : 'employers'}?${qs(q)}`);
}

function render(r) {
  const link = (id, name) => el('a', { href: '/crm-lead.html?id=' + encodeURIComponent(id) }, name);
  return contacts
    ? table('Contacts List', ['Company', 'Contact', 'Kind', 'Phone', 'Email', 'Account type', 'Lead owner'],
      r.items.map(c => [link(c.employer_id, c.company_name), c.contact_name || '—', c.kind || '', c.phone || '', c.email || '',
        pill(TYPE_LABEL[c.account_type], c.account_type), c.lead_owner_name || '']))
    : table('Marketing Leads', ['Company', 'User name', 'ZIP', 'City', 'Primary contact', 'Account type', 'Lead owner'],
      r.items.map(e => [link(e.id, e.company_name), e.username, e.zip, e.city || '', e.primary_contact || '',
        el('span', {}, pill(TYPE_LABEL[e.account_type], e.account_type), e.possible_duplicate ? pill('possible duplicate', 'dup') : ''),
        e.lead_owner_name || '']));
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
  pagedSearch({
    page, render, empty: 'No matches.',
    note: r => r.order === 'newest' ? ' Many match: newest first. Add words to narrow the search.' : '',
    // The account type select is named for the API's field.
    fail: e => showError($('filters'), e.field === 'account_type' ? { ...e, message: e.message, field: 'type' } : e, 'f-'),
  })();
}
init();
