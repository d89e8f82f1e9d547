// officeday.test.mjs - the office day (issue 17) in a real browser: typed
// work survives an ended session, the screens follow the role, the error
// summary, the kiosk clears itself, the desk updates live from the node's
// events, the Sync page offline and back; axe-core on every page state and
// screenshots at 1280 px and 390 px under tests/out/.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, startHub, enrollNode, launch, login, assertAccessible, assert, plantSecret, freePort, OUT, BIN, DEMO_PASSWORD, hubFirstSignIn, track, answerLate, officeDay } from './lib.mjs';

async function withNode(fn, { viewport = { width: 1280, height: 900 } } = {}) {
  const node = await startNode();
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ viewport });
    const page = await ctx.newPage();
    await fn(node, page, browser);
  } finally {
    await browser.close();
    await node.stop();
  }
}

// A hub started with args, a demo node and a browser: fn(hub, node, browser);
// all stopped afterwards.
async function withHubAndNode(fn, args = []) {
  const hub = await startHub({ args });
  const node = await startNode();
  const browser = await launch({ trust: [hub.spki] });
  try {
    await fn(hub, node, browser);
  } finally {
    await browser.close();
    await node.stop();
    await hub.stop();
  }
}

async function shoot(page, name) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.waitForTimeout(150);
    await page.screenshot({ path: `${OUT}/officeday-${name}-${width}.png`, fullPage: true });
    // Nothing scrolls sideways, at the phone's width either.
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(wide <= 1, `${name} at ${width}px scrolls sideways by ${wide}px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function participant(node, first, last) {
  const r = await node.api('/api/v1/case/participants', { first_name: first, last_name: last, birth_date: '1980-02-03', pseudo_ssn: true });
  assert(r.status === 201 || r.status === 200, `participant registered: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.id || (r.json.participant && r.json.participant.id);
}

async function endSession(node) {
  // Signed out elsewhere (another tab; the idle limit does the same).
  const r = await fetch(node.url + '/api/v1/session', { method: 'DELETE',
    headers: { Cookie: node.session.cookie, 'X-CSRF-Token': node.session.csrf } });
  assert(r.status === 200 || r.status === 204, `signed out: ${r.status}`);
}

export const tests = [
  ['a case note typed while the session ends survives, and is saved after signing in again in place', () => withNode(async (node, page) => {
    await login(page, node);
    const pid = await participant(node, 'Nora', 'Lostnote');
    await page.goto(node.url + '/case-participant.html?id=' + pid);
    await page.waitForSelector('#info dd');
    const note = 'Discussed two job leads at the warehouse; she will apply by Friday.';
    assert(!(await page.isVisible('#n-subject')), 'the secondary form is collapsed until asked for');
    await page.click('#d-note summary');
    await page.fill('#n-subject', 'Follow-up call');
    await page.fill('#n-body', note);
    // A reload (or a trip to the sign-in page) keeps the draft in this tab.
    await page.reload();
    await page.waitForFunction(t => document.getElementById('n-body').value === t, note, { timeout: 10000 });
    await page.locator('#note-form .draft-note').waitFor();
    await assertAccessible(page, 'participant page with a restored draft');

    await endSession(node);
    await page.click('#note-save');
    await page.waitForSelector('#reauth-dlg[open]');
    assert(await page.inputValue('#n-body') === note, 'the note is still in the form');
    assert(await page.inputValue('#reauth-user') === 'demo', 'the user name is filled in');
    const shown = () => page.evaluate(() => getComputedStyle(document.querySelector('main')).visibility);
    assert(await shown() === 'hidden', 'the page\'s data is not shown behind the sign-in dialog');
    await assertAccessible(page, 'sign-in dialog in place');
    await page.fill('#reauth-pass', DEMO_PASSWORD);
    await page.click('#reauth-btn');
    await page.locator('#timeline', { hasText: note }).waitFor({ timeout: 20000 });
    assert(await shown() === 'visible', 'the page is shown again once signed in');
    assert(page.url().includes('case-participant.html'), 'still on the participant page');
    const tl = await (await fetch(`${node.url}/api/v1/case/participants/${pid}/timeline`, {
      headers: { Cookie: (await page.context().cookies(node.url)).map(c => `${c.name}=${c.value}`).join('; ') } })).json();
    assert(JSON.stringify(tl).includes(note), 'the note is saved at the node');
    assert(await page.evaluate(() => Object.keys(sessionStorage).filter(k => k.startsWith('outpost-draft:')).length) === 0,
      'the draft is gone once saved');
    await shoot(page, 'participant');
    await assertAccessible(page, 'participant page after the save');
  })],

  ['a save clicked twice at once saves once: a visit added at the desk, a case note, a registration going on to its page', () => withNode(async (node, page) => {
    await login(page, node);
    // Two clicks in one go, before the first save's answer is in.
    const twice = sel => page.evaluate(s => { const b = document.querySelector(s); b.click(); b.click(); }, sel);
    await page.goto(node.url + '/desk.html');
    await page.waitForSelector('#a-reasons input', { state: 'attached' });
    await page.evaluate(() => document.querySelectorAll('details').forEach(d => { d.open = true; }));
    await page.fill('#a-name', 'Dora Doubleclick');
    await page.locator('#a-reasons input').first().check();
    await twice('#add button[type=submit]');
    await page.waitForFunction(() => /added to the line/.test(document.getElementById('status').textContent));
    await page.waitForTimeout(500);
    const visits = (await node.api('/api/v1/checkins?status=all')).json.filter(c => c.visitor_name === 'Dora Doubleclick');
    assert(visits.length === 1, 'one visit added: ' + visits.length);
    assert(!(await page.isDisabled('#add button[type=submit]')), 'the button is back for the next visitor');

    const pid = await participant(node, 'Nils', 'Notetwice');
    await page.goto(node.url + '/case-participant.html?id=' + pid);
    await page.waitForSelector('#info dd');
    await page.click('#d-note summary');
    await page.fill('#n-subject', 'Called twice');
    await page.fill('#n-body', 'One note only, please.');
    await twice('#note-save');
    await page.locator('#timeline', { hasText: 'One note only, please.' }).waitFor();
    await page.waitForTimeout(500);
    const tl = JSON.stringify((await node.api(`/api/v1/case/participants/${pid}/timeline`)).json);
    assert(tl.split('One note only, please.').length - 1 === 1, 'one case note saved: ' + (tl.split('One note only, please.').length - 1));

    // Registered, the page goes on to the participant's page; the button
    // stays disabled while it does (a slow link: the next page takes 2 s).
    await page.route(/\/case-participant\.html/, async r => { await new Promise(w => setTimeout(w, 2000)); await r.continue(); });
    await page.goto(node.url + '/case-register.html');
    await page.waitForSelector('#office_id option', { state: 'attached' });
    await page.fill('#first_name', 'Rhea');
    await page.fill('#last_name', 'Registertwice');
    await page.fill('#birth_date', '1980-05-05');
    // Clicked again 150 ms after the registration's answer, while the
    // browser is on its way to the participant's page.
    await page.evaluate(() => {
      const f = window.fetch;
      let once = false;
      window.fetch = async (...a) => {
        const r = await f(...a);
        if (a[1] && a[1].method === 'POST' && !once) once = setTimeout(() => document.getElementById('save').click(), 150);
        return r;
      };
    });
    await page.click('#save');
    await page.waitForURL(u => u.pathname === '/case-participant.html', { timeout: 20000 });
    await page.waitForTimeout(500);
    const found = JSON.stringify((await node.api('/api/v1/case/participants?q=Registertwice')).json);
    const n = new Set(found.match(/"id":"[^"]+"/g) || []).size;
    assert(n === 1, 'one participant registered: ' + found.slice(0, 300));
  })],
  ['what one user typed is gone for the next at the same PC: after Sign out, after a session that ended, after someone else signs in in place', () => withNode(async (node, page) => {
    const typed = { '#first_name': 'Marisol', '#last_name': 'Confidential', '#birth_date': '1975-04-04', '#phone': '916-555-0199' };
    const drafts = () => page.evaluate(() => Object.keys(sessionStorage).filter(k => k.startsWith('outpost-draft:')).length);
    const typeDraft = async () => {
      await page.goto(node.url + '/case-register.html');
      await page.waitForSelector('#office_id option', { state: 'attached' });
      for (const [sel, v] of Object.entries(typed)) await page.fill(sel, v);
      await page.waitForFunction(() => Object.keys(sessionStorage).some(k => k.startsWith('outpost-draft:')));
    };
    const empty = async (who, reload = true) => {
      if (reload) await page.goto(node.url + '/case-register.html');
      await page.waitForSelector('#office_id option', { state: 'attached' });
      await page.waitForTimeout(2500);  // drafts come back 0.6 s and 2 s after a page opens
      for (const sel of Object.keys(typed)) assert(await page.inputValue(sel) === '', `${who}: ${sel} is empty, not what the last user typed`);
      assert(!(await page.isVisible('.draft-note')), `${who}: no draft is offered`);
    };
    const signOut = () => Promise.all([page.waitForURL(u => u.pathname === '/login.html'), page.click('#nav-signout')]);
    await login(page, node);
    await typeDraft();
    await signOut();
    assert(await drafts() === 0, 'Sign out leaves no draft behind');
    await login(page, node, 'jlee');
    await empty('jlee after demo signed out');

    // demo's session ends; demo goes to the sign-in page (the draft is
    // kept for demo), and jlee signs in there.
    await signOut();
    await login(page, node);
    await typeDraft();
    await endSession(node);
    await page.click('#save');
    await page.waitForSelector('#reauth-dlg[open]');
    await Promise.all([page.waitForURL(u => u.pathname === '/login.html'), page.click('#reauth-leave')]);
    await login(page, node, 'jlee');
    await empty('jlee after demo\'s session ended');

    // jlee's session ends with work in the form; demo signs in in place:
    // the page starts over, nothing of jlee's is shown or saved as demo's.
    await typeDraft();
    await endSession(node);
    await page.click('#save');
    await page.waitForSelector('#reauth-dlg[open]');
    await page.fill('#reauth-user', 'demo');
    await page.fill('#reauth-pass', DEMO_PASSWORD);
    await page.click('#reauth-btn');
    await page.waitForSelector('#reauth-dlg', { state: 'detached', timeout: 15000 });  // the page was opened again
    await empty('demo signed in over jlee\'s ended session', false);
    const found = (await fetch(`${node.url}/api/v1/case/participants?q=Confidential`, {
      headers: { Cookie: (await page.context().cookies(node.url)).map(c => `${c.name}=${c.value}`).join('; ') } }));
    assert(!JSON.stringify(await found.json()).includes('Marisol'), 'jlee\'s typing was not saved under demo\'s name');
  })],
  ['a long unbroken name or text keeps every action button on the screen at 1280 px: the desk and the work items', () => withNode(async (node, page) => {
    await login(page, node);
    await page.setViewportSize({ width: 1280, height: 800 });
    const reasons = (await node.api('/api/v1/greeter/reasons')).json;
    for (const visitor_name of ['x'.repeat(100), 'Ann Short']) {
      const r = await node.api('/api/v1/checkins', { visitor_name, reason_ids: [reasons[0].id], language: 'en' });
      assert(r.status === 201 || r.status === 200, `checked in: ${r.status} ${JSON.stringify(r.json)}`);
    }
    const emp = await node.api('/api/v1/crm/employers', { company_name: 'Y'.repeat(110), zip: '95814' });
    assert(emp.status === 201 || emp.status === 200, `employer: ${emp.status} ${JSON.stringify(emp.json)}`);
    const today = (await node.api('/api/v1/crm/meta')).json.today;
    const wi = await node.api('/api/v1/crm/work-items', { category_id: 'crm-cat-follow-up', description: 'z'.repeat(200),
      due_date: today, employer_id: emp.json.id, assignee_id: 'demo-staff' });
    assert(wi.status === 201 || wi.status === 200, `work item: ${wi.status} ${JSON.stringify(wi.json)}`);
    // The buttons of the table in `sel` (at least n) that end past the window's right edge.
    const offScreen = async (url, sel, n) => {
      await page.goto(node.url + url);
      await page.waitForFunction(([s, k]) => document.querySelectorAll(s + ' table button').length >= k, [sel, n]);
      return page.evaluate(s => [...document.querySelectorAll(s + ' table button')]
        .filter(b => b.getBoundingClientRect().right > document.documentElement.clientWidth)
        .map(b => `${b.textContent} at ${Math.round(b.getBoundingClientRect().right)} px`), sel);
    };
    const desk = await offScreen('/desk.html', 'main', 2);
    assert(!desk.length, 'the desk\'s action buttons are on the screen: ' + desk.join(', '));
    const work = await offScreen('/crm-work.html', '#list', 1);
    assert(!work.length, 'the work items\' Edit buttons are on the screen: ' + work.join(', '));
  })],
  ['a View Access user sees no edit form, only the pages they may open, and a home page that loads', () => withNode(async (node, page) => {
    await login(page, node);
    const pid = await participant(node, 'Vic', 'Viewonly');
    const emp = (await node.api('/api/v1/crm/employers', { company_name: 'Sierra Valley Tooling', zip: '95814' })).json;
    await page.context().clearCookies();
    await login(page, node, 'pkim');
    await page.goto(node.url + '/');
    await page.waitForFunction(() => document.getElementById('sync-line').textContent.includes('enrolled'));
    const home = await page.textContent('main');
    assert(!home.includes('Could not load'), 'the home page loads: ' + home);
    assert(!(await page.isVisible('#s-total')), 'no desk figures for View Access');
    const nav = await page.textContent('#top nav');
    assert(!nav.includes('Front desk') && !nav.includes('Visits') && nav.includes('Case work'), 'menu follows the role: ' + nav);
    assert((await page.textContent('#top .brand')).includes("Demo America's Job Center"), 'the office name in the header');
    assert((await page.textContent('footer.site')).includes('Help'), 'a footer with help');
    await assertAccessible(page, 'home (View Access)');

    await page.goto(node.url + '/case-participant.html?id=' + pid);
    await page.waitForSelector('#info dd');
    await page.waitForTimeout(300);
    for (const f of ['#act-form', '#note-form', '#visit-form'])
      assert(!(await page.isVisible(f)), `${f} hidden for View Access`);
    assert(await page.locator('#timeline summary', { hasText: 'Amend' }).count() === 0, 'no amendment form');
    await assertAccessible(page, 'participant (View Access)');

    await page.goto(node.url + '/crm-lead.html?id=' + emp.id);
    await page.waitForFunction(() => document.getElementById('title').textContent.includes('Sierra'));
    for (const f of ['#contact-form', '#location-form', '#svc-form', '#att-form', '#note-form', '#edit-btn', '#convert-btn'])
      assert(!(await page.isVisible(f)), `${f} hidden for View Access`);
    await assertAccessible(page, 'employer (View Access)');
  })],

  ['an LWIA Intake user registers a participant and reads the program entries, with no button to change them', () => withNode(async (node, page) => {
    // A case worker's activity and skill gain on a participant, then the
    // intake account (WSD24-13: "view access only to program applications").
    await login(page, node);
    // (not a day that turns before the participant registered below)
    const today = await officeDay(node, 60);
    const pid = await participant(node, 'Ines', 'Intakeview');
    let r = await node.api(`/api/v1/case/participants/${pid}/activities`, { code: '102', start_date: today, note: { body: 'Initial assessment.' } });
    assert(r.status === 201, 'activity: ' + r.status);
    r = await node.api(`/api/v1/case/participants/${pid}/skill-gains`, { form_date: today,
      fields: { gain_type: 'Training milestone', program: 'Adult', achievement: 'GED', documentation: 'Certificate' } });
    assert(r.status === 201, 'skill gain: ' + r.status + ' ' + JSON.stringify(r.json));
    await page.context().clearCookies();
    await login(page, node, 't-lwia-intake');
    const errors = [];
    page.on('response', x => { if (x.status() === 403) errors.push(`${x.request().method()} ${x.url()}`); });

    // Registration is a basic participant need: the form is there and saves.
    await page.goto(node.url + '/case-register.html');
    await page.waitForSelector('#office_id option', { state: 'attached' });
    await page.fill('#first_name', 'Walker');
    await page.fill('#last_name', 'Intakeone');
    await page.fill('#birth_date', '1991-04-12');
    await page.check('#pseudo');
    await page.click('#save');
    await page.waitForURL(/case-participant\.html\?id=/);
    await page.waitForSelector('#info dd');

    await page.goto(node.url + '/case-participant.html?id=' + pid);
    await page.waitForSelector('#timeline li.activity');
    await page.waitForSelector('#skill-gains li');
    assert((await page.textContent('#timeline')).includes('102'), 'the activity is shown');
    assert((await page.textContent('#skill-gains')).includes('GED'), 'the skill gain is shown');
    for (const f of ['#act-form', '#d-ref', '#closure', '#form-skill_gain', '#form-closure'])
      assert(!(await page.isVisible(f)), `${f} hidden for LWIA Intake`);
    assert(await page.locator('#forms form').count() === 0, 'no program form at all');
    assert(await page.locator('#timeline summary', { hasText: 'Request a change' }).count() === 0, 'no Help Request on the activity');
    for (const f of ['#d-note', '#d-visit'])
      assert(await page.isVisible(f), `${f} shown for LWIA Intake (basic participant needs)`);
    await assertAccessible(page, 'participant (LWIA Intake)');
    assert(errors.length === 0, 'no request refused: ' + errors.join(', '));
  })],

  ['errors: a summary at the top in plain words linking to the field; real not-found pages', () => withNode(async (node, page) => {
    await login(page, node);
    await page.goto(node.url + '/desk.html');
    await page.click('#add-more summary');
    await page.click('#add button[type=submit]');
    await page.waitForSelector('#error-summary');
    const sum = await page.textContent('#error-summary');
    assert(sum.includes('There is a problem'), 'summary heading');
    assert(!/visitor_name|reason_ids|is required/.test(sum), 'no internal names: ' + sum);
    const link = page.locator('#error-summary a').first();
    const href = await link.getAttribute('href');
    assert(['#a-name', '#a-reasons'].includes(href) || href.startsWith('#ar-'), 'the link goes to the field: ' + href);
    assert(await page.evaluate(() => document.activeElement.id) === 'error-summary', 'the summary takes the focus');
    await link.click();
    assert('#' + await page.evaluate(() => document.activeElement.id) === href || href === '#a-reasons', 'the link moves to the field');
    await assertAccessible(page, 'desk with the error summary');
    await page.screenshot({ path: `${OUT}/officeday-error-summary-1280.png` });
    // Fixed: the summary goes.
    await page.fill('#a-name', 'Walk In');
    await page.locator('#a-reasons input').first().check();
    await page.click('#add button[type=submit]');
    // The row can arrive first, by the desk's live event, before the POST's
    // own answer has been read and the summary cleared: wait for that answer.
    await page.locator('tr', { hasText: 'Walk In' }).waitFor();
    await page.waitForFunction(() => !document.getElementById('error-summary'), null, { timeout: 5000 }).catch(() => {});
    assert(await page.locator('#error-summary').count() === 0, 'the summary is gone after a good save');

    const r = await page.goto(node.url + '/no-such-page.html');
    assert(r.status() === 404, 'a 404');
    assert((await page.textContent('h1')) === 'Page not found', 'a page a person can read');
    await assertAccessible(page, '404 page');
    await page.goto(node.url + '/case-participant.html?id=0190a000-0000-7000-8000-00000000dead');
    await page.waitForSelector('#not-found');
    assert(await page.locator('form').count() === 0, 'no empty forms for a missing record');
    await assertAccessible(page, 'participant not found');
  })],

  ['the kiosk shows the chosen language, says how to be found next time, and clears itself after 90 s idle', () => withNode(async (node, page) => {
    await page.clock.install();
    await page.goto(node.url + '/kiosk.html');
    await page.waitForSelector('#reasons label.reason');
    await page.click('#lang-es');
    assert((await page.textContent('#chosen-lang')).includes('español'), 'the chosen language is said');
    assert((await page.textContent('#phone-hint')).includes('teléfono'), 'the phone hint, in Spanish');
    await page.fill('#name', 'Half Filled');
    await page.fill('#phone', '9165550100');
    await page.locator('#reasons label.reason').first().click();
    await assertAccessible(page, 'kiosk half filled (Spanish)');
    await page.clock.fastForward(60000);
    assert(await page.inputValue('#name') === 'Half Filled', 'kept while the visitor may still be there');
    await page.clock.fastForward(31000);
    await page.waitForFunction(() => document.getElementById('name').value === '');
    assert(await page.inputValue('#phone') === '', 'the phone is cleared');
    assert(await page.getAttribute('html', 'lang') === 'en', 'back to English');
    assert(await page.locator('#reasons input:checked').count() === 0, 'no reason left ticked');
    await assertAccessible(page, 'kiosk after the idle reset');
    await shoot(page, 'kiosk');
    // A check-in with a phone: the thanks screen says how to be found next time.
    await page.fill('#name', 'Rita Return');
    await page.fill('#phone', '9165550111');
    await page.locator('#reasons label.reason').first().click();
    await page.click('#submit');
    await page.waitForSelector('#thanks-view:not([hidden])');
    assert((await page.textContent('#next-time')).includes('same phone number'), 'next-time hint');
    await assertAccessible(page, 'kiosk thanks');
  })],

  ['the kiosk offers a returning visitor\'s name only for the number typed now, never for one a digit ago', () => withNode(async (node, page) => {
    const reasons = (await node.api('/api/v1/greeter/reasons')).json;
    const made = await node.api('/api/v1/checkins', { visitor_name: 'Rita Return', phone: '9165550111', reason_ids: [reasons[0].id], language: 'en' });
    assert(made.status === 201, 'the earlier visit: ' + made.status);
    await page.goto(node.url + '/kiosk.html');
    await page.waitForSelector('#reasons label.reason');
    await page.fill('#name', 'Rob Other');
    // The lookup for her whole number answers late; the visitor has typed
    // one more digit by then (another person's number).
    const slow = u => u.pathname === '/api/v1/visitors' && u.searchParams.get('q') === '9165550111';
    const late = await answerLate(page, slow, 800);
    const sent = page.waitForRequest(r => slow(new URL(r.url())));
    await page.fill('#phone', '9165550111');
    await sent; // (250 ms after the last key)
    await page.fill('#phone', '91655501112');
    await late.answered;
    assert(await page.locator('#matches li').count() === 0, 'a name offered for a number a digit ago: ' + await page.textContent('#matches'));
    await page.unroute(slow);
    // Her number typed whole again: offered, as it should be.
    await page.fill('#phone', '9165550111');
    await page.waitForFunction(() => document.getElementById('matches').textContent.includes('Rita Return'));
  })],

  ['the desk updates from the node\'s events when a visitor checks in at the kiosk', () => withNode(async (node, page, browser) => {
    await login(page, node);
    // Every read of the whole list the desk makes (the test's own read below
    // asks for status=all, which the desk's list does not).
    const reads = [];
    page.on('request', r => { const u = new URL(r.url()); if (r.method() === 'GET' && u.pathname === '/api/v1/checkins' && u.searchParams.get('status') !== 'all') reads.push(u.href); });
    await page.goto(node.url + '/desk.html');
    await page.waitForFunction(() => document.body.dataset.live === '1' && document.body.dataset.reads === '1', null, { timeout: 15000 });
    await page.waitForTimeout(300); // a second read would have started by now
    const reads0 = reads.length;
    assert(reads0 === 1, `the desk read its list once on connecting: ${reads0}`);
    const kctx = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const kiosk = await kctx.newPage();
    await kiosk.goto(node.url + '/kiosk.html');
    await kiosk.waitForSelector('#reasons label.reason');
    await kiosk.click('#lang-es');
    await kiosk.fill('#name', 'María Fernández');
    await kiosk.locator('#reasons label.reason').first().click();
    const t0 = Date.now();
    await kiosk.click('#submit');
    await kiosk.waitForSelector('#thanks-view:not([hidden])');
    const row = page.locator('tr', { hasText: 'María Fernández' });
    await row.waitFor({ timeout: 15000 });
    const ms = Date.now() - t0;
    console.log(`     desk showed the kiosk check-in ${ms} ms after the click`);
    const events = await page.evaluate(() => Number(document.body.dataset.events || 0));
    assert(events >= 1, 'the list was updated on an event from the node, not a poll');
    assert(reads.length === reads0, `the event carried the visit; the list was not read again: ${reads.slice(reads0)}`);
    assert(Number(await page.evaluate(() => document.body.dataset.applied)) >= 1, 'the event was applied to the list');
    assert((await row.locator('.badge[lang=es]').textContent()).includes('ES'), 'the language badge');
    await assertAccessible(page, 'desk with a Spanish visitor');
    // A virtual visit is served, not queued; Left without service is said so.
    await page.click('#add-more summary');
    await page.fill('#a-name', 'Vera Virtual');
    await page.selectOption('#a-virtual', '1');
    await page.locator('#a-reasons input').first().check();
    await page.click('#add button[type=submit]');
    await page.waitForFunction(() => document.getElementById('status').textContent.includes('virtual visit recorded as served'));
    const list = (await page.evaluate(() => fetch('/api/v1/checkins?status=all').then(r => r.json())));
    const vv = list.find(c => c.visitor_name === 'Vera Virtual');
    assert(vv && vv.status === 'done' && vv.staff_name === 'Demo Staff', 'virtual visit recorded as served by the desk user');
    assert(await page.locator('tr', { hasText: 'Vera Virtual' }).count() === 0, 'not in the waiting list');
    await row.getByRole('button', { name: /^Left without service/ }).waitFor();
    await row.getByRole('button', { name: /^Serving/ }).click();
    await page.locator('tr', { hasText: 'María Fernández' }).locator('.served-by').waitFor();
    assert(reads.length === reads0, `the desk's own writes and their events read no list: ${reads.slice(reads0)}`);
    await assertAccessible(page, 'desk with a visitor being served');
    await shoot(page, 'desk');
    await kctx.close();
  })],

  ['the sync page says in one sentence whether changes are at the hub, offline and back, with Try now', () => withHubAndNode(async (hub, node, browser) => {
    let hubProc = hub.proc;
    // Enrolled first, signed in once the node has its staff from the hub
    // (a row written under a stand-alone node's provisional identity would
    // name another node, which the hub quarantines).
    enrollNode(node, hub);
    for (let i = 0; i < 240; i++) {
      const s = await (await fetch(node.url + '/api/v1/session')).json().catch(() => ({}));
      if (s.login && s.login.mode === 'connected') break;
      await new Promise(r => setTimeout(r, 250));
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await login(page, node);
    await page.goto(node.url + '/sync.html');
    await page.waitForFunction(() => document.getElementById('summary').textContent.includes('All changes are at the hub'), null, { timeout: 60000 });
    assert((await page.getAttribute('#state', 'class')).includes('ok'), 'green');
    assert(!(await page.isVisible('#detail')), 'the technical table is under Details for IT');
    await assertAccessible(page, 'sync page, all at the hub');
    await page.screenshot({ path: `${OUT}/officeday-sync-ok-1280.png` });

    // The hub goes away: the office works offline, the page says since when.
    hubProc.kill('SIGTERM');
    await new Promise(r => hubProc.once('exit', r));
    const rs = (await node.api('/api/v1/greeter/reasons')).json;
    await node.api('/api/v1/checkins', { visitor_name: 'Offline Visitor', reason_ids: [rs[0].id] });
    await page.click('#try-now');
    await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Working offline since'), null, { timeout: 60000 });
    const text = await page.textContent('#summary');
    assert(/Working offline since \d{1,2}:\d{2} [AP]M, \d+ changes? waiting\./.test(text), 'one plain sentence: ' + text);
    assert(!/[45]\d\d|SSL|ECONN/.test(text), 'no error codes in the sentence');
    assert(/warn|bad/.test(await page.getAttribute('#state', 'class')), 'not green');
    await page.click('#it-details summary');
    assert((await page.textContent('#detail')).includes('Last error'), 'the error is for IT, under Details');
    await assertAccessible(page, 'sync page offline');
    await page.screenshot({ path: `${OUT}/officeday-sync-offline-1280.png`, fullPage: true });

    // The hub is back: Try now, and all is at the hub again.
    const port = new URL(hub.url).port;
    const log = openSync(join(OUT, `browser-hub-officeday-${process.pid}.log`), 'a');
    hubProc = track(spawn(join(BIN, 'outpost-hub'), ['--data', hub.data, '--listen', `127.0.0.1:${port}`, '--demo', 'yes'], { stdio: ['ignore', log, log] }));
    hub.proc = hubProc;
    for (let i = 0; i < 200; i++) {
      try { if ((await hub.request('GET', '/healthz')).status === 200) break; } catch { /* not yet */ }
      await new Promise(r => setTimeout(r, 100));
    }
    await page.click('#try-now');
    await page.waitForFunction(() => document.getElementById('summary').textContent.includes('All changes are at the hub'), null, { timeout: 60000 });
    assert((await page.getAttribute('#state', 'class')).includes('ok'), 'green again');
    await assertAccessible(page, 'sync page back online');
  })],

  ['the lead summary and the hub overview at 1280 and 390 px, without sideways scrolling', () => withHubAndNode(async (hub, node, browser) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await login(page, node);
    const emp = (await node.api('/api/v1/crm/employers', { company_name: 'Río Grande Tortillería', zip: '95814',
      contacts: [{ kind: 'primary', name: 'Sofía Núñez', phone: '(916) 555-0142' }] })).json;
    await page.goto(node.url + '/crm-lead.html?id=' + emp.id);
    await page.waitForFunction(() => document.getElementById('title').textContent.includes('Río'));
    await assertAccessible(page, 'lead summary');
    await shoot(page, 'lead-summary');

    // The hub console's overview, signed in as operations.
    const r = spawnSync(join(BIN, 'outpost-hub'), ['reset-operations', '--data', hub.data], { encoding: 'utf8' });
    assert(r.status === 0, 'reset-operations: ' + r.stderr);
    const temp = r.stdout.trim().split(/\s+/).pop();
    plantSecret(temp);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const hp = await ctx.newPage();
    await hubFirstSignIn(hp, hub, 'operations', temp, 'Hub.Office42');
    await hp.waitForLoadState('networkidle');
    await hp.locator('footer.site', { hasText: 'Outpost hub' }).waitFor();
    await assertAccessible(hp, 'hub overview');
    await shoot(hp, 'hub-overview');
    const nf = await hp.goto(hub.url + '/no-such-page.html');
    assert(nf.status() === 404 && (await hp.textContent('h1')) === 'Page not found', 'the hub\'s 404 is a page');
    await assertAccessible(hp, 'hub 404 page');
  }, ['--password_iters', '1000'])],

  ['two minutes before the idle sign-out a dialog offers to stay signed in', async () => {
    // A node whose sessions end after 135 s idle: the warning comes at 15 s.
    const port = await freePort();
    const data = mkdtempSync(join(tmpdir(), 'outpost-browser-idle-'));
    const log = openSync(join(OUT, `browser-node-idle-${process.pid}.log`), 'a');
    const proc = track(spawn(join(BIN, 'outpost-node'), ['--data', data, '--listen', `127.0.0.1:${port}`, '--demo', 'yes', '--session_idle', '135'],
      { stdio: ['ignore', log, log] }));
    const node = { url: `http://127.0.0.1:${port}` };
    const browser = await launch();
    try {
      for (let i = 0; i < 200; i++) {
        try { if ((await fetch(node.url + '/healthz')).ok) break; } catch { /* not yet */ }
        await new Promise(r => setTimeout(r, 100));
      }
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await login(page, node);
      await page.goto(node.url + '/case.html');
      await page.waitForSelector('#idle-dlg[open]', { timeout: 60000 });
      assert((await page.textContent('#idle-text')).includes('signed out in'), 'the warning says when');
      await assertAccessible(page, 'idle warning');
      await page.click('#idle-stay');
      await page.waitForSelector('#idle-dlg:not([open])', { state: 'attached' });
      const s = await page.evaluate(() => fetch('/api/v1/session').then(r => r.json()));
      assert(s.signed_in, 'still signed in after "Stay signed in"');
    } finally {
      await browser.close();
      proc.kill('SIGTERM');
      await new Promise(r => { proc.once('exit', r); setTimeout(r, 5000); });
      rmSync(data, { recursive: true, force: true });
    }
  }],
];
