// greeter.test.mjs - the kiosk and front desk in a real browser.
import { withSignedInNode, assertAccessible, assert, OUT } from './lib.mjs';

const withNode = fn => withSignedInNode(fn);

export const tests = [
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
];
