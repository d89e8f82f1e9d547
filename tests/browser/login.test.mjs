// login.test.mjs - the office node's sign-in page in a real browser:
// redirect to it and back, a wrong password, signing out from the header;
// with a real hub: an account created through the hub's admin API, first
// sign-in at the node with the temporary password, the forced change with
// the rule checked live, then the offline messages once the hub is gone and
// sign-in with the new password offline; axe-core on every state.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startNode, launch, login, assertAccessible, assert, freePort, BIN, OUT, track, dayFromNow } from './lib.mjs';


function plant(v) { appendFileSync(join(OUT, 'planted-secrets.txt'), v + '\n'); }

let seq = 0;
function daemon(kind, data, port, args = []) {
  const log = openSync(join(OUT, `browser-login-${kind}-${process.pid}-${++seq}.log`), 'a');
  return track(spawn(join(BIN, `outpost-${kind}`), ['--data', data, '--listen', `127.0.0.1:${port}`, '--demo', 'yes', ...args],
    { stdio: ['ignore', log, log] }));
}

async function waitOk(url, ms = 30000) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try { const r = await fetch(url); if (r.ok) return; } catch { /* not yet */ }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error('not ready: ' + url);
}

async function waitFor(what, fn, ms = 60000) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await fn()) return;
    await new Promise(r => setTimeout(r, 250));
  }
  throw new Error('timed out waiting for ' + what);
}

async function stop(proc) {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise(r => { proc.once('exit', r); setTimeout(r, 10000); });
}

const PDF = Buffer.from('%PDF-1.4\n% outpost browser test\ntrailer <<>>\n%%EOF\n');
const day = d => dayFromNow(d);

// A hub and an enrolled node of its demo office, and an account made by the
// operations authority (bearer token) through the admin API.
async function hubAndNode() {
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the hub's self-signed certificate (loopback only)
  const hubData = mkdtempSync(join(tmpdir(), 'outpost-bhub-'));
  const nodeData = mkdtempSync(join(tmpdir(), 'outpost-bnode-'));
  const hubPort = await freePort(), nodePort = await freePort();
  const hubUrl = `https://127.0.0.1:${hubPort}`, nodeUrl = `http://127.0.0.1:${nodePort}`;
  // Fewer PBKDF2 rounds at the hub (the test build allows it): the second
  // administrator's sign-in and password change cost seconds, not minutes,
  // on a loaded machine.
  let hub = daemon('hub', hubData, hubPort, ['--password_iters', '1000']);
  await waitOk(hubUrl + '/healthz');
  const token = readFileSync(join(hubData, 'admin.token'), 'utf8').trim();
  plant(token);
  const admin = async (method, path, body, ctype) => {
    const headers = { Authorization: 'Bearer ' + token };
    if (body !== undefined) headers['Content-Type'] = ctype || 'application/json';
    const r = await fetch(hubUrl + path, { method, headers,
      body: body === undefined ? undefined : (ctype ? body : JSON.stringify(body)) });
    const j = await r.json().catch(() => null);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  };
  const { code } = await admin('POST', '/api/v1/enroll-codes', { office_id: 'demo-office' });
  plant(code);
  const en = spawnSync(join(BIN, 'outpost-sync'), ['enroll', '--hub', hubUrl, '--code', code, '--data', nodeData]);
  if (en.status !== 0) throw new Error('enroll failed: ' + en.stderr);
  let node = daemon('node', nodeData, nodePort);
  await waitOk(nodeUrl + '/healthz');
  const state = async () => (await (await fetch(nodeUrl + '/api/v1/session')).json()).login;
  await waitFor('the node to connect', async () => (await state()).mode === 'connected');
  const rq = await admin('POST', '/api/v1/admin/access-requests', {
    kind: 'new', username: 'cam.browser', display_name: 'Cam Browser', local_area_id: 'demo-la',
    office_id: 'demo-office', privilege_group: 'LWIA Partner Staff', requestor_name: 'Pat Manager',
    requestor_email: 'pat@example.org', ispa_date: day(-20), confidentiality_type: 'E-1',
    confidentiality_date: day(-19), business_need: 'front desk' });
  // LWIA staff sign Attachment E-1: it and the ISPA certificate are uploaded too (WSD24-13)
  for (const kind of ['request_form', 'ispa_certificate', 'confidentiality_statement'])
    await admin('POST', `/api/v1/admin/access-requests/${rq.id}/files?kind=${kind}&filename=f.pdf`, PDF, 'application/pdf');
  // Separation of duties: the token recorded the request, so a second
  // administrator approves it - operations, with a fresh one-time password.
  const ro = spawnSync(join(BIN, 'outpost-hub'), ['reset-operations', '--data', hubData], { encoding: 'utf8' });
  if (ro.status !== 0) throw new Error('reset-operations: ' + ro.stderr);
  const first = ro.stdout.trim().split(/\s+/).pop();
  plant(first);
  let r = await fetch(hubUrl + '/api/v1/admin/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'operations', password: first }) });
  if (r.status !== 200) throw new Error('operations sign-in: ' + r.status);
  const cookie = r.headers.getSetCookie().map(c => c.split(';')[0]).join('; ');
  for (const c of cookie.split('; ')) plant(c.split('=')[1]);
  const ops = { Cookie: cookie, 'X-CSRF-Token': (await r.json()).csrf_token, 'Content-Type': 'application/json' };
  plant(ops['X-CSRF-Token']);
  const opsPw = 'Ops.' + randomBytes(4).toString('hex') + 'Zz9';
  plant(opsPw);
  r = await fetch(hubUrl + '/api/v1/admin/session/password', { method: 'POST', headers: ops,
    body: JSON.stringify({ current_password: first, new_password: opsPw }) });
  if (r.status !== 200) throw new Error('operations password change: ' + r.status);
  r = await fetch(hubUrl + `/api/v1/admin/access-requests/${rq.id}/approve`, { method: 'POST', headers: ops, body: '{}' });
  if (r.status !== 200) throw new Error('approval by operations: ' + r.status + ' ' + await r.text());
  const made = await admin('POST', '/api/v1/admin/staff', { request_id: rq.id });
  plant(made.temporary_password);
  await waitFor('the node to pull the account', async () => {
    const out = spawnSync('sqlite3', [join(nodeData, 'node.db'),
      `SELECT count(*) FROM staff_credentials WHERE id='${made.staff.id}' AND password_hash IS NOT NULL`]);
    return String(out.stdout).trim() === '1';
  });
  return {
    nodeUrl, state, temp: made.temporary_password,
    stopHub: () => stop(hub),
    async close() {
      await stop(node); await stop(hub);
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      rmSync(hubData, { recursive: true, force: true });
      rmSync(nodeData, { recursive: true, force: true });
    },
  };
}

// A new page at url, which must come to show the sign-in form.
async function signInPage(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('#signin-view:not([hidden])');
  return page;
}

export const tests = [
  ['signed out, a page sends you to the login page and back; wrong password; sign out', async () => {
    const node = await startNode();
    const browser = await launch();
    try {
      const page = await signInPage(browser, node.url + '/desk.html');
      assert(page.url().includes('/login.html?next=/desk.html'), 'redirected to the login page: ' + page.url());
      assert((await page.textContent('#state')).includes('not enrolled'), 'stand-alone node explained');
      await assertAccessible(page, 'login page');
      await page.fill('#username', 'demo');
      await page.fill('#password', 'Not.The.Password1');
      await page.click('#signin-btn');
      await page.waitForFunction(() => document.getElementById('signin-err').textContent.length > 0);
      assert((await page.textContent('#signin-err')).includes('not correct'), 'wrong password said');
      await assertAccessible(page, 'login page with an error');
      await page.fill('#username', 'demo');
      await page.fill('#password', 'Outpost.Demo24');
      await Promise.all([page.waitForURL(u => new URL(u).pathname === '/desk.html'), page.click('#signin-btn')]);
      await page.waitForSelector('#nav-signout');
      assert((await page.textContent('#top')).includes('Demo Staff'), 'the header names the user');
      await Promise.all([page.waitForURL(u => new URL(u).pathname === '/login.html' && !new URL(u).search), page.click('#nav-signout')]);
      await page.goto(node.url + '/crm.html');
      assert(page.url().includes('/login.html?next=/crm.html'), 'signed out for real');
      // login() from lib.mjs works, and a View Access user has no front desk.
      await login(page, node, 't-view');
      const r = await node.api('/api/v1/checkins');
      assert(r.status === 403, 'View Access has no front desk: ' + r.status);
    } finally {
      await browser.close();
      await node.stop();
    }
  }],

  ['first sign-in with a temporary password, the forced change, then offline messages and an offline sign-in', async () => {
    const env = await hubAndNode();
    const browser = await launch();
    try {
      const page = await signInPage(browser, env.nodeUrl + '/login.html?next=/crm.html');
      assert(await page.isHidden('#state'), 'nothing to explain while connected');
      await page.fill('#username', 'cam.browser');
      await page.fill('#password', env.temp);
      await page.click('#signin-btn');
      await page.waitForSelector('#change-view:not([hidden])');
      assert(await page.isHidden('#current-wrap'), 'the temporary password is not asked again');
      await page.fill('#new1', 'abc');
      assert(await page.getAttribute('li[data-rule="len"]', 'class') === 'bad', 'length rule shown as not met');
      assert((await page.textContent('li[data-rule="len"]')).includes('not met'), 'said to screen readers too');
      await page.fill('#new1', 'Password1!');
      await page.waitForFunction(() => document.querySelector('li[data-rule="common"]').className === 'bad');
      await assertAccessible(page, 'password change form');
      const pw = 'Cam.' + randomBytes(4).toString('hex') + 'Z7';
      plant(pw);
      await page.fill('#new1', pw);
      await page.waitForFunction(() => document.querySelector('li[data-rule="common"]').className === 'ok');
      for (const r of ['len', 'upper', 'lower', 'digit', 'special', 'chars'])
        assert(await page.getAttribute(`li[data-rule="${r}"]`, 'class') === 'ok', r + ' met');
      await page.fill('#new2', pw + 'x');
      await page.click('#change-btn');
      await page.waitForFunction(() => document.getElementById('change-err').textContent.includes('not the same'));
      await page.fill('#new2', pw);
      await Promise.all([page.waitForURL(u => new URL(u).pathname === '/crm.html', { timeout: 60000 }), page.click('#change-btn')]);

      // The hub goes away: the login page explains what still works.
      await env.stopHub();
      await waitFor('the node to go offline', async () => (await env.state()).mode === 'offline');
      const ctx = await browser.newContext();
      const p2 = await ctx.newPage();
      await p2.goto(env.nodeUrl + '/login.html');
      await p2.waitForSelector('#state:not([hidden])');
      const msg = await p2.textContent('#state');
      assert(msg.includes('offline') && msg.includes('temporary password works only while'), 'offline explained: ' + msg);
      await assertAccessible(p2, 'login page offline');
      await p2.fill('#username', 'cam.browser');
      await p2.fill('#password', pw);
      await p2.click('#signin-btn');
      await p2.waitForURL(u => !String(u).includes('/login.html'), { timeout: 60000 }).catch(async e => {
        throw new Error(`offline sign-in: ${await p2.textContent('#signin-err')} ${e.message}`);
      });
      await ctx.close();
    } finally {
      await browser.close();
      await env.close();
    }
  }],

  ['after sign-in ?next= leads to a page of this node only: a tab, a newline, a backslash or a dot segment in it does not lead to another site', async () => {
    const node = await startNode();
    const browser = await launch();
    try {
      // Signing in with a tab in next ("/\t/evil.example/x" is "//evil.example/x" to the browser).
      const page = await signInPage(browser, node.url + '/login.html?next=/%09/evil.example/x');
      await page.fill('#username', 'demo');
      await page.fill('#password', 'Outpost.Demo24');
      await Promise.all([page.waitForURL(u => !String(u).includes('/login.html'), { timeout: 90000 }), page.click('#signin-btn')]);
      assert(new URL(page.url()).origin === node.url, 'signed in and stayed on the node: ' + page.url());
      // Signed in, the login page offers a link on: the same rule.
      const cont = async next => {
        await page.goto(node.url + '/login.html?next=' + next);
        await page.waitForSelector('#done-view:not([hidden])');
        return new URL(await page.$eval('#continue', a => a.href));
      };
      for (const bad of ['/%0A/evil.example/x', '/%09/evil.example/x', '/%5Cevil.example/x', '/\\evil.example/x',
        '/.//evil.example/x', '//evil.example/x', 'https://evil.example/', '/login.html']) {
        const u = await cont(bad);
        assert(u.origin === node.url && u.pathname === '/', `next=${bad} leads to this node's home page: ${u}`);
      }
      const good = await cont(encodeURIComponent('/desk.html?filter=all'));
      assert(good.href === node.url + '/desk.html?filter=all', 'a page of this node is kept: ' + good);
    } finally {
      await browser.close();
      await node.stop();
    }
  }],
];
