// caseweek.test.mjs - a case manager's week in a real browser (issue 15): an
// activity dated 40 days back is saved as pending approval (no approver
// names typed in), the form starts over; three other staff, each signed in
// in their own browser, approve it on the Approvals page as the DSS Program
// Manager, the WDB Director and EDD, and then it counts; a case nearing its
// soft exit gets its closure form, every field filled (N/A where it does not
// apply), missing fields shown in place, and a measurable skill gain; a
// supervisor's Help Request to void
// an entry leaves it standing until DSS WIOA staff approve.  The approver roles are hub-owned:
// on this stand-alone node they are written as the hub would replicate them.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { withSignedInNode, login, assertAccessible, assert, plantSecret, fillIn, officeDay } from './lib.mjs';

function daysBack(today, n) {
  return new Date(Date.parse(today + 'T00:00:00Z') - n * 86400000).toISOString().slice(0, 10);
}

// Dates as every page shows them (MM/DD/YYYY).
const shown = iso => `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)}`;

function sql(node, q) {
  return execFileSync('sqlite3', [join(node.data, 'node.db'), '.timeout 5000', q], { encoding: 'utf8' });
}

// seconds the test goes on using the office's day it took
const SPAN = 150;

const APPROVERS = [
  ['jlee', '0190a000-0000-7000-8000-0000000000b1', 'dss_program_manager'],
  ['srivera', '0190a000-0000-7000-8000-0000000000b2', 'wdb_director'],
  ['pkim', '0190a000-0000-7000-8000-0000000000b3', 'edd'],
];

export const tests = [
  ["a case manager's week: backdated activity pending until approved by others, closure form before the soft exit", () => withSignedInNode(async (node, page, browser) => {
    // the office's day for the whole test (the pages and the due week are of it)
    const today = await officeDay(node, SPAN);
    for (const [, sid, role] of APPROVERS)
      sql(node, `INSERT INTO case_approver_roles(id, staff_id, local_area_id, role, granted_at) VALUES('${sid}:${role}', '${sid}', 'demo-la', '${role}', 1)`);
    const first = 'Estela', last = 'Semanal', note = 'Mock interview practice, documented late.';
    plantSecret(`${first} ${last}`); plantSecret(last); plantSecret(note);
    const p = (await node.api('/api/v1/case/participants', { first_name: first, last_name: last, birth_date: '1988-03-03' })).json;
    sql(node, `UPDATE participants SET registered_date='${daysBack(today, 60)}' WHERE id='${p.id}'`);
    // (node.api() speaks as the last user login() signed in: demo, for now.)
    const demoSession = node.session;
    const q = (await node.api('/api/v1/case/participants', { first_name: 'Nora', last_name: 'Cercana', birth_date: '1979-09-09' })).json;
    plantSecret('Nora Cercana'); plantSecret('Cercana');
    sql(node, `UPDATE participants SET registered_date='${daysBack(today, 70)}' WHERE id='${q.id}'`);

    // Monday: an activity from 40 days ago.
    await page.goto(node.url + '/case-participant.html?id=' + p.id);
    await page.waitForSelector('#code option[value="activity:102"]', { state: 'attached' });
    await page.selectOption('#code', 'activity:102');
    await page.fill('#start_date', daysBack(today, 40));
    await page.dispatchEvent('#start_date', 'change');
    assert(await page.isVisible('#approval'), 'the pending-approval notice for 40 days back');
    assert(await page.locator('#approval input').count() === 0, 'no approver names to type in');
    await page.fill('#note-body', note);
    await page.click('#act-save');
    await page.waitForFunction(() => document.getElementById('act-ok').textContent.includes('pending approval'));
    await page.locator('#timeline .pill', { hasText: 'pending approval' }).waitFor();
    assert(await page.inputValue('#start_date') === today, 'the form starts over at today');
    assert(await page.isHidden('#approval'), 'no approval notice for the next entry');
    assert(!(await page.textContent('#status')).includes('Last clock-restarting service'), 'the pending entry does not count yet');
    await assertAccessible(page, 'participant page with a pending entry');

    // The approvers, each in their own browser session.
    for (const [user] of APPROVERS) {
      const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      const ap = await ctx.newPage();
      await login(ap, node, user);
      await ap.goto(node.url + '/case-approvals.html');
      const item = ap.locator('li.request', { hasText: `${first} ${last}` });
      await item.waitFor();
      if (user === 'jlee') {
        await assertAccessible(ap, 'approvals page');
        // A refusal needs its reason.
        await item.locator('button', { hasText: 'Refuse' }).click();
        await item.locator('.field-err', { hasText: 'why' }).waitFor();
      }
      await item.locator('button', { hasText: 'Approve' }).click();
      await ap.waitForFunction(() => document.getElementById('ok').textContent.includes('Recorded: approved'));
      await ctx.close();
    }
    // The author sees it approved, and now it counts.
    await page.goto(node.url + '/case-approvals.html');
    await page.selectOption('#state', 'all');
    await page.locator('li.request', { hasText: `${first} ${last}` }).locator('.pill', { hasText: 'approved' }).waitFor();
    await page.goto(node.url + '/case-participant.html?id=' + p.id);
    await page.locator('#timeline .pill', { hasText: 'backdated with approval' }).waitFor();
    assert((await page.textContent('#status')).includes(`Last clock-restarting service ${shown(daysBack(today, 40))}`), 'the approved entry counts');

    // Thursday: a case 70 days without service nears its soft exit.
    await page.goto(node.url + '/case-participant.html?id=' + q.id);
    await page.waitForSelector('#form-closure');
    assert(await page.isVisible('#closure'), 'the closure form is called for');
    await page.fill('#closure-fields-exit_reason', 'Entered employment');
    await page.click('#form-closure button[type=submit]');
    await page.waitForFunction(() => document.getElementById('closure-fields-employer_name-err').textContent !== '');
    const missing = await page.locator('#form-closure [aria-invalid=true]').count();
    assert(missing === 8, `every empty field marked at once (${missing})`);
    await assertAccessible(page, 'closure form with errors');
    for (const id of await page.locator('#form-closure input[id^="closure-fields-"]').evaluateAll(l => l.map(x => x.id)))
      if (!(await page.inputValue('#' + id))) await page.fill('#' + id, 'N/A');
    await page.fill('#closure-fields-employer_name', 'Harbor Tile Co.');
    await page.click('#form-closure button[type=submit]');
    await page.waitForFunction(() => (document.getElementById('forms-ok') || {}).textContent === 'Closure form saved.');
    assert(await page.isHidden('#closure'), 'no longer prompted for the closure form');
    assert(!(await page.textContent('#status')).includes('complete the closure form'), 'the clocks no longer ask for it');
    // The same case's measurable skill gain: one of the five types, every
    // field; it is listed, and counted in the timeliness report.
    await page.locator('#forms summary', { hasText: 'Measurable skill gain' }).click();
    await page.click('#form-skill_gain button[type=submit]');
    await page.waitForFunction(() => document.getElementById('skill_gain-fields-gain_type-err').textContent !== '');
    assert(await page.locator('#form-skill_gain [aria-invalid=true]').count() === 4, 'every empty field of the gain marked');
    await page.selectOption('#skill_gain-fields-gain_type', 'Training milestone');
    await fillIn(page, { '#skill_gain-fields-program': 'Forklift certificate',
      '#skill_gain-fields-achievement': 'Passed the written test', '#skill_gain-fields-documentation': 'N/A' });
    await page.click('#form-skill_gain button[type=submit]');
    await page.locator('#skill-gains li', { hasText: 'Passed the written test' }).waitFor();
    // (as demo, who has the reports privilege: the last approver signed in,
    // pkim, has View Access, whose compliance view is its own caseload only)
    node.session = demoSession;
    const tk = (await node.api('/api/v1/case/compliance')).json.timeliness.by_kind.find(k => k.kind === 'measurable_skill_gain');
    assert(tk.entries === 1 && tk.late === 0, 'the gain in the timeliness report: ' + JSON.stringify(tk));

    // Friday: the supervisor asks to void the approved activity (a Help
    // Request); it stands until DSS WIOA staff approve.
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const sup = await ctx.newPage();
    await login(sup, node, 'jlee');
    await sup.goto(node.url + '/case-participant.html?id=' + p.id);
    const act = sup.locator('#timeline li.activity').first();
    await act.locator('summary', { hasText: 'Request a change' }).click();
    // (the activity's own Help Request: its note has another, to amend it)
    const hr = act.locator('form[aria-label^="Help Request for"]');
    await hr.locator('button', { hasText: 'Send the Help Request' }).click();
    await hr.locator('.field-err', { hasText: 'reason' }).waitFor();
    await hr.locator('input[type=checkbox]').check();
    await hr.locator('textarea[id$="-reason"]').fill('Entered for the wrong participant.');
    await hr.locator('button', { hasText: 'Send the Help Request' }).click();
    await sup.locator('#timeline .pill', { hasText: 'change waiting for approval' }).waitFor();
    assert((await sup.textContent('#timeline')).includes('until then this entry stands'), 'the original stands');
    await assertAccessible(sup, 'participant page with a pending Help Request');
    await ctx.close();
  }, { viewport: { width: 1200, height: 900 } })],
];
