// crm.test.mjs - the CRM's main flow in a real browser, as staff would do it:
// create a lead from an external employer, add a contact, record two services
// at once, create and close a work item (the confirmation of an add or a
// save shown with the reloaded list's count), convert the lead; attach a file to
// a lead, download it and withdraw it; field-level errors in the UI;
// axe-core (WCAG 2.1 AA) clean on every CRM page.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withSignedInNode, login, assertAccessible, assert, until, officeDay, OUT } from './lib.mjs';

// Rows the hub would send on pull (a possible-duplicate flag, a conflict),
// written straight into the node's database as a pull would apply them.
function hubRows(node, sql) {
  execFileSync('sqlite3', [join(node.data, 'node.db'), '.timeout 5000', sql]);
}

const withNode = fn => withSignedInNode(fn, { viewport: { width: 1200, height: 900 }, acceptDialogs: true });
// seconds a test goes on using the office's day it took ("due today", the
// forms' default dates)
const SPAN = 120;

async function patch(node, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (node.session) { headers.Cookie = node.session.cookie; headers['X-CSRF-Token'] = node.session.csrf; }
  const r = await fetch(node.url + path, { method: 'PATCH', headers, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

export const tests = [
  ['lead from an external employer, contact, two services, a work item opened and closed, conversion', () => withNode(async (node, page) => {
    // the office's day for the whole test: the forms start at it, the work item is due on it
    await officeDay(node, SPAN);
    // External employers, sorted by active job orders; convert the first.
    await page.goto(node.url + '/crm-external.html');
    await page.selectOption('#f-sort', 'jobs');
    // The list of the first load may still be on the page: wait for the
    // sorted one (the answer to sort=jobs, then its rows in that order).
    const sorted = page.waitForResponse(r => r.url().includes('/external-employers?') && r.url().includes('sort=jobs'));
    await page.click('#filters button[type=submit]');
    await sorted;
    await page.waitForFunction(() => {
      const jobs = [...document.querySelectorAll('#list tbody tr td:nth-child(5)')].map(td => Number(td.textContent));
      return jobs.length > 1 && jobs.every((v, i) => i === 0 || jobs[i - 1] >= v);
    });
    const firstName = (await page.locator('#list tbody tr').first().locator('td').first().textContent()).trim();
    await page.locator('#list tbody tr').first().getByRole('link', { name: /^Convert to lead/ }).click();
    await page.waitForURL(/crm-lead-form\.html\?external=/);
    await page.waitForFunction(() => document.getElementById('company_name').value !== '');
    assert(await page.inputValue('#company_name') === firstName, 'form prefilled with the company name');
    assert(!(await page.isDisabled('#street')), 'street enabled once the prefilled ZIP is valid');
    // A bad field gets its message next to it.
    await page.fill('#edd_account_number', '12');
    await page.click('#save');
    await page.waitForFunction(() => document.getElementById('edd_account_number-err').textContent !== '');
    assert(await page.getAttribute('#edd_account_number', 'aria-invalid') === 'true', 'field marked invalid');
    await page.fill('#edd_account_number', '');
    await page.fill('#contacts-0-name', 'Morgan Hale');
    await page.click('#save');
    await page.waitForURL(/crm-lead\.html\?id=/);
    await page.waitForSelector('#info dd');
    assert((await page.textContent('#info')).includes('Marketing Lead'), 'summary shows the account type');
    const id = new URL(page.url()).searchParams.get('id');

    // Add a secondary contact.
    await page.click('#d-contact summary');
    await page.fill('#c-name', 'Riley Stone');
    await page.selectOption('#c-kind', 'secondary');
    await page.fill('#c-email', 'riley@example.com');
    await page.click('#c-save');
    await page.locator('#contacts td', { hasText: 'Riley Stone' }).waitFor();

    // Two services at once; first a completion code without an end date is refused in place.
    await page.click('#d-svc summary');
    await page.selectOption('#services-0-code', 'E20');
    await page.click('#svc-more');
    await page.selectOption('#services-1-code', 'E26');
    await page.selectOption('#services-1-completion_code', 'successful');
    await page.click('#svc-save');
    await page.waitForFunction(() => document.getElementById('services-1-end_date-err').textContent.includes('end date'));
    const today = await page.inputValue('#services-1-start_date');
    await page.fill('#services-1-end_date', today);
    await page.click('#svc-save');
    await page.locator('#services td', { hasText: 'E26' }).waitFor();
    assert(await page.locator('#services tbody tr').count() === 2, 'two services in the plan');
    assert(!(await page.locator('#services-0-code option[value=E90]').count()), 'E90 is not offered');
    assert(!(await page.locator('#services-0-code option[value=E74]').count()), 'retired E74 is not offered');

    // A work item for this employer, due today; it shows in My Queue, then close it.
    await page.click('#wi-add');
    await page.waitForURL(/crm-work\.html\?employer=/);
    // the employer named is the record's own, even when a link says otherwise
    await until('the employer\'s name in the form', async () => await page.inputValue('#w-employer_q') === firstName);
    const workUrl = page.url();
    await page.goto(workUrl + '&name=' + encodeURIComponent('Some Other Company'));
    await until('the employer\'s own name, not the link\'s', async () => await page.inputValue('#w-employer_q') === firstName);
    await page.waitForSelector('#w-category_id option[value="crm-cat-follow-up"]', { state: 'attached' });
    await page.selectOption('#w-category_id', 'crm-cat-follow-up');
    await page.fill('#w-due_date', today);
    await page.fill('#w-description', 'Call about the spring hiring event');
    await page.click('#w-save');
    await page.waitForURL(/crm-lead\.html\?id=/);
    await page.locator('#work td', { hasText: 'Call about the spring hiring event' }).waitFor();
    await page.goto(node.url + '/crm-work.html');
    await page.locator('#due-notice:not([hidden])').waitFor();
    const row = page.locator('#list tr', { hasText: 'Call about the spring hiring event' });
    await row.waitFor();
    await row.getByRole('button', { name: /Edit work item/ }).click();
    await page.selectOption('#e-status', 'Closed');
    await page.fill('#e-body', 'Spoke with HR, event confirmed');
    await page.click('#e-save');
    await page.waitForFunction(() => !document.querySelector('#list').textContent.includes('Call about the spring hiring event'));
    const wi = (await node.api(`/api/v1/crm/employers/${id}`)).json.work_items[0];
    assert(wi.status === 'Closed', `work item closed, got ${wi.status}`);

    // Convert: the dialog names the missing EDD Account Number, then converts and drops MKT.
    await page.goto(node.url + '/crm-lead.html?id=' + id);
    await page.click('#convert-btn');
    await page.fill('#cv-edd_account_number', '');
    await page.click('#cv-save');
    await page.waitForFunction(() => document.getElementById('cv-edd_account_number-err').textContent.includes('EDD'));
    await page.fill('#cv-edd_account_number', '123-4567-8');
    await page.click('#cv-save');
    await page.waitForFunction(() => document.getElementById('info').textContent.includes('Recruiting Employer'));
    const e = (await node.api(`/api/v1/crm/employers/${id}`)).json;
    assert(e.account_type === 'recruiting' && e.vetting_status === 'pending', 'converted, vetting pending');
    assert(!e.username.startsWith('MKT'), `MKT prefix dropped, got ${e.username}`);
    assert(await page.isHidden('#convert-btn'), 'no second conversion offered');
    // Vetting is WSB staff's, never the converter's (issue 16).
    assert(await page.isHidden('#vetting'), 'the converter is not offered the vetting');
    page = await page.context().browser().newPage({ viewport: { width: 1200, height: 900 } });
    await login(page, node, 't-wsb');
    await page.goto(node.url + '/crm-lead.html?id=' + id);
    await page.locator('#vetting:not([hidden])').waitFor();
    await assertAccessible(page, 'summary with vetting pending');
    await page.click('#vet-ok');
    await page.waitForFunction(() => document.getElementById('vetting').hidden);
    assert((await node.api(`/api/v1/crm/employers/${id}`)).json.vetting_status === 'approved', 'vetting passed');
    await page.screenshot({ path: `${OUT}/crm-lead.png`, fullPage: true });
  })],

  ['a search sent while the first page is still loading is the one shown, whichever answer comes last', () => withNode(async (node, page) => {
    // The first page's answer (sorted by name) held back a second, so that
    // it arrives after the answer to the search sent meanwhile (sort=jobs).
    await page.route(u => u.pathname.endsWith('/external-employers') && u.searchParams.get('sort') === 'name',
      async route => { await new Promise(r => setTimeout(r, 1000)); await route.continue(); });
    const late = page.waitForResponse(r => r.url().includes('/external-employers?') && r.url().includes('sort=name'));
    const byJobs = page.waitForResponse(r => r.url().includes('/external-employers?') && r.url().includes('sort=jobs'));
    await page.goto(node.url + '/crm-external.html', { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#filters button[type=submit]');
    await page.selectOption('#f-sort', 'jobs');
    await page.click('#filters button[type=submit]');
    const want = (await (await byJobs).json()).items.map(x => x.company_name);
    await late;
    await page.waitForTimeout(300); // the late answer, had it been drawn, would be by now
    const shown = await page.locator('#list tbody tr td:first-child').allTextContents();
    assert(shown.length === want.length && shown.every((n, i) => n.trim() === want[i]),
      'the list is the sort=jobs answer, not the late first page: ' + shown.slice(0, 3).join(', '));
    assert(want.join() !== [...want].sort((a, b) => a.localeCompare(b)).join(), 'the two orders differ in the demo data');
  })],

  ['the duplicate warning appears while typing a lead by hand', () => withNode(async (node, page) => {
    await node.api('/api/v1/crm/employers', { company_name: 'Harbor Grill LLC', zip: '95814' });
    await page.goto(node.url + '/crm-lead-form.html');
    assert(await page.isDisabled('#street'), 'street waits for the ZIP');
    await page.fill('#zip', '95814');
    assert(!(await page.isDisabled('#street')), 'street enabled after the ZIP');
    await page.fill('#company_name', 'harbor grill, inc.');
    await page.locator('#dups', { hasText: 'Harbor Grill LLC' }).waitFor();
    assert((await page.textContent('#dups')).includes('same name and ZIP'), 'match explained');
    await page.click('#save');
    await page.locator('#confirm-wrap:not([hidden])').waitFor();
    await assertAccessible(page, 'lead form with duplicate warning');
    await page.check('#confirm_not_duplicate');
    await page.click('#save');
    await page.waitForURL(/crm-lead\.html\?id=/);
  })],

  ['flags and crossed edits from the hub, the edit dialog, field errors on filters, the home page notice', () => withNode(async (node, page) => {
    const a = (await node.api('/api/v1/crm/employers', { company_name: 'Twin Office Bakery', zip: '95814', city: 'Sacramento' })).json;
    const b = (await node.api('/api/v1/crm/employers', { company_name: 'Twin Office Bakery Inc', zip: '95814', confirm_not_duplicate: true })).json;
    const t = await officeDay(node, SPAN);
    await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-follow-up', description: 'Due today on the home page', due_date: t, employer_id: a.id });
    hubRows(node, `INSERT INTO crm_duplicate_flags(id, employer_id, other_employer_id, reason, normalized_name, zip5, detected_at, status, updated_hlc)
      VALUES('flag-1', '${b.id}', '${a.id}', 'name_zip', 'twin office bakery', '95814', 1, 'open', 'h');
      INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner, node_id, created_at, updated_hlc)
      VALUES('conf-1', 'employers', '${a.id}', 'city', '"Sacramento"', '"Folsom"', '"Elk Grove"', 'local', 'other-node', 1, 'h');`);
    // The home page: due today, and the queue.
    await page.goto(node.url + '/');
    await page.locator('#crm-due', { hasText: 'due today' }).waitFor();
    assert((await page.textContent('#crm-queue')).includes('Twin Office Bakery'), 'home page shows My Queue');
    await assertAccessible(page, 'home page with the CRM widget');
    // CRM home lists the flag; the summary warns and shows the crossed edit.
    await page.goto(node.url + '/crm.html');
    await page.locator('#dups td', { hasText: 'same name and ZIP' }).waitFor();
    await page.goto(`${node.url}/crm-lead.html?id=${a.id}`);
    await page.locator('#dup-warn:not([hidden])').waitFor();
    await page.locator('#crossed:not([hidden]) td', { hasText: 'Elk Grove' }).waitFor();
    assert((await page.textContent('#crossed')).includes('Folsom'), 'both values of the crossed edit shown');
    // Two offices' corrections of one service: both named in words, the reason shown.
    const svc = (await node.api(`/api/v1/crm/employers/${a.id}/services`, { services: [{ code: 'E20', start_date: t }] })).json.services[0];
    const row = (id, code) => JSON.stringify({ id, employer_id: a.id, code, start_date: t, voided: 0, corrects_id: svc.id }).replace(/'/g, "''");
    hubRows(node, `INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner, node_id, created_at, updated_hlc, reason)
      VALUES('conf-svc', 'employer_services', '${svc.id}', 'corrects_id', NULL, '${row('c-1', 'E22')}', '${row('c-2', 'E21')}', 'remote', 'other-node', 2, 'h',
        'Two corrections of one service were made while offline: the later one counts.');`);
    await page.reload();
    const srow = page.locator('#crossed-list tr', { hasText: 'Service corrected at two offices' });
    await srow.waitFor();
    const stext = await srow.textContent();
    for (const v of ['E21 from', 'E22 from', 'the later one counts'])
      assert(stext.includes(v), `the service conflict shows ${v}: ${stext}`);
    await assertAccessible(page, 'summary with a duplicate flag and a crossed edit');
    // A case note: an empty one is refused in place, then one is added.
    await page.click('#d-note summary');
    await page.click('#n-save');
    await page.waitForFunction(() => document.getElementById('n-body-err').textContent !== '');
    await page.fill('#n-body', 'Owner asked about the spring job fair');
    await page.click('#n-save');
    await page.locator('#notes li', { hasText: 'spring job fair' }).waitFor();
    // The edit dialog: a bad value is named in place, then a good edit saves.
    await page.click('#edit-btn');
    await page.waitForSelector('#edit-dlg[open]');
    await assertAccessible(page, 'edit dialog');
    await page.fill('#ed-phone', '555');
    await page.click('#ed-save');
    await page.waitForFunction(() => document.getElementById('ed-phone-err').textContent.includes('digits'));
    assert(await page.getAttribute('#ed-phone', 'aria-invalid') === 'true', 'phone marked invalid');
    await page.fill('#ed-phone', '(916) 555-0123');
    await page.fill('#ed-city', 'Elk Grove');
    await page.click('#ed-save');
    await page.waitForFunction(() => !document.getElementById('edit-dlg').open);
    const e = (await node.api(`/api/v1/crm/employers/${a.id}`)).json;
    assert(e.city === 'Elk Grove' && e.phone === '(916) 555-0123', 'edit saved');
    // Review the flag on the other record: mark it the duplicate.
    await page.goto(`${node.url}/crm-lead.html?id=${b.id}`);
    await page.getByRole('button', { name: /Mark this record a duplicate of/ }).click();
    await page.locator('#dup-warn', { hasText: 'Marked as a duplicate' }).waitFor();
    assert((await node.api(`/api/v1/crm/employers/${b.id}`)).json.status === 'inactive', 'duplicate set inactive');
    // Field-level errors on the search filters and the report filters.
    await page.goto(node.url + '/crm-external.html');
    await page.waitForSelector('#list table');
    await page.fill('#f-zip', 'abc');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.getElementById('f-zip-err').textContent !== '');
    assert(await page.getAttribute('#f-zip', 'aria-invalid') === 'true', 'filter ZIP marked invalid');
    await assertAccessible(page, 'external employers with a filter error');
    await page.goto(node.url + '/crm-reports.html');
    await page.waitForSelector('#out svg');
    await page.fill('#r-from', '2026-02-01');
    await page.fill('#r-to', '2026-01-01');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.getElementById('r-from-err').textContent !== '');
    await assertAccessible(page, 'reports with a filter error');
  })],

  ['attachments on the lead summary: upload a PDF, download the same bytes, field errors, withdraw', () => withNode(async (node, page) => {
    const lead = (await node.api('/api/v1/crm/employers', { company_name: 'Attachment Browser Cannery', zip: '95814' })).json;
    await page.goto(`${node.url}/crm-lead.html?id=${lead.id}`);
    await page.waitForSelector('#info dd');
    assert((await page.textContent('#attachments')).includes('No attachments'), 'empty list first');
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<<>>\n%%EOF\n');
    // Keyboard: the file input has its label and takes focus.
    await page.click('#d-att summary');
    await page.focus('#att-file');
    assert(await page.evaluate(() => document.activeElement.id) === 'att-file', 'file input focusable');
    assert((await page.textContent('label[for=att-file]')).trim() === 'File', 'file input labelled');
    await page.setInputFiles('#att-file', { name: 'Hiring agreement.pdf', mimeType: 'application/pdf', buffer: pdf });
    await page.click('#att-save');
    const link = page.locator('#attachments a', { hasText: 'Hiring agreement.pdf' });
    await link.waitFor();
    const row = (await page.locator('#attachments tbody tr').first().textContent());
    assert(row.includes('PDF') && row.includes('bytes') && row.includes('Demo Staff'), 'listed with type, size and who: ' + row);
    await assertAccessible(page, 'lead summary with an attachment');
    // Download it: the same bytes, as an attachment.
    const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert(dl.suggestedFilename() === 'Hiring agreement.pdf', 'download named ' + dl.suggestedFilename());
    assert(Buffer.compare(readFileSync(await dl.path()), pdf) === 0, 'downloaded bytes equal the upload');
    const href = await link.getAttribute('href');
    const head = await page.evaluate(async u => { const r = await fetch(u); return [r.status, r.headers.get('content-disposition'), r.headers.get('x-content-type-options')]; }, href);
    assert(head[0] === 200 && head[1].startsWith('attachment;') && head[2] === 'nosniff', 'download headers: ' + head);
    // Refused before upload: a kind of file the node does not take, and one too large.
    await page.setInputFiles('#att-file', { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<html><script>alert(1)</script>') });
    await page.click('#att-save');
    await page.waitForFunction(() => document.getElementById('att-file-err').textContent.includes('cannot be attached'));
    assert(await page.getAttribute('#att-file', 'aria-invalid') === 'true', 'file field marked invalid');
    await assertAccessible(page, 'attachment field error');
    await page.setInputFiles('#att-file', { name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(2 * 1024 * 1024 + 1, 0x25) });
    await page.click('#att-save');
    await page.waitForFunction(() => document.getElementById('att-file-err').textContent.includes('at most 2 MB'));
    // Refused by the node: HTML named like a PDF (the browser cannot tell).
    await page.setInputFiles('#att-file', { name: 'invoice.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<!doctype html><p>not a pdf') });
    await page.click('#att-save');
    await page.waitForFunction(() => document.getElementById('att-file-err').textContent.includes('content is not'));
    assert(await page.locator('#attachments tbody tr').count() === 1, 'nothing else attached');
    // Withdraw (the confirmation is accepted): gone from the list, kept on record.
    await page.getByRole('button', { name: 'Withdraw Hiring agreement.pdf' }).click();
    await page.locator('#attachments', { hasText: 'No attachments' }).waitFor();
    const all = (await node.api(`/api/v1/crm/employers/${lead.id}/attachments?include=withdrawn`)).json;
    assert(all.length === 1 && all[0].withdrawn, 'withdrawn attachment kept: ' + JSON.stringify(all));
  })],

  ['a work item keeps its category and priority retired since through an edit in the dialog', () => withNode(async (node, page) => {
    const t = await officeDay(node, SPAN);
    const wi = (await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-outreach', description: 'Retired lists item' })).json;
    // Operations retires both at the hub; the pull brings the change.
    hubRows(node, `UPDATE work_item_categories SET active=0 WHERE id='crm-cat-outreach';` +
      ` UPDATE work_item_priorities SET active=0 WHERE id='${wi.priority_id}';`);
    await page.goto(`${node.url}/crm-work.html?open=${wi.id}`);
    await page.waitForSelector('#wi-dlg[open]');
    assert(await page.inputValue('#e-category_id') === 'crm-cat-outreach', 'the dialog shows the item\'s own category');
    assert(await page.inputValue('#e-priority_id') === wi.priority_id, 'the dialog shows the item\'s own priority');
    const label = await page.locator('#e-category_id option:checked').textContent();
    assert(/\(retired\)/.test(label), 'the retired category is marked: ' + label);
    await page.fill('#e-due_date', t);
    await page.click('#e-save');
    await page.waitForSelector('#wi-dlg[open]', { state: 'detached' });
    const got = (await node.api(`/api/v1/crm/work-items/${wi.id}`)).json;
    assert(got.due_date === t, 'the edit was saved: ' + JSON.stringify(got));
    assert(got.category_id === 'crm-cat-outreach' && got.priority_id === wi.priority_id,
      'the item kept its category and priority: ' + JSON.stringify(got));
  })],

  ['"Work item X added." and "... saved." stay shown once the list has reloaded', () => withNode(async (node, page) => {
    await page.goto(node.url + '/crm-work.html');
    await page.waitForSelector('#w-category_id option[value="crm-cat-outreach"]', { state: 'attached' });
    await page.selectOption('#w-category_id', 'crm-cat-outreach');
    await page.fill('#w-description', 'Invite them to the job fair');
    await page.click('#w-save');
    // (the list reloaded: the new item is in it)
    const row = page.locator('#list tr', { hasText: 'Invite them to the job fair' });
    await row.waitFor();
    const ref = (await row.locator('td').first().textContent()).trim();
    let status = await page.textContent('#status');
    assert(status.includes(`Work item ${ref} added.`) && /work items?\./.test(status),
      'the confirmation is shown with the list\'s count: ' + status);
    await row.getByRole('button', { name: /Edit work item/ }).click();
    await page.fill('#e-description', 'Invite them to the spring job fair');
    await page.click('#e-save');
    await page.locator('#list td', { hasText: 'Invite them to the spring job fair' }).waitFor();
    status = await page.textContent('#status');
    assert(status.includes(`Work item ${ref} saved.`) && /work items?\./.test(status),
      'the confirmation is shown with the list\'s count: ' + status);
  })],

  ['a closed work item shows its fields read-only, with no Save: only a note is added', () => withNode(async (node, page) => {
    const wi = (await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-outreach', description: 'Closed record' })).json;
    const open = (await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-outreach', description: 'Still open' })).json;
    // closed in the dialog (Save while it is open)
    await page.goto(`${node.url}/crm-work.html?open=${wi.id}`);
    await page.waitForSelector('#wi-dlg[open]');
    await page.selectOption('#e-status', 'Closed');
    await page.click('#e-save');
    await page.waitForSelector('#wi-dlg[open]', { state: 'detached' });
    assert((await node.api(`/api/v1/crm/work-items/${wi.id}`)).json.status === 'Closed', 'closed');
    await page.goto(`${node.url}/crm-work.html?open=${wi.id}`);
    await page.waitForSelector('#wi-dlg[open]');
    await page.locator('#e-closed', { hasText: 'record of work done' }).waitFor();
    for (const id of ['e-status', 'e-assignee_id', 'e-due_date', 'e-category_id', 'e-priority_id', 'e-description'])
      assert(await page.isDisabled('#' + id), `#${id} is read-only on a closed item`);
    const dlg = page.locator('#wi-dlg');
    assert(!(await dlg.getByRole('button', { name: 'Save', exact: true }).count()), 'no Save for a closed item\'s fields');
    // the note alone: nothing typed is named, a note is added
    await dlg.getByRole('button', { name: 'Add note' }).click();
    await page.waitForFunction(() => document.getElementById('e-body-err').textContent.includes('note'));
    await page.fill('#e-body', 'Thank-you letter sent after closing');
    await dlg.getByRole('button', { name: 'Add note' }).click();
    await page.waitForSelector('#wi-dlg[open]', { state: 'detached' });
    const got = (await node.api(`/api/v1/crm/work-items/${wi.id}`)).json;
    assert(got.status === 'Closed' && got.description === 'Closed record', 'the record is as closed: ' + JSON.stringify(got));
    assert(got.notes.map(n => n.body).join() === 'Thank-you letter sent after closing', 'the note added: ' + JSON.stringify(got.notes));
    // an open item in the same dialog: its fields and Save are back
    await page.goto(`${node.url}/crm-work.html?open=${open.id}`);
    await page.waitForSelector('#wi-dlg[open]');
    assert(await page.isHidden('#e-closed') && !(await page.isDisabled('#e-description')), 'an open item is editable');
    assert(await dlg.getByRole('button', { name: 'Save', exact: true }).count() === 1, 'Save for an open item');
  })],

  ['axe-core finds no WCAG 2.1 AA violations on the CRM pages', () => withNode(async (node, page) => {
    const lead = (await node.api('/api/v1/crm/employers', { company_name: 'Axe Check Foods', zip: '93721',
      contacts: [{ name: 'Ana Axe', kind: 'primary' }] })).json;
    const t = await officeDay(node, 30);   // used by the next two requests only
    await node.api(`/api/v1/crm/employers/${lead.id}/services`, { services: [{ code: 'E20', start_date: t }] });
    const wi = (await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-outreach', description: 'Axe item', due_date: t, employer_id: lead.id })).json;
    const pages = [
      ['/crm.html', '#queue table'], ['/crm-leads.html', '#list table'], ['/crm-leads.html?view=contacts', '#list table'],
      ['/crm-lead-form.html', '#office_id option'], ['/crm-lead-form.html?directory=crm-dir-0001', '#company_name'],
      [`/crm-lead.html?id=${lead.id}`, '#services table'], ['/crm-external.html', '#list table'],
      ['/crm-external.html?view=directory', '#list table'], ['/crm-work.html', '#list table'],
      ['/crm-reports.html', '#out svg'], ['/crm-reports.html?report=services', '#out svg'], ['/crm-reports.html?report=employers', '#out svg'],
    ];
    for (const [path, sel] of pages) {
      await page.goto(node.url + path);
      await page.waitForSelector(sel, { state: 'attached' });
      await assertAccessible(page, path);
    }
    // Dialogs open.
    await page.goto(`${node.url}/crm-work.html?open=${wi.id}`);
    await page.waitForSelector('#wi-dlg[open]');
    await assertAccessible(page, 'work item dialog');
    await page.goto(node.url + '/crm-external.html?view=directory');
    await page.waitForSelector('#list table');
    await page.locator('#list tbody tr').first().locator('button.linkish').click();
    await page.waitForSelector('#site-dlg[open]');
    assert((await page.getAttribute('#site-convert', 'href')).includes('directory='), 'site details offer Convert to lead');
    await assertAccessible(page, 'local employer site dialog');
    await page.goto(`${node.url}/crm-lead.html?id=${lead.id}`);
    await page.waitForSelector('#info dd');
    await page.click('#convert-btn');
    await page.waitForSelector('#convert-dlg[open]');
    await assertAccessible(page, 'conversion dialog');
    await page.goto(node.url + '/crm-reports.html');
    await page.waitForSelector('#out svg');
    await page.screenshot({ path: `${OUT}/crm-reports.png`, fullPage: true });
  })],
];
