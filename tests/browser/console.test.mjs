// console.test.mjs - the hub administration console in a real browser
// against a real outpost-hub (HTTPS, self-signed certificate): enrollment
// codes used by a real office node, the node list and revoking a node,
// conflicts side by side and resolved by an edit that reaches the office,
// quarantined entries reviewed and marked handled; axe-core (WCAG 2.1 AA)
// clean on every console page and dialog.
import { startHub, startNode, enrollNode, launch, assertAccessible, assert, plantSecret, BIN, OUT, until, pdfFile, designateMis, fillRequestor, dayFromNow, dayAfter, isoDay, officeDay } from './lib.mjs';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// 16 random characters, then 12 that check the hub's key (verified enrollment)
const CODE_RE = /^[A-Z2-7]{4}(-[A-Z2-7]{4}){6}$/;
// A downloaded CSV's text: it must start with a UTF-8 byte-order mark (a
// spreadsheet then reads accented names right), which is taken off here.
const require_text = p => {
  const t = readFileSync(p, 'utf8');
  assert(t.charCodeAt(0) === 0xfeff, 'the CSV starts with a UTF-8 BOM: ' + p);
  return t.slice(1);
};

// Tests hash passwords with fewer PBKDF2 rounds (the hub's test setting).
const HUB_ARGS = ['--password_iters', '1000'];
const ADMIN_PW = 'Hub.Admin42';

// A fresh one-time password for the built-in operations account.
function operationsPassword(hub) {
  const r = spawnSync(join(BIN, 'outpost-hub'), ['reset-operations', '--data', hub.data], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('reset-operations: ' + r.stderr);
  const pw = r.stdout.trim().split(/\s+/).pop();
  plantSecret(pw);
  return pw;
}

// Sign in through the login page; a temporary password leads to the forced
// change, checked against the rule's checklist on the way.
async function signIn(page, hub, { username = 'operations', password, newPassword = ADMIN_PW, checkRule = false } = {}) {
  if (!new URL(page.url()).pathname.startsWith('/login.html')) await page.goto(hub.url + '/login.html');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#signin-btn');
  await page.waitForSelector('#change-card:not([hidden])');
  if (checkRule) {
    await assertAccessible(page, 'forced password change');
    await page.fill('#new_password', 'short');
    assert(!(await page.getAttribute('#rule-len', 'class')), 'a 5-character password does not meet the length');
    assert(await page.getAttribute('#rule-lower', 'class') === 'met', 'lower case is met');
    await page.fill('#new_password', 'Abcdefg1 ');
    assert(!(await page.getAttribute('#rule-only', 'class')), 'a space is not allowed');
    assert(!(await page.getAttribute('#rule-special', 'class')), 'no special character yet');
    await page.fill('#new_password', 'Abcdefghij1234567890.');
    assert(!(await page.getAttribute('#rule-len', 'class')), '21 characters are too many');
    await page.fill('#confirm_password', 'Abcdefghij1234567890.');
    await page.click('#change-btn');
    assert((await page.textContent('#new_password-err')).includes('rule'), 'refused before sending');
    // The hub's own check (common-password blocklist) is shown in place too.
    await page.fill('#new_password', 'Password1!');
    await page.fill('#confirm_password', 'Password1!');
    await page.click('#change-btn');
    await page.waitForFunction(() => document.getElementById('new_password-err').textContent !== '');
    assert(await page.getAttribute('#new_password', 'aria-invalid') === 'true', 'the hub refused a common password');
  }
  plantSecret(newPassword);
  await page.fill('#new_password', newPassword);
  for (const id of ['len', 'upper', 'lower', 'digit', 'special', 'only', 'name'])
    assert(await page.getAttribute('#rule-' + id, 'class') === 'met', 'rule met: ' + id);
  await page.fill('#confirm_password', newPassword);
  await page.click('#change-btn');
  await page.waitForURL(u => !u.pathname.startsWith('/login'));
}

// A small PDF to upload as a signed form.
const pdf = pdfFile;

// A staff_credentials password_hash of pw as the hub stores one, with the
// test's PBKDF2 rounds (HUB_ARGS): an account planted with it signs in with
// pw at once, without the forced change.
async function storedPassword(pw) {
  const { pbkdf2Sync, randomBytes } = await import('node:crypto');
  plantSecret(pw);
  const salt = randomBytes(16);
  return `pbkdf2-sha256$1000$${salt.toString('hex')}$${pbkdf2Sync(pw, salt, 1000, 32, 'sha256').toString('hex')}`;
}

// Separation of duties: operations, who recorded the request, cannot
// approve it (the page says why); a second administrator does - here the
// hub's admin token, another principal - and the page, reloaded, offers the
// next step.  press() is how the page's own approve is tried.
async function secondApproves(page, hub, press = () => page.click('#approve')) {
  await page.waitForURL(/request\.html\?id=/);
  await page.waitForSelector('#approve');
  await press();
  await page.waitForFunction(() => /cannot approve it/.test(document.getElementById('act-err').textContent));
  const id = new URL(page.url()).searchParams.get('id');
  assert((await hub.api(`/api/v1/admin/access-requests/${encodeURIComponent(id)}`)).json.status === 'submitted', 'not approved by its requester');
  const r = await hub.api(`/api/v1/admin/access-requests/${encodeURIComponent(id)}/approve`, {});
  assert(r.status === 200, 'a second administrator approves: ' + r.status + ' ' + r.text);
  await page.reload();
  await page.waitForSelector('#carry-out');
}

async function withConsole(fn) {
  const hub = await startHub({ args: HUB_ARGS });
  const browser = await launch({ trust: [hub.spki] });
  const cleanup = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    await fn(hub, page, cleanup);
  } finally {
    await browser.close();
    for (const c of cleanup.reverse()) await c();
    await hub.stop();
  }
}

const daysAgo = n => dayFromNow(-n);

// A marketing lead owned by staff member owner, written at the hub as a hub
// edit (the hub's demo has none); returns its id.
let leadSeq = 0;
function plantLead(hub, owner, name) {
  const id = `0190f000-0000-7000-8000-${String(++leadSeq).padStart(12, '0')}`;
  hub.sql(`INSERT INTO employers(id, company_name, normalized_name, username, zip, zip5, lead_owner_id,
    local_area_id, created_at, updated_hlc) VALUES('${id}', '${name}', '${name.toLowerCase()}', 'MKT${leadSeq}',
    '95814', '95814', '${owner}', 'demo-la', ${Date.now()}, '')`);
  return id;
}

export const tests = [
  ['sign-in with the forced change, access request with forms, approval, account created with the temporary password shown once, first login at an office node', () => withConsole(async (hub, page, cleanup) => {
    // Not signed in: every console page leads to the sign-in page.
    await page.goto(hub.url + '/accounts.html');
    await page.waitForURL(/\/login\.html\?next=/);
    await assertAccessible(page, 'sign-in page');
    // Nothing typed: both fields named at once, in the error summary.
    await page.click('#signin-btn');
    await page.waitForSelector('#error-summary');
    assert(await page.locator('#error-summary li a').count() === 2, 'user name and password both asked for');
    assert((await page.getAttribute('#username', 'aria-invalid')) === 'true', 'the user name marked');
    await assertAccessible(page, 'sign-in page with the error summary');
    await page.fill('#username', 'operations');
    await page.fill('#password', 'Wrong.Pass1');
    await page.click('#signin-btn');
    await page.waitForFunction(() => document.getElementById('signin-err').textContent !== '');
    assert((await page.textContent('#signin-err')).includes('wrong user name or password'), 'wrong password said plainly');
    await signIn(page, hub, { password: operationsPassword(hub), checkRule: true });
    assert(new URL(page.url()).pathname === '/accounts.html', 'back to the page asked for: ' + page.url());
    await page.waitForFunction(() => document.getElementById('who').textContent.includes('Operations'));
    await page.locator('#list tbody tr').first().waitFor();
    await assertAccessible(page, 'accounts page');

    // Filters: a group narrows the list.
    await page.selectOption('#f-group', 'View Access');
    await page.click('#filters button[type=submit]');
    const viewers = (await hub.api('/api/v1/admin/staff?active=1')).json.filter(x => x.privilege_group === 'View Access');
    await page.waitForFunction(n => document.getElementById('status').textContent.startsWith(`${n} account`), viewers.length);
    const shown = await page.locator('#list tbody tr td:nth-child(5)').allTextContents();
    assert(shown.length === viewers.length && shown.every(g => g === 'View Access'), 'only View Access: ' + shown);
    assert((await page.textContent('#list')).includes('Pat Kim') && !(await page.textContent('#list')).includes('Jordan Lee'), 'View Access filter shows Pat Kim, not Jordan Lee');

    // The access request, with the three forms a Local Area account needs.
    await page.click('#new-request');
    await page.waitForURL(/request\.html\?kind=new/);
    await page.waitForSelector('#req-form:not([hidden])');
    await assertAccessible(page, 'access request form');
    await page.click('#req-save');
    // In plain words, GOV.UK style ("Enter requestor's name"), beside each field and in the summary.
    assert(/^Enter requestor's name/.test(await page.textContent('#requestor_name-err')), 'required field named: ' + await page.textContent('#requestor_name-err'));
    assert((await page.textContent('#display_name-err')).startsWith('Enter') && (await page.textContent('#username-err')).startsWith('Enter'), 'every missing field at once');
    assert(await page.locator('#error-summary li a').count() >= 3, 'every missing field in the summary, each a link');
    await assertAccessible(page, 'access request form with the error summary');
    await page.fill('#display_name', 'Casey Morgan');
    await page.fill('#username', 'cmorgan');
    await page.fill('#email', 'cmorgan@example.org');
    await page.selectOption('#local_area_id', 'demo-la');
    await page.selectOption('#office_id', 'demo-office');
    await page.selectOption('#privilege_group', 'LWIA/CBO Staff');
    assert((await page.textContent('#privilege_group-desc')).includes('Case notes'), 'the group says what it allows, in words');
    await page.check('#crm_work_group');
    await fillRequestor(page, 'Pat Manager', 'pat.manager@example.org', 'Title I case manager at the demo office', pdf);
    await page.click('#req-save');
    await page.waitForURL(/request\.html\?id=/);
    await page.waitForSelector('#view:not([hidden]) #info dd');
    // The E-1 statement was not attached: approval waits for it, and says so.
    assert((await page.textContent('#missing')).includes('confidentiality statement'), 'missing form named');
    await assertAccessible(page, 'request page');
    await page.click('#approve');
    await page.waitForFunction(() => document.getElementById('act-err').textContent !== '');
    assert(/cannot approve yet/i.test(await page.textContent('#act-err')), 'approval refused with the reason');
    await page.selectOption('#up-kind', 'confidentiality_statement');
    await page.setInputFiles('#up-file', pdf('e1'));
    await page.click('#up-btn');
    await page.waitForFunction(() => document.getElementById('missing').hidden);
    assert(await page.locator('#files tbody tr').count() === 3, 'three forms on file');
    await secondApproves(page, hub);
    await page.click('#carry-out');
    await page.waitForSelector('#temp-password');
    const temp = await page.inputValue('#temp-password');
    plantSecret(temp);
    assert(temp.length === 12, 'a 12-character temporary password');
    const note = await page.textContent('#temp-password-note');
    assert(/only this once/i.test(note) && /valid 24 hours/.test(note), 'shown-once, 24-hour note: ' + note);
    assert(await page.getAttribute('#temp-password', 'readonly') !== null, 'read-only');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.click('#temp-password-copy');
    await page.waitForFunction(() => document.getElementById('temp-password-copied').textContent === 'Copied.');
    await assertAccessible(page, 'temporary password shown');
    const staff = (await hub.api('/api/v1/admin/staff')).json.find(s => s.username === 'cmorgan');
    assert(staff && staff.active && staff.password_temp && staff.crm_work_group, 'account created at the hub: ' + JSON.stringify(staff));
    assert(!JSON.stringify(staff).includes(temp), 'the account never carries the password');
    // Never shown again: the request page now says it was carried out.
    await page.reload();
    await page.waitForSelector('#view:not([hidden]) #info dd');
    assert(!(await page.locator('#temp-password').count()), 'the password is not shown again');
    assert((await page.textContent('#act-text')).includes('carried out'), 'request done');
    // The account page, with its history.
    await page.goto(hub.url + '/account.html?id=' + staff.id);
    await page.locator('#history tbody tr').first().waitFor();
    assert((await page.textContent('#info')).includes('LWIA/CBO Staff'), 'account details');
    await assertAccessible(page, 'account page');

    // The first login at an office node with that temporary password, which
    // must be changed there; the change reaches the hub.  Runs once the node
    // has staff logins (the acctnode work); until then the node serves no
    // sign-in page and this part is left out.
    const node = await startNode();
    cleanup.push(() => node.stop());
    if ((await fetch(node.url + '/login.html')).status !== 200) {
      console.log('     (first login at a node left out: this node has no staff sign-in yet)');
      return;
    }
    enrollNode(node, hub);
    await until('the node to pull the new account', async () => spawnSync('sqlite3', [join(node.data, 'node.db'),
      `SELECT count(*) FROM staff_credentials WHERE id='${staff.id}' AND password_hash IS NOT NULL`], { encoding: 'utf8' }).stdout.trim() === '1', 60000);
    const office = await page.context().newPage();
    await office.goto(node.url + '/login.html');
    await office.waitForSelector('#signin-view:not([hidden])');
    await office.fill('#username', 'cmorgan');
    await office.fill('#password', temp);
    await office.click('#signin-btn');
    await office.waitForSelector('#change-view:not([hidden])');
    const mine = 'Casey.Morgan7';
    plantSecret(mine);
    await office.fill('#new1', mine);
    await office.fill('#new2', mine);
    await office.click('#change-btn');
    await office.waitForURL(u => !String(u).includes('/login.html'), { timeout: 30000 });
    await until('the hub to take the new password', async () =>
      (await hub.api('/api/v1/admin/staff/' + staff.id)).json.password_temp === false, 60000);
  })],

  ['reset (temporary password shown once), change of group, annual recertification, each from the account page; keyboard only for the reset', () => withConsole(async (hub, page) => {
    await signIn(page, hub, { password: operationsPassword(hub) });
    const jordan = (await hub.api('/api/v1/admin/staff')).json.find(s => s.username === 'jlee');

    // Operations makes Jordan the Local Area's MIS Administrator.
    await designateMis(page, hub, jordan.id, pdf('attachment-1'), 1);
    await page.waitForFunction(() => document.getElementById('roles-err').textContent !== '');
    assert((await page.textContent('#roles-err')).includes('never holds every privilege'), 'refused while the group has every privilege');
    // Change of group: Supervisor (every privilege) to Intake Staff.
    await page.goto(hub.url + '/account.html?id=' + jordan.id);
    await page.click('#act-change');
    await page.waitForSelector('#req-form:not([hidden])');
    await page.selectOption('#privilege_group', 'LWIA Intake Staff');
    assert((await page.textContent('#privilege_group-desc')).includes('no access to reports'), 'group described');
    await page.fill('#requestor_name', 'Pat Manager');
    await page.setInputFiles('#file-request_form', pdf('change'));
    await page.click('#req-save');
    await secondApproves(page, hub);
    await page.click('#carry-out');
    await page.waitForFunction(() => document.getElementById('act-text').textContent.includes('applied'));
    const changed = (await hub.api('/api/v1/admin/staff/' + jordan.id)).json;
    assert(changed.privilege_group === 'LWIA Intake Staff' && !changed.privileges.includes('reports'), 'group changed: ' + changed.privilege_group);

    // Now the role.
    await designateMis(page, hub, jordan.id, pdf('attachment-1b'), 1);
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Roles saved'));
    assert((await hub.api('/api/v1/admin/staff/' + jordan.id)).json.roles.includes('mis_admin'), 'role granted');
    await assertAccessible(page, 'account page with roles');

    // Reset, driven from the keyboard: links, fields, file input and buttons
    // are reachable and work with Tab / Enter / Space.
    await page.goto(hub.url + '/account.html?id=' + jordan.id);
    await page.waitForSelector('#act-reset');
    await page.focus('#act-reset');
    await page.keyboard.press('Enter');
    await page.waitForURL(/kind=reset/);
    await page.waitForSelector('#req-form:not([hidden])');
    assert(await page.evaluate(() => document.activeElement.id) === 'requestor_name', 'focus starts on the first field');
    await page.keyboard.type('Pat Manager');
    await page.keyboard.press('Tab');
    await page.keyboard.type('pat@example.org');
    await page.setInputFiles('#file-request_form', pdf('reset'));
    await page.focus('#req-save');
    await page.keyboard.press('Enter');
    await page.waitForURL(/request\.html\?id=/);
    await secondApproves(page, hub, async () => { await page.focus('#approve'); await page.keyboard.press('Enter'); });
    assert((await page.textContent('#carry-out')) === 'Issue a temporary password', 'the reset action is named');
    await page.focus('#carry-out');
    await page.keyboard.press('Space');
    await page.waitForSelector('#temp-password');
    const temp = await page.inputValue('#temp-password');
    plantSecret(temp);
    assert(/valid 24 hours/.test(await page.textContent('#temp-password-note')), '24-hour note');
    assert(await page.evaluate(() => document.activeElement.id) === 'temp-password', 'focus moves to the password');
    assert((await hub.api('/api/v1/admin/staff/' + jordan.id)).json.password_temp, 'temporary password at the hub');

    // Jordan signs in to the console as an MIS Administrator: the forced
    // change first, then only the Local Area's accounts it manages (not Sam
    // Rivera's, EDD WSB staff: the SPOC's) and no replication pages.
    const ctx2 = await page.context().browser().newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const mis = await ctx2.newPage();
      await signIn(mis, hub, { username: 'jlee', password: temp, newPassword: 'Jordan.Lee55' });
      await mis.goto(hub.url + '/accounts.html');
      await mis.locator('#list tbody tr').first().waitFor();
      const listed = await mis.textContent('#list');
      assert(listed.includes('Pat Kim') && !listed.includes('Sam Rivera') && !listed.includes('CalJOBS Operations Unit'),
        'only the Local Area\'s accounts it manages: ' + listed.slice(0, 200));
      assert(await mis.locator('#top li[data-ops]:not([hidden])').count() === 0, 'replication pages not offered');
      assert(await mis.locator('#top a', { hasText: 'Accounts' }).count() === 1, 'accounts offered');
      await assertAccessible(mis, 'accounts page of an MIS Administrator');
      await mis.goto(hub.url + '/reports.html?report=review');
      await mis.waitForSelector('#reviews table, #reviews p');
      assert(await mis.locator('#draw').isHidden(), 'drawing a review is for operations');
      await mis.click('#sign-out');
      await mis.waitForURL(/\/login\.html/);
      await mis.goto(hub.url + '/accounts.html');
      await mis.waitForURL(/\/login\.html\?next=/);
    } finally { await ctx2.close(); }

    // Annual recertification with updated dates (computed once: the day
    // may turn between the form and the check), before the hub's day: it
    // refuses one past its own today, by its clock, not the machine's.
    const today = await officeDay(hub), ispa = dayAfter(today, -3);
    await page.goto(hub.url + '/account.html?id=' + jordan.id);
    await page.click('#act-recertify');
    await page.waitForSelector('#req-form:not([hidden])');
    await assertAccessible(page, 'recertification request form');
    await page.fill('#requestor_name', 'Pat Manager');
    await page.fill('#ispa_date', ispa);
    await page.fill('#confidentiality_date', dayAfter(today, -2));
    await page.fill('#business_need', 'Continues as intake staff');
    for (const f of ['request_form', 'ispa_certificate', 'confidentiality_statement']) await page.setInputFiles('#file-' + f, pdf('recert-' + f));
    await page.click('#req-save');
    await page.waitForSelector('#approve');
    assert(await page.locator('#files tbody tr').count() === 3, 'three forms uploaded with the request');
    await secondApproves(page, hub);
    await page.click('#carry-out');
    await page.waitForFunction(() => document.getElementById('act-text').textContent.includes('recertification was recorded'));
    const rec = (await hub.api('/api/v1/admin/staff/' + jordan.id)).json;
    assert(rec.ispa_date === ispa && rec.recertification_due_on > today, 'recertified: ' + JSON.stringify([rec.ispa_date, rec.recertification_due_on]));
    // The account page lists the three requests and their history.
    await page.goto(hub.url + '/account.html?id=' + jordan.id);
    await page.locator('#history tbody tr').first().waitFor();
    assert(await page.locator('#requests tbody tr').count() === 3, 'three requests on file');
    const hist = await page.textContent('#history');
    // The actions in words (issue 17: names, not codes); the code stays in the cell's title.
    for (const a of ['Password reset', 'Group, privileges or office changed', 'Annual recertification']) assert(hist.includes(a), 'history shows ' + a + ': ' + hist.slice(0, 300));
    assert(!hist.includes('staff.reset') && await page.locator('#history span[title="staff.reset"]').count() >= 1, 'the code is in the title, not the text');
    assert(!hist.includes(temp), 'no password in the history');
    assert(hist.includes('privilege group: LWIA Partner Supervisor → LWIA Intake Staff'), 'the change of group in words: ' + hist.slice(0, 600));
  })],

  ['deactivation refused until the signed form is uploaded, then done on time; audit trail and review reports', () => withConsole(async (hub, page) => {
    await signIn(page, hub, { password: operationsPassword(hub) });
    const pat = (await hub.api('/api/v1/admin/staff')).json.find(s => s.username === 'pkim');
    await page.goto(hub.url + '/account.html?id=' + pat.id);
    await page.click('#act-deactivate');
    await page.waitForURL(/request\.html\?kind=deactivate/);
    await page.waitForSelector('#req-form:not([hidden])');
    assert((await page.textContent('#for-staff-name')).includes('Pat Kim'), 'request for Pat Kim');
    await assertAccessible(page, 'deactivation request form');
    const sep = dayFromNow(2);
    await page.fill('#requestor_name', 'Pat Manager');
    await page.fill('#separation_date', sep);
    await page.click('#req-save');
    await page.waitForURL(/request\.html\?id=/);
    await page.waitForSelector('#view:not([hidden]) #info dd');
    const missing = await page.textContent('#missing');
    assert(missing.includes('cannot be deactivated until the signed request form'), 'says why: ' + missing);
    await page.click('#approve');
    await page.waitForFunction(() => document.getElementById('act-err').textContent !== '');
    assert((await hub.api('/api/v1/admin/staff/' + pat.id)).json.active, 'still active without the form');
    await page.setInputFiles('#up-file', pdf('separation'));
    await page.click('#up-btn');
    await page.waitForFunction(() => document.getElementById('missing').hidden);
    await secondApproves(page, hub);
    // Pat still owns a lead: the deactivation asks who takes it over.
    const lead = plantLead(hub, pat.id, 'Handover Hardware');
    await page.click('#carry-out');
    const dlg = page.locator('dialog[open]');
    await dlg.waitFor();
    // in the one date format of every page (MM/DD/YYYY)
    const sepShown = `${sep.slice(5, 7)}/${sep.slice(8, 10)}/${sep.slice(0, 4)}`;
    assert((await dlg.textContent()).includes(sepShown), 'the dialog names the separation date as ' + sepShown);
    await dlg.getByRole('button', { name: 'Deactivate account' }).click();
    await page.waitForSelector('#hand-over');
    assert((await page.textContent('#new_owner_id-err')).includes('1 lead'), 'names what is left behind');
    assert((await hub.api('/api/v1/admin/staff/' + pat.id)).json.active, 'still active without a new owner');
    await assertAccessible(page, 'choosing the new owner');
    const jl = (await hub.api('/api/v1/admin/staff')).json.find(s => s.username === 'jlee');
    await page.selectOption('#new_owner_id', jl.id);
    await page.click('#hand-over');
    await page.waitForFunction(() => document.getElementById('act-text').textContent.includes('deactivated'));
    const after = (await hub.api('/api/v1/admin/staff/' + pat.id)).json;
    assert(!after.active && after.deactivated_at, 'deactivated at the hub');
    assert(hub.sql(`SELECT lead_owner_id FROM employers WHERE id='${lead}'`) === jl.id, 'the lead moved to Jordan');

    // A request can be rejected, with the reason kept.
    await page.goto(hub.url + '/request.html?kind=reset&staff_id=' + encodeURIComponent((await hub.api('/api/v1/admin/staff')).json.find(s => s.username === 'srivera').id));
    await page.waitForSelector('#req-form:not([hidden])');
    await page.fill('#requestor_name', 'Pat Manager');
    await page.click('#req-save');
    await page.waitForSelector('#reject');
    await page.click('#reject');
    await page.locator('#reject-dlg[open]').waitFor();
    await page.fill('#reject-note', 'not signed by the supervisor');
    await page.locator('#reject-dlg').getByRole('button', { name: 'Reject request' }).click();
    await page.waitForFunction(() => document.getElementById('status').textContent === 'Request rejected.');
    assert((await page.textContent('#info')).includes('Rejected'), 'shown as rejected');

    // Deactivation timeliness: on time.
    await page.goto(hub.url + '/reports.html?report=deactivation');
    await page.locator('#deact tbody tr', { hasText: 'Pat Kim' }).waitFor();
    assert((await page.locator('#deact tbody tr', { hasText: 'Pat Kim' }).textContent()).includes('on time'), 'on time');
    await assertAccessible(page, 'deactivation timeliness');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dt-csv')]);
    const csv = require_text(await dl.path());
    assert(csv.startsWith('Name,User name') && csv.includes('pkim'), 'CSV: ' + csv.slice(0, 120));
    // Its cells are neutralised as the servers' are (lib/csv.c): a TAB or CR
    // first is a formula too; a plain negative number stays a number.
    const cells = await page.evaluate(async () =>
      (await import('/console.js')).toCsv(['a', 'b', 'c', 'd'], [['-5', '-1+2', '\tx', '=1']]));
    assert(cells === 'a,b,c,d\r\n-5,"\'-1+2","\'\tx","\'=1"\r\n', 'CSV cells: ' + JSON.stringify(cells));

    // The audit trail, filtered by action and actor.
    await page.goto(hub.url + '/audit.html');
    await page.fill('#f-action', 'staff.deactivate');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('1 event'));
    assert((await page.textContent('#list')).includes('operations'), 'actor shown');
    assert((await page.textContent('#list')).includes('Account deactivated') && !(await page.textContent('#list')).includes('staff.deactivate'), 'the action in words');
    await assertAccessible(page, 'audit trail');
    await page.fill('#f-action', '');
    await page.fill('#f-actor', 'nobody-at-all');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.getElementById('list').textContent.includes('No event matches'));
    // Dates: the deactivation's day has it, the next has nothing; from after
    // to is refused.  (Its own day, not today's: the day may have turned since.)
    const today = isoDay(after.deactivated_at);
    const tomorrow = new Date(Date.parse(today + 'T00:00:00Z') + 86400000).toISOString().slice(0, 10);
    await page.fill('#f-actor', 'operations');
    await page.fill('#f-action', 'staff.deactivate');
    await page.fill('#f-from', today);
    await page.fill('#f-to', tomorrow);
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('1 event'));
    await page.fill('#f-from', tomorrow);
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.getElementById('list').textContent.includes('No event matches'));
    await page.fill('#f-to', today);
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#filters .form-err').textContent.includes('after'));
    assert((await page.getAttribute('#error-summary a', 'href')) === '#f-from', 'the summary links to From');

    // Recertification: Sam's documents are 13 months old (overdue), Jordan's
    // 350 days (due within 30 days).
    const staffNow = (await hub.api('/api/v1/admin/staff')).json;
    const sam = staffNow.find(x => x.username === 'srivera'), jordan = staffNow.find(x => x.username === 'jlee');
    hub.sql(`INSERT OR REPLACE INTO staff_records(id, ispa_date, conf_type, conf_date) VALUES
      ('${sam.id}', '${daysAgo(400)}', 'E-1', '${daysAgo(395)}'), ('${jordan.id}', '${daysAgo(350)}', 'E-1', '${daysAgo(349)}')`);
    await page.goto(hub.url + '/accounts.html?recert=overdue');
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('1 account'));
    assert((await page.textContent('#list')).includes('Sam Rivera') && (await page.textContent('#list')).includes('Overdue'), 'overdue filter');
    await page.selectOption('#f-recert', 'due');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.getElementById('list').textContent.includes('Jordan Lee'));
    assert(!(await page.textContent('#list')).includes('Sam Rivera'), 'due filter leaves the overdue one out');
    await page.goto(hub.url + '/reports.html?report=recert');
    await page.waitForSelector('#recert h3');
    const rc = await page.textContent('#recert');
    // Accounts with no training or confidentiality date at all count as
    // overdue too (issue 16), so the overdue count includes the demo staff.
    const [overdue, due] = rc.split('Coming due within 30 days');
    assert(/Overdue \(\d+\)/.test(overdue) && overdue.includes('Sam Rivera') && !overdue.includes('Jordan Lee') &&
           due !== undefined && /^ \(1\)/.test(due) && due.includes('Jordan Lee'),
           'recertification report: ' + rc.slice(0, 200));
    await assertAccessible(page, 'recertification report');
    const [rdl] = await Promise.all([page.waitForEvent('download'), page.click('#rc-csv')]);
    const rcsv = require_text(await rdl.path());
    assert(/^overdue,Sam Rivera,srivera/m.test(rcsv) && /^due,Jordan Lee,jlee/m.test(rcsv), 'recertification CSV: ' + rcsv);
    await page.getByRole('link', { name: 'Recertify Sam Rivera' }).click();
    await page.waitForURL(/kind=recertify/);
    await page.waitForSelector('#req-form:not([hidden])');
    assert((await page.textContent('#for-staff-name')).includes('Sam Rivera'), 'recertification request started');

    // Quarterly review: draw, record every result, complete.
    await page.goto(hub.url + '/reports.html?report=review');
    await page.fill('#d-size', '3');
    await page.click('#d-draw');
    await page.waitForURL(/review=/);
    await page.locator('#review tbody tr').first().waitFor();
    await assertAccessible(page, 'quarterly review');
    await page.click('#complete');
    await page.waitForFunction(() => document.getElementById('reported_to-err').textContent !== '');
    await page.fill('#reported_to', 'Director, Demo Local Area');
    await page.click('#complete');
    await page.waitForFunction(() => document.querySelector('#review .form-err').textContent !== '');
    const n = await page.locator('#review tbody tr').count();
    for (let i = 0; i < n; i++) {
      const row = page.locator('#review tbody tr').nth(i);
      await row.locator('select').selectOption(i === 0 ? 'fail' : 'pass');
      await row.getByRole('button', { name: /^Save result/ }).click();
      await row.locator('[role=status]', { hasText: 'Saved.' }).waitFor();
    }
    await page.click('#complete');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'Review completed.');
    const [rvdl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const rvcsv = require_text(await rvdl.path()).trim().split(/\r\n/);
    assert(rvcsv[0].startsWith('Account,User name,Active') && rvcsv.length === n + 1 &&
      rvcsv.filter(l => /,fail,/.test(l)).length === 1, 'review CSV: ' + rvcsv.join(' | '));
    assert((await page.textContent('#review')).includes('reported to Director, Demo Local Area'), 'completed and reported');
    await assertAccessible(page, 'completed review');
  })],

  ['leave and separation from the account page (suspension handing the caseload over, reactivation, a scheduled deactivation); designation needs Attachment 1 and the training date; a quarter without a review flagged', () => withConsole(async (hub, page) => {
    await signIn(page, hub, { password: operationsPassword(hub) });
    const all = (await hub.api('/api/v1/admin/staff')).json;
    const sam = all.find(s => s.username === 'srivera'), jordan = all.find(s => s.username === 'jlee'),
      pat = all.find(s => s.username === 'pkim');
    const lead = plantLead(hub, sam.id, 'Leave Coverage Lumber');

    // Suspension (extended leave): refused until a new owner is chosen.
    await page.goto(hub.url + '/account.html?id=' + sam.id);
    await page.waitForSelector('#state-card:not([hidden]) #suspend-form:not([hidden])');
    await assertAccessible(page, 'account page with leave and separation');
    await page.click('#suspend-save');
    await page.waitForFunction(() => document.getElementById('suspend-reason-err').textContent !== '');
    await page.fill('#suspend-reason', 'extended leave');
    await page.click('#suspend-save');
    await page.waitForFunction(() => document.getElementById('suspend-new_owner_id-err').textContent.includes('1 lead'));
    assert(!(await hub.api('/api/v1/admin/staff/' + sam.id)).json.suspended, 'not suspended without a new owner');
    await page.selectOption('#suspend-new_owner_id', jordan.id);
    await page.click('#suspend-save');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('suspended'));
    assert((await hub.api('/api/v1/admin/staff/' + sam.id)).json.suspended, 'suspended at the hub');
    assert(hub.sql(`SELECT lead_owner_id FROM employers WHERE id='${lead}'`) === jordan.id, 'the lead moved to Jordan');
    assert((await page.textContent('#info')).includes('Suspended'), 'shown as suspended');
    // Back from leave: the same user name.
    await page.click('#reactivate-save');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('active again'));
    const back = (await hub.api('/api/v1/admin/staff/' + sam.id)).json;
    assert(!back.suspended && back.username === 'srivera', 'reactivated, same user name');

    // A deactivation scheduled for the separation date, from its approved
    // request: days after the hub's day (it judges "future" by its clock,
    // not the machine's), as the training date below is days before it.
    const today = await officeDay(hub), sep = dayAfter(today, 5);
    await page.click('#act-deactivate');
    await page.waitForSelector('#req-form:not([hidden])');
    await page.fill('#requestor_name', 'Pat Manager');
    await page.fill('#separation_date', sep);
    await page.setInputFiles('#file-request_form', pdf('separation-sam'));
    await page.click('#req-save');
    await secondApproves(page, hub);
    await page.goto(hub.url + '/account.html?id=' + sam.id);
    await page.waitForSelector('#schedule-form:not([hidden])');
    await page.click('#schedule-save');
    // Asked first, saying the date (a future one: nothing happens at once).
    const ask = page.locator('dialog[open]');
    await ask.waitFor();
    assert(!/immediately/.test(await ask.textContent()), 'a future date is not said to take effect at once: ' + await ask.textContent());
    await ask.getByRole('button', { name: 'Schedule the deactivation' }).click();
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('scheduled'));
    const sched = (await hub.api('/api/v1/admin/staff/' + sam.id)).json;
    assert(sched.deactivate_on === sep && sched.active, 'scheduled for ' + sep + ': ' + sched.deactivate_on);
    assert((await page.textContent('#info')).includes('Deactivation scheduled for'), 'the date is shown');

    // Designating an administrator: Attachment 1 and the training date first.
    await page.goto(hub.url + '/account.html?id=' + pat.id);
    await page.waitForSelector('#roles-card:not([hidden])');
    await page.check('#role-mis_admin');
    await page.click('#roles-save');
    await page.waitForFunction(() => document.getElementById('role-admin_training_date-err').textContent !== '');
    assert((await page.textContent('#role-attachment_id-err')).includes('Attachment 1'), 'the form is asked for too');
    assert(!(await hub.api('/api/v1/admin/staff/' + pat.id)).json.roles.length, 'no role without them');
    await page.setInputFiles('#role-attachment_id', pdf('attachment-1-pat'));
    const trained = dayAfter(today, -2);
    await page.fill('#role-admin_training_date', trained);
    await page.click('#roles-save');
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Roles saved'));
    const adm = (await hub.api('/api/v1/admin/staff/' + pat.id)).json;
    assert(adm.roles.includes('mis_admin') && adm.admin_training_date === trained && adm.admin_form_id, 'designation stored');
    const info = await page.textContent('#info');
    assert(info.includes('Administrator training') && info.includes('Download the signed designation form'), 'shown: ' + info.slice(0, 300));

    // A review drawn two quarters ago and never completed: that quarter and
    // the next are flagged on the home page and on the review report.  Two
    // quarters before the hub's, which counts them from its own day: not
    // the machine's date (the hub's clock is what it judges by), and never
    // across the quarter's first midnight while the pages are checked.
    const [y, m] = (await officeDay(hub, 120)).split('-').map(Number), qn = Math.floor((m - 1) / 3) - 2;
    const old = qn < 0 ? `${y - 1}-Q${qn + 5}` : `${y}-Q${qn + 1}`;
    assert((await hub.api('/api/v1/admin/reviews', { quarter: old, sample_size: 1 })).status === 201, 'old review drawn');
    await page.goto(hub.url + '/');
    await page.waitForSelector('#review-flag:not([hidden])');
    const flag = await page.textContent('#review-flag');
    assert(flag.includes(old) && (flag.match(/\d{4}-Q\d/g) || []).length === 2, 'flagged: ' + flag);
    await assertAccessible(page, 'home page with a skipped quarter');
    await page.goto(hub.url + '/reports.html?report=review');
    await page.waitForSelector('#review-missed:not([hidden])');
    assert((await page.textContent('#review-missed')).includes(old), 'flagged on the review report');
  })],

  ['enrollment code shown once and used by a real node; node list with lag and version; revoke with confirmation', () => withConsole(async (hub, page, cleanup) => {
    await signIn(page, hub, { password: operationsPassword(hub) });
    const n1 = await startNode();
    let n1Up = true;
    cleanup.push(() => n1Up && n1.stop());
    enrollNode(n1, hub);
    await until('the first node to pull', async () => {
      const r = await hub.api('/api/v1/nodes');
      return r.json.length === 1 && r.json[0].last_pull_ms;
    });

    // A password chosen at an office that the hub refused (as acct_apply
    // records one when a reset came in between) is shown on the overview.
    hub.sql(`INSERT INTO credential_change_status(id, staff_id, node_id, reason, changed_at, status, why, decided_at)
      VALUES('cc-test', '0190a000-0000-7000-8000-0000000000b3', 'node-x', 'first_login', ${Date.now()}, 'refused',
             'the hub reset this password after the office changed it', ${Date.now()})`);
    await page.goto(hub.url + '/');
    await page.waitForFunction(() => document.getElementById('s-nodes').textContent === '1');
    await page.waitForSelector('#cred-sec:not([hidden])');
    assert((await page.textContent('#cred')).includes('pkim') && (await page.textContent('#cred')).includes('reset this password'), 'refused change listed');
    assert(!(await page.textContent('#cred')).includes('node-x'), 'no node id in the refused changes: ' + await page.textContent('#cred'));
    await assertAccessible(page, 'overview');

    await page.goto(hub.url + '/nodes.html');
    await page.locator('#nodes tbody tr').first().waitFor();
    assert((await page.textContent('#nodes')).includes('Up to date'), 'the synced node is up to date');
    // Names, not ids: the office and its Local Area, no node or office id in the text.
    const la = (await hub.api('/api/v1/admin/local-areas')).json.find(x => x.id === 'demo-la');
    const nodeId = (await hub.api('/api/v1/nodes')).json[0].id;
    const nodeRow = await page.textContent('#nodes tbody tr');
    assert(nodeRow.includes(la.name) && !nodeRow.includes(nodeId) && !/demo-office|demo-la/.test(nodeRow), 'office and Local Area by name: ' + nodeRow);
    assert(!/demo-office|demo-la/.test(await page.textContent('#offices')), 'no office ids in the offices table');
    // The Version column: the release and schema version the node last spoke with, the hub's.
    const me = (await hub.api('/api/v1/nodes')).json[0];
    const heads = await page.$$eval('#nodes thead th', t => t.map(x => x.textContent));
    assert(heads.includes('Version'), 'a Version column: ' + heads.join(' | '));
    assert(me.release && me.schema_version === me.hub_schema_version &&
      nodeRow.includes(`${me.release}, schema ${me.schema_version}`) && !/refused/.test(nodeRow), 'the version it runs: ' + nodeRow);
    await assertAccessible(page, 'nodes page');

    // A code without an office is refused in place, with the error summary.
    await page.click('#code-create');
    assert((await page.textContent('#code-office_id-err')).includes('Choose the office'), 'office required');
    assert(await page.getAttribute('#code-office_id', 'aria-invalid') === 'true', 'office marked invalid');
    assert(await page.getAttribute('#error-summary a', 'href') === '#code-office_id', 'the summary links to the field');
    // A new office with nothing filled in: every missing field at once, from the hub.
    await page.click('#of-add');
    await page.waitForFunction(() => document.querySelectorAll('#error-summary li').length === 2);
    const sum = await page.textContent('#error-summary');
    assert(sum.includes('There is a problem') && sum.includes('Enter name') && sum.includes('Choose Local Area') && !/local_area_id|is required/.test(sum), 'both in plain words: ' + sum);
    assert(await page.evaluate(() => document.activeElement.id) === 'error-summary', 'the summary takes the focus');
    assert(await page.getAttribute('#of-local_area_id', 'aria-invalid') === 'true' && (await page.textContent('#of-name-err')).length > 0, 'each field marked');
    await assertAccessible(page, 'nodes page with the error summary');
    await page.screenshot({ path: `${OUT}/console-error-summary-1280.png` });
    await page.selectOption('#code-office_id', 'demo-office-2');
    await page.click('#code-create');
    await page.waitForSelector('#enroll-code');
    const code = await page.inputValue('#enroll-code');
    assert(CODE_RE.test(code), 'a code of the documented form: ' + code);
    const note = await page.textContent('#enroll-code-note');
    assert(/only this once/i.test(note) && /24 hours/.test(note), 'shown-once and 24-hour note: ' + note);
    assert(/--code - /.test(note) && !/--code CODE/.test(note), 'the code kept off the command line: ' + note);
    await assertAccessible(page, 'nodes page with a code shown');

    // The code enrolls a second office computer, once.
    const n2 = await startNode();
    cleanup.push(() => n2.stop());
    const { spawnSync } = await import('node:child_process');
    const { BIN } = await import('./lib.mjs');
    const enroll = () => spawnSync(BIN + '/outpost-sync', ['enroll', '--hub', hub.url, '--code', code, '--data', n2.data], { encoding: 'utf8' });
    assert(enroll().status === 0, 'the code from the console enrolls a node');
    await page.reload();
    await until('two nodes listed', async () => (await page.locator('#nodes tbody tr').count()) === 2);
    assert((await page.textContent('#nodes')).includes('Demo Satellite Job Center'), 'node of the satellite office listed');

    // Revoke the second one: a dialog asks first; Cancel changes nothing.
    const n2id = (await hub.api('/api/v1/nodes')).json.find(n => n.office_id === 'demo-office-2').id;
    const row = page.locator('#nodes tbody tr', { hasText: 'Demo Satellite Job Center' });
    await row.getByRole('button', { name: /^Revoke node/ }).click();
    const dlg = page.locator('dialog[open]');
    await dlg.waitFor();
    assert((await dlg.textContent()).includes('cannot be undone'), 'the dialog says what revoking does');
    await assertAccessible(page, 'revoke dialog');
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    assert(!(await hub.api('/api/v1/nodes')).json.find(n => n.id === n2id).revoked, 'Cancel keeps the node');
    await row.getByRole('button', { name: /^Revoke node/ }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Revoke node' }).click();
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('revoked'));
    assert((await hub.api('/api/v1/nodes')).json.find(n => n.id === n2id).revoked, 'the hub revoked the node');
    assert(await page.locator('#nodes tbody tr').count() === 1, 'revoked nodes hidden by default');
    await page.check('#show-revoked');
    assert((await page.textContent('#nodes')).includes('Revoked'), 'shown as revoked on request');

    // The revocation gave demo-la a new SSN key; the older one is retired
    // from the Local Areas table once the stored SSNs are under the new one.
    // An office computer not synced since (here one that never pulls) makes
    // the hub refuse, saying so, and a dialog says what retiring past it
    // does; Keep the keys keeps them.
    const keys = () => hub.sql("SELECT count(*) FROM case_keys WHERE local_area_id='demo-la'");
    assert(keys() === '2', 'two keys after the revocation: ' + keys());
    await until('the stored SSNs under the new key', async () =>
      hub.sql("SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'") === '2');
    hub.sql(`INSERT INTO nodes(id, office_id, local_area_id, secret_hex, enrolled_at, revoked_at, pull_cursor)
      VALUES('node-offline', 'demo-office', 'demo-la', 'x', 1, NULL, 0)`);
    const laRow = page.locator('#areas tbody tr', { hasText: la.name });
    await laRow.getByRole('button', { name: /^Retire older keys of/ }).click();
    const rdlg = page.locator('dialog[open]');
    await rdlg.waitFor();
    const refusal = await page.textContent('#areas-msg');
    assert(refusal.includes('not pulled since') && refusal.includes('node-offline'), 'the refusal, naming the node: ' + refusal);
    // in the console's words: no command-line option to give here
    assert(!refusal.includes('--force') && refusal.includes('Retire anyway'), 'the way past, as the console has it: ' + refusal);
    const rtext = await rdlg.textContent();
    assert(rtext.includes('node-offline') && rtext.includes('quarantined') && rtext.includes('recorded again') &&
      rtext.includes('cannot be undone'), 'the dialog says what retiring past it does: ' + rtext);
    await assertAccessible(page, 'retire SSN keys dialog');
    await rdlg.getByRole('button', { name: 'Keep the keys' }).click();
    assert(keys() === '2', 'Keep the keys keeps them');
    await laRow.getByRole('button', { name: /^Retire older keys of/ }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Retire anyway' }).click();
    await page.waitForFunction(() => document.getElementById('areas-msg').textContent.includes('Retired past'));
    assert((await page.textContent('#areas-msg')).includes('node-offline'), 'the node it went past named');
    assert(keys() === '1', 'the older key retired: ' + keys());
    assert(hub.sql("SELECT count(*) FROM hub_audit_events WHERE action='ssn_key.retire' AND subject='demo-la'") === '1', 'audited');
    hub.sql("DELETE FROM nodes WHERE id='node-offline'");

    // A new Local Area and office, ready for an enrollment code.
    await page.click('#la-add');
    // (the hub answers it now, with every missing field: wait for the answer)
    await page.waitForFunction(() => document.getElementById('la-name-err').textContent.includes('name'));
    await page.fill('#la-name', 'Golden Sierra');
    await page.click('#la-add');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'Golden Sierra added.');
    await page.waitForSelector('#of-local_area_id option:has-text("Golden Sierra")', { state: 'attached' });
    const laId = await page.$eval('#of-local_area_id', s => [...s.options].find(o => o.text === 'Golden Sierra').value);
    await page.fill('#of-name', 'Auburn Job Center');
    await page.selectOption('#of-local_area_id', laId);
    await page.fill('#of-address', '1 Main St, Auburn, CA 95603');
    await page.click('#of-add');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'Auburn Job Center added.');
    assert((await page.textContent('#offices')).includes('Auburn Job Center'), 'office listed');
    assert((await page.textContent('#code-office_id')).includes('Auburn Job Center'), 'and offered for an enrollment code');
    await assertAccessible(page, 'nodes page after adding places');

    // A node of another schema version than the hub's (which refuses it) is
    // marked with the side to upgrade: the office PC when it is older, the
    // hub when the office PC went first.  (Stopped, so it states no other.)
    await n1.stop();
    n1Up = false;
    const hs = me.hub_schema_version;
    for (const [v, mark] of [[hs - 1, 'refused, upgrade this office PC'], [hs + 1, `refused, upgrade the hub (schema ${hs})`]]) {
      hub.sql(`UPDATE nodes SET schema_version=${v} WHERE id='${me.id}'`);
      await page.reload();
      const row = page.locator('#nodes tbody tr', { hasText: `schema ${v}` });
      await row.waitFor();
      const text = await row.textContent();
      assert(text.includes(`${me.release}, schema ${v} — ${mark}`), 'marked: ' + text);
    }
    await assertAccessible(page, 'nodes page with a node the hub refuses');
  })],

  ['a Local Area\'s SSN key rotated from the Local Areas table after a confirmation, by keyboard; the hub\'s refusal shown as it words it; no key buttons for an MIS Administrator', () => withConsole(async (hub, page) => {
    await signIn(page, hub, { password: operationsPassword(hub) });
    const area = async id => (await hub.api('/api/v1/admin/local-areas')).json.find(x => x.id === id);
    const la = await area('demo-la');
    const epoch = la.ssn_key_epoch;
    assert(epoch >= 1 && la.ssn_keys === epoch, 'the list gives the newest epoch and the keys held: ' + JSON.stringify(la));
    const rotations = () => hub.sql("SELECT count(*) FROM hub_audit_events WHERE action='ssn_key.rotate' AND subject='demo-la'");
    await page.goto(hub.url + '/nodes.html');
    const laRow = page.locator('#areas tbody tr', { hasText: la.name });
    await laRow.getByRole('button', { name: `Rotate key of ${la.name}` }).waitFor();
    assert((await laRow.textContent()).includes(`Epoch ${epoch}`), 'the newest epoch listed: ' + await laRow.textContent());
    assert(await laRow.getByRole('button', { name: `Retire older keys of ${la.name}` }).count() === 1, 'beside Retire older keys');

    // The dialog says what a rotation does (README "SSN key rotation");
    // its Keep the current key changes nothing.
    await laRow.getByRole('button', { name: /^Rotate key of/ }).click();
    const dlg = page.locator('dialog[open]');
    await dlg.waitFor();
    const text = await dlg.textContent();
    assert(text.includes(`new SSN key (epoch ${epoch + 1})`) && text.includes('new SSNs are written under it') &&
      text.includes('writes the SSNs it holds again') && text.includes('at its next sync') &&
      text.includes('older keys stay') && text.includes('retired here'), 'the dialog says what a rotation does: ' + text);
    await assertAccessible(page, 'rotate SSN key dialog');
    await dlg.getByRole('button', { name: 'Keep the current key' }).click();
    await dlg.waitFor({ state: 'detached' });
    assert((await area('demo-la')).ssn_key_epoch === epoch && rotations() === '0', 'Keep the current key rotates nothing');

    // By keyboard: Enter on the button, the dialog's focus on its safe
    // answer, Shift+Tab to Rotate key, Enter.  The list shows the new epoch
    // and the focus is back on the button.
    await laRow.getByRole('button', { name: /^Rotate key of/ }).focus();
    await page.keyboard.press('Enter');
    await dlg.waitFor();
    assert(await page.evaluate(() => document.activeElement.textContent) === 'Keep the current key', 'the focus on the safe answer');
    await page.keyboard.press('Shift+Tab');
    assert(await page.evaluate(() => document.activeElement.textContent) === 'Rotate key', 'Rotate key next to it');
    await page.keyboard.press('Enter');
    await page.waitForFunction(e => document.getElementById('status').textContent.includes(`new SSN key, epoch ${e}`), epoch + 1);
    const after = await area('demo-la');
    assert(after.ssn_key_epoch === epoch + 1 && after.ssn_keys === epoch + 1, 'the hub made the next epoch: ' + JSON.stringify(after));
    assert(rotations() === '1', 'audited');
    await until('the list refreshed', async () => (await laRow.textContent()).includes(`Epoch ${epoch + 1}, ${epoch} older key`));
    assert(await page.evaluate(() => document.activeElement.id) === 'key-rotate-demo-la', 'the focus back on Rotate key');
    assert(!(await page.textContent('#areas-msg')), 'no error');
    await assertAccessible(page, 'nodes page after a rotation');

    // A refusal is shown as the hub words it: a Local Area whose keys went
    // away after the page listed it.
    const made = await hub.api('/api/v1/admin/local-areas', { id: 'gone-la', name: 'Gone Area' });
    assert(made.status === 201, 'a second Local Area: ' + made.text);
    await page.reload();
    const goneRow = page.locator('#areas tbody tr', { hasText: 'Gone Area' });
    await goneRow.getByRole('button', { name: /^Rotate key of/ }).waitFor();
    hub.sql("DELETE FROM case_keys WHERE local_area_id='gone-la'");
    await goneRow.getByRole('button', { name: /^Rotate key of/ }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Rotate key' }).click();
    await page.waitForFunction(() => document.getElementById('areas-msg').textContent !== '');
    const refusal = await page.textContent('#areas-msg');
    assert(refusal === "Could not rotate the SSN key: no Local Area 'gone-la' with an SSN key", 'the hub\'s words: ' + refusal);
    await until('the list read again', async () => (await goneRow.textContent()).includes('No SSN key'));

    // An MIS Administrator of the Local Area may open the page but is
    // offered neither key button (the hub refuses both to it).
    const mis = 'b0c0d000-0000-7000-8000-00000000a001';
    const misPw = 'Mis.Admin42';
    hub.sql(`INSERT INTO staff(id, username, display_name, local_area_id, office_id, privilege_group, roles, active, updated_hlc)
             VALUES('${mis}', 'misconsole', 'Morgan Admin', 'demo-la', 'demo-office', 'View Access', 'mis_admin', 1, '000000000002.0000.hub');
             INSERT INTO staff_credentials(id, local_area_id, password_hash, password_temp, updated_hlc)
             VALUES('${mis}', 'demo-la', '${await storedPassword(misPw)}', 0, '000000000002.0000.hub');`);
    const ctx2 = await page.context().browser().newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const other = await ctx2.newPage();
      await other.goto(hub.url + '/login.html');
      await other.fill('#username', 'misconsole');
      await other.fill('#password', misPw);
      await other.click('#signin-btn');
      await other.waitForURL(u => !u.pathname.startsWith('/login'));
      await other.goto(hub.url + '/nodes.html');
      const row = other.locator('#areas tbody tr', { hasText: la.name });
      await until('the Local Areas listed', async () => (await row.textContent()).includes(`Epoch ${epoch + 1}`));
      assert(await other.locator('#areas button').count() === 0, 'no Rotate key or Retire older keys: ' + await other.textContent('#areas'));
      const r = await other.evaluate(async () => {
        const s = await (await fetch('/api/v1/admin/session')).json();
        const res = await fetch('/api/v1/admin/local-areas/demo-la/ssn-key/rotate', { method: 'POST', headers: { 'X-CSRF-Token': s.csrf_token } });
        return res.status;
      });
      assert(r === 403, 'the hub refuses it: ' + r);
    } finally { await ctx2.close(); }
    assert((await area('demo-la')).ssn_key_epoch === epoch + 1, 'still the one rotation');
  })],

  ['enrollment codes not used yet listed by office; Cancel asks first, and a cancelled code enrolls nothing', () => withConsole(async (hub, page) => {
    await signIn(page, hub, { password: operationsPassword(hub) });
    const offices = (await hub.api('/api/v1/offices')).json;
    const nameOf = id => offices.find(o => o.id === id).name;
    // One made at the hub machine (the CLI) is listed too.
    const cliCode = hub.enrollCode('demo-office-2');
    plantSecret(cliCode);
    await page.goto(hub.url + '/nodes.html');
    await page.locator('#codes tbody tr').first().waitFor();
    assert((await page.textContent('#codes')).includes(nameOf('demo-office-2')), 'the CLI\'s code listed by office name');
    await page.selectOption('#code-office_id', 'demo-office');
    await page.click('#code-create');
    await page.waitForSelector('#enroll-code');
    const code = await page.inputValue('#enroll-code');
    plantSecret(code);
    await until('both codes listed', async () => (await page.locator('#codes tbody tr').count()) === 2);
    const listed = (await page.textContent('#codes')).replace(/-/g, '');
    for (const c of [code, cliCode]) assert(!listed.includes(c.replace(/-/g, '').slice(0, 8)), 'no code in the list: ' + listed);
    await assertAccessible(page, 'nodes page with codes not used yet');

    // Cancel: a dialog asks first; its Keep code keeps the code.
    const row = page.locator('#codes tbody tr', { hasText: nameOf('demo-office') });
    const pending = async () => (await hub.api('/api/v1/enroll-codes')).json.filter(c => c.office_id === 'demo-office' && c.state === 'pending').length;
    await row.getByRole('button', { name: /^Cancel code for/ }).click();
    const dlg = page.locator('dialog[open]');
    await dlg.waitFor();
    assert((await dlg.textContent()).includes('enroll no computer'), 'the dialog says what cancelling does');
    await assertAccessible(page, 'cancel code dialog');
    await dlg.getByRole('button', { name: 'Keep code', exact: true }).click();
    assert(await pending() === 1, 'Keep code in the dialog keeps the code');
    await row.getByRole('button', { name: /^Cancel code for/ }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel code' }).click();
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('cancelled'));
    assert(await pending() === 0, 'the hub cancelled the code');
    assert(await page.locator('#codes tbody tr').count() === 1, 'only the other office\'s code left');
    assert(!(await page.locator('#enroll-code').count()), 'the cancelled code is no longer shown');
    assert(await page.evaluate(() => document.activeElement.id) === 'codes-h', 'the focus on the list\'s heading');
    await assertAccessible(page, 'nodes page after a cancel');

    // The cancelled code enrolls nothing, and says why; the other still works.
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const enroll = c => spawnSync(join(BIN, 'outpost-sync'), ['enroll', '--hub', hub.url, '--code', c,
      '--data', mkdtempSync(join(tmpdir(), 'outpost-enroll-'))], { encoding: 'utf8' });
    const r = enroll(code);
    assert(r.status === 4 && r.stderr.includes('cancelled'), 'the cancelled code refused: ' + r.stderr);
    assert(enroll(cliCode).status === 0, 'the other code enrolls');

    // In the audit trail, in words.
    await page.goto(hub.url + '/audit.html?source=hub');
    await page.waitForSelector('#list table');
    assert((await page.textContent('#list')).includes('Enrollment code cancelled'), 'audited, in words');
    assert(await page.locator('#list span[title="enroll_code.cancel"]').count() === 1, 'the code in the title');
  })],

  ['conflict side by side, resolved by an edit that reaches the office; quarantined entry reviewed and marked handled', () => withConsole(async (hub, page, cleanup) => {
    await signIn(page, hub, { password: operationsPassword(hub) });
    const node = await startNode();
    cleanup.push(() => node.stop());
    // A real change made at the office, kept before enrolling, becomes the
    // quarantined entry (as the hub keeps a refused one).
    const reasons = (await node.api('/api/v1/greeter/reasons')).json;
    const ci = await node.api('/api/v1/checkins', { visitor_name: 'Quinn Refused', reason_ids: [reasons[0].id], language: 'en' });
    assert(ci.status === 201, 'check-in at the office');
    // Read before enrolling: the node's first push takes it out of the outbox.
    const ob = spawnSync('sqlite3', ['-separator', '|', join(node.data, 'node.db'),
      "SELECT seq, hlc, quote(actor), hex(changeset) FROM outbox ORDER BY seq LIMIT 1"], { encoding: 'utf8' });
    const [seq, hlc, actor, changeset] = ob.stdout.trim().split('|');
    assert(ob.status === 0 && changeset, 'the check-in in the outbox: ' + ob.stderr);
    enrollNode(node, hub);
    const nodeId = await until('the node to enroll', async () => (await hub.api('/api/v1/nodes')).json[0]?.id);
    const now = Date.now();
    hub.sql(`INSERT INTO quarantine(id, node_id, seq, tbl, reason, changeset, hlc, actor, created_at)
        VALUES('q-test', '${nodeId}', ${Number(seq)}, 'checkins', 'checkins: reason is not offered at this office',
          X'${changeset}', '${hlc}', ${actor}, ${now});
      INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner,
        local_hlc, remote_hlc, node_id, actor, origin_seq, created_at, updated_hlc)
      VALUES('c-test', 'offices', 'demo-office', 'address', '"100 Main Street, Sacramento, CA 95814"',
        '"100 Main Street, Suite 4, Sacramento, CA 95814"', '"12 K Street, Sacramento, CA 95814"', 'local',
        '', '', '${nodeId}', 'demo', 1, ${now}, '');
      INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner,
        local_hlc, remote_hlc, node_id, actor, origin_seq, created_at, updated_hlc, resolved_at, resolved_by, reason)
      VALUES('c-rule', 'offices', 'demo-office', 'address', '"1 Old Road"', '"1 Old Road"', '"1 Rule Road"', 'local',
        '', '', '${nodeId}', 'demo', 2, ${now - 1000}, '', ${now}, 'ops',
        'the office''s edit of a record the hub had changed since would break a rule: offices: example');`);

    await page.goto(hub.url + '/conflicts.html');
    const crow = page.locator('#conflicts tbody tr', { hasText: '12 K Street' });
    await crow.waitFor();
    assert((await crow.textContent()).includes('Suite 4'), 'hub value in the list');
    await assertAccessible(page, 'conflicts page');
    await crow.getByRole('button', { name: /^Review conflict/ }).click();
    await page.locator('#c-dlg[open]').waitFor();
    const vals = await page.textContent('#c-values');
    for (const v of ['100 Main Street, Sacramento', 'Suite 4', '12 K Street'])
      assert(vals.includes(v), `side by side shows ${v}: ${vals}`);
    await assertAccessible(page, 'conflict dialog');
    // Keyboard: choose the office's value and resolve.
    await page.focus('#keep-office');
    await page.keyboard.press('Space');
    assert(await page.isChecked('#keep-office'), 'office value chosen from the keyboard');
    await page.fill('#c-note', 'office moved in March');
    await page.click('#c-resolve');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('resolved'));
    assert(!(await page.locator('#c-dlg[open]').count()), 'dialog closed');
    assert(await page.locator('#conflicts tbody tr').count() === 0, 'no open conflict left');
    const off = (await hub.api('/api/v1/offices')).json.find(o => o.id === 'demo-office');
    assert(off.address === '12 K Street, Sacramento, CA 95814', 'the hub row edited: ' + off.address);
    // The edit replicates: the office node pulls it.
    await until('the office to pull the resolution', async () => {
      const r = await node.api('/healthz');
      void r;
      const { spawnSync } = await import('node:child_process');
      const q = spawnSync('sqlite3', [node.data + '/node.db', "SELECT address FROM offices WHERE id='demo-office'"], { encoding: 'utf8' });
      return q.stdout.trim() === '12 K Street, Sacramento, CA 95814';
    }, 30000);
    await page.selectOption('#c-show', 'all');
    await page.locator('#conflicts tbody tr', { hasText: 'Resolved' }).first().waitFor();
    // One the hub kept because the merged row would break a rule says so.
    const rrow = page.locator('#conflicts tbody tr', { hasText: '1 Rule Road' });
    assert((await rrow.textContent()).includes('a rule'), 'the list says a rule kept the hub value');
    await rrow.getByRole('button', { name: /^Review conflict/ }).click();
    await page.locator('#c-dlg[open]').waitFor();
    const why = await page.textContent('#c-reason');
    assert(why.includes('the hub had changed since would break a rule: offices: example'), 'the reason shown: ' + why);
    await page.keyboard.press('Escape');
    await page.locator('#c-dlg[open]').waitFor({ state: 'detached' });

    // Two offices' corrections of one employer service: shown in words,
    // only acknowledged (a service is never edited).
    const svcRow = (id, code) => JSON.stringify({ id, code, start_date: '2026-01-05', voided: 0, corrects_id: 's-0' });
    hub.sql(`INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner,
        local_hlc, remote_hlc, node_id, actor, origin_seq, created_at, updated_hlc, reason)
      VALUES('c-svc', 'employer_services', 's-2', 'corrects_id', '${JSON.stringify({ id: 's-0', code: 'E20', start_date: '2026-01-05', voided: 0 })}',
        '${svcRow('s-1', 'E22')}', '${svcRow('s-2', 'E21')}', 'remote', '', '', '${nodeId}', 'demo', 3, ${now}, '',
        'Two corrections of one service were made while offline: the later one counts.');`);
    await page.selectOption('#c-show', 'open');
    const srow = page.locator('#conflicts tbody tr', { hasText: 'two corrections of one service' });
    await srow.waitFor();
    for (const v of ['E20 from 2026-01-05', 'E22 from', 'E21 from', 'the later correction'])
      assert((await srow.textContent()).includes(v), 'the list shows ' + v);
    await srow.getByRole('button', { name: /^Review conflict/ }).click();
    await page.locator('#c-dlg[open]').waitFor();
    assert((await page.textContent('#c-dlg-h')).includes('Two corrections'), 'the dialog names the kind');
    assert((await page.textContent('#c-reason')).includes('the later one counts'), 'the reason shown');
    assert(await page.locator('#c-options input[name=keep]').count() === 1, 'only acknowledging is offered');
    await assertAccessible(page, 'two corrections dialog');
    await page.click('#c-resolve');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('resolved'));
    assert(hub.sql("SELECT resolution FROM conflicts WHERE id='c-svc'").includes('current'), 'acknowledged');

    // ... and of one participant's activity (a Local Area's): its values are
    // read in the review, where both entries are only acknowledged.
    const actRow = (id, end) => JSON.stringify({ id, code: '102', start_date: '2026-01-05', end_date: end, voided: 0, corrects_id: 'a-0' });
    hub.sql(`INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner,
        local_hlc, remote_hlc, node_id, actor, origin_seq, created_at, updated_hlc, scope_la, reason)
      VALUES('c-act', 'participant_activities', 'a-2', 'corrects_id', '${JSON.stringify({ id: 'a-0', code: '102', start_date: '2026-01-05', voided: 0 })}',
        '${actRow('a-1', '2026-01-20')}', '${actRow('a-2', '2026-01-21')}', 'remote', '', '', '${nodeId}', 'demo', 4, ${now}, '',
        'demo-la', 'Two corrections of one activity were made while offline: both are kept and shown.');`);
    const arow = page.locator('#conflicts tbody tr', { hasText: 'two corrections of one activity' });
    await page.selectOption('#c-show', 'all');
    await page.selectOption('#c-show', 'open');
    await arow.waitFor();
    assert((await arow.textContent()).includes('shown in the review'), 'the list hides a participant\'s values');
    await arow.getByRole('button', { name: /^Review conflict/ }).click();
    await page.locator('#c-dlg[open]').waitFor();
    assert((await page.textContent('#c-dlg-h')).includes('Two corrections of one participant activity'), 'the dialog names the kind');
    for (const v of ['102 from 2026-01-05 to 2026-01-20', '102 from 2026-01-05 to 2026-01-21', 'Later correction'])
      assert((await page.textContent('#c-values')).includes(v), 'the dialog shows ' + v);
    assert(await page.locator('#c-options input[name=keep]').count() === 1, 'only acknowledging is offered');
    await assertAccessible(page, 'two corrections of an activity dialog');
    await page.click('#c-resolve');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('participant activities resolved'));
    assert(hub.sql("SELECT resolution FROM conflicts WHERE id='c-act'").includes('current'), 'acknowledged');

    // An office's edit of a ZIP and its zip5 left a conflict on each: one
    // alone breaks a rule, so the dialog offers the whole edit, kept as one.
    hub.sql(`INSERT INTO employers(id, account_type, company_name, normalized_name, username, zip, zip5,
        created_at, status, updated_hlc) VALUES('emp-zip', 'lead', 'Zed Supply', 'zed supply', 'MKTZED02',
        '95814', '95814', 1, 'active', '');
      INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner,
        local_hlc, remote_hlc, node_id, actor, origin_seq, created_at, updated_hlc)
      VALUES('c-zip', 'employers', 'emp-zip', 'zip', '"95814"', '"95814"', '"90210"', 'local', '', '',
        '${nodeId}', 'demo', 3, ${now}, ''),
      ('c-zip5', 'employers', 'emp-zip', 'zip5', '"95814"', '"95814"', '"90210"', 'local', '', '',
        '${nodeId}', 'demo', 3, ${now}, '');`);
    await page.selectOption('#c-show', 'open');
    const zrow = page.locator('#conflicts tbody tr', { hasText: 'zip5' });
    await zrow.waitFor();
    await zrow.getByRole('button', { name: /^Review conflict/ }).click();
    await page.locator('#c-dlg[open]').waitFor();
    const whole = await page.textContent('label[for=keep-office_edit]');
    assert(whole.includes('whole edit (2 fields'), 'the whole edit offered: ' + whole);
    const fields = await page.textContent('#c-edit-fields');
    assert(/zip5: 90210/.test(fields) && /zip: 90210/.test(fields), 'its fields listed: ' + fields);
    await assertAccessible(page, 'conflict dialog with an edit of two fields');
    await page.check('#keep-office');
    await page.click('#c-resolve');
    await page.waitForFunction(() => /zip5 does not match zip/.test(document.getElementById('c-dlg').textContent));
    await page.check('#keep-office_edit');
    await page.click('#c-resolve');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('2 conflicts on employers resolved'));
    assert(await page.locator('#conflicts tbody tr').count() === 0, 'both conflicts of the edit resolved');
    const zq = hub.sql("SELECT zip || ' ' || zip5 FROM employers WHERE id='emp-zip'");
    assert(zq === '90210 90210', 'the hub row has the whole edit: ' + zq);

    // Quarantine: the office's change next to the hub's (missing) row.
    const qrow = page.locator('#quarantine tbody tr', { hasText: 'not offered' });
    await qrow.getByRole('button', { name: /^Review quarantined entry/ }).click();
    await page.locator('#q-dlg[open]').waitFor();
    assert(!/demo-office/.test(await page.textContent('#q-dlg-h')) && !/demo-office/.test(await page.textContent('#q-info')), 'the office by name: ' + await page.textContent('#q-info'));
    const changes = await page.textContent('#q-changes');
    assert(changes.includes('insert in checkins') && changes.includes('Quinn Refused'), 'decoded change: ' + changes.slice(0, 200));
    await assertAccessible(page, 'quarantine dialog');
    await page.click('#q-resolve');
    assert((await page.textContent('#q-note-err')).includes('how the entry was handled'), 'a note is required');
    await page.fill('#q-note', 'asked the office to check the visitor in again');
    await page.click('#q-resolve');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('marked handled'));
    assert(await page.locator('#quarantine tbody tr').count() === 0, 'nothing left to review');
    const q = (await hub.api('/api/v1/quarantine')).json.find(x => x.id === 'q-test');
    assert(q.resolved_at, 'the hub recorded it handled');

    // Escape closes a dialog without acting.
    await page.selectOption('#q-show', 'all');
    await page.locator('#quarantine tbody tr').first().getByRole('button').click();
    await page.locator('#q-dlg[open]').waitFor();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.getElementById('q-dlg').open);

    // Both actions are in the audit trail, by the signed-in administrator.
    await page.goto(hub.url + '/audit.html?source=hub');
    await page.waitForSelector('#list table');
    const trail = await page.textContent('#list');
    // The actions in words (issue 17); their codes in the cells' titles.
    assert(trail.includes('Conflict resolved') && trail.includes('Quarantined entry handled') && trail.includes('operations'), 'audited: ' + trail.slice(0, 300));
    assert(await page.locator('#list span[title="conflict_resolve"]').count() >= 1, 'the code kept for IT in the title');
  })],
  ['an approver signs in to the console with the approver\'s view only and decides a backdated entry there (issue 15)', () => withConsole(async (hub, page) => {
    const { randomUUID } = await import('node:crypto');
    const pw = 'Approver.Pm42';
    const stored = await storedPassword(pw);
    const hlc = '000000000002.0000.hub';
    const pm = randomUUID(), cm = randomUUID(), pid = randomUUID(), act = randomUUID(), rid = randomUUID();
    const start = daysAgo(45);
    // Fixtures: an approver account with a known password, the case manager
    // who asked, and the request an office pushed (a 45-day backdate).
    hub.sql(`INSERT INTO staff(id, username, display_name, local_area_id, office_id, privilege_group, active, updated_hlc)
             VALUES('${pm}', 'pmconsole', 'Paula Manager', 'demo-la', 'demo-office', 'View Access', 1, '${hlc}'),
                   ('${cm}', 'cmconsole', 'Carlos Caseworker', 'demo-la', 'demo-office', 'LWIA Partner Staff', 1, '${hlc}');
             INSERT INTO staff_credentials(id, local_area_id, password_hash, password_temp, updated_hlc)
             VALUES('${pm}', 'demo-la', '${stored}', 0, '${hlc}');
             INSERT INTO participants(id, local_area_id, office_id, first_name, last_name, birth_date, registered_date, registered_at, registered_by, updated_hlc)
             VALUES('${pid}', 'demo-la', 'demo-office', 'Benita', 'Consolada', '1980-02-02', '${daysAgo(60)}', 1, '${cm}', '${hlc}');
             INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code, start_date, staff_id, entered_date, entered_at, backdate_days, approval_id)
             VALUES('${act}', '${pid}', 'demo-la', 'demo-office', '102', '${start}', '${cm}', '${daysAgo(0)}', 1, 45, '${rid}');
             INSERT INTO case_approval_requests(id, participant_id, local_area_id, office_id, kind, entry_table, entry_id, entry_date, requested_by, requested_at)
             VALUES('${rid}', '${pid}', 'demo-la', 'demo-office', 'backdate', 'participant_activities', '${act}', '${start}', '${cm}', 1);`);
    const r = await hub.api('/api/v1/admin/case/approver-roles', { staff_id: pm, roles: ['dss_program_manager'] }, 'PUT');
    assert(r.status === 200, 'role granted: ' + r.text);
    await page.goto(hub.url + '/login.html');
    await page.fill('#username', 'pmconsole');
    await page.fill('#password', pw);
    await page.click('#signin-btn');
    // The approver's view: the Approvals page, and no administrator's page.
    await page.waitForURL(u => u.pathname === '/approvals.html');
    await page.waitForSelector(`li.request[data-id="${rid}"]`);
    const nav = (await page.$$eval('#top nav li:not([hidden]) a', as => as.map(a => a.textContent)));
    assert(nav.join() === 'Approvals', 'only Approvals in the menu: ' + nav.join());
    const item = await page.textContent(`li.request[data-id="${rid}"]`);
    assert(item.includes('Benita Consolada') && item.includes('102 ') && item.includes('Carlos Caseworker'), 'the request: ' + item);
    assert(item.includes('Waiting for: DSS Program Manager, WDB Director, EDD'), 'waiting for three: ' + item);
    await assertAccessible(page, 'approver console');
    await page.goto(hub.url + '/accounts.html');
    await page.waitForURL(u => u.pathname === '/approvals.html');
    // Refusing needs a reason, shown in place; then approve.
    await page.waitForSelector(`li.request[data-id="${rid}"] form.decide`);
    await page.click(`li.request[data-id="${rid}"] form.decide button[value="refused"]`);
    // (in plain words, so it begins with a capital letter, and in the error summary too)
    await page.waitForFunction(id => /say why/i.test(document.getElementById(`c-${id}-dss_program_manager-err`).textContent), rid);
    assert(/say why/i.test(await page.textContent('#error-summary')), 'the error summary says it');
    await page.click(`li.request[data-id="${rid}"] form.decide button[value="approved"]`);
    await page.waitForFunction(() => /Recorded: approved as DSS Program Manager/.test(document.getElementById('ok').textContent));
    // Decided once: no form left; the list waits for the two others.
    await page.selectOption('#state', 'all');
    await page.waitForFunction(id => { const li = document.querySelector(`li.request[data-id="${id}"]`); return li && /at the hub console/.test(li.textContent) && !li.querySelector('form.decide'); }, rid);
    assert(hub.sql(`SELECT office_id || ' ' || decision FROM case_approval_decisions WHERE request_id='${rid}' AND staff_id='${pm}'`) === 'hub approved', 'the decision row, to replicate');
    assert(hub.sql(`SELECT count(*) FROM hub_audit_events WHERE action='case.request_approved' AND subject='${rid}' AND actor='pmconsole'`) === '1', 'audited');
  })],

  ['after sign-in ?next= leads to a page of the hub only: a backslash, a tab or a dot segment in it does not lead to another site', () => withConsole(async (hub, page) => {
    await page.goto(hub.url + '/login.html?next=' + encodeURIComponent('/\\evil.example/x'));
    await signIn(page, hub, { password: operationsPassword(hub) });
    assert(new URL(page.url()).origin === hub.url, 'signed in and stayed on the hub: ' + page.url());
    // Signed in, the login page sends you on at once: the same rule.
    const forward = async next => {
      await page.goto(hub.url + '/login.html?next=' + next);
      await page.waitForURL(u => u.pathname !== '/login.html');
      return new URL(page.url());
    };
    for (const bad of ['/%09/evil.example/x', '/%0A/evil.example/x', '/%5Cevil.example/x', '/.//evil.example/x', '//evil.example/x']) {
      const u = await forward(bad);
      assert(u.origin === hub.url && u.pathname === '/', `next=${bad} leads to the console's home page: ${u}`);
    }
    const good = await forward(encodeURIComponent('/accounts.html?q=x'));
    assert(good.href === hub.url + '/accounts.html?q=x', 'a page of the hub is kept: ' + good);
  })],
];
