// visits.js - visit counts for a day or a range, with SVG bar charts drawn here.
import { api, el, fmtDuration, fmtDate, fmtDateTime, officeToday } from './api.js';
import { $, svg, latest } from './ui.js';

// Vertical bars: items [{label, value}], with a text alternative.
function columns(items, title) {
  const w = 720, h = 220, pad = 28, bw = (w - pad) / items.length;
  const max = Math.max(1, ...items.map(i => i.value));
  const s = svg('svg', { class: 'chart', viewBox: `0 0 ${w} ${h + 20}`, role: 'img', 'aria-label': title, width: '100%' });
  s.append(svg('title', {}, title));
  items.forEach((it, i) => {
    const bh = Math.round((h - pad) * it.value / max);
    const x = pad + i * bw;
    const r = svg('rect', { class: 'bar', x: x + 2, y: h - bh, width: Math.max(1, bw - 4), height: bh });
    r.append(svg('title', {}, `${it.label}: ${it.value}`));
    s.append(r);
    s.append(svg('text', { x: x + bw / 2, y: h + 14, 'text-anchor': 'middle' }, it.label));
    if (it.value) s.append(svg('text', { x: x + bw / 2, y: h - bh - 3, 'text-anchor': 'middle' }, String(it.value)));
  });
  s.append(svg('line', { x1: pad, y1: h, x2: w, y2: h, stroke: '#4a5668' }));
  return s;
}

// Horizontal bars for labelled categories.
function rows(items, title) {
  const w = 720, rh = 26, lw = 300, h = Math.max(1, items.length) * rh;
  const max = Math.max(1, ...items.map(i => i.value));
  const s = svg('svg', { class: 'chart', viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': title, width: '100%' });
  s.append(svg('title', {}, title));
  items.forEach((it, i) => {
    const y = i * rh;
    const bw = Math.round((w - lw - 40) * it.value / max);
    s.append(svg('text', { x: lw - 8, y: y + 17, 'text-anchor': 'end' }, it.label.length > 42 ? it.label.slice(0, 41) + '…' : it.label));
    const r = svg('rect', { class: 'bar', x: lw, y: y + 4, width: Math.max(1, bw), height: rh - 8 });
    r.append(svg('title', {}, `${it.label}: ${it.value}`));
    s.append(r);
    s.append(svg('text', { x: lw + bw + 6, y: y + 17 }, String(it.value)));
  });
  return s;
}

const loads = latest();
async function load(ev) {
  if (ev) ev.preventDefault();
  const current = loads();
  $('err').textContent = '';
  const q = `from=${$('from').value}&to=${$('to').value}`;
  $('csv').href = '/api/v1/greeter/visits.csv?' + q;
  try {
    const s = await api('/api/v1/greeter/stats?' + q);
    if (!current()) return;
    $('s-total').textContent = s.total;
    $('s-served').textContent = s.served;
    $('s-left').textContent = s.left;
    // Visits still open when their day ended, closed by the office node
    // (served ones count as served, the others as left).
    $('s-dayend').textContent = s.closed_at_day_end ? `${s.closed_at_day_end} still open at the end of the day` : '';
    $('s-avg').textContent = s.total ? fmtDuration(s.avg_wait_ms) : '–';
    $('s-max').textContent = s.total ? fmtDuration(s.max_wait_ms) : '–';
    // Every hour from the office's opening (or the first visit) to closing
    // (or the last), none skipped, on the 12-hour clock the desk uses.
    const busy = s.by_hour.filter(h => h.count > 0).map(h => h.hour);
    const first = Math.min(7, ...busy), last = Math.max(19, ...busy);
    const hours = s.by_hour.filter(h => h.hour >= first && h.hour <= last);
    const h12 = h => `${h % 12 === 0 ? 12 : h % 12}${h < 12 ? 'am' : 'pm'}`;
    $('by-hour').replaceChildren(columns(hours.map(h => ({ label: h12(h.hour), value: h.count })), 'Visits by hour of arrival'));
    const LANGS = { en: 'English', es: 'Spanish' };
    $('lang-rows').replaceChildren(...(s.by_language || []).map(l => el('tr', {}, el('td', {}, LANGS[l.language] || l.language || 'Not recorded'), el('td', {}, String(l.count)))));
    if (!(s.by_language || []).length) $('lang-rows').append(el('tr', {}, el('td', { colspan: '2' }, 'No visits.')));
    const h = await health;
    const range = s.from === s.to ? fmtDate(s.from) : `${fmtDate(s.from)} to ${fmtDate(s.to)}`;
    $('range-line').textContent = `${h.office_name || s.office_id} · ${range}`;
    $('printed').textContent = `Printed ${fmtDateTime(Date.now())}`;
    document.title = `Visits, ${h.office_name || s.office_id}, ${range} — Outpost`;
    const rs = s.by_reason.map(r => ({ label: r.label, value: r.count }));
    $('by-reason').replaceChildren(rows(rs, 'Visits by reason'));
    $('reason-rows').replaceChildren(...rs.map(r => el('tr', {}, el('td', {}, r.label), el('td', {}, String(r.value)))));
    await loadDays(q, current);
  } catch (e) {
    if (current()) $('err').textContent = e.message;
  }
}

// One row per day of the range (at most 92): visits, Spanish, and whether
// it was a business day; a business day before today without a visit is
// flagged (model/holidays.c decides what a business day is).
async function loadDays(q, current) {
  let d;
  try { d = await api('/api/v1/greeter/days?' + q); } catch (e) {
    if (!current()) return;
    $('by-day').replaceChildren(el('p', { class: 'muted' }, 'Days: ' + e.message));
    return;
  }
  if (!current()) return;
  const missing = new Set(d.missing);
  $('by-day').replaceChildren(el('table', {}, el('caption', { class: 'sr-only' }, 'Visits per day'),
    el('thead', {}, el('tr', {}, ...['Day', 'Visits', 'In Spanish', 'Business day'].map(h => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...d.days.map(x => el('tr', { class: missing.has(x.date) ? 'warn' : null },
      el('td', {}, fmtDate(x.date)), el('td', {}, String(x.visits)), el('td', {}, String(x.spanish)),
      el('td', {}, x.business_day ? (missing.has(x.date) ? 'Yes: no check-in recorded' : 'Yes') : (x.holiday || 'Weekend')))))));
}

const health = fetch('/healthz').then(r => r.json()).catch(() => ({}));
$('from').value = $('to').value = await officeToday();
$('pick').addEventListener('submit', load);
$('print').addEventListener('click', () => window.print());
load();
