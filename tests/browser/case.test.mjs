// case.test.mjs - case work in a real browser, as staff would do it: register
// a participant (pseudo-SSN), add an activity with its case note in one form
// (the note's subject and contact date follow the activity), see the
// compliance view change, amend a note (both shown), link a front-desk
// visit to the timeline, the backdating approval
// asked for only when needed, field errors in place; axe-core (WCAG 2.1 AA)
// clean on every case page.
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { withSignedInNode, login, assertAccessible, assert, officeDay, OUT } from './lib.mjs';

const withNode = fn => withSignedInNode(fn, { viewport: { width: 1200, height: 900 } });
// seconds the test goes on using the office's day it took (it takes about a
// minute under the sanitizer)
const SPAN = 150;

function daysBack(today, n) {
  const d = new Date(Date.parse(today + 'T00:00:00Z') - n * 86400000);
  return d.toISOString().slice(0, 10);
}

// YYYY-MM-DD as pages show it.
const shown = iso => `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)}`;

async function dueCount(page, node) {
  await page.goto(node.url + '/case-compliance.html');
  await page.waitForSelector('#n-due');
  return Number((await page.textContent('#n-due')).trim());
}

// Participant name and note text are planted: they must never reach a log.
function plant(...values) {
  writeFileSync(join(OUT, 'planted-secrets.txt'), values.map(v => v + '\n').join(''), { flag: 'a' });
}

export const tests = [
  ['register, add an activity with its note, the compliance view changes; amendments; axe on every page', () => withNode(async (node, page, browser) => {
    const first = 'Guadalupe', last = 'Browsertest', note = 'Completed the initial assessment in person.';
    plant(`${first} ${last}`, last, note);
    // the office's day for the whole test (the pages and the due week are of it)
    const today = await officeDay(node, SPAN);

    await page.goto(node.url + '/case.html');
    await page.waitForSelector('#results p, #results table');
    assert(await page.locator('header nav a', { hasText: 'Case work' }).count() === 1, 'Case work link in the nav');
    await assertAccessible(page, 'case home');

    // Register, with the pseudo-SSN helper.
    await page.goto(node.url + '/case-register.html');
    await page.waitForSelector('#office_id option', { state: 'attached' });
    await assertAccessible(page, 'register form');
    await page.click('#save');
    await page.waitForFunction(() => document.getElementById('first_name-err').textContent !== '');
    assert(await page.getAttribute('#first_name', 'aria-invalid') === 'true', 'missing first name marked in place');
    await page.fill('#first_name', first);
    await page.fill('#last_name', last);
    await page.fill('#birth_date', '1977-05-25');
    await page.check('#pseudo');
    await page.waitForFunction(() => document.getElementById('pseudo-out').textContent.includes('975-25-0577'));
    await page.click('#save');
    await page.waitForURL(/case-participant\.html\?id=/);
    const pid = new URL(page.url()).searchParams.get('id');
    await page.waitForSelector('#info dd');
    assert((await page.textContent('#info')).includes('***-**-0577'), 'SSN shown masked');
    assert(!(await page.textContent('#info')).includes('975-25-0577'), 'full SSN not shown by default');
    await assertAccessible(page, 'participant page');
    await page.click('#reveal');
    await page.waitForFunction(() => document.getElementById('ssn-out').textContent.includes('975-25-0577'));
    // No entry may predate the registration: she registered 45 days ago.
    execFileSync('sqlite3', [join(node.data, 'node.db'), '.timeout 5000',
      `UPDATE participants SET registered_date='${daysBack(today, 45)}' WHERE id='${pid}'`]);

    const before = await dueCount(page, node);
    await assertAccessible(page, 'compliance view');

    // An activity with its note, 26 days back: its 30-day note cadence ends this week.
    await page.goto(node.url + '/case-participant.html?id=' + pid);
    await page.waitForSelector('#code option[value="activity:102"]', { state: 'attached' });
    await page.selectOption('#code', 'activity:102');
    await page.fill('#start_date', daysBack(today, 26));
    await page.dispatchEvent('#start_date', 'change');
    await page.waitForFunction(() => document.getElementById('subject-preview').textContent.includes('102 Initial Assessment'));
    assert(await page.isHidden('#approval'), 'no approval asked for 26 days back');
    await page.click('#act-save');
    await page.waitForFunction(() => document.getElementById('note-body-err').textContent !== '');
    assert((await page.textContent('#note-body-err')).includes('case note'), 'an activity without its note is refused in place');
    await page.fill('#note-body', note);
    await page.click('#act-save');
    await page.locator('#timeline h3', { hasText: '102 Initial Assessment' }).waitFor();
    const tl = await page.textContent('#timeline');
    assert(tl.includes(note), 'the note is on the timeline');
    // dates in the one format of every page (MM/DD/YYYY)
    assert(tl.includes('contact ' + shown(daysBack(today, 26))), "the note's contact date is the activity's start date");
    assert(!/\d{4}-\d{2}-\d{2}/.test(tl), 'no ISO date on the timeline: ' + tl.match(/\d{4}-\d{2}-\d{2}/));
    // The form starts over after a save: today's date, no code, no note.
    assert(await page.inputValue('#start_date') === today, 'the start date is back to today');
    assert(await page.inputValue('#code') === '', 'no code chosen');
    assert(await page.inputValue('#note-body') === '', 'the note is cleared');
    await assertAccessible(page, 'participant page with a timeline');

    // 40 days back asks for the approval.
    await page.fill('#start_date', daysBack(today, 40));
    await page.dispatchEvent('#start_date', 'change');
    assert(await page.isVisible('#approval'), 'approval asked for 40 days back');
    await assertAccessible(page, 'activity form with the approval');

    // Amend the note: a Help Request, which staff cannot raise (a
    // supervisor's, issue 15): no form the node would refuse, but who can.
    assert(await page.locator('#timeline summary', { hasText: 'Amend this note' }).count() === 0,
      'no Help Request form for a staff member');
    assert((await page.textContent('#timeline')).includes('A supervisor or manager can raise a Help Request to amend this note'),
      'the staff member is told who can amend the note');
    // A supervisor can; the reason is required, shown in place.
    const amend = 'Also reviewed the resume.';
    plant(amend);
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const sup = await ctx.newPage();
    await login(sup, node, 'jlee');
    await sup.goto(node.url + '/case-participant.html?id=' + pid);
    await sup.locator('#timeline summary', { hasText: 'Amend this note' }).first().click();
    const amForm = sup.locator('#timeline form[aria-label^="Help Request to amend"]').first();
    await amForm.locator('textarea').first().fill(amend);
    await amForm.locator('button', { hasText: 'Send the Help Request' }).click();
    await amForm.locator('[id$="-reason-err"]').filter({ hasText: /required|reason/i }).waitFor();
    await amForm.locator('textarea').nth(1).fill('Left out the resume review.');
    await amForm.locator('button', { hasText: 'Send the Help Request' }).click();
    await sup.locator('#timeline', { hasText: 'Help Request waiting for DSS WIOA staff' }).waitFor();
    assert((await sup.textContent('#timeline')).includes(note), 'the original note is still shown');
    await ctx.close();

    // The compliance view changed: the case note now comes due this week.
    const after = await dueCount(page, node);
    assert(after === before + 1, `due this week went from ${before} to ${after}`);
    const due = await page.textContent('#due');
    assert(due.includes(last) && due.includes('Case note'), 'the participant is listed as due this week');
    assert((await page.getAttribute('#csv', 'href')).includes('format=csv'), 'CSV link');
    await assertAccessible(page, 'compliance view with items');

    // A stand-alone note today: the 30-day cadence restarts, nothing is due.
    await page.goto(node.url + '/case-participant.html?id=' + pid);
    await page.click('#d-note summary');
    await page.waitForSelector('#n-subject');
    await page.fill('#n-subject', 'Contact attempt');
    await page.fill('#n-body', 'Called, no answer.');
    await page.click('#note-save');
    await page.locator('#timeline h3', { hasText: 'Case note' }).waitFor();
    assert(await dueCount(page, node) === before, 'a fresh note takes the case off the due list');

    // A visit at the front desk today, linked from the participant page.
    const reasons = (await node.api('/api/v1/greeter/reasons')).json;
    const ci = await node.api('/api/v1/checkins', { visitor_name: `${first} ${last}`, reason_ids: [reasons[0].id], language: 'en' });
    assert(ci.status === 201, 'check-in made');
    await page.goto(node.url + '/case-participant.html?id=' + pid);
    await page.waitForSelector(`#visit option[value="${ci.json.id}"]`, { state: 'attached' });
    await page.click('#d-visit summary');
    await page.selectOption('#visit', ci.json.id);
    await page.click('#visit-save');
    await page.locator('#timeline h3', { hasText: 'Visit' }).waitFor();
    assert((await page.textContent('#timeline')).includes(`Checked in as ${first} ${last}`), "the timeline shows the visitor's name");
    await assertAccessible(page, 'participant page with a visit');

    // Search finds the participant.
    await page.goto(node.url + '/case.html');
    await page.fill('#q', last);
    await page.click('#search button[type=submit]');
    await page.locator('#results a', { hasText: last }).waitFor();
    await assertAccessible(page, 'case home with results');
    // An SSN search goes in the request's body, never in a URL.
    const urls = [];
    page.on('request', (r) => urls.push(r.url()));
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/case/participants/search'));
    await page.fill('#q', '231-45-6789');
    await page.click('#search button[type=submit]');
    assert((await answered).status() === 200, 'the SSN search is answered');
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
    assert(!urls.some((u) => u.replace(uuid, '').includes('6789')), 'no request URL carries the SSN: ' + urls.join(' '));
  })],
];
