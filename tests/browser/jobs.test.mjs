// jobs.test.mjs - job orders and referrals in a real browser (issue 16): a
// business-services rep posts a job order on a recruiting employer's summary
// once WSB staff have vetted it (none offered while the vetting is pending)
// (every missing field shown at once, in place), and a case manager (another
// staff member) refers a participant to it from the participant's page; the
// referral shows on the participant's timeline and on the employer's
// summary.  While the vetting is pending the forms show what waits for it
// as unavailable, with why: the recruiting-only services, a "Job Order"
// work item (in the add form and an item's dialog), a referral to a job
// order it had before the rule; a Job Order item it had already keeps its
// category (shown as the item's own, not offered afresh) and its other
// fields are edited, as does one a marketing lead had before the rule; once WSB staff have vetted the employer on its
// summary, the item dialog offers Job Order and saving it works.  axe-core
// (WCAG 2.1 AA) clean on the pages.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { withSignedInNode, login, assertAccessible, assert, fillIn } from './lib.mjs';

export const tests = [
  ['a rep posts a job order, a case manager refers a participant to it', () => withSignedInNode(async (node, rep, browser) => {
    // rep: the demo user, LWIA Partner Staff, CRM
    // A recruiting employer (set up through the API, as the rep).
    let r = await node.api('/api/v1/crm/employers', {
      company_name: 'Delta Cold Storage', zip: '95691', street: '2 Port Rd', city: 'West Sacramento',
      phone: '(916) 555-0111', industry: '4931', contacts: [{ name: 'Ana Ruiz', kind: 'primary' }],
    });
    assert(r.status === 201, 'lead created: ' + JSON.stringify(r.json));
    const emp = r.json.id;
    r = await node.api(`/api/v1/crm/employers/${emp}/convert`, { edd_account_number: '2345678' });
    assert(r.status === 200, 'converted: ' + JSON.stringify(r.json));

    // Vetting pending: no job order offered, and the node refuses one.
    await rep.goto(`${node.url}/crm-lead.html?id=${emp}`);
    await rep.waitForSelector('#info dd');
    await rep.locator('#jo-pending:not([hidden])').waitFor();
    assert(await rep.isHidden('#d-jo'), 'no job order form while the vetting is pending');
    r = await node.api(`/api/v1/crm/employers/${emp}/job-orders`, { title: 'Early Bird', openings: 1, location: 'Davis', wage: 20 });
    assert(r.status === 409 && r.json.error.includes('vetted'), 'job order refused while pending: ' + JSON.stringify(r.json));
    // The service plan: the recruiting-only codes unavailable, with why.
    await rep.locator('#svc-pending:not([hidden])').waitFor({ state: 'attached' });
    const e24 = rep.locator('#services-0-code option[value=E24]');
    await e24.waitFor({ state: 'attached' });
    assert(await e24.isDisabled(), 'E24 not offered while the vetting is pending');
    assert((await e24.textContent()).includes('after WSB vetting'), 'E24 says why: ' + await e24.textContent());
    assert(!(await rep.locator('#services-0-code option[value=E20]').isDisabled()), 'E20 is offered');
    // A work item for it: the Job Order category unavailable, with why.
    await rep.click('#wi-add');
    await rep.waitForURL(/crm-work\.html\?employer=/);
    await rep.locator('#w-category-why:not([hidden])').waitFor();
    const why = await rep.textContent('#w-category-why');
    assert(why.includes('vetted'), 'the form says why');
    assert(await rep.locator('#w-category_id option[value="crm-cat-job-order"]').isDisabled(), 'no Job Order item while pending');
    await assertAccessible(rep, 'work item form for an employer pending vetting');
    // ... and in the dialog of an item linked to it (re-categorising one is
    // refused too), with the same words.
    r = await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-outreach', description: 'Call about hiring', employer_id: emp });
    assert(r.status === 201, 'an Outreach item for it: ' + JSON.stringify(r.json));
    await rep.goto(`${node.url}/crm-work.html?open=${r.json.id}`);
    await rep.locator('#e-category-why:not([hidden])').waitFor();
    assert((await rep.textContent('#e-category-why')) === why, 'the dialog says why, as the form does');
    assert(await rep.locator('#e-category_id option[value="crm-cat-job-order"]').isDisabled(), 'no re-categorising to Job Order while pending');
    assert(await rep.inputValue('#e-category_id') === 'crm-cat-outreach', 'the item keeps its category');
    await assertAccessible(rep, 'work item dialog for an employer pending vetting');
    // A job order it had before the rule: the referral form shows it unavailable.
    const today = (await node.api('/api/v1/crm/meta')).json.today;
    execFileSync('sqlite3', [join(node.data, 'node.db'), '.timeout 5000',
      `INSERT INTO job_orders(id, employer_id, title, openings, location, wage, open_date, created_at)
       VALUES('legacy-jo', '${emp}', 'Legacy Packer', 1, 'Davis', 19, '${today}', 0)`]);
    const cm0 = await (await browser.newContext()).newPage({ viewport: { width: 1200, height: 900 } });
    await login(cm0, node, 't-lwia-cbo');
    r = await node.api('/api/v1/case/participants', { first_name: 'Pat', last_name: 'Early', birth_date: '1990-01-02' });
    assert(r.status === 201, 'participant registered: ' + JSON.stringify(r.json));
    await cm0.goto(`${node.url}/case-participant.html?id=${r.json.id}`);
    await cm0.waitForSelector('#info dd');
    await cm0.click('#d-ref summary');
    const legacy = cm0.locator('#ref-job option[value="legacy-jo"]');
    await legacy.waitFor({ state: 'attached' });
    assert(await legacy.isDisabled(), 'a job order of an employer pending vetting is not offered');
    assert((await legacy.textContent()).includes('vetting pending'), 'the option says why: ' + await legacy.textContent());
    await rep.goto(`${node.url}/crm-lead.html?id=${emp}`);
    // WSB staff vet it; then the rep posts.
    const wsb = await (await browser.newContext()).newPage({ viewport: { width: 1200, height: 900 } });
    await login(wsb, node, 't-wsb');
    r = await node.api(`/api/v1/crm/employers/${emp}/vetting`, { result: 'approved' });
    assert(r.status === 200, 'vetted: ' + JSON.stringify(r.json));
    await rep.reload();
    await rep.waitForSelector('#info dd');
    assert(await rep.isHidden('#jo-pending'), 'no pending notice once vetted');
    await e24.waitFor({ state: 'attached' });
    assert(await rep.getAttribute('#svc-pending', 'hidden') !== null && !(await e24.isDisabled()), 'E24 offered once vetted');
    await rep.click('#d-jo summary');
    await rep.click('#jo-save');
    // Every missing field at once, next to its field.
    for (const f of ['title', 'openings', 'location', 'wage']) {
      await rep.waitForFunction(k => document.getElementById(`jo-${k}-err`).textContent !== '', f);
      assert(await rep.getAttribute(`#jo-${f}`, 'aria-invalid') === 'true', `${f} marked invalid`);
    }
    await fillIn(rep, { '#jo-title': 'Forklift Operator', '#jo-openings': '3', '#jo-location': 'West Sacramento',
      '#jo-wage': '22.75' });
    await rep.click('#jo-save');
    await rep.locator('#job-orders td', { hasText: 'Forklift Operator' }).waitFor();
    assert((await rep.textContent('#job-orders')).includes('$22.75 an hour'), 'wage shown');
    await assertAccessible(rep, 'employer summary with job orders');

    // A case manager registers a participant and refers them.
    const cm = await (await browser.newContext()).newPage({ viewport: { width: 1200, height: 900 } });
    await login(cm, node, 't-lwia-cbo');
    r = await node.api('/api/v1/case/participants', { first_name: 'Jules', last_name: 'Okafor', birth_date: '1991-07-14' });
    assert(r.status === 201, 'participant registered: ' + JSON.stringify(r.json));
    const pid = r.json.id;
    await cm.goto(`${node.url}/case-participant.html?id=${pid}`);
    await cm.waitForSelector('#info dd');
    await cm.click('#d-ref summary');
    await cm.waitForSelector('#ref-job option:nth-child(2)', { state: 'attached' });
    const opt = cm.locator('#ref-job option', { hasText: 'Forklift Operator' });
    await cm.selectOption('#ref-job', await opt.getAttribute('value'));
    await cm.fill('#ref-notes', 'Certified forklift driver');
    await cm.click('#ref-save');
    await cm.locator('#timeline li.referral', { hasText: 'Forklift Operator' }).waitFor();
    assert((await cm.textContent('#timeline li.referral')).includes('Delta Cold Storage'), 'timeline names the employer');
    await assertAccessible(cm, 'participant page with a referral');

    // The employer's summary shows the referral (by reference, no name).
    await rep.reload();
    await rep.locator('#referrals td', { hasText: pid.slice(-6).toUpperCase() }).waitFor();
    assert(!(await rep.textContent('#referrals')).includes('Okafor'), 'no participant name on the CRM side');
    assert((await rep.locator('#job-orders tbody tr').first().locator('td').nth(6).textContent()) === '1', 'one referral counted');
  }, { viewport: { width: 1200, height: 900 }, acceptDialogs: true })],

  ['a Job Order item keeps its category, not offered afresh, while its employer is pending vetting', () => withSignedInNode(async (node, rep) => {
    const emp = await pendingEmployer(node, 'Echo Freight', '3456789');
    // A Job Order item it had before the rule (or before its vetting was
    // pending): the node makes none now, so it is written as it was.
    const meta = (await node.api('/api/v1/crm/meta')).json;
    const legacy = '0190a000-0000-7000-8000-0000000c0b01';
    execFileSync('sqlite3', [join(node.data, 'node.db'), '.timeout 5000',
      `INSERT INTO work_items(id, employer_id, category_id, priority_id, status, description, assignee_id,
         created_by, office_id, created_at, updated_hlc)
       VALUES('${legacy}', '${emp}', 'crm-cat-job-order', 'crm-pri-normal', 'New', 'Take the job order',
         '${meta.me.id}', '${meta.me.id}', 'demo-office', 0, '')`]);
    // Its dialog: Job Order stays the item's category, not offered afresh,
    // and says why; its other fields are edited and saved.
    await openItem(rep, node, legacy, emp);
    await rep.locator('#e-category-why:not([hidden])').waitFor();
    const kept = await rep.textContent('#e-category-why');
    assert(kept.includes('Job Order item already') && kept.includes('vetted this employer (vetting pending)'), 'the dialog says the item keeps it, and why no new one: ' + kept);
    const jo = rep.locator('#e-category_id option[value="crm-cat-job-order"]');
    assert(await jo.isDisabled(), 'Job Order is not offered as a fresh choice');
    assert((await jo.textContent()).includes("this item's"), 'the option is marked as the item\'s own: ' + await jo.textContent());
    assert(await rep.inputValue('#e-category_id') === 'crm-cat-job-order', 'the item keeps its category');
    await assertAccessible(rep, 'dialog of a Job Order item of an employer pending vetting');
    await rep.fill('#e-due_date', meta.today);
    await rep.fill('#e-body', 'Called: they will post it after the vetting');
    await rep.click('#e-save');
    // (the dialog closes once the node has taken the edit)
    await rep.waitForFunction(() => !document.getElementById('wi-dlg').open);
    const r = await node.api(`/api/v1/crm/work-items/${legacy}`);
    assert(r.status === 200 && r.json.due_date === meta.today && r.json.category_id === 'crm-cat-job-order' && r.json.notes.length === 1,
      'the edit and the note were saved, the category kept: ' + JSON.stringify(r.json));
  }, { viewport: { width: 1200, height: 900 } })],

  ['a Job Order item a marketing lead had before the rule keeps its category; its other edits are saved', () => withSignedInNode(async (node, rep) => {
    let r = await node.api('/api/v1/crm/employers', {
      company_name: 'Golf Bakery', zip: '95814', street: '9 J St', city: 'Sacramento',
      phone: '(916) 555-0133', industry: '3118', contacts: [{ name: 'Gil Ortiz', kind: 'primary' }],
    });
    assert(r.status === 201 && r.json.account_type === 'lead', 'lead created: ' + JSON.stringify(r.json));
    const emp = r.json.id;
    // Written as it was (the node makes none for a lead now).
    const meta = (await node.api('/api/v1/crm/meta')).json;
    const legacy = '0190a000-0000-7000-8000-0000000c0b02';
    execFileSync('sqlite3', [join(node.data, 'node.db'), '.timeout 5000',
      `INSERT INTO work_items(id, employer_id, category_id, priority_id, status, description, assignee_id,
         created_by, office_id, created_at, updated_hlc)
       VALUES('${legacy}', '${emp}', 'crm-cat-job-order', 'crm-pri-normal', 'New', 'Post a baker job',
         '${meta.me.id}', '${meta.me.id}', 'demo-office', 0, '')`]);
    // Its dialog: Job Order stays the item's category, not offered afresh,
    // and says why; its other fields are edited and saved.
    await openItem(rep, node, legacy, emp);
    await rep.locator('#e-category-why:not([hidden])').waitFor();
    const kept = await rep.textContent('#e-category-why');
    assert(kept.includes('Job Order item already') && kept.includes('marketing leads do not post job orders'),
      'the dialog says the item keeps it, and why no new one: ' + kept);
    const jo = rep.locator('#e-category_id option[value="crm-cat-job-order"]');
    assert(await jo.isDisabled(), 'Job Order is not offered as a fresh choice');
    assert((await jo.textContent()).includes("this item's"), 'the option is marked as the item\'s own: ' + await jo.textContent());
    assert(await rep.inputValue('#e-category_id') === 'crm-cat-job-order', 'the item keeps its category');
    await assertAccessible(rep, 'dialog of a Job Order item of a marketing lead');
    await rep.fill('#e-due_date', meta.today);
    await rep.selectOption('#e-status', 'In Progress');
    await rep.fill('#e-body', 'Called: they post with us once they are recruiting');
    await rep.click('#e-save');
    // (the dialog closes once the node has taken the edit)
    await rep.waitForFunction(() => !document.getElementById('wi-dlg').open);
    r = await node.api(`/api/v1/crm/work-items/${legacy}`);
    assert(r.status === 200 && r.json.due_date === meta.today && r.json.status === 'In Progress' &&
      r.json.category_id === 'crm-cat-job-order' && r.json.notes.length === 1,
      'the edit and the note were saved, the category kept: ' + JSON.stringify(r.json));
  }, { viewport: { width: 1200, height: 900 } })],

  ['once WSB staff have vetted the employer, the work item dialog offers Job Order again', () => withSignedInNode(async (node, rep, browser) => {
    const emp = await pendingEmployer(node, 'Foxtrot Produce', '4567890');
    let r = await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-outreach', description: 'Ask about openings', employer_id: emp });
    assert(r.status === 201, 'an Outreach item for it: ' + JSON.stringify(r.json));
    const item = r.json.id;
    // Pending: Job Order unavailable, with why.
    await openItem(rep, node, item, emp);
    await rep.locator('#e-category-why:not([hidden])').waitFor();
    assert((await rep.textContent('#e-category-why')).includes('vetted this employer (vetting pending)'), 'the dialog says why');
    const jo = rep.locator('#e-category_id option[value="crm-cat-job-order"]');
    assert(await jo.isDisabled(), 'no re-categorising to Job Order while pending');
    // WSB staff vet it on its summary, through the page's own form.
    const wsb = await (await browser.newContext()).newPage({ viewport: { width: 1200, height: 900 } });
    await login(wsb, node, 't-wsb');
    await wsb.goto(`${node.url}/crm-lead.html?id=${emp}`);
    await wsb.locator('#vetting:not([hidden])').waitFor();
    await wsb.click('#vet-ok');
    await wsb.waitForFunction(() => document.getElementById('vetting').hidden);
    assert((await node.api(`/api/v1/crm/employers/${emp}`)).json.vetting_status === 'approved', 'vetted');
    // Reopened, the dialog offers Job Order, and saving it works.
    await openItem(rep, node, item, emp);
    assert(await rep.isHidden('#e-category-why'), 'no note once vetted');
    assert(!(await jo.isDisabled()) && (await jo.textContent()) === 'Job Order', 'Job Order offered once vetted: ' + await jo.textContent());
    await assertAccessible(rep, 'work item dialog once the employer is vetted');
    await rep.selectOption('#e-category_id', 'crm-cat-job-order');
    await rep.click('#e-save');
    await rep.waitForFunction(() => !document.getElementById('wi-dlg').open);
    r = await node.api(`/api/v1/crm/work-items/${item}`);
    assert(r.status === 200 && r.json.category_id === 'crm-cat-job-order', 'the item is a Job Order item now: ' + JSON.stringify(r.json));
    await rep.locator('#list td', { hasText: 'Job Order' }).first().waitFor(); // the list, reloaded
  }, { viewport: { width: 1200, height: 900 } })],
];

// A recruiting employer whose vetting is pending, made through the API as
// the signed-in user (its converter): its id.
async function pendingEmployer(node, company_name, edd_account_number) {
  let r = await node.api('/api/v1/crm/employers', {
    company_name, zip: '95814', street: '9 J St', city: 'Sacramento',
    phone: '(916) 555-0122', industry: '4931', contacts: [{ name: 'Eli Chu', kind: 'primary' }],
  });
  assert(r.status === 201, 'lead created: ' + JSON.stringify(r.json));
  const emp = r.json.id;
  r = await node.api(`/api/v1/crm/employers/${emp}/convert`, { edd_account_number });
  assert(r.status === 200 && r.json.vetting_status === 'pending', 'converted, pending: ' + JSON.stringify(r.json));
  return emp;
}

// Opens work item id's dialog on page, once the dialog has read the
// employer it is linked to (emp), as it does for every item it opens.
async function openItem(page, node, id, emp) {
  const read = page.waitForResponse(x => x.url().endsWith(`/api/v1/crm/employers/${emp}`));
  await page.goto(`${node.url}/crm-work.html?open=${id}`);
  await read;
  await page.locator('#wi-dlg[open]').waitFor();
}
