// greeter.test.mjs - the kiosk and front desk in a real browser.
import { withSignedInNode, assertAccessible, assert, officeDay, OUT } from './lib.mjs';

const withNode = fn => withSignedInNode(fn);

export const tests = [
  ['a kiosk checking in faster than visitors do is asked to wait, in its language', () => withSignedInNode(async (node, page, browser) => {
    // The kiosk: a browser with no staff session (front-desk staff are never held).
    const kiosk = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
    await kiosk.goto(node.url + '/kiosk.html');
    // a public PC: the browser keeps and offers nothing a visitor types
    assert(await kiosk.evaluate(() => document.getElementById('checkin').autocomplete === 'off' &&
      ['name', 'phone', 'email'].every(id => document.getElementById(id).autocomplete === 'off')),
    'the kiosk form has autocomplete off');
    for (const name of ['Primera Visita', 'Segunda Visita']) {
      await kiosk.click('#lang-es');
      await kiosk.fill('#name', name);
      await kiosk.locator('#reasons label.reason').first().click();
      await kiosk.click('#submit');
      if (name === 'Primera Visita') {
        await kiosk.waitForSelector('#thanks-view:not([hidden])');
        await kiosk.click('#again');
      }
    }
    await kiosk.waitForFunction(() => document.getElementById('form-err').textContent !== '');
    const err = await kiosk.textContent('#form-err');
    assert(err.includes('Espere un momento'), `Spanish wait message expected, got ${err}`);
    const list = await node.api('/api/v1/checkins?status=waiting');
    assert(list.json.some(c => c.visitor_name === 'Primera Visita') &&
      !list.json.some(c => c.visitor_name === 'Segunda Visita'), 'only the first check-in recorded');
  }, { nodeArgs: ['--kiosk_checkins_per_minute', '1'] })],
  ['kiosk check-in in Spanish appears on the front desk, and moves through the queue', () => withNode(async (node, page) => {
    await page.goto(node.url + '/kiosk.html');
    await page.click('#lang-es');
    assert(await page.getAttribute('html', 'lang') === 'es', 'html lang should be es');
    const title = await page.textContent('h1');
    assert(title.includes('Bienvenido'), `Spanish title expected, got ${title}`);
    const firstReason = page.locator('#reasons label.reason').first();
    const reasonText = await firstReason.textContent();
    assert(reasonText.includes('Ayuda'), `Spanish reason label expected, got ${reasonText}`);
    // Submitting without a name shows a Spanish error and saves nothing.
    await page.click('#submit');
    assert((await page.textContent('#name-err')).includes('escriba'), 'Spanish name error expected');
    await page.fill('#name', 'Lucía Ramírez');
    await firstReason.click();
    await page.click('#submit');
    await page.waitForSelector('#thanks-view:not([hidden])');
    assert((await page.textContent('#thanks-view')).includes('Gracias'), 'Spanish thank-you expected');
    await page.screenshot({ path: `${OUT}/kiosk-es.png` });

    const list = await node.api('/api/v1/checkins?status=waiting');
    const mine = list.json.find(c => c.visitor_name === 'Lucía Ramírez');
    assert(mine && mine.language === 'es', 'check-in stored with language es');

    await page.goto(node.url + '/desk.html');
    const row = page.locator('tr', { hasText: 'Lucía Ramírez' });
    await row.waitFor();
    assert((await row.textContent()).includes('Waiting'), 'visitor shown as waiting');
    await row.getByRole('button', { name: /^Call/ }).click();
    await page.locator('tr', { hasText: 'Lucía Ramírez' }).locator('.pill.called').waitFor();
    await page.locator('tr', { hasText: 'Lucía Ramírez' }).getByRole('button', { name: /^Serving/ }).click();
    await page.locator('tr', { hasText: 'Lucía Ramírez' }).locator('.pill.serving').waitFor();
    await page.locator('tr', { hasText: 'Lucía Ramírez' }).getByRole('button', { name: /^Done/ }).click();
    await page.fill('#note', 'Helped with a resume');
    await page.click('#note-ok');
    await page.waitForFunction(() => !document.body.textContent.includes('Lucía Ramírez'));
    const c = await node.api('/api/v1/checkins/' + mine.id);
    assert(c.json.status === 'done', `status done expected, got ${c.json.status}`);
    assert(c.json.note === 'Helped with a resume', 'check-out note saved');
    await page.screenshot({ path: `${OUT}/desk.png` });
  })],

  ['axe-core finds no WCAG 2.1 AA violations on the kiosk (both languages), desk, visits and home', () => withNode(async (node, page) => {
    const rs = await node.api('/api/v1/greeter/reasons');
    await node.api('/api/v1/checkins', { visitor_name: 'Axe Visitor', reason_ids: [rs.json[0].id] });
    await page.goto(node.url + '/kiosk.html');
    await page.waitForSelector('#reasons label.reason');
    await assertAccessible(page, 'kiosk (English)');
    await page.click('#lang-es');
    await assertAccessible(page, 'kiosk (Spanish)');
    await page.goto(node.url + '/desk.html');
    await page.locator('tr', { hasText: 'Axe Visitor' }).waitFor();
    await assertAccessible(page, 'front desk');
    await page.goto(node.url + '/visits.html');
    await page.waitForSelector('#by-hour svg');
    await assertAccessible(page, 'visits');
    await page.goto(node.url + '/');
    await page.waitForFunction(() => document.getElementById('s-total').textContent !== '–');
    await assertAccessible(page, 'home');
  })],

  ['the visits page charts the day and links a CSV export', () => withNode(async (node, page) => {
    const rs = (await node.api('/api/v1/greeter/reasons')).json;
    for (let i = 0; i < 3; i++)
      await node.api('/api/v1/checkins', { visitor_name: `Chart ${i}`, reason_ids: [rs[1].id] });
    await page.goto(node.url + '/visits.html');
    await page.waitForSelector('#by-reason svg rect.bar');
    assert((await page.textContent('#s-total')) === '3', 'three visits counted');
    const bars = await page.locator('#by-hour svg rect.bar').count();
    assert(bars >= 10, `hour bars expected, got ${bars}`);
    assert((await page.textContent('#reason-rows')).includes(rs[1].label), 'reason row shown');
    const href = await page.getAttribute('#csv', 'href');
    const csv = await (await fetch(node.url + href, { headers: { Cookie: node.session.cookie } })).text();
    assert(csv.startsWith('visit_id,date,arrived,visitor_name'), 'CSV header');
    assert(csv.split('\r\n').filter(l => l.includes('Chart ')).length === 3, 'three CSV rows');
    await page.screenshot({ path: `${OUT}/visits.png`, fullPage: true });
  })],
  ['the visits report is fit to hand a manager: office and dates on print, every hour, language, a CSV with a BOM', () => withNode(async (node, page) => {
    await officeDay(node, 60);   // the visits, the page and h.today are of one office day
    const rs = (await node.api('/api/v1/greeter/reasons')).json;
    for (const [name, language] of [['María Núñez', 'es'], ['Begoña Peña', 'es'], ['Ann English', 'en']])
      assert((await node.api('/api/v1/checkins', { visitor_name: name, language, reason_ids: [rs[0].id] })).status === 201, 'checked in ' + name);
    const h = await (await fetch(node.url + '/healthz')).json();
    await page.goto(node.url + '/visits.html');
    await page.waitForFunction(() => document.getElementById('s-total').textContent === '3');
    // The office's name and the dates, on screen and on paper.
    const [y, m, d] = h.today.split('-');
    const line = await page.textContent('#range-line');
    assert(line.includes(h.office_name) && line.includes(`${m}/${d}/${y}`), 'office and date: ' + line);
    await page.emulateMedia({ media: 'print' });
    assert(await page.isVisible('#range-line') && await page.isVisible('#printed'), 'the office, dates and print time are printed');
    assert((await page.textContent('#printed')).startsWith('Printed '), 'printed when');
    assert(!(await page.isVisible('#pick')), 'the form is not printed');
    await page.emulateMedia({ media: 'screen' });
    // Every hour of the office day on the chart, none skipped.
    const hours = await page.locator('#by-hour svg rect.bar title').allTextContents();
    const h24 = hours.map(t => { const [, n, ap] = t.match(/^(\d+)(am|pm):/); return (Number(n) % 12) + (ap === 'pm' ? 12 : 0); });
    assert(h24.length >= 13 && h24.every((x, i) => i === 0 || x === h24[i - 1] + 1), 'every hour in order: ' + hours.join(' '));
    assert(h24[0] <= 7 && h24[h24.length - 1] >= 19, 'from opening to closing: ' + hours.join(' '));
    // Visits by language.
    const langs = await page.textContent('#lang-rows');
    assert(/Spanish\s*2/.test(langs) && /English\s*1/.test(langs), 'visits by language: ' + langs);
    await assertAccessible(page, 'visits report');
    // The CSV opens in a spreadsheet with Spanish names intact: a UTF-8 BOM first.
    const bytes = await page.evaluate(async href => Array.from(new Uint8Array(await (await fetch(href)).arrayBuffer())),
      await page.getAttribute('#csv', 'href'));
    assert(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, 'a UTF-8 BOM: ' + bytes.slice(0, 3));
    const text = new TextDecoder('utf-8').decode(new Uint8Array(bytes));
    assert(text.includes('María Núñez') && text.includes('Begoña Peña'), 'Spanish names intact');
  })],
];
