// duplicates.test.mjs - a possible duplicate on the participant page in a
// real browser: the same person registered at two offices of a Local Area
// while offline is flagged at the hub (participant_duplicate_flags), and the
// flag replicates to the offices.  A stand-alone demo node has no hub, so the
// flag is written into node.db as the hub would replicate it, between two
// participants registered through the API.  The page names and links the
// other participant; staff with participant_edit get "Same person" /
// "Different people", a View Access user only the notice; once reviewed
// the notice is gone from both participants' pages and the review is on
// the flag (status, resolved_by).  No console errors on the way; axe-core
// (WCAG 2.1 AA) clean with the notice shown.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { withSignedInNode, login, assertAccessible, assert, plantSecret, OUT } from './lib.mjs';

function sql(node, q) {
  return execFileSync('sqlite3', [join(node.data, 'node.db'), '.timeout 5000', q], { encoding: 'utf8' }).trim();
}

// What goes wrong on a page from now on: console errors, uncaught errors,
// and answers of 400 and up (the browser logs those as "Failed to load
// resource", without the address) but for the requests allowed, as
// "METHOD /path" (a View Access user is refused the front desk's check-ins,
// which the participant page asks for and does without).
function collectErrors(page, allowed = []) {
  const errors = [];
  page.on('console', m => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of'))
      errors.push(`console error at ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', e => errors.push(`page error at ${page.url()}: ${e.message}`));
  page.on('response', r => {
    const what = `${r.request().method()} ${new URL(r.url()).pathname}`;
    if (r.status() >= 400 && !allowed.includes(what)) errors.push(`${r.status()} for ${what} at ${page.url()}`);
  });
  return errors;
}

// Open a participant's page and wait until it has rendered the record (the
// duplicate notice is drawn in the same pass).
async function openParticipant(page, node, pid) {
  await page.goto(node.url + '/case-participant.html?id=' + pid);
  await page.waitForSelector('#info dd');
}

export const tests = [
  ['a possible duplicate: the notice names and links the other participant, only participant_edit reviews it, the review clears it', () => withSignedInNode(async (node, page, browser) => {
    const errors = collectErrors(page);
    const A = { first_name: 'Adaora', last_name: 'Dupetest', birth_date: '1984-03-09', ssn: '532-67-1849' };
    const B = { first_name: 'Adaeze', last_name: 'Dupetest', birth_date: '1984-03-09', ssn: '533-68-2951' };
    for (const p of [A, B]) plantSecret(`${p.first_name} ${p.last_name}`), plantSecret(p.last_name), plantSecret(p.ssn);
    const ra = await node.api('/api/v1/case/participants', A);
    assert(ra.status === 201, 'first participant registered: ' + ra.status + ' ' + JSON.stringify(ra.json));
    const rb = await node.api('/api/v1/case/participants', B);
    assert(rb.status === 201, 'second participant registered: ' + rb.status + ' ' + JSON.stringify(rb.json));
    const pa = ra.json.id, pb = rb.json.id;
    const nameA = `${A.first_name} ${A.last_name}`, nameB = `${B.first_name} ${B.last_name}`;

    // The flag, as the hub would replicate it: B arrived first, A later.
    const la = sql(node, `SELECT local_area_id FROM participants WHERE id='${pa}'`);
    assert(la, 'the participant has a Local Area');
    const flag = randomUUID();
    sql(node, 'INSERT INTO participant_duplicate_flags(id, local_area_id, participant_id, other_participant_id,' +
      ` reason, detected_at, status, updated_hlc) VALUES('${flag}', '${la}', '${pa}', '${pb}', 'ssn', ${Date.now()}, 'open', '')`);
    const d = (await node.api('/api/v1/case/participants/' + pa)).json.possible_duplicates;
    assert(d && d.length === 1 && d[0].id === pb && d[0].flag_id === flag && d[0].reason === 'ssn',
      'the API carries the flag: ' + JSON.stringify(d));

    // The demo user (participant_edit): the notice names and links B, with both buttons.
    // (each wait for the notice is Playwright's own, 30 s: the page's requests
    // are slow on a loaded machine; 5 s was not always enough)
    await openParticipant(page, node, pa);
    await page.waitForSelector('#dups:not([hidden])');
    const notice = page.locator('#dups p.notice');
    assert(await notice.count() === 1, 'one notice: ' + await notice.count());
    const text = (await notice.textContent()).replace(/\s+/g, ' ');
    assert(text.includes('Possible duplicate: the same SSN is recorded for ' + nameB), 'the notice names the other participant: ' + text);
    assert(!text.includes(B.ssn) && !text.includes(A.ssn), 'no SSN in the notice');
    const link = notice.locator('a');
    assert(await link.count() === 1 && (await link.textContent()) === nameB, 'the other participant is a link');
    assert(await link.getAttribute('href') === '/case-participant.html?id=' + pb, 'the link leads to the other participant: ' + await link.getAttribute('href'));
    const same = notice.getByRole('button', { name: 'Same person' });
    const diff = notice.getByRole('button', { name: 'Different people' });
    assert(await same.isVisible() && await diff.isVisible(), 'both review buttons shown to the demo user');
    assert(await same.isEnabled() && await diff.isEnabled(), 'both review buttons usable');
    await page.screenshot({ path: `${OUT}/duplicates-notice.png`, fullPage: true });
    await assertAccessible(page, 'participant page with a possible duplicate');

    // The link leads to B, whose page names A.
    await Promise.all([page.waitForURL(u => new URL(u).searchParams.get('id') === pb), link.click()]);
    await page.waitForSelector('#info dd');
    await page.waitForSelector('#dups:not([hidden])');
    assert((await page.textContent('#title')) === nameB, "the link opened the other participant's page");
    const back = page.locator('#dups p.notice a');
    assert(await back.count() === 1 && (await back.textContent()) === nameA, "the other participant's page names this one");
    assert(await back.getAttribute('href') === '/case-participant.html?id=' + pa, 'and links it');

    // A View Access user (t-view) sees the notice, and no button to review it.
    const demoSession = node.session;
    const viewCtx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    try {
      const vpage = await viewCtx.newPage();
      await login(vpage, node, 't-view');
      const verrors = collectErrors(vpage, ['GET /api/v1/checkins']);
      await openParticipant(vpage, node, pa);
      await vpage.waitForSelector('#dups:not([hidden])');
      assert((await vpage.locator('#dups a').textContent()) === nameB, 'View Access sees the notice naming the other participant');
      assert(await vpage.locator('#dups button').count() === 0, 'no review buttons for View Access');
      assert(await vpage.getByRole('button', { name: /Same person|Different people/ }).count() === 0, 'no review button anywhere on the page');
      await vpage.screenshot({ path: `${OUT}/duplicates-notice-view-only.png`, fullPage: true });
      assert(verrors.length === 0, 'no console errors for View Access:\n    ' + verrors.join('\n    '));
    } finally {
      await viewCtx.close();
      node.session = demoSession;
    }

    // The demo user reviews it: different people.
    await openParticipant(page, node, pa);
    await page.waitForSelector('#dups:not([hidden])');
    const [resp] = await Promise.all([
      page.waitForResponse(r => r.url().endsWith(`/api/v1/case/duplicates/${flag}/review`) && r.request().method() === 'POST'),
      page.locator('#dups').getByRole('button', { name: 'Different people' }).click(),
    ]);
    assert(resp.status() === 200, 'the review is accepted: ' + resp.status());
    assert(JSON.parse(resp.request().postData()).outcome === 'different_people', 'the review says different people');
    await page.waitForSelector('#dups', { state: 'hidden' });
    assert(await page.locator('#dups p').count() === 0, 'the notice is gone');
    assert((await page.textContent('#load-err')).trim() === '', 'no error shown: ' + await page.textContent('#load-err'));

    // Recorded on the flag, by the demo user.
    const demoId = sql(node, "SELECT id FROM staff WHERE username='demo'");
    const row = sql(node, `SELECT status, resolved_by, resolved_at > 0, updated_hlc <> '' FROM participant_duplicate_flags WHERE id='${flag}'`);
    assert(row === `different_people|${demoId}|1|1`, `the flag records the review: ${row} (demo is ${demoId})`);

    // Gone on a fresh load of either page, and from the API.
    await openParticipant(page, node, pa);
    assert(await page.isHidden('#dups'), 'no notice on a reload');
    await openParticipant(page, node, pb);
    assert((await page.textContent('#title')) === nameB, "the other participant's page");
    assert(await page.isHidden('#dups'), "no notice on the other participant's page");
    assert(await page.locator('#dups p').count() === 0, 'nothing in the notice area');
    for (const p of [pa, pb]) {
      const dd = (await node.api('/api/v1/case/participants/' + p)).json.possible_duplicates;
      assert(Array.isArray(dd) && dd.length === 0, 'no possible duplicate left: ' + JSON.stringify(dd));
    }

    assert(errors.length === 0, 'no console errors:\n    ' + errors.join('\n    '));
  }, { viewport: { width: 1200, height: 900 } })],
];
