// lib.mjs - browser-test helpers: start a real outpost-node on a free
// loopback port with a temporary data dir, launch Debian's Chromium headless
// through playwright-core, and run axe-core (WCAG 2.1 AA) on a page.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const top = join(here, '..', '..');
export const BIN = process.env.OUTPOST_BIN || join(top, 'build', 'san', 'bin');
export const OUT = process.env.OUTPOST_TEST_OUT || join(top, 'tests', 'out');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

let seq = 0;
export async function startNode() {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'outpost-browser-'));
  const log = openSync(join(OUT, `browser-node-${process.pid}-${++seq}.log`), 'a');
  const proc = spawn(join(BIN, 'outpost-node'), ['--data', data, '--listen', `127.0.0.1:${port}`],
    { stdio: ['ignore', log, log] });
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
    page.waitForURL(u => !String(u).includes('/login.html'), { timeout: 30000 }),
    page.click('#signin-btn'),
  ]);
  const cookies = await page.context().cookies(node.url);
  const get = n => (cookies.find(c => c.name === n) || {}).value;
  node.session = { cookie: `outpost_session=${get('outpost_session')}`, csrf: get('outpost_csrf') };
}

export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
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

export function assert(cond, msg) { if (!cond) throw new Error(msg); }
