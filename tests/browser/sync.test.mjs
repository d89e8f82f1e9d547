// sync.test.mjs - the node's Sync page and the sync line of its home page,
// for a stand-alone node and for one with a refused change and a conflict
// recorded (planted in node.db as the sync client and a pull would write
// them); axe-core on both pages.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { withSignedInNode, assertAccessible, assert } from './lib.mjs';

// The data directory of a node started by lib.mjs, from its command line.
function dataDir(node) {
  const args = node.proc.spawnargs;
  return args[args.indexOf('--data') + 1];
}

const withNode = fn => withSignedInNode(fn);

export const tests = [
  ['a stand-alone node says it is not enrolled, on the Sync page and at home', () => withNode(async (node, page) => {
    await page.goto(node.url + '/sync.html');
    await page.waitForFunction(() => !document.getElementById('summary').textContent.includes('Loading'));
    const text = await page.textContent('#summary');
    assert(text.includes('not enrolled'), `not-enrolled summary expected, got ${text}`);
    // Signing in is itself a change for the hub (a login audit event), so the
    // page must show exactly what the node counts, not a fixed zero.
    const st = await node.api('/api/v1/sync/status');
    assert(st.status === 200, 'sync status readable');
    assert((await page.textContent('#s-pending')) === String(st.json.pending),
      `pending shown as the node counts it (${st.json.pending})`);
    assert((await page.textContent('#s-contact')) === 'never', 'no contact yet');
    assert((await page.textContent('#quarantine')).includes('None'), 'no refused change');
    assert((await page.textContent('#conflicts')).includes('None'), 'no conflict');
    assert(await page.getAttribute('nav a[href="/sync.html"]', 'aria-current') === 'page', 'Sync in the nav');
    await assertAccessible(page, 'sync page (stand-alone)');
    await page.goto(node.url + '/');
    await page.waitForFunction(() => document.getElementById('sync-line').textContent.includes('enrolled'));
    await page.getByRole('link', { name: 'Sync details' }).waitFor();
  })],

  ['pending changes, a refused change and a conflict are shown, and the page is accessible', () => withNode(async (node, page) => {
    const rs = await node.api('/api/v1/greeter/reasons');
    const c = await node.api('/api/v1/checkins', { visitor_name: 'Sync Page Visitor', reason_ids: [rs.json[0].id] });
    assert(c.status === 201, 'check-in saved');
    const db = join(dataDir(node), 'node.db');
    const now = Date.now();
    execFileSync('sqlite3', [db,
      'CREATE TABLE IF NOT EXISTS sync_quarantine(seq INTEGER PRIMARY KEY NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);' +
      `INSERT INTO sync_quarantine(seq, reason, at) VALUES(7, 'row outside this office', ${now});` +
      'INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner,' +
      ' node_id, created_at, scope_office, scope_la)' +
      ` VALUES('c1', 'checkins', '${c.json.id}', 'status', '"waiting"', '"called"', '"left"', 'remote',` +
      ` 'node-2', ${now}, 'demo-office', 'demo-la');`]);
    const before = (await node.api('/api/v1/sync/status')).json.pending;
    await page.goto(node.url + '/sync.html');
    await page.locator('#conflicts table').waitFor();
    const after = (await node.api('/api/v1/sync/status')).json.pending;
    assert(after >= 1, 'the check-in waits for the hub');
    assert((await page.textContent('#s-pending')) === String(after) && after >= before,
      `pending shown as the node counts it (${after})`);
    const q = await page.textContent('#quarantine');
    assert(q.includes('row outside this office'), `refused change listed, got ${q}`);
    const row = page.locator('#conflicts tbody tr');
    assert(await row.count() === 1, 'one conflict row');
    const t = await row.textContent();
    for (const want of ['checkins', c.json.id, 'status', '"waiting"', '"called"', '"left"']) {
      assert(t.includes(want), `conflict row should show ${want}: ${t}`);
    }
    assert((await row.locator('td').last().textContent()) === '"left"', 'the kept value is the node\'s');
    await assertAccessible(page, 'sync page (refused change and conflict)');
    const api = await node.api('/api/v1/sync/conflicts');
    assert(api.status === 200 && api.json.length === 1 && api.json[0].row_id === c.json.id, 'conflicts API');
  })],
];
