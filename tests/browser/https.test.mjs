// https.test.mjs - signing in at an office node over HTTPS (issue #13): the
// node enrolled with --name office-pc.lan gets a certificate the hub
// signed as the office CA; Chromium, told to trust that CA's key
// (--ignore-certificate-errors-spki-list with the SPKI hash the hub console
// shows) and to resolve office-pc.lan to loopback, signs in at
// https://office-pc.lan:PORT/ with Secure cookies; the same browser
// without the CA's key refuses the page, and plain HTTP from the node
// machine itself still works (the kiosk).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startHub, freePort, assert, plantSecret, DEMO_PASSWORD, BIN, OUT, track } from './lib.mjs';

const NAME = 'office-pc.lan';

function browser(extra) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--host-resolver-rules=MAP ${NAME} 127.0.0.1`, ...extra],
  });
}

async function signInOverHttps() {
  const hub = await startHub();
  const data = mkdtempSync(join(tmpdir(), 'outpost-browser-https-'));
  const port = await freePort(), tport = await freePort();
  let proc = null, b1 = null, b2 = null;
  try {
    const code = hub.enrollCode();
    plantSecret(code);
    const r = spawnSync(join(BIN, 'outpost-sync'), ['enroll', '--hub', hub.url, '--code', code,
      '--data', data, '--name', NAME], { encoding: 'utf8' });
    assert(r.status === 0, 'enroll: ' + r.stderr);
    const log = openSync(join(OUT, `browser-https-node-${process.pid}.log`), 'a');
    proc = track(spawn(join(BIN, 'outpost-node'), ['--data', data, '--listen', `127.0.0.1:${port}`,
      '--https-listen', `127.0.0.1:${tport}`, '--sync-interval', '1'], { stdio: ['ignore', log, log] }));
    const ca = (await hub.request('GET', '/api/v1/ca')).json;
    assert(ca && ca.spki_sha256.length === 44, 'the hub shows its CA key hash');
    const base = `https://${NAME}:${tport}`;

    // without the CA: refused (the node may be slow to start listening on a
    // loaded machine: tried until a generous deadline, not a count of tries)
    b2 = await browser([]);
    const p2 = await (await b2.newContext()).newPage();
    let refused = '';
    for (const end = Date.now() + 90000; !refused && Date.now() < end;) {
      try { await p2.goto(base + '/login.html'); refused = 'loaded'; } catch (e) {
        if (/ERR_CERT/.test(String(e))) refused = String(e);
        else await new Promise(res => setTimeout(res, 100));   // not listening yet
      }
    }
    assert(/ERR_CERT_AUTHORITY_INVALID|ERR_CERT/.test(refused), 'untrusted CA refused: ' + refused);

    // with the CA trusted: sign in (once the node has pulled its staff;
    // tried until a generous deadline)
    b1 = await browser([`--ignore-certificate-errors-spki-list=${ca.spki_sha256}`]);
    const ctx = await b1.newContext();
    const page = await ctx.newPage();
    let inside = false;
    const signedIn = async () => (await page.evaluate(async () =>
      (await fetch('/api/v1/session')).json())).signed_in === true;
    for (const end = Date.now() + 120000; !inside && Date.now() < end;) {
      await page.goto(base + '/login.html');
      if (await page.isVisible('#username')) {   // else the first pull is not in yet
        await page.fill('#username', 'demo');
        await page.fill('#password', DEMO_PASSWORD);
        await page.click('#signin-btn');
        await page.waitForURL(u => !String(u).includes('/login.html'), { timeout: 10000 })
          .catch(() => {});
      }
      inside = await signedIn();
      if (!inside) await new Promise(res => setTimeout(res, 1000));
    }
    assert(inside, 'signed in over HTTPS: ' + (await page.innerText('body')).slice(0, 400));
    assert(page.url().startsWith(base + '/'), 'still on HTTPS: ' + page.url());
    const cookies = await ctx.cookies(base);
    const sess = cookies.find(c => c.name === 'outpost_session');
    assert(sess && sess.secure && sess.httpOnly, 'Secure, HttpOnly session cookie');
    const who = await page.evaluate(async () => (await fetch('/api/v1/session')).json());
    assert(who.signed_in === true && who.user.username === 'demo', 'session over HTTPS');
    // plain HTTP on the node machine itself (the kiosk) needs no set-up
    const plain = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert(plain.status === 200, 'loopback HTTP');
  } finally {
    if (b1) await b1.close();
    if (b2) await b2.close();
    if (proc) {
      proc.kill('SIGTERM');
      await new Promise(res => { proc.once('exit', res); setTimeout(res, 5000); });
    }
    rmSync(data, { recursive: true, force: true });
    await hub.stop();
  }
}

export const tests = [['sign in at a node over HTTPS with the hub CA trusted', signInOverHttps]];
