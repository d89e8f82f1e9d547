// crm-lead.js - the employer summary: company and marketing information,
// contacts, locations, the service plan (add one or several services at
// once), attachments (upload, download, withdraw), case notes, work items,
// and the conversion to Recruiting Employer with the offer to drop the MKT
// prefix.
import { showNotFound } from './office.js';
import { api, el, fmtDateTime } from './api.js';
import { $, API, meta, options, clearErrors, showError, showErrors, table, pill, fmtDate, filled, TYPE_LABEL, DUP_WHY, saving } from './crm-common.js';
import { renderJobs, wireJobs } from './crm-jobs.js';

const id = new URLSearchParams(location.search).get('id');
let emp = null, codes = [], m = null, nrows = 0;

// What the node accepts (model/crm.h CRM_ATTACH_MAX, CRM_ATTACH_TYPES): the
// browser checks first when it can tell; the node judges the bytes anyway.
const ATTACH_MAX = 2 * 1024 * 1024;
const ATTACH_TYPES = {
  pdf: ['application/pdf', 'PDF'], png: ['image/png', 'PNG image'], jpg: ['image/jpeg', 'JPEG image'],
  jpeg: ['image/jpeg', 'JPEG image'],
  docx: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'Word document'],
  xlsx: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'Excel workbook'],
  txt: ['text/plain', 'Text'], csv: ['text/csv', 'Text'],
};
const TYPE_NAME = Object.fromEntries(Object.values(ATTACH_TYPES));
TYPE_NAME['text/plain'] = 'Text';

function fmtSize(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function dl(target, pairs) {
  target.replaceChildren(...pairs.filter(p => p[1] !== null && p[1] !== undefined && p[1] !== '')
    .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function render() {
  const e = emp;
  $('title').textContent = e.company_name;
  document.title = e.company_name + ' — Outpost';
  dl($('info'), [['Account type', pill(TYPE_LABEL[e.account_type], e.account_type)], ['User name', e.username],
    ['EDD Account Number', e.edd_account_number], ['Address', [e.street, e.city, e.state, e.zip].filter(Boolean).join(', ')],
    ['Mailing address', [e.mailing_street, e.mailing_city, e.mailing_state, e.mailing_zip].filter(Boolean).join(', ')],
    ['Phone', e.phone], ['Email', e.email], ['Website', e.website], ['Industry (NAICS)', e.industry],
    ['Vetting', e.vetting_status ? `${e.vetting_status}, due ${fmtDate(e.vetting_due_at)}` +
      (e.vetted_by_name ? ` (by ${e.vetted_by_name})` : '') : null],
    ['Status', e.status]]);
  dl($('marketing'), [['Lead owner', e.lead_owner_name || e.lead_owner_id], ['Office', e.office_name || e.office_id],
    ['Created', fmtDate(e.created_at)], ['Source', { manual: 'Manual entry', external: 'External employer', local_search: 'Local employer sites' }[e.source]],
    ['Professional employer organization', e.pe_organization], ['Converted', e.converted_at ? fmtDate(e.converted_at) : null]]);
  $('convert-btn').hidden = e.account_type !== 'lead' || !m.me.can_edit;
  // Kept at the conversion: staff are advised to remove it, and may later.
  $('drop-prefix-btn').hidden = e.account_type !== 'recruiting' || !e.has_mkt_prefix || !m.me.can_edit;
  $('drop-prefix-btn').textContent = `Remove the MKT prefix (user name ${e.username_without_prefix || ''})`;
  $('edit-btn').hidden = !m.me.can_edit;
  renderJobs(e, m);
  const dup = e.duplicate_of ? [] : e.duplicate_flags.filter(f => f.status === 'open');
  $('dup-warn').hidden = !dup.length && !e.duplicate_of;
  if (e.duplicate_of) {
    $('dup-warn').replaceChildren('Marked as a duplicate of ', el('a', { href: '/crm-lead.html?id=' + e.duplicate_of }, 'the employer kept'), '; this record is inactive.');
  } else {
    $('dup-warn').replaceChildren(el('p', {}, 'Flagged at the hub as a possible duplicate (entered in two offices). Review before recording services.'),
      el('ul', {}, dup.map(f => el('li', {}, el('a', { href: '/crm-lead.html?id=' + f.other_id }, f.other_name || f.other_id),
        ` (${DUP_WHY[f.reason] || DUP_WHY.name_zip}) `,
        m.me.can_edit ? el('button', { type: 'button', class: 'secondary', 'aria-label': `Mark this record a duplicate of ${f.other_name || f.other_id}`,
          onclick: () => markDuplicate(f.other_id, f.other_name) }, 'Mark this record a duplicate') : ''))));
  }
  const crossed = e.conflicts || [];
  $('crossed').hidden = !crossed.length;
  const LABEL = { company_name: 'Company name', phone: 'Phone', city: 'City', street: 'Street', zip: 'ZIP code', website: 'Website',
    email: 'Email', industry: 'Industry', lead_owner_id: 'Lead owner', status: 'Status', name: 'Contact name', title: 'Title' };
  // (two offices' corrections of one service: the values are the rows)
  const show = v => v === null || v === undefined ? '(empty)' : typeof v === 'object' && v.code
    ? `${v.voided ? 'void of ' : ''}${v.code} from ${fmtDate(v.start_date)}${v.end_date ? ' to ' + fmtDate(v.end_date) : ''}` : String(v);
  $('crossed-list').replaceChildren(crossed.length ? table('Edits that crossed', ['Field', 'Kept', 'Other office\'s value', 'When'],
    crossed.map(c => [c.tbl === 'employer_services' ? 'Service corrected at two offices' :
      (c.tbl === 'employers' ? '' : c.tbl === 'employer_contacts' ? 'Contact: ' : 'Location: ') + (LABEL[c.column_name] || c.column_name),
      c.reason ? el('span', {}, show(c.kept_value), el('div', { class: 'muted small' }, c.reason)) : show(c.kept_value),
      show(c.other_value), fmtDateTime(c.created_at)])) : '');
  $('contacts').replaceChildren(e.contacts.length ? table('Contacts', ['Name', 'Kind', 'Title', 'Phone', 'Email'],
    e.contacts.filter(c => c.status === 'active').map(c => [c.name, c.kind, c.title || '', c.phone || '', c.email || '']))
    : el('p', { class: 'muted' }, 'No contacts yet.'));
  $('locations').replaceChildren(e.locations.length ? table('Locations', ['Site', 'Street', 'City', 'ZIP'],
    e.locations.map(l => [l.name || '', l.street || '', l.city || '', l.zip])) : el('p', { class: 'muted' }, 'No other locations.'));
  $('services').replaceChildren(e.services.length ? table('Service plan', ['Code', 'Service', 'DOL category', 'Start', 'Actual end', 'Completion', 'Staff'],
    e.services.map(s => [s.code, s.title || '', s.dol_category || '', fmtDate(s.start_date), fmtDate(s.end_date),
      s.completion_code ? ((m.completion_codes || []).find(c => c.id === s.completion_code) || {}).label || s.completion_code : '', s.staff_name || '']))
    : el('p', { class: 'muted' }, 'No services recorded yet.'));
  $('svc-type').textContent = `Account type: ${TYPE_LABEL[e.account_type]}. Verify it before recording services.`;
  $('svc-pending').hidden = !(e.account_type === 'recruiting' && e.vetting_status === 'pending');
  for (const sel of $('svc-rows').querySelectorAll('select[id$="-code"]')) markRecruitingOnly(sel);
  $('work').replaceChildren(e.work_items.length ? table('Work items', ['ID', 'Category', 'Status', 'Due', 'Assigned to', 'Description'],
    e.work_items.map(w => [el('a', { href: '/crm-work.html?open=' + w.id }, w.ref), w.category, w.status, fmtDate(w.due_date), w.assignee_name || '', w.description]))
    : el('p', { class: 'muted' }, 'No work items.'));
  const atts = e.attachments || [];
  const edit = m.me.can_edit;
  $('attachments').replaceChildren(atts.length ? table('Attachments',
    ['File', 'Type', 'Size', 'Uploaded by', 'Office', 'When', ...(edit ? ['Actions'] : [])],
    atts.map(a => [el('a', { href: a.url, download: a.filename }, a.filename), TYPE_NAME[a.content_type] || a.content_type,
      fmtSize(a.size), a.uploaded_by_name || a.uploaded_by || '', a.office_name || a.office_id || '',
      fmtDateTime(a.uploaded_at),
      ...(edit ? [el('button', { type: 'button', class: 'secondary', 'aria-label': `Withdraw ${a.filename}`,
        onclick: () => withdraw(a) }, 'Withdraw')] : [])]))
    : el('p', { class: 'muted' }, 'No attachments.'));
  // Only what this user may do: no edit form for a view-only account (each
  // form with the disclosure that holds it).
  for (const f of ['contact-form', 'location-form', 'svc-form', 'att-form']) {
    $(f).hidden = !m.me.can_edit;
    $(f).closest('details').hidden = !m.me.can_edit;
  }
  $('wi-add').hidden = !m.me.can_edit;
  $('notes').replaceChildren(e.notes && e.notes.length ? el('ul', { class: 'notes' }, e.notes.map(nt => el('li', {},
    el('strong', {}, `${fmtDateTime(nt.created_at)} — ${nt.staff_name || nt.staff_id || ''}${nt.subject ? ': ' + nt.subject : ''}`),
    el('div', {}, nt.body)))) : el('p', { class: 'muted' }, 'No case notes yet.'));
  $('note-form').hidden = !m.me.can_edit;
  $('d-note').hidden = !m.me.can_edit;
  $('wi-add').href = '/crm-work.html?employer=' + encodeURIComponent(e.id);
}

async function load() {
  emp = await api(`${API}/employers/${encodeURIComponent(id)}`);
  render();
}

// The recruiting-only codes (job listings, referrals, candidate searches)
// are shown unavailable, with why, to a lead and while the employer's
// vetting is pending (the node refuses them: 400 for a lead, 409 pending).
function markRecruitingOnly(sel) {
  const why = emp.account_type !== 'recruiting' ? 'recruiting employers only'
    : emp.vetting_status === 'pending' ? 'after WSB vetting' : '';
  for (const o of sel.options) {
    const c = codes.find(x => x.code === o.value);
    if (!c || !c.recruiting_only) continue;
    o.disabled = !!why;
    o.textContent = `${c.code} ${c.title}${why ? ` (${why})` : ''}`;
    if (why && o.selected) sel.value = '';
  }
}

function svcRow() {
  const i = nrows++;
  const p = `services-${i}-`;
  const f = (name, label, input) => el('div', {}, el('label', { for: p + name }, label), input,
    el('p', { class: 'field-err error', id: p + name + '-err', role: 'alert' }));
  const sel = el('select', { id: p + 'code', 'aria-describedby': p + 'code-err' });
  options(sel, codes.filter(c => c.selectable).map(c => ({ id: c.code, name: `${c.code} ${c.title}` })), { blank: 'Choose a service type' });
  markRecruitingOnly(sel);
  const cc = el('select', { id: p + 'completion_code', 'aria-describedby': p + 'completion_code-err' });
  options(cc, m.completion_codes, { label: 'label', blank: 'None' });
  const row = el('div', { class: 'svc-row', 'data-row': i },
    f('code', 'Service type', sel),
    f('start_date', 'Start date', el('input', { id: p + 'start_date', type: 'date', value: m.today, 'aria-describedby': p + 'start_date-err' })),
    f('end_date', 'Actual end date', el('input', { id: p + 'end_date', type: 'date', 'aria-describedby': p + 'end_date-err' })),
    f('completion_code', 'Completion code', cc),
    el('button', { type: 'button', class: 'secondary', 'aria-label': `Remove service ${i + 1}`, onclick: () => row.remove() }, 'Remove'));
  $('svc-rows').append(row);
}

async function saveServices(ev) {
  ev.preventDefault();
  const f = $('svc-form');
  clearErrors(f);
  const rows = [...$('svc-rows').querySelectorAll('.svc-row')];
  // Errors name services[k] by position in the request: re-number the ids.
  const services = rows.map((r, k) => {
    for (const inp of r.querySelectorAll('input[id^="services-"], select[id^="services-"]')) {
      const name = inp.id.replace(/^services-\d+-/, '');
      inp.id = `services-${k}-${name}`;
      inp.setAttribute('aria-describedby', inp.id + '-err');
      const err = inp.parentElement.querySelector('.field-err');
      err.id = inp.id + '-err';
      inp.parentElement.querySelector('label').htmlFor = inp.id;
    }
    const v = n => r.querySelector(`#services-${k}-${n}`).value;
    const s = { code: v('code'), start_date: v('start_date') };
    if (v('end_date')) s.end_date = v('end_date');
    if (v('completion_code')) s.completion_code = v('completion_code');
    return s;
  });
  try {
    await api(`${API}/employers/${encodeURIComponent(id)}/services`, { method: 'POST', body: { services, expected_account_type: emp.account_type } });
    $('svc-rows').replaceChildren();
    nrows = 0;
    svcRow();
    await load();
    $('status').textContent = `${services.length} service${services.length > 1 ? 's' : ''} recorded.`;
  } catch (e) {
    showError(f, e);
  }
}

// A form that adds to the employer (a contact, a location): body() posted to
// the employer's path, then the form emptied, the summary reloaded and done
// said; a field error shows at the input of id prefix + field.
function addTo(ev, form, prefix, path, body, done) {
  ev.preventDefault();
  const f = $(form);
  return saving(f, async () => {
    clearErrors(f);
    try {
      await api(`${API}/employers/${encodeURIComponent(id)}/${path}`, { method: 'POST', body: body() });
      f.reset();
      await load();
      $('status').textContent = done;
    } catch (e) { showError(f, e, prefix); }
  });
}

function addContact(ev) {
  return addTo(ev, 'contact-form', 'c-', 'contacts',
    () => ({ kind: $('c-kind').value, ...filled(['name', 'title', 'phone', 'email'], 'c-') }), 'Contact added.');
}

function addNote(ev) {
  ev.preventDefault();
  const f = $('note-form');
  return saving(f, async () => {
    clearErrors(f);
    const body = { body: $('n-body').value };
    if ($('n-subject').value.trim()) body.subject = $('n-subject').value.trim();
    try {
      emp = await api(`${API}/employers/${encodeURIComponent(id)}/notes`, { method: 'POST', body });
      f.reset();
      render();
      $('status').textContent = 'Case note added.';
    } catch (e) { showError(f, e, 'n-'); }
  });
}

// Field errors for the file input: the node names "file", "content_type"
// or "filename"; all three are about the chosen file.
function fileError(f, message) {
  showError(f, { field: 'file', message }, 'att-');
}

async function upload(ev) {
  ev.preventDefault();
  const f = $('att-form');
  clearErrors(f);
  const file = $('att-file').files[0];
  if (!file) { fileError(f, 'Choose a file to attach.'); return; }
  const ext = (file.name.match(/\.([^.]+)$/) || [, ''])[1].toLowerCase();
  const known = ATTACH_TYPES[ext];
  if (!known) { fileError(f, 'This kind of file cannot be attached: choose a PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) or plain text file.'); return; }
  if (file.size === 0) { fileError(f, 'The file is empty.'); return; }
  if (file.size > ATTACH_MAX) { fileError(f, `The file is ${fmtSize(file.size)}: attachments may be at most 2 MB.`); return; }
  $('att-save').disabled = true;
  try {
    const a = await api(`${API}/employers/${encodeURIComponent(id)}/attachments?filename=${encodeURIComponent(file.name)}`,
      { method: 'POST', body: file, contentType: known[0] });
    f.reset();
    await load();
    $('status').textContent = `${a.filename} attached.`;
  } catch (e) {
    if (e.status === 413 || e.status === 415 || e.status === 400) fileError(f, e.message);
    else if (e.status) showError(f, e, 'att-');
    else fileError(f, 'The upload failed (is the file larger than 2 MB?). Try again.');
  } finally {
    $('att-save').disabled = false;
  }
}

async function withdraw(a) {
  if (!confirm(`Withdraw ${a.filename}? It leaves this summary in every office; the file is kept on record.`)) return;
  try {
    await api(`${API}/attachments/${encodeURIComponent(a.id)}/withdraw`, { method: 'POST', body: {} });
    await load();
    $('status').textContent = `${a.filename} withdrawn.`;
  } catch (e) { $('status').textContent = e.message; }
}

function addLocation(ev) {
  return addTo(ev, 'location-form', 'l-', 'locations', () => filled(['zip', 'street', 'city', 'name'], 'l-'),
    'Location added.');
}

async function markDuplicate(otherId, otherName) {
  if (!confirm(`Mark this record as a duplicate of ${otherName || otherId}? It becomes inactive; nothing is merged.`)) return;
  try {
    await api(`${API}/employers/${encodeURIComponent(id)}/duplicate-of`, { method: 'POST', body: { duplicate_of: otherId } });
    await load();
    $('status').textContent = 'Marked as a duplicate.';
  } catch (e) { $('status').textContent = e.message; }
}

const EDIT = ['company_name', 'lead_owner_id', 'edd_account_number', 'zip', 'street', 'city', 'state', 'phone', 'email', 'website', 'industry', 'pe_organization'];

const CONVERT = ['edd_account_number', 'phone', 'industry', 'street', 'city', 'zip', 'state'];

// Open the dialog dlg of form: its field errors cleared, fill() puts the
// employer's values in, and the input first has the focus.
function openDialog(dlg, form, first, fill) {
  clearErrors($(form));
  fill();
  $(dlg).showModal();
  $(first).focus();
}

function openEdit() {
  openDialog('edit-dlg', 'edit-form', 'ed-company_name', () => {
    options($('ed-lead_owner_id'), m.staff, { label: 'display_name', selected: emp.lead_owner_id });
    for (const k of EDIT) if (k !== 'lead_owner_id') $('ed-' + k).value = emp[k] || '';
  });
}

async function saveEdit(ev) {
  ev.preventDefault();
  const f = $('edit-form');
  clearErrors(f);
  // Only the fields that changed: an edit in another office of the others is kept.
  const body = {};
  for (const k of EDIT) { const v = $('ed-' + k).value.trim(); if (v !== (emp[k] || '')) body[k] = v; }
  try {
    if (Object.keys(body).length) emp = await api(`${API}/employers/${encodeURIComponent(id)}`, { method: 'PATCH', body });
    $('edit-dlg').close();
    render();
    $('status').textContent = Object.keys(body).length ? 'Employer saved.' : 'Nothing changed.';
  } catch (e) { showErrors(f, e, 'ed-'); } // every field at fault (a recruiting employer's kept ones)
}

async function dropPrefix() {
  try {
    emp = await api(`${API}/employers/${encodeURIComponent(id)}`, { method: 'PATCH', body: { username: emp.username_without_prefix } });
    render();
    $('status').textContent = 'User name is now ' + emp.username + '.';
  } catch (e) { $('status').textContent = e.message; }
}

function openConvert() {
  openDialog('convert-dlg', 'convert-form', 'cv-edd_account_number', () => {
    for (const k of CONVERT) $('cv-' + k).value = emp[k] || '';
    $('cv-prefix').hidden = !emp.has_mkt_prefix;
    $('cv-newname').textContent = emp.username_without_prefix || '';
  });
}

async function convert(ev) {
  ev.preventDefault();
  const f = $('convert-form');
  clearErrors(f);
  const body = { drop_mkt_prefix: emp.has_mkt_prefix && $('cv-drop').checked,
    ...filled(CONVERT, 'cv-') };
  try {
    const conv = await api(`${API}/employers/${encodeURIComponent(id)}/convert`, { method: 'POST', body });
    emp = conv;
    $('convert-dlg').close();
    await load();
    const same = (conv.duplicates || []).map(x => x.company_name);
    $('status').textContent = 'Converted to Recruiting Employer; vetting is pending (72 hours).' +
      (same.length ? ` Another employer has the same EDD Account Number (${same.join(', ')}): the pair is flagged as a possible duplicate for review.` : '');
  } catch (e) {
    if (e.field === 'contacts') e.message += ' (add one in Contacts first)';
    showError(f, e, 'cv-');
  }
}

async function init() {
  if (!id) { showNotFound('Employer', '/crm-leads.html?view=contacts', 'Find an employer in the Contacts List'); return; }
  try {
    [m, codes] = await Promise.all([meta(), api(API + '/codes')]);
    await load();
  } catch (e) {
    if (e.status === 404) showNotFound('Employer', '/crm-leads.html?view=contacts', 'Find an employer in the Contacts List');
    else $('status').textContent = e.message;
    return;
  }
  if (new URLSearchParams(location.search).get('created')) $('status').textContent = 'Marketing lead saved.';
  svcRow();
  $('svc-more').addEventListener('click', svcRow);
  $('svc-form').addEventListener('submit', saveServices);
  $('contact-form').addEventListener('submit', addContact);
  $('location-form').addEventListener('submit', addLocation);
  $('note-form').addEventListener('submit', addNote);
  $('att-form').addEventListener('submit', upload);
  $('convert-btn').addEventListener('click', openConvert);
  $('drop-prefix-btn').addEventListener('click', dropPrefix);
  $('edit-btn').addEventListener('click', openEdit);
  wireJobs(id, m, async msg => { await load(); $('status').textContent = msg; });
  $('edit-form').addEventListener('submit', saveEdit);
  $('ed-cancel').addEventListener('click', () => $('edit-dlg').close());
  $('convert-form').addEventListener('submit', convert);
  $('cv-cancel').addEventListener('click', () => $('convert-dlg').close());
}
init();
