// console.test.mjs - the hub administration console in a real browser
// against a real outpost-hub (HTTPS, self-signed certificate): enrollment
// codes used by a real office node, the node list and revoking a node,
// conflicts side by side and resolved by an edit that reaches the office,
// quarantined entries reviewed and marked handled; axe-core (WCAG 2.1 AA)
// clean on every console page and dialog.
import { startHub, startNode, enrollNode, launch, assertAccessible, assert } from './lib.mjs';

const CODE_RE = /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/;
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function until(what, fn, ms = 20000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for ' + what);
    await sleep(200);
  }
}

// A browser signed in to the hub console.
async function consoleSession(hub) {
  const browser = await launch();
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 },
    extraHTTPHeaders: { Authorization: 'Bearer ' + hub.token } });
  const page = await context.newPage();
  return { browser, context, page };
}

async function withHub(fn) {
  const hub = await startHub();
  const cleanup = [];
  let b = null;
  try {
    b = await consoleSession(hub);
    await fn(hub, b.page, cleanup);
  } finally {
    if (b) await b.browser.close();
    for (const c of cleanup.reverse()) await c();
    await hub.stop();
  }
}

export const tests = [
  ['enrollment code shown once and used by a real node; node list with lag; revoke with confirmation', () => withHub(async (hub, page, cleanup) => {
    const n1 = await startNode();
    cleanup.push(() => n1.stop());
    enrollNode(n1, hub);
    await until('the first node to pull', async () => {
      const r = await hub.api('/api/v1/nodes');
      return r.json.length === 1 && r.json[0].last_pull_ms;
    });

    await page.goto(hub.url + '/');
    await page.waitForFunction(() => document.getElementById('s-nodes').textContent === '1');
    await assertAccessible(page, 'overview');

    await page.goto(hub.url + '/nodes.html');
    await page.locator('#nodes tbody tr').first().waitFor();
    assert((await page.textContent('#nodes')).includes('Up to date'), 'the synced node is up to date');
    await assertAccessible(page, 'nodes page');

    // A code without an office is refused in place.
    await page.click('#code-create');
    assert((await page.textContent('#code-office_id-err')).includes('Choose the office'), 'office required');
    assert(await page.getAttribute('#code-office_id', 'aria-invalid') === 'true', 'office marked invalid');
    await page.selectOption('#code-office_id', 'demo-office-2');
    await page.click('#code-create');
    await page.waitForSelector('#enroll-code');
    const code = await page.inputValue('#enroll-code');
    assert(CODE_RE.test(code), 'a code of the documented form: ' + code);
    const note = await page.textContent('#enroll-code-note');
    assert(/only this once/i.test(note) && /24 hours/.test(note), 'shown-once and 24-hour note: ' + note);
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
  })],

  ['conflict side by side, resolved by an edit that reaches the office; quarantined entry reviewed and marked handled', () => withHub(async (hub, page, cleanup) => {
    const node = await startNode();
    cleanup.push(() => node.stop());
    // A real change made at the office, kept before enrolling, becomes the
    // quarantined entry (as the hub keeps a refused one).
    const reasons = (await node.api('/api/v1/greeter/reasons')).json;
    const ci = await node.api('/api/v1/checkins', { visitor_name: 'Quinn Refused', reason_ids: [reasons[0].id], language: 'en' });
    assert(ci.status === 201, 'check-in at the office');
    enrollNode(node, hub);
    const nodeId = await until('the node to enroll', async () => (await hub.api('/api/v1/nodes')).json[0]?.id);
    const now = Date.now();
    hub.sql(`ATTACH '${node.data}/node.db' AS n;
      INSERT INTO quarantine(id, node_id, seq, tbl, reason, changeset, hlc, actor, created_at)
        SELECT 'q-test', '${nodeId}', seq, 'checkins', 'checkins: reason is not offered at this office', changeset, hlc, actor, ${now}
        FROM n.outbox ORDER BY seq LIMIT 1;
      INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, remote_value, winner,
        local_hlc, remote_hlc, node_id, actor, origin_seq, created_at, updated_hlc)
      VALUES('c-test', 'offices', 'demo-office', 'address', '"100 Main Street, Sacramento, CA 95814"',
        '"100 Main Street, Suite 4, Sacramento, CA 95814"', '"12 K Street, Sacramento, CA 95814"', 'local',
        '', '', '${nodeId}', 'demo', 1, ${now}, '');`);

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
    await page.locator('#conflicts tbody tr', { hasText: 'Resolved' }).waitFor();

    // Quarantine: the office's change next to the hub's (missing) row.
    const qrow = page.locator('#quarantine tbody tr', { hasText: 'not offered' });
    await qrow.getByRole('button', { name: /^Review quarantined entry/ }).click();
    await page.locator('#q-dlg[open]').waitFor();
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
  })],
];
