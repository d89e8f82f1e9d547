// officeday-errors.test.mjs - the office day (issue 17) in a real browser,
// what a person meets when something is wrong: a link to a record that does
// not exist gives a "not found" page in the UI's style with a way back (at
// the office node and the hub console), never an empty page of forms, raw
// JSON or the API's words; names and the one MM/DD/YYYY date format where
// ids and ISO dates used to show; a save with several wrong fields shows
// every error at once, each next to its field and in the summary.  axe-core
// on every page state.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startNode, startHub, launch, login, assertAccessible, assert, plantSecret, BIN, OUT } from './lib.mjs';

const MISSING = '0190a000-0000-7000-8000-00000000dead';
const ISO = /\b20\d\d-\d\d-\d\d\b/;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/;

async function withNode(fn) {
  const node = await startNode();
  const browser = await launch();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await login(page, node);
    await fn(node, page);
  } finally {
    await browser.close();
    await node.stop();
  }
}

// A not-found page: its heading, a way back, no form, no raw JSON or API words.
async function notFound(page, url, heading, back) {
  await page.goto(url);
  await page.waitForSelector('#not-found', { timeout: 15000 });
  assert((await page.textContent('h1')) === heading, `${url}: heading "${await page.textContent('h1')}"`);
  assert(await page.locator('main form').count() === 0, `${url}: no empty forms for a missing record`);
  const text = await page.textContent('main');
  assert(!/no such|\{"error"|undefined|null/.test(text), `${url}: plain words only: ${text}`);
  const href = await page.getAttribute('main a', 'href');
  assert(href === back, `${url}: the way back is ${back}, not ${href}`);
  assert((await page.title()).startsWith(heading), 'the tab says it too');
}

export const tests = [
  ['a link to a record that does not exist gives a "not found" page with a way back, at every kind of record', () => withNode(async (node, page) => {
    const u = node.url;
    await notFound(page, `${u}/case-participant.html?id=${MISSING}`, 'Participant not found', '/case.html');
    await assertAccessible(page, 'participant not found');
    await notFound(page, `${u}/crm-lead.html?id=${MISSING}`, 'Employer not found', '/crm-leads.html?view=contacts');
    await notFound(page, `${u}/crm-lead.html`, 'Employer not found', '/crm-leads.html?view=contacts');
    await notFound(page, `${u}/crm-work.html?open=${MISSING}`, 'Work item not found', '/crm-work.html');
    await assertAccessible(page, 'work item not found');
    await notFound(page, `${u}/crm-lead-form.html?external=${MISSING}`, 'External employer not found', '/crm-external.html');
    await notFound(page, `${u}/crm-lead-form.html?directory=${MISSING}`, 'Local employer site not found', '/crm-external.html?view=directory');
    await notFound(page, `${u}/crm-reports.html?report=no-such-report`, 'Report not found', '/crm-reports.html');
    // An unknown page: the node's 404 page, status 404, in the UI's style.
    const r = await page.goto(`${u}/no-such-page.html`);
    assert(r.status() === 404, 'a 404 status');
    assert((await page.textContent('h1')) === 'Page not found', 'a page a person can read');
    assert(await page.locator('a[href="/"]').count() > 0, 'a way home');
    // The API itself answers JSON: a 404 with the error naming the id.
    const api = await page.evaluate(async m => { const x = await fetch('/api/v1/crm/work-items/' + m); return [x.status, await x.json()]; }, MISSING);
    assert(api[0] === 404 && api[1].field === 'id' && api[1].error, 'the API: 404 JSON naming the id');
    // A work item deleted while its list is on screen: a plain sentence, the list refreshed.
    const emp = await node.api('/api/v1/crm/employers', { company_name: 'Gone Soon Supply', zip: '95814', street: '2 Elm St', city: 'Sacramento' });
    const wi = await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-other', description: 'Soon deleted', employer_id: emp.json.id });
    assert(wi.status === 201, 'work item: ' + wi.status);
    await page.goto(`${u}/crm-work.html`);
    await page.locator('#list tr', { hasText: 'Soon deleted' }).waitFor();
    const del = await fetch(`${u}/api/v1/crm/work-items/${wi.json.id}`, { method: 'DELETE', headers: { Cookie: node.session.cookie, 'X-CSRF-Token': node.session.csrf } });
    assert(del.ok, 'deleted: ' + del.status);
    await page.locator('#list tr', { hasText: 'Soon deleted' }).getByRole('button', { name: /Edit/ }).click();
    await page.waitForFunction(() => /no longer exists/.test(document.getElementById('status').textContent));
    assert(!(await page.isVisible('#wi-dlg')), 'no dialog for a deleted item');
  })],

  ['names and the one date format where ids and ISO dates showed: visits per day, compliance, the clock notice', () => withNode(async (node, page) => {
    const reasons = (await node.api('/api/v1/greeter/reasons')).json;
    const list = Array.isArray(reasons) ? reasons : reasons.reasons;
    const ci = await node.api('/api/v1/checkins', { visitor_name: 'Dora Dates', reason_ids: [list[0].id] });
    assert(ci.status === 201, 'checked in: ' + ci.status);
    plantSecret('Dora Dates');
    const p = await node.api('/api/v1/case/participants', { first_name: 'Dora', last_name: 'Dates', birth_date: '1980-02-03', pseudo_ssn: true });
    assert(p.status === 201, 'registered: ' + p.status);
    for (const [path, ready] of [['/visits.html', '#by-day td'], ['/case-compliance.html', '#asof'],
      ['/case-participant.html?id=' + p.json.id, '#info dd'], ['/desk.html', 'tr:has-text("Dora Dates")']]) {
      await page.goto(node.url + path);
      await page.waitForSelector(ready);
      await page.waitForTimeout(300);
      const text = await page.evaluate(() => document.querySelector('main').innerText);
      assert(!ISO.test(text), `${path}: an ISO date shows: ${text.match(ISO)}`);
      assert(!UUID.test(text), `${path}: an id shows: ${text.match(UUID)}`);
      assert(/\b\d\d\/\d\d\/20\d\d\b/.test(text) || path === '/desk.html', `${path}: the MM/DD/YYYY date`);
    }
    await page.goto(node.url + '/case-compliance.html');
    await page.waitForFunction(() => /As of \d\d\/\d\d\/20\d\d/.test(document.getElementById('asof').textContent));
    await assertAccessible(page, 'compliance with dates');
    // A printout says which office, what and when (the header is not printed).
    const office = (await (await fetch(node.url + '/healthz')).json()).office_name;
    await page.waitForFunction(o => document.getElementById('print-head').textContent.includes(o), office);
    await page.emulateMedia({ media: 'print' });
    assert(await page.isVisible('#print-head'), 'the print line prints');
    await page.emulateMedia({ media: 'screen' });
    await page.goto(node.url + '/crm-reports.html?report=services');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(o => /Printed/.test(document.getElementById('print-head').textContent) &&
      document.getElementById('print-head').textContent.includes(o), office);
    assert((await page.textContent('#print-head')).includes('Services'), 'the report named: ' + await page.textContent('#print-head'));
  })],

  ['a save with several wrong fields shows every error at once, next to each field and in the summary', () => withNode(async (node, page) => {
    // A new employer: no name, no ZIP, a short phone number.
    await page.goto(node.url + '/crm-lead-form.html');
    await page.waitForSelector('#lead_owner_id option', { state: 'attached' });
    await page.fill('#phone', '12');
    await page.click('#save');
    await page.waitForSelector('#error-summary');
    for (const f of ['company_name', 'zip', 'phone']) {
      assert((await page.textContent(`#${f}-err`)).trim() !== '', `${f}: its error next to it`);
      assert(await page.getAttribute('#' + f, 'aria-invalid') === 'true', `${f}: marked invalid`);
    }
    assert(await page.locator('#error-summary li').count() === 3, 'three errors in the summary');
    const sum = await page.textContent('#error-summary');
    assert(!/company_name|_id|\bzip\b/.test(sum), 'the summary uses the labels: ' + sum);
    await assertAccessible(page, 'new employer with three errors');
    await page.screenshot({ path: `${OUT}/officeday-errors-new-employer-1280.png`, fullPage: true });

    // Services: two rows, each with what is wrong in it.
    const emp = await node.api('/api/v1/crm/employers', { company_name: 'Many Errors Inc', zip: '95814', street: '3 Oak St', city: 'Sacramento' });
    await page.goto(node.url + '/crm-lead.html?id=' + emp.json.id);
    await page.waitForSelector('#services-0-code option', { state: 'attached' });
    await page.click('details:has(#svc-form) > summary');
    await page.click('#svc-more');
    const meta = (await node.api('/api/v1/crm/meta')).json;
    const today = meta.today;
    const earlier = new Date(Date.parse(today + 'T12:00:00Z') - 3 * 86400000).toISOString().slice(0, 10);
    await page.selectOption('#services-1-code', { index: 1 });
    await page.fill('#services-1-end_date', earlier);
    await page.click('#svc-form button[type=submit]');
    await page.waitForSelector('#error-summary');
    assert((await page.textContent('#services-0-code-err')).trim() !== '', 'the first row: its service type');
    assert((await page.textContent('#services-1-end_date-err')).trim() !== '', 'the second row: its end date');
    assert(await page.locator('#error-summary li').count() === 2, 'both in the summary');
    await assertAccessible(page, 'services with two errors');

    // A case activity with neither a code nor its note.
    plantSecret('Eddie Errors');
    const p = await node.api('/api/v1/case/participants', { first_name: 'Eddie', last_name: 'Errors', birth_date: '1979-04-05', pseudo_ssn: true });
    await page.goto(node.url + '/case-participant.html?id=' + p.json.id);
    await page.waitForSelector('#code option', { state: 'attached' });
    await page.click('#act-save');
    await page.waitForSelector('#error-summary');
    assert((await page.textContent('#code-err')).trim() !== '', 'the activity code: its error');
    assert((await page.textContent('#note-body-err')).trim() !== '', 'the note: its error');
    assert(await page.locator('#error-summary li').count() >= 2, 'both in the summary');
    await assertAccessible(page, 'activity with two errors');

    // The work-item edit (a dialog): the summary is in the dialog, where it can be read.
    const wi = await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-other', description: 'Call HR', employer_id: emp.json.id });
    await page.goto(node.url + '/crm-work.html?open=' + wi.json.id);
    await page.waitForSelector('#wi-dlg[open]');
    await page.fill('#e-description', '');
    await page.click('#wi-form button[type=submit]');
    await page.waitForSelector('#wi-dlg #error-summary');
    assert((await page.textContent('#e-description-err')).trim() !== '', 'the description: its error');
    await assertAccessible(page, 'work item dialog with its error');
  })],

  ['the hub console: an account or an access request that does not exist, the audit trail with names', async () => {
    // Fewer PBKDF2 rounds (the hub's test setting), as the console tests do.
    const hub = await startHub({ args: ['--password_iters', '1000'] });
    const browser = await launch({ trust: [hub.spki] });
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      const r = spawnSync(join(BIN, 'outpost-hub'), ['reset-operations', '--data', hub.data], { encoding: 'utf8' });
      assert(r.status === 0, 'reset-operations: ' + r.stderr);
      const pw = r.stdout.trim().split(/\s+/).pop();
      plantSecret(pw);
      plantSecret('Hub.Errors42');
      await page.goto(hub.url + '/login.html');
      await page.fill('#username', 'operations');
      await page.fill('#password', pw);
      await page.click('#signin-btn');
      await page.waitForSelector('#change-card:not([hidden])');
      await page.fill('#new_password', 'Hub.Errors42');
      await page.fill('#confirm_password', 'Hub.Errors42');
      await page.click('#change-btn');
      await page.waitForURL(u => !u.pathname.startsWith('/login'));
      await notFound(page, `${hub.url}/account.html?id=${MISSING}`, 'Account not found', '/accounts.html');
      await assertAccessible(page, 'hub account not found');
      await notFound(page, `${hub.url}/account.html`, 'Account not found', '/accounts.html');
      await notFound(page, `${hub.url}/request.html?id=${MISSING}`, 'Access request not found', '/accounts.html');
      const nf = await page.goto(hub.url + '/no-such-page.html');
      assert(nf.status() === 404 && (await page.textContent('h1')) === 'Page not found', 'the hub\'s 404 page');
      // The audit trail names the account an action was about, not its id.
      await page.goto(hub.url + '/audit.html');
      await page.waitForSelector('#list td');
      await page.locator('#list a', { hasText: /operations/ }).first().waitFor({ timeout: 15000 });
      const text = await page.textContent('#list');
      assert(!UUID.test(text), 'no account id in the audit trail: ' + text.match(UUID));
      await assertAccessible(page, 'audit trail with names');
    } finally {
      await browser.close();
      await hub.stop();
    }
  }],
];
