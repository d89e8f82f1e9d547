// lib.mjs - browser-test helpers: start a real outpost-node on a free
// loopback port with a temporary data dir, launch Debian's Chromium headless
// through playwright-core, and run axe-core (WCAG 2.1 AA) on a page.
import { spawn, spawnSync } from 'node:child_process';
import https from 'node:https';
import { X509Certificate, createHash, randomInt } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, openSync, readFileSync, writeFileSync, appendFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const top = join(here, '..', '..');
export const BIN = process.env.OUTPOST_BIN || join(top, 'build', 'san', 'bin');
export const OUT = process.env.OUTPOST_TEST_OUT || join(top, 'tests', 'out');

// "Today" in a test is the office's day, not the machine's: the daemons keep
// the calendar in the office's zone (the demo office's is the schema default),
// so dates computed in the machine's zone (UTC on CI) disagreed with them from
// midnight UTC to midnight Pacific.  This process and the Chromium it starts
// both run in the office's zone; isoDay()/dayFromNow() give its YYYY-MM-DD.
export const OFFICE_TZ = 'America/Los_Angeles';
process.env.TZ = OFFICE_TZ;
// Visitors are checked in faster than a kiosk does, from one address: the
// kiosk's pace (kiosk_checkins_per_minute) is off for the browser tests.
process.env.OUTPOST_NODE_KIOSK_CHECKINS_PER_MINUTE ??= '0';
const dayFormat = new Intl.DateTimeFormat('en-US',
  { timeZone: OFFICE_TZ, year: 'numeric', month: '2-digit', day: '2-digit' });
export function isoDay(ms) {
  const p = Object.fromEntries(dayFormat.formatToParts(new Date(ms)).map(x => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}
export const dayFromNow = n => isoDay(Date.now() + n * 86400000);
// The day n days after `day` (YYYY-MM-DD; before it when n < 0): for dates
// counted from a daemon's day (officeDay below), not the machine's.
export const dayAfter = (day, n) => isoDay(Date.parse(day + 'T12:00:00Z') + n * 86400000);

// The office's day, YYYY-MM-DD, as `node` keeps it (asked of it: GET
// /api/v1/case/meta, its "today" and the time it took it from), at least
// `span` seconds before the office's next midnight.  A test that takes
// "today" once (or loads a page that does) and compares with what the node
// stores later disagrees with it when the office's midnight (08:00 or 07:00
// UTC) passes in between: when that midnight is less than `span` seconds
// away by the node's clock, this waits until it has passed (and says so)
// rather than race it.  `span`: how long the test goes on using the day.
// `node` may be a hub (startHub, whose kind says so): the hub's day, by the
// clock its /healthz gives (time_ms: the one it dates requests and reviews
// by, in the office's zone, which is this process's), for what the hub
// judges against its "today" (as tests/integration/harness.py office_day).
export async function officeDay(node, span = 60) {
  const hub = node.kind === 'hub', path = hub ? '/healthz' : '/api/v1/case/meta';
  for (;;) {
    const r = await node.api(path);
    if (r.status !== 200) throw new Error(`the office's day: GET ${path}: ${r.status}`);
    const now = hub ? r.json.time_ms : r.json.trusted_time_ms, d = new Date(now);
    const left = (new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() - now) / 1000;
    if (left >= span) return hub ? isoDay(now) : r.json.today;
    console.log(`lib: the office's midnight is ${left.toFixed(0)} s away by the ${hub ? 'hub' : 'node'}'s clock, less than` +
      ` the ${span} s the test uses its day for: waiting until it has passed`);
    await sleep((left + 1) * 1000);
  }
}

// Ports handed out are reserved in PORTS_DIR (one file a port holding the
// pid, shared with tests/integration/harness.py's free_port) so that tests
// running at the same time never pick the same port before a daemon binds it.
const PORTS_DIR = join(tmpdir(), 'outpost-test-ports');
const reserved = [];
function reserve(port) {
  mkdirSync(PORTS_DIR, { recursive: true });
  const path = join(PORTS_DIR, String(port));
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      reserved.push(path);
      return true;
    } catch {
      let pid = 0;
      try { pid = Number(readFileSync(path, 'utf8').trim()) || 0; } catch { /* gone */ }
      if (!pid || pid === process.pid) return false;  // being written, or ours
      try { process.kill(pid, 0); return false; } catch { /* stale */ }
      try { unlinkSync(path); } catch { /* taken over meanwhile */ }
    }
  }
  return false;
}
// Daemons still running when the runner exits (a test that timed out) are
// ended with it, and the ports go back.
const daemons = new Set();
export function track(proc) {
  daemons.add(proc);
  proc.once('exit', () => daemons.delete(proc));
  return proc;
}
process.on('exit', () => {
  for (const d of daemons) try { d.kill('SIGKILL'); } catch { /* gone */ }
  for (const p of reserved) try { unlinkSync(p); } catch { /* gone */ }
});

// A port free to listen on: `port` (0: one the kernel picks) checked by a
// listen, or null when in use.
function probePort(port) {
  return new Promise(resolve => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// The ports handed out: below the kernel's ephemeral range (the source ports
// of outgoing connections), so that no connection opened meanwhile takes a
// port between freePort() and the daemon's bind (as harness.py does).
function listenPorts() {
  let low = 1024;
  try { low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 1024; } catch { /* not Linux */ }
  return low >= 12000 ? [Math.max(10000, low - 12000), low] : null;
}

export async function freePort() {
  const range = listenPorts();
  for (let i = 0; i < 200; i++) {
    const want = range && i < 150 ? range[0] + randomInt(range[1] - range[0]) : 0;
    const p = await probePort(want);
    if (p !== null && reserve(p)) return p;
  }
  throw new Error('no free port after 200 tries (see ' + PORTS_DIR + ')');
}

let seq = 0;
// data: the data directory to use (made by the caller), else a new
// temporary one; stop() removes it either way.
// args: more flags for outpost-node.
export async function startNode({ data = mkdtempSync(join(tmpdir(), 'outpost-browser-')), args = [] } = {}) {
  const port = await freePort();
  const log = openSync(join(OUT, `browser-node-${process.pid}-${++seq}.log`), 'a');
  // demo is off by default (DESIGN.md): the tests turn it on explicitly
  const proc = track(spawn(join(BIN, 'outpost-node'), ['--data', data, '--listen', `127.0.0.1:${port}`, '--demo', 'yes', ...args],
    { stdio: ['ignore', log, log] }));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try { const r = await fetch(url + '/healthz'); if (r.ok) break; } catch { /* not yet */ }
    await new Promise(r => setTimeout(r, 50));
  }
  return {
    url, proc, data,
    session: null,  // set by login(): the page's session, for api()
    async api(path, body) {
      const headers = {};
      if (this.session) headers.Cookie = this.session.cookie;
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        if (this.session) headers['X-CSRF-Token'] = this.session.csrf;
      }
      const r = await fetch(url + path, body === undefined ? { headers } :
        { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: r.status, json: await r.json().catch(() => null) };
    },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise(r => { proc.once('exit', r); setTimeout(r, 5000); });
      rmSync(data, { recursive: true, force: true });
    },
  };
}

// The documented test login of a stand-alone demo node (README, "Test login").
export const DEMO_PASSWORD = 'Outpost.Demo24';

// Start a real outpost-hub (HTTPS, self-signed certificate: a browser from
// launch({ trust: [hub.spki] }) trusts it) on a free port with a temporary
// data dir.  hub.api() talks to it with the admin token; hub.sql() runs
// SQL on its database (test fixtures); hub.enrollCode() uses the CLI.
export async function startHub({ args = [] } = {}) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'outpost-browser-hub-'));
  const log = openSync(join(OUT, `browser-hub-${process.pid}-${++seq}.log`), 'a');
  const proc = track(spawn(join(BIN, 'outpost-hub'), ['--data', data, '--listen', `127.0.0.1:${port}`, '--demo', 'yes', ...args],
    { stdio: ['ignore', log, log] }));
  const url = `https://127.0.0.1:${port}`;
  const insecure = new https.Agent({ rejectUnauthorized: false });
  function request(method, path, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const data_ = body === undefined ? null : JSON.stringify(body);
      const r = https.request(url + path, { method, agent: insecure, headers: {
        ...(data_ ? { 'Content-Type': 'application/json' } : {}), ...headers } }, res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json = null; try { json = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, json, text });
        });
      });
      r.on('error', reject);
      if (data_) r.write(data_);
      r.end();
    });
  }
  let ready = false;
  for (let i = 0; i < 300 && !ready; i++) {
    try { ready = (await request('GET', '/healthz')).status === 200; } catch { /* not yet */ }
    if (!ready) await new Promise(r => setTimeout(r, 50));
  }
  if (!ready) throw new Error('outpost-hub did not start; see ' + OUT);
  const token = readFileSync(join(data, 'admin.token'), 'utf8').trim();
  // Its key's SPKI hash (base64 SHA-256), the pin the hub logs at start.
  const spki = createHash('sha256').update(new X509Certificate(readFileSync(join(data, 'hub.crt')))
    .publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  return {
    kind: 'hub', url, proc, data, token, request, spki,
    api(path, body, method = body === undefined ? 'GET' : 'POST') {
      return request(method, path, body, { Authorization: 'Bearer ' + token });
    },
    sql(sql) {
      const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', join(data, 'hub.db'), sql], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error('sqlite3: ' + r.stderr);
      return r.stdout.trim();
    },
    enrollCode(office = 'demo-office') {
      const r = spawnSync(join(BIN, 'outpost-hub'), ['enroll-code', '--office', office, '--data', data], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error('enroll-code: ' + r.stderr);
      return r.stdout.trim();
    },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise(r => { proc.once('exit', r); setTimeout(r, 5000); });
      rmSync(data, { recursive: true, force: true });
    },
  };
}

// Enroll a node (from startNode) with a hub (from startHub); it syncs by
// itself from then on.
export function enrollNode(node, hub, office = 'demo-office') {
  const code = hub.enrollCode(office);
  const r = spawnSync(join(BIN, 'outpost-sync'), ['enroll', '--hub', hub.url, '--code', code, '--data', node.data], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('outpost-sync enroll: ' + r.stderr);
}

// Sign the page (and node.api) in as a staff member; every browser test calls
// it after opening a context, before any page other than the kiosk.  Signs in
// through the real login page, so the browser holds the session cookie and
// the CSRF cookie that webui/common/api.js sends back; node.api then uses the
// same session.
export async function login(page, node, username = 'demo', password = DEMO_PASSWORD) {
  await page.goto(node.url + '/login.html');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL(u => !String(u).includes('/login.html'), { timeout: 90000 }), // PBKDF2 under ASan on a loaded machine
    page.click('#signin-btn'),
  ]);
  const cookies = await page.context().cookies(node.url);
  const get = n => (cookies.find(c => c.name === n) || {}).value;
  node.session = { cookie: `outpost_session=${get('outpost_session')}`, csrf: get('outpost_csrf') };
}

// Chromium; trust: SPKI hashes of servers whose certificates it accepts
// (hub.spki), as an office PC that trusts the hub does.  Not Playwright's
// ignoreHTTPSErrors: with it Chromium refuses each new connection's
// certificate first (the hub logs alert 46) and retries it allowed, a
// second handshake on every connection and a path no user's browser takes.
export async function launch({ trust = [] } = {}) {
  return watched(await chromium.launch({
    executablePath: '/usr/bin/chromium',
    env: { ...process.env, TZ: OFFICE_TZ },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...(trust.length ? ['--ignore-certificate-errors-spki-list=' + trust.join(',')] : [])],
  }));
}

// What the browser saw go wrong during the current test (failed requests,
// page errors, console errors), which run.mjs prints under a failure: a
// timeout alone does not say whether a request failed or never left.
const seen = [];
export function browserEvents() { return seen.splice(0); }
function note(line) {
  seen.push(new Date().toISOString().slice(11, 23) + ' ' + line);
  if (seen.length > 40) seen.shift();
}
function watchPage(page) {
  page.on('requestfailed', r => note(`request failed: ${r.method()} ${r.url().replace(/\?.*/, '')}: ${r.failure() && r.failure().errorText}`));
  page.on('pageerror', e => note(`page error at ${page.url()}: ${e.message}`));
  page.on('console', m => { if (m.type() === 'error') note(`console error at ${page.url()}: ${m.text()}`); });
}
// Every page of every context (browser.newPage() makes its context through
// browser.newContext() too).
function watched(browser) {
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...a) => {
    const ctx = await newContext(...a);
    ctx.on('page', watchPage);
    return ctx;
  };
  return browser;
}

const axeSource = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

// Run axe on the page's current state; throws listing every violation.
export async function assertAccessible(page, what) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  if (res.violations.length) {
    const lines = res.violations.map(v => `${v.id} (${v.impact}): ${v.help} — ` +
      v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    throw new Error(`${what}: ${res.violations.length} axe violation(s):\n    ` + lines.join('\n    '));
  }
}

// Remember a secret; tests/run.sh fails when it shows up in any log.
export function plantSecret(value) {
  if (value && value.length >= 6) appendFileSync(join(OUT, 'planted-secrets.txt'), value + '\n');
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }

// A test that cannot run here (it needs root, say) throws skip(why): the
// runner prints "SKIP" with the reason and counts it apart.
export function skip(why) { return Object.assign(new Error(why), { skip: true }); }

export const sleep = ms => new Promise(r => setTimeout(r, ms));

// The answers to page's requests whose URL matches (a function of a URL
// object) are held back ms: a later question's answer comes first.
// `answered` settles once the first such answer is in and the page has had
// its turn to handle it; page.unroute(match) ends the hold.
export async function answerLate(page, match, ms) {
  await page.route(match, async route => { await sleep(ms); await route.continue(); });
  return { answered: page.waitForEvent('requestfinished', r => match(new URL(r.url()))).then(() => sleep(300)) };
}

// Call fn every `every` ms until it returns something truthy (returned);
// throws naming `what` after ms.
export async function until(what, fn, ms = 20000, every = 200) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for ' + what);
    await sleep(every);
  }
}

// A demo node, a browser and a page of `viewport` signed in as the demo
// user: fn(node, page, browser); everything is stopped afterwards.  acceptDialogs:
// confirm() and alert() are answered OK.
export async function withSignedInNode(fn, { viewport = { width: 1024, height: 768 }, acceptDialogs = false, nodeArgs = [] } = {}) {
  const node = await startNode({ args: nodeArgs });
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport });
    if (acceptDialogs) page.on('dialog', d => d.accept());
    await login(page, node);
    await fn(node, page, browser);
  } finally {
    await browser.close();
    await node.stop();
  }
}

// Fill a form's inputs: values maps a selector to the text it gets, filled
// in the order given.
export async function fillIn(page, values) {
  for (const [sel, v] of Object.entries(values)) await page.fill(sel, v);
}

// A small PDF in OUT (a signed form to upload); its path.
export function pdfFile(name) {
  const p = join(OUT, `${process.pid}-${name}.pdf`);
  writeFileSync(p, '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
  return p;
}

// The hub console's first sign-in: the temporary password, then the forced
// change to `mine` (planted as a secret); returns once the page has left
// the login page.
export async function hubFirstSignIn(page, hub, username, temp, mine) {
  await page.goto(hub.url + '/login.html');
  await page.fill('#username', username);
  await page.fill('#password', temp);
  await page.click('#signin-btn');
  await page.waitForSelector('#change-card:not([hidden])');
  plantSecret(mine);
  await page.fill('#new_password', mine);
  await page.fill('#confirm_password', mine);
  await page.click('#change-btn');
  await page.waitForURL(u => !u.pathname.startsWith('/login'));
}

// The hub console's account page of staffId, signed in as operations: the
// MIS Administrator role ticked with its signed Attachment 1 (file) and the
// training date, daysBack days ago, then Save; the caller waits for the
// answer.
export async function designateMis(page, hub, staffId, file, daysBack) {
  await page.goto(hub.url + '/account.html?id=' + staffId);
  await page.waitForSelector('#roles-card:not([hidden])');
  await page.check('#role-mis_admin');
  await page.setInputFiles('#role-attachment_id', file);
  await page.fill('#role-admin_training_date', dayFromNow(-daysBack));
  await page.click('#roles-save');
}

// The requestor's part of the hub console's access request form: who asks
// (name, email), the ISPA training 10 days ago and the E-1 statement 9 days
// ago, the business need, and the signed request form and ISPA certificate
// (pdf(name) gives each file).
export async function fillRequestor(page, name, email, need, pdf) {
  const ago = n => dayFromNow(-n);
  await page.fill('#requestor_name', name);
  await page.fill('#requestor_email', email);
  await page.fill('#ispa_date', ago(10));
  await page.selectOption('#confidentiality_type', 'E-1');
  await page.fill('#confidentiality_date', ago(9));
  await page.fill('#business_need', need);
  await page.setInputFiles('#file-request_form', pdf('request'));
  await page.setInputFiles('#file-ispa_certificate', pdf('ispa'));
}
