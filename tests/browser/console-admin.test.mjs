// console-admin.test.mjs - the hub console's account administration in a
// real browser against a real outpost-hub, each check a few seconds: a
// change of office keeps the CRM work group and privilege adjustments the
// user did not touch; scheduling a deactivation asks first and says when
// it takes effect; suspended accounts shown and filtered as such; Reject
// offered only while a request waits for approval; a double click adds one
// office.
import { startHub, launch, assert, plantSecret, BIN, OUT, pdfFile, dayFromNow, hubFirstSignIn, sleep } from './lib.mjs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

const HUB_ARGS = ['--password_iters', '1000'];
const ADMIN_PW = 'Hub.Admin42';
const VIC = '0190a000-0000-7000-8000-0000000000c7'; // a demo account (View Access) with nothing assigned

// The console signed in as operations (a fresh one-time password, then the
// forced change); fn(hub, page).  Requests recorded in the page are approved
// by the hub's admin token, another principal.
async function withOperations(fn) {
  const hub = await startHub({ args: HUB_ARGS });
  const browser = await launch({ trust: [hub.spki] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const r = spawnSync(join(BIN, 'outpost-hub'), ['reset-operations', '--data', hub.data], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('reset-operations: ' + r.stderr);
    const temp = r.stdout.trim().split(/\s+/).pop();
    plantSecret(temp);
    await hubFirstSignIn(page, hub, 'operations', temp, ADMIN_PW);
    await fn(hub, page);
  } finally {
    await browser.close();
    await hub.stop();
  }
}

// Record a request of kind for staffId through the request page (fill: the
// kind's own fields), with the signed request form; the request's id.
async function recordRequest(page, hub, kind, staffId, fill = async () => {}) {
  await page.goto(hub.url + `/request.html?kind=${kind}&staff_id=${staffId}`);
  await page.waitForSelector('#req-form:not([hidden])');
  await fill();
  await page.fill('#requestor_name', 'Pat Manager');
  await page.setInputFiles('#file-request_form', pdfFile(kind + '-req'));
  await page.click('#req-save');
  await page.waitForURL(/request\.html\?id=/);
  return new URL(page.url()).searchParams.get('id');
}

async function approve(hub, rid) {
  const r = await hub.api(`/api/v1/admin/access-requests/${rid}/approve`, {});
  assert(r.status === 200, 'approved by the admin token: ' + r.status + ' ' + r.text);
}

export const tests = [
  ['a form the hub refuses is named on the saved request, and a link cannot put words there', () => withOperations(async (hub, page) => {
    const notPdf = join(OUT, `${process.pid}-not-a-form.pdf`);
    writeFileSync(notPdf, 'not a PDF at all\n');
    const rid = await recordRequest(page, hub, 'deactivate', VIC, async () => {
      await page.fill('#separation_date', dayFromNow(-1));
      await page.setInputFiles('#file-separation_form', notPdf);
    });
    await page.waitForFunction(() => document.getElementById('act-err').textContent);
    const said = await page.textContent('#act-err');
    assert(/Some forms were not uploaded: Separation form/.test(said), 'the refused form is named: ' + said);
    assert(!new URL(page.url()).searchParams.has('failed'), 'not in the address: ' + page.url());
    await page.reload();
    await page.waitForSelector('#view:not([hidden])');
    assert(!(await page.textContent('#act-err')), 'said once');
    await page.goto(hub.url + `/request.html?id=${rid}&saved=1&failed=` + encodeURIComponent('Call 555-0100 now'));
    await page.waitForSelector('#view:not([hidden])');
    const text = await page.textContent('body');
    assert(!/555-0100/.test(text), 'a link\'s ?failed= is not shown: ' + text.slice(0, 400));
  })],
  ['a change of office only keeps the account\'s CRM work group and privilege adjustments (the form starts as the account is)', () => withOperations(async (hub, page) => {
    let r = await hub.api('/api/v1/admin/offices', { id: 'demo-2', name: 'Second Office', local_area_id: 'demo-la' });
    assert(r.status === 201, 'second office: ' + r.status + ' ' + r.text);
    hub.sql(`UPDATE staff SET crm_work_group=1, priv_add='greeter_setup' WHERE id='${VIC}'`);
    const before = (await hub.api('/api/v1/admin/staff/' + VIC)).json;
    assert(before.crm_work_group === true && before.priv_add.join() === 'greeter_setup', 'fixture: ' + JSON.stringify(before));

    const rid = await recordRequest(page, hub, 'change', VIC, async () => {
      assert(await page.isChecked('#crm_work_group'), 'the CRM work group box starts as the account has it');
      assert(await page.isChecked('#priv_add-greeter_setup'), 'the added privilege starts ticked');
      await page.selectOption('#office_id', 'demo-2');
    });
    const rq = (await hub.api('/api/v1/admin/access-requests/' + rid)).json;
    assert(rq.office_id === 'demo-2' && rq.crm_work_group == null, 'the request changes the office only: ' + JSON.stringify(rq));
    await approve(hub, rid);
    await page.reload();
    await page.click('#carry-out');
    await page.waitForFunction(() => /applied/.test(document.getElementById('act-text').textContent));
    const after = (await hub.api('/api/v1/admin/staff/' + VIC)).json;
    assert(after.office_id === 'demo-2' && after.crm_work_group === true && after.priv_add.join() === 'greeter_setup',
      'office changed, CRM work group and added privilege kept: ' + JSON.stringify(after));

    // What the user does change is sent: the CRM work group unticked.
    const rid2 = await recordRequest(page, hub, 'change', VIC, () => page.uncheck('#crm_work_group'));
    const rq2 = (await hub.api('/api/v1/admin/access-requests/' + rid2)).json;
    assert(rq2.crm_work_group === false && rq2.priv_add.join() === '', 'only the CRM work group changes: ' + JSON.stringify(rq2));
  })],

  ['scheduling a deactivation asks first; with the separation date past it says the account is deactivated at once, and so it is', () => withOperations(async (hub, page) => {
    const rid = await recordRequest(page, hub, 'deactivate', VIC, () => page.fill('#separation_date', dayFromNow(-1)));
    await approve(hub, rid);
    await page.goto(hub.url + '/account.html?id=' + VIC);
    await page.waitForSelector('#schedule-form:not([hidden])');
    await page.selectOption('#schedule-request_id', rid);
    await page.click('#schedule-save');
    const dlg = page.locator('dialog[open]');
    await dlg.waitFor({ timeout: 5000 });
    assert(/immediately/.test(await dlg.textContent()), 'the dialog says it takes effect at once: ' + await dlg.textContent());
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await sleep(500);
    assert((await hub.api('/api/v1/admin/staff/' + VIC)).json.active === true, 'cancelled: still active');
    await page.click('#schedule-save');
    await dlg.getByRole('button', { name: 'Deactivate now' }).click();
    await page.waitForFunction(() => document.getElementById('status').textContent !== '');
    const status = await page.textContent('#status');
    assert(/deactivated/.test(status) && !/scheduled/.test(status), 'the page says what happened: ' + status);
    assert((await hub.api('/api/v1/admin/staff/' + VIC)).json.active === false, 'deactivated at the hub');
  })],

  ['the accounts list shows a suspended account as Suspended (and a scheduled deactivation), and filters on it', () => withOperations(async (hub, page) => {
    const r = await hub.api(`/api/v1/admin/staff/${VIC}/suspend`, { reason: 'extended leave' });
    assert(r.status === 200, 'suspended: ' + r.status + ' ' + r.text);
    const sep = dayFromNow(5);
    hub.sql(`UPDATE staff SET deactivate_on='${sep}' WHERE username='t-view'`);
    await page.goto(hub.url + '/accounts.html');
    await page.locator('#list tbody tr').first().waitFor();
    const row = await page.locator('#list tbody tr', { hasText: 'Vic Viewer' }).innerText();
    assert(/Suspended/.test(row) && !/\bActive\b/.test(row) && /Deactivation scheduled/.test(row), 'Vic\'s row: ' + row);
    const all = await page.locator('#list tbody tr').count();
    await page.selectOption('#f-active', 'suspended');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.getElementById('status').textContent === '1 account');
    const rows = await page.locator('#list tbody tr').allInnerTexts();
    assert(rows.length === 1 && rows[0].includes('Vic Viewer') && all > 1, 'only the suspended account: ' + rows.join(' | '));
  })],

  ['the operations account shows Exempt from recertification, on its page (no recertification offered) and in the list', () => withOperations(async (hub, page) => {
    const ops = (await hub.api('/api/v1/admin/staff?q=operations')).json.find(s => s.username === 'operations');
    assert(ops && ops.recertification_exempt === true && ops.recertification_due_on === null, 'operations: ' + JSON.stringify(ops));
    await page.goto(hub.url + '/account.html?id=' + ops.id);
    await page.waitForSelector('#recert-exempt');
    assert(/Exempt/.test(await page.textContent('#recert-exempt')), 'the page says exempt');
    await page.waitForSelector('#act-reset');
    assert(await page.locator('#act-recertify').count() === 0, 'no recertification offered for it');
    await page.goto(hub.url + '/account.html?id=' + VIC);
    await page.waitForSelector('#act-recertify');
    assert(await page.locator('#recert-exempt').count() === 0, 'another account is not exempt');
    await page.goto(hub.url + '/accounts.html');
    await page.locator('#list tbody tr').first().waitFor();
    const row = await page.locator('#list tbody tr', { hasText: 'CalJOBS Operations Unit' }).innerText();
    assert(/Exempt/.test(row), 'the operations row: ' + row);
  })],

  ['Reject is offered while a request waits for approval, not once it is approved', () => withOperations(async (hub, page) => {
    const rid = await recordRequest(page, hub, 'reset', VIC);
    await page.waitForSelector('#approve');
    assert(await page.locator('#reject').count() === 1, 'a submitted request can be rejected');
    await approve(hub, rid);
    await page.reload();
    await page.waitForSelector('#carry-out');
    assert(await page.locator('#reject').count() === 0, 'no Reject on an approved request');
  })],

  ['a double click on Add office or Add Local Area adds one', () => withOperations(async (hub, page) => {
    const posts = [];
    page.on('request', q => { if (q.method() === 'POST' && /\/api\/v1\/admin\/(offices|local-areas)$/.test(q.url())) posts.push(q.url()); });
    // The answer held back a little: the second click comes while the first is in flight.
    await page.route(u => /\/api\/v1\/admin\/(offices|local-areas)$/.test(u.pathname), async route => {
      if (route.request().method() === 'POST') await sleep(400);
      await route.continue();
    });
    await page.goto(hub.url + '/nodes.html');
    await page.waitForSelector('#of-local_area_id option[value="demo-la"]', { state: 'attached' });
    await page.fill('#of-name', 'Twice Office');
    await page.selectOption('#of-local_area_id', 'demo-la');
    await page.dblclick('#of-add');
    await page.waitForFunction(() => /Twice Office added/.test(document.getElementById('status').textContent));
    await page.fill('#la-name', 'Twice Area');
    await page.dblclick('#la-add');
    await page.waitForFunction(() => /Twice Area added/.test(document.getElementById('status').textContent));
    await sleep(800);
    assert(posts.length === 2, 'one POST per form: ' + posts.join(' '));
    const offices = (await hub.api('/api/v1/admin/offices')).json.filter(o => o.name === 'Twice Office');
    const areas = (await hub.api('/api/v1/admin/local-areas')).json.filter(o => o.name === 'Twice Area');
    assert(offices.length === 1 && areas.length === 1, `one each: ${offices.length} offices, ${areas.length} Local Areas`);
  })],
];
