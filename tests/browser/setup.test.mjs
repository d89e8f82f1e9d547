// setup.test.mjs - the README's production walk-through in a real browser
// (issue 14): a real outpost-hub started WITHOUT demo data; the first
// operations password from `outpost-hub reset-operations`; a field division,
// a Local Area with its pseudo-SSN identifier and an office made in the
// console; an MIS Administrator created through the access request, its
// forms and approval, and given the role; its greeter reasons (English and
// Spanish, order) set up on the Greeter page; the office's node enrolled with
// a code from the console and started; a visitor checking in at the kiosk in
// Spanish; the visit counted in the hub's greeter report; a reason renamed
// (the console says what a rename does), the visit still reported under the
// label it had.  axe-core (WCAG 2.1 AA) on every console page state on the way.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHub, launch, assertAccessible, assert, plantSecret, freePort, BIN, OUT, until as poll, pdfFile, hubFirstSignIn, track, designateMis, fillRequestor, answerLate } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const until = (what, fn, ms = 60000) => poll(what, fn, ms, 300);

const pdf = name => pdfFile('setup-' + name);

// Sign in through the console's login page with a temporary password and set
// a personal one (the forced change).
const firstSignIn = hubFirstSignIn;

async function signOut(page) {
  await page.click('#sign-out');
  await page.waitForURL(/\/login\.html/);
}

// Enroll first, then start the node without demo data (README, step 6).
async function officeNode(code, hubUrl) {
  const data = mkdtempSync(join(tmpdir(), 'outpost-browser-setup-'));
  const r = spawnSync(join(BIN, 'outpost-sync'), ['enroll', '--hub', hubUrl, '--code', code, '--data', data], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('outpost-sync enroll: ' + r.stderr);
  const port = await freePort();
  const log = openSync(join(OUT, `browser-setup-node-${process.pid}.log`), 'a');
  const proc = track(spawn(join(BIN, 'outpost-node'), ['--data', data, '--listen', `127.0.0.1:${port}`, '--demo', 'no'],
    { stdio: ['ignore', log, log] }));
  const url = `http://127.0.0.1:${port}`;
  await until('the node to start', async () => { try { return (await fetch(url + '/healthz')).ok; } catch { return false; } }, 30000);
  return {
    url, data,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise(res => { proc.once('exit', res); setTimeout(res, 5000); });
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export const tests = [
  ['production walk-through on a hub without demo data: places, an MIS Administrator, its reasons, an enrolled office, a Spanish check-in counted at the hub', async () => {
    const hub = await startHub({ args: ['--demo', 'no', '--password_iters', '1000'] });
    const browser = await launch({ trust: [hub.spki] });
    let node = null;
    try {
      assert((await hub.api('/api/v1/admin/offices')).json.length === 0, 'a hub without demo data has no office');
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();

      // 1-2. The first operations password.
      const r = spawnSync(join(BIN, 'outpost-hub'), ['reset-operations', '--data', hub.data, '--password_iters', '1000'], { encoding: 'utf8' });
      assert(r.status === 0, 'reset-operations: ' + r.stderr);
      const opsTemp = r.stdout.trim().split(/\s+/).pop();
      plantSecret(opsTemp);
      await firstSignIn(page, hub, 'operations', opsTemp, 'Ops.Setup42');
      // 3. A field division, a Local Area with its identifier, an office.
      await page.goto(hub.url + '/nodes.html');
      await page.fill('#fd-name', 'Southern Division');
      await page.click('#fd-add');
      await page.waitForSelector('#la-field_division option:has-text("Southern Division")', { state: 'attached' });
      await page.fill('#la-name', 'San Luis Obispo County');
      await page.fill('#la-id', 'slo');
      await page.selectOption('#la-field_division', { label: 'Southern Division' });
      await page.fill('#la-pseudo_ssn_prefix', '123');
      await page.click('#la-add');
      await page.waitForFunction(() => document.getElementById('la-pseudo_ssn_prefix-err').textContent !== '');
      assert((await page.textContent('#la-pseudo_ssn_prefix-err')).includes('900 to 999'), 'a bad identifier is explained in place');
      await assertAccessible(page, 'offices page with a field error');
      await page.fill('#la-pseudo_ssn_prefix', '975');
      await page.click('#la-add');
      await page.waitForSelector('#of-local_area_id option[value="slo"]', { state: 'attached' }).catch(async e => {
        throw new Error(e.message + ' / form says: ' + await page.textContent('#la-form') + ' / ' + JSON.stringify((await hub.api('/api/v1/admin/local-areas')).json));
      });
      await page.fill('#of-name', "SLO America's Job Center");
      await page.fill('#of-id', 'slo-ajcc');
      await page.selectOption('#of-local_area_id', 'slo');
      await page.fill('#of-address', '3563 Sueldo St, San Luis Obispo, CA 93401');
      await page.selectOption('#of-timezone', 'America/Los_Angeles');
      assert(await page.isChecked('#of-has_title1_partner'), 'Title I partner is the default');
      await page.click('#of-add');
      await page.waitForFunction(() => document.getElementById('offices').textContent.includes('Sueldo'));
      await assertAccessible(page, 'offices page with the new office');
      const la = (await hub.api('/api/v1/admin/local-areas')).json.find(x => x.id === 'slo');
      assert(la && la.pseudo_ssn_prefix === '975', 'Local Area with its identifier: ' + JSON.stringify(la));
      const off = (await hub.api('/api/v1/admin/offices')).json.find(x => x.id === 'slo-ajcc');
      assert(off && off.has_title1_partner === 1 && off.timezone === 'America/Los_Angeles', 'office: ' + JSON.stringify(off));
      // 4. The MIS Administrator: access request, forms, approval, account, role.
      await page.goto(hub.url + '/request.html?kind=new');
      await page.waitForSelector('#req-form:not([hidden])');
      await page.fill('#display_name', 'Morgan Ruiz');
      await page.fill('#username', 'mruiz');
      await page.fill('#email', 'mruiz@example.org');
      await page.selectOption('#local_area_id', 'slo');
      await page.waitForSelector('#office_id option[value="slo-ajcc"]', { state: 'attached' });
      await page.selectOption('#office_id', 'slo-ajcc');
      await page.selectOption('#privilege_group', 'View Access with Reports');
      await fillRequestor(page, 'Dana Director', 'director@example.org', 'MIS Administrator of the Local Area', pdf);
      await page.setInputFiles('#file-confidentiality_statement', pdf('e1'));
      await page.click('#req-save');
      await page.waitForURL(/request\.html\?id=/);
      await page.waitForSelector('#view:not([hidden]) #info dd');
      // Separation of duties: operations recorded it, so a second
      // administrator (the hub's admin token) approves it.
      await page.click('#approve');
      await page.waitForFunction(() => /cannot approve it/.test(document.getElementById('act-err').textContent));
      const reqId = new URL(page.url()).searchParams.get('id');
      assert((await hub.api(`/api/v1/admin/access-requests/${encodeURIComponent(reqId)}/approve`, {})).status === 200, 'approved by a second administrator');
      await page.reload();
      await page.waitForSelector('#carry-out');
      await page.click('#carry-out');
      await page.waitForSelector('#temp-password');
      const misTemp = await page.inputValue('#temp-password');
      plantSecret(misTemp);
      const mis = (await hub.api('/api/v1/admin/staff')).json.find(s => s.username === 'mruiz');
      // A designation needs the signed Attachment 1 and the training date (issue 16).
      await designateMis(page, hub, mis.id, pdf('attachment-1'), 3);
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('mis_admin'));
      // 5. Its reasons, signed in as the MIS Administrator.
      await signOut(page);
      await firstSignIn(page, hub, 'mruiz', misTemp, 'Mis.Setup42');
      await page.goto(hub.url + '/greeter.html');
      await page.waitForFunction(() => document.getElementById('reasons').textContent.includes('No reason yet'));
      await assertAccessible(page, 'greeter page, no reason yet');
      const add = async (en, es, sort) => {
        await page.fill('#r-label', en);
        await page.fill('#r-label_es', es);
        await page.fill('#r-sort', String(sort));
        await page.click('#r-save');
        await page.waitForFunction(t => document.getElementById('reasons').textContent.includes(t), en);
      };
      await page.click('#r-save');
      await page.waitForFunction(() => document.getElementById('r-label-err').textContent !== '');
      assert(await page.getAttribute('#r-label_es', 'aria-invalid') === 'true', 'every missing field is marked at once');
      await add('Look for a job', 'Buscar empleo', 20);
      await add('Unemployment insurance', 'Seguro de desempleo', 10);
      await add('Old workshop', 'Taller antiguo', 30);
      // Retire one: it stays listed as retired, the kiosk will not offer it.
      await page.click('button[aria-label="Retire Old workshop"]');
      await page.waitForSelector('button[aria-label="Offer again Old workshop"]');
      await assertAccessible(page, 'greeter page with reasons');
      await signOut(page);
      // 6. Enroll the office node with a code from the console.
      await page.fill('#username', 'operations');
      await page.fill('#password', 'Ops.Setup42');
      await page.click('#signin-btn');
      await page.waitForURL(u => !u.pathname.startsWith('/login'));
      // Operations keeps the code lists: a new follow-up list without F01.
      await page.goto(hub.url + '/codes.html');
      await page.waitForFunction(() => document.getElementById('lists').textContent.includes('Follow-up codes'));
      const followup = readFileSync(join(here, '..', '..', 'seed', 'followup_codes.csv'), 'utf8')
        .split('\n').filter(l => !l.startsWith('F01,')).join('\n');
      const fpath = join(OUT, `${process.pid}-followup.csv`);
      writeFileSync(fpath, followup);
      await page.selectOption('#v-list', 'followup');
      await page.fill('#v-version', '2027-Q1');
      await page.setInputFiles('#v-csv', fpath);
      await page.click('#v-load');
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('1 retired'))
        .catch(async e => { throw new Error(e.message + ': ' + await page.textContent('#main')); });
      await page.selectOption('#c-list', 'followup');
      await page.waitForFunction(() => /F01.*Retired/.test(document.getElementById('codes').textContent));
      // An answer that comes late does not draw over the list chosen
      // since (the page's own refresh after a load raced the choice so).
      const slow = u => u.pathname === '/api/v1/admin/code-lists/activity';
      const late = await answerLate(page, slow, 1000);
      await page.selectOption('#c-list', 'activity');
      await page.selectOption('#c-list', 'followup');
      await late.answered;
      const shown = await page.textContent('#codes');
      assert(shown.includes('Codes of Follow-up codes') && /F01.*Retired/.test(shown), 'the list chosen last: ' + shown.slice(0, 120));
      await page.unroute(slow);
      // A version loaded for a later date waits, and can be withdrawn.
      const later = new Date(Date.now() + 20 * 86400000).toISOString().slice(0, 10);
      await page.selectOption('#v-list', 'followup');
      await page.fill('#v-version', '2027-Q2');
      await page.fill('#v-effective_date', later);
      await page.setInputFiles('#v-csv', fpath);
      await page.click('#v-load');
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('waits for'));
      await page.waitForSelector('#lists button[aria-label^="Withdraw version 2027-Q2"]');
      await assertAccessible(page, 'code lists page, a version waiting');
      await page.click('#lists button[aria-label^="Withdraw version 2027-Q2"]');
      await page.click('dialog[open] button[value="ok"]');
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('Version 2027-Q2 withdrawn'));
      await page.waitForFunction(() => !document.getElementById('lists').textContent.includes('2027-Q2'));
      await assertAccessible(page, 'code lists page');
      // The work item lists (the hub seeds them, demo data or not): a
      // category added and renamed, a name in use refused beside its field;
      // a priority made the default, not retired while it is, then retired.
      await page.waitForSelector('button[aria-label="Retire Outreach"]');
      await page.click('#wc-save');
      await page.waitForFunction(() => document.getElementById('wc-name-err').textContent !== '');
      await page.fill('#wc-name', 'outreach');
      await page.click('#wc-save');
      await page.waitForFunction(() => document.getElementById('wc-name-err').textContent.includes('already exists'));
      await page.fill('#wc-name', 'Walk-in visit');
      await page.click('#wc-save');
      await page.waitForSelector('button[aria-label="Retire Walk-in visit"]');
      await page.click('button[aria-label="Edit Walk-in visit"]');
      await page.fill('#wc-name', 'Walk-in');
      await page.click('#wc-save');
      await page.waitForSelector('button[aria-label="Retire Walk-in"]');
      await page.fill('#wp-name', 'Urgent');
      await page.fill('#wp-rank', '0');
      await page.click('#wp-save');
      await page.click('button[aria-label="Make default: Urgent"]');
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('"Urgent" is now the default'));
      await page.click('button[aria-label="Retire Urgent"]');
      await page.waitForFunction(() => document.querySelector('#wp-form .form-err').textContent.includes('default'));
      // (the refusal is not read beside the success before it)
      assert(await page.textContent('#status') === '', 'no stale message: ' + await page.textContent('#status'));
      await page.click('button[aria-label="Make default: Normal"]');
      await page.waitForSelector('button[aria-label="Make default: Urgent"]');
      await page.click('button[aria-label="Retire Urgent"]');
      await page.waitForSelector('button[aria-label="Restore Urgent"]');
      // keyboard focus stays on the row acted on, not the top of the page
      await page.waitForFunction(() => document.activeElement &&
        document.activeElement.getAttribute('aria-label') === 'Edit Urgent');
      await assertAccessible(page, 'code lists page, work item lists');
      await page.goto(hub.url + '/nodes.html');
      await page.waitForSelector('#code-office_id option[value="slo-ajcc"]', { state: 'attached' });
      await page.selectOption('#code-office_id', 'slo-ajcc');
      await page.click('#code-create');
      await page.waitForSelector('#enroll-code');
      const code = await page.inputValue('#enroll-code');
      plantSecret(code);
      node = await officeNode(code, hub.url);
      // 7. The kiosk in Spanish, with the Local Area's reasons in order.
      const kiosk = await context.newPage();
      await until('the reasons at the kiosk', async () =>
        (await (await fetch(node.url + '/api/v1/greeter/reasons')).json()).length === 2);
      await kiosk.goto(node.url + '/kiosk.html');
      await kiosk.click('#lang-es');
      const labels = await kiosk.locator('#reasons label.reason').allTextContents();
      assert(labels.length === 2 && labels[0].includes('Seguro de desempleo') && labels[1].includes('Buscar empleo'),
        'Spanish labels in their order, the retired one left out: ' + labels);
      await kiosk.fill('#name', 'Lucía Ramírez');
      // (two reasons: the visit is still one visit in the report's totals)
      await kiosk.locator('#reasons label.reason', { hasText: 'Buscar empleo' }).click();
      await kiosk.locator('#reasons label.reason', { hasText: 'Seguro de desempleo' }).click();
      await kiosk.click('#submit');
      await kiosk.waitForSelector('#thanks-view:not([hidden])');
      assert((await kiosk.textContent('#thanks-view')).includes('Gracias'), 'Spanish thank-you');
      // The visit counted in the hub's report.
      await until('the visit at the hub', async () =>
        (await hub.api('/api/v1/admin/reports/greeter')).json.visits === 1);
      await page.goto(hub.url + '/greeter.html');
      await page.waitForFunction(() => document.getElementById('g-total').textContent.startsWith('1 visit'));
      const row = await page.locator('#report tbody tr', { hasText: 'Look for a job' }).textContent();
      assert(row.includes("SLO America's Job Center") && row.includes('Spanish'), 'report row: ' + row);
      assert(await page.locator('#report tbody tr').count() === 2, 'a row per reason of the visit');
      const byOffice = await page.locator('#by-office tbody tr', { hasText: "SLO America's Job Center" }).textContent();
      assert(/SLO America's Job Center\s*1\s*1/.test(byOffice), 'visits by office, one in Spanish: ' + byOffice);
      await assertAccessible(page, 'greeter report');
      await page.screenshot({ path: `${OUT}/setup-greeter-report.png`, fullPage: true });
      const csv = await hub.request('GET', '/api/v1/admin/reports/greeter?format=csv', undefined,
        { Authorization: 'Bearer ' + hub.token });
      assert(csv.status === 200 && csv.text.includes('"Look for a job","es","1"'), 'CSV: ' + csv.text);
      // 8. A rename says what it does, and does not rewrite the report:
      // the visit made before stays under the label it had.
      await page.click('button[aria-label="Edit Look for a job"]');
      await page.waitForSelector('#r-rename-note:not([hidden])');
      const note = await page.textContent('#r-rename-note');
      // (the count is of the visits the hub holds: an office's visits not
      // synced yet, and those it takes until its next sync, keep it too)
      assert(note.includes('(1 visit at the hub so far, and those the offices take until their next sync) keeps the label "Look for a job" in reports'), 'the rename note: ' + note);
      await assertAccessible(page, 'greeter reason being renamed');
      await page.fill('#r-label', 'Job search help');
      await page.click('#r-save');
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('renamed'));
      const said = await page.textContent('#status');
      assert(said.includes('"Look for a job" renamed "Job search help"') && said.includes('stay in reports under "Look for a job"'), 'status: ' + said);
      const listed = await page.locator('#reasons tbody tr', { hasText: 'Job search help' }).textContent();
      assert(listed.includes('Formerly "Look for a job"'), 'the former label listed: ' + listed);
      await page.click('#g-show');
      await page.waitForFunction(() => document.getElementById('g-total').textContent.startsWith('1 visit'));
      const rows = await page.locator('#report tbody tr').allTextContents();
      assert(rows.length === 2 && rows.some(r => r.includes('Look for a job')) && !rows.some(r => r.includes('Job search help')),
        'the visit keeps its label in the report: ' + rows);
      const csv2 = await hub.request('GET', '/api/v1/admin/reports/greeter?format=csv', undefined,
        { Authorization: 'Bearer ' + hub.token });
      assert(csv2.text.includes('"Look for a job","es","1"') && !csv2.text.includes('Job search help'), 'CSV after the rename: ' + csv2.text);
    } finally {
      await browser.close();
      if (node) await node.stop();
      await hub.stop();
    }
  }],
];
