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
    async api(path, body) {
      const r = await fetch(url + path, body === undefined ? {} :
        { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, json: await r.json().catch(() => null) };
    },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise(r => { proc.once('exit', r); setTimeout(r, 5000); });
      rmSync(data, { recursive: true, force: true });
    },
  };
}

// Sign the page (and node.api) in as a staff member; every browser test calls
// it after opening a context, before any page other than the kiosk.  Until
// node logins land, the node treats every request as the demo staff member
// and this does nothing; the accounts work makes it real.
export async function login(page, node, username = 'demo') { return; }

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
