// diskfull.test.mjs - a full disk as the office sees it, in a real browser.
// A real outpost-node keeps its data directory on a small tmpfs that the
// test mounts and fills, as tests/integration/test_storage.py does (root
// only: elsewhere the test is skipped and says why).  At the front desk a
// visit added by hand and a visit marked "left" with a note are refused in
// plain words, with what was typed kept; the desk, the home page and the
// Sync page say the disk is full (axe on each), and so does the sign-in
// page when someone tries to sign in; once space is freed the
// same visit and note are saved and the notice goes away.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, writeSync, closeSync, unlinkSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, launch, login, assertAccessible, assert, until, skip, DEMO_PASSWORD } from './lib.mjs';

const FULL = 'disk of this computer is full';

// A small tmpfs on a new directory; umount() is safe to call twice, and
// runs when the runner exits (a test that timed out).
function mountTmpfs(sizeMb) {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-tmpfs-'));
  const p = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  let mounted = p.status === 0;
  const fs = {
    dir, ok: mounted, why: String(p.stderr || p.stdout || p.error || '').trim(),
    umount() {
      if (mounted) spawnSync('umount', ['-l', dir]);
      mounted = false;
      try { rmdirSync(dir); } catch { /* gone */ }
      process.off('exit', fs.umount);
    },
  };
  process.on('exit', fs.umount);
  return fs;
}

// Write a file until the disk refuses, down to the last bytes; its path.
function fill(dir) {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'a', 0o600);
  try {
    for (const size of [65536, 4096, 1]) {
      const buf = Buffer.alloc(size);
      try { while (writeSync(fd, buf) === size) { /* on */ } } catch { /* full */ }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

const checkin = (node, name, reason) => node.api('/api/v1/checkins', { visitor_name: name, reason_ids: [reason], language: 'en' });

// Full for good: the disk topped up again and again until writes through
// the API have been refused for 2.5 s in a row.  A node on a full disk
// still saves a write now and then: its WAL, restarted or truncated once a
// checkpoint is through (every second after a saved write), gives room back
// (lib/dbguard.c); topping up takes it, and with the WAL truncated or its
// checkpoint unable to finish, every write is refused until space is freed.
let fillers = 0;
async function fullForGood(node, dir, reason) {
  const seen = {};
  let since = null;
  await until('writes refused for 2.5 s in a row on a full disk', async () => {
    fill(dir);
    const r = await checkin(node, `Filler ${++fillers}`, reason);
    seen[r.status] = (seen[r.status] || 0) + 1;
    assert(r.status === 201 || r.status === 507, `a write on a full disk answered ${r.status}: ${JSON.stringify(seen)}`);
    since = r.status === 201 ? null : since || Date.now();
    return since && Date.now() - since > 2500;
  }, 60000, 100);
}

// Add a visit at the desk's form; 'refused' (the form's error shown) or
// 'saved' (the status line says so).
async function addAtDesk(page, name, reason) {
  await page.evaluate(() => { document.getElementById('status').textContent = ''; });
  await page.fill('#a-name', name);
  await page.check('#ar-' + reason);
  await page.click('#add button[type=submit]');
  return until('the desk to answer the new visit', async () => {
    if ((await page.textContent('#a-err')).trim()) return 'refused';
    if ((await page.textContent('#status')).includes(`${name} added to the line`)) return 'saved';
    return null;
  }, 30000);
}

// Mark a waiting visit "left" with a note; 'refused' or 'saved'.
async function leftWithNote(page, name, note, { typed = true } = {}) {
  await page.evaluate(() => { document.getElementById('status').textContent = ''; });
  await page.click(`button[aria-label="Left without service: ${name}"]`);
  await page.locator('#note-dlg[open]').waitFor();
  if (typed) await page.fill('#note', note);
  else assert(await page.inputValue('#note') === note, `the note refused before is back in the dialog, got "${await page.inputValue('#note')}"`);
  await page.click('#note-ok');
  return until('the desk to answer the action', async () => {
    const s = await page.textContent('#status');
    if (s.includes(FULL)) return 'refused';
    if (s.includes('Saved. The visit left this list')) return 'saved';
    return null;
  }, 30000);
}

export const tests = [
  ['a full disk: the desk keeps what was typed and says so in plain words, every page shows it, and writes resume once space is freed', async () => {
    const fs = mountTmpfs(32);
    if (!fs.ok) {
      fs.umount();
      throw skip(`cannot mount a tmpfs here (${fs.why}): the disk-full test needs root`);
    }
    let node = null, browser = null, filler = null;
    try {
      const data = join(fs.dir, 'node');
      mkdirSync(data);
      node = await startNode({ data });
      browser = await launch();
      const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
      await login(page, node);
      const reason = (await node.api('/api/v1/greeter/reasons')).json[0].id;
      // Visits waiting at the desk, saved while there is room.
      const waiting = [0, 1, 2].map(k => `Waiting Visitor ${k}`);
      for (const name of waiting) assert((await checkin(node, name, reason)).status === 201, 'check-in saved');
      await page.goto(node.url + '/desk.html');
      await page.locator(`button[aria-label="Left without service: ${waiting[2]}"]`).waitFor();
      await page.locator('#ar-' + reason).waitFor({ state: 'attached' });
      await page.click('#add-h');
      assert(await page.locator('#disk-full').count() === 0, 'no disk notice while there is room');

      // Fill the disk.  Each write tried at the desk below follows a spell
      // of refused writes (fullForGood); should one be saved all the same,
      // the next is tried.
      filler = join(fs.dir, 'filler');
      let added = null;
      for (let k = 0; k < 5 && !added; k++) {
        await fullForGood(node, fs.dir, reason);
        if (await addAtDesk(page, `Desk Visitor ${k}`, reason) === 'refused') added = `Desk Visitor ${k}`;
      }
      assert(added, 'the desk saved every visit on a full disk');
      const err = await page.textContent('#a-err');
      assert(err.includes('The ' + FULL) && err.includes('not saved') && !/507|Request failed|error/i.test(err),
        `plain words for a full disk expected, got "${err}"`);
      assert(await page.inputValue('#a-name') === added, 'the typed name is kept');
      assert(await page.isChecked('#ar-' + reason), 'the ticked reason is kept');
      const notice = page.locator('#disk-full[role=alert]');
      await notice.waitFor();
      assert((await notice.textContent()).includes(FULL), 'the desk says the disk is full');

      // A note typed for a visit that left: refused, and back in the dialog.
      let left = null;
      for (const name of waiting) {
        await fullForGood(node, fs.dir, reason);
        if (await leftWithNote(page, name, `Note for ${name}`) === 'refused') { left = name; break; }
      }
      assert(left, 'the desk saved every action on a full disk');
      await page.click(`button[aria-label="Left without service: ${left}"]`);
      await page.locator('#note-dlg[open]').waitFor();
      assert(await page.inputValue('#note') === `Note for ${left}`, 'the refused note is kept');
      // kept for this user only: under their drafts' prefix, which signing
      // out (or someone else signing in) clears
      const keys = await page.evaluate(() => Object.keys(sessionStorage));
      assert(keys.some(k => k.startsWith('outpost-draft:demo:') && k.endsWith('~desk-unsaved-note')) &&
        !keys.some(k => k.includes('unsaved') && !k.startsWith('outpost-draft:')),
        `the refused note is kept as the user's draft: ${JSON.stringify(keys)}`);
      await page.click('#note-dlg button.secondary');
      await page.locator('#note-dlg[open]').waitFor({ state: 'detached' });
      await assertAccessible(page, 'front desk, disk full');

      await page.goto(node.url + '/');
      await page.locator('#disk-full[role=alert]').waitFor();
      await until('the home page\'s sync line', async () => (await page.textContent('#sync-line')).includes(FULL));
      await assertAccessible(page, 'home page, disk full');

      await page.goto(node.url + '/sync.html');
      await until('the Sync page to say the disk is full', async () => (await page.textContent('#summary')).includes(FULL));
      assert((await page.getAttribute('#state', 'class')).includes('bad'), 'the Sync page shows it as a fault');
      assert(await page.locator('#disk-full').count() === 0, 'the Sync page says it once, in its state box');
      await assertAccessible(page, 'sync page, disk full');

      // Signing in (a new session is a write) is refused in plain words too.
      await fullForGood(node, fs.dir, reason);
      const other = await browser.newPage();
      await other.goto(node.url + '/login.html');
      await other.fill('#username', 'demo');
      await other.fill('#password', DEMO_PASSWORD);
      await other.click('#signin-btn');
      const why = await until('the sign-in to be answered', async () => (await other.textContent('#signin-err')).trim(), 90000);
      assert(why.includes('The ' + FULL) && why.includes('signing in is not possible'), `plain words at sign-in expected, got "${why}"`);
      await other.close();

      // Space again: the same visit, typed once, is saved from the kept draft.
      unlinkSync(filler);
      filler = null;
      await page.goto(node.url + '/desk.html');
      await until('the typed visit back in the form', async () =>
        await page.inputValue('#a-name') === added && await page.isChecked('#ar-' + reason));
      await page.locator('#add .draft-note').waitFor();
      await page.evaluate(() => { document.getElementById('status').textContent = ''; });
      await page.click('#add button[type=submit]');
      await until('the visit to be saved', async () => (await page.textContent('#status')).includes(`${added} added to the line`), 30000);
      assert(!(await page.textContent('#a-err')).trim(), 'no error once there is room');
      await page.locator('#disk-full').waitFor({ state: 'detached', timeout: 30000 });
      assert(await leftWithNote(page, left, `Note for ${left}`, { typed: false }) === 'saved', 'the kept note is saved');

      const list = (await node.api('/api/v1/checkins?status=all')).json;
      assert(list.filter(v => v.visitor_name === added).length === 1, `${added} saved once`);
      const l = list.find(v => v.visitor_name === left);
      assert(l && l.status === 'left' && l.note === `Note for ${left}`, `${left} left with the note: ${JSON.stringify(l)}`);
      const h = (await node.api('/healthz')).json;
      assert(h.disk_full === false && h.storage_error === null, `healthz clear again: ${JSON.stringify(h)}`);
      await page.goto(node.url + '/sync.html');
      await until('the Sync page to be clear', async () => {
        const t = await page.textContent('#summary');
        return !t.includes('Loading') && !t.includes(FULL);
      });
      await page.goto(node.url + '/');
      await until('the home page\'s sync line', async () => (await page.textContent('#sync-line')).includes('not enrolled'));
      assert(await page.locator('#disk-full').count() === 0, 'no disk notice at home once there is room');
    } finally {
      if (browser) await browser.close().catch(() => {});
      if (filler) try { unlinkSync(filler); } catch { /* gone */ }
      if (node) await node.stop();
      fs.umount();
    }
  }],
];
