// reports.js - the review reports: the quarterly random-sample access review
// (draw, record each result, complete and report, print), accounts whose
// annual recertification is due or overdue, and deactivation timeliness;
// each printable and as CSV.
import { api, el, $, qs, table, pill, options, fmtDate, fmtDateTime, downloadCsv, clearErrors, showError, showErrors, isoToday, session } from './console.js';

const params = new URLSearchParams(location.search);
const report = ['review', 'recert', 'deactivation'].includes(params.get('report')) ? params.get('report') : 'review';
const yes = v => v === null || v === undefined ? '—' : v ? 'yes' : 'no';
const finding = v => v === null || v === undefined ? el('span', { class: 'muted' }, 'n/a') : v ? pill('yes', 'ok') : pill('no', 'bad');
let areas = [];
const areaName = id => (areas.find(a => a.id === id) || {}).name || id || 'all Local Areas';

function currentQuarter() { const [y, m] = isoToday().split('-').map(Number); return `${y}-Q${Math.floor((m - 1) / 3) + 1}`; }
function printHead(text) { $('print-head').textContent = `${text} Printed ${fmtDateTime(Date.now())}.`; }

// ---- quarterly review -------------------------------------------------------
async function listReviews() {
  const [rs, q] = await Promise.all([api('/api/v1/admin/reviews'), api('/api/v1/admin/review-quarters').catch(() => null)]);
  // Quarters that ended without a completed review, flagged (WSD24-13).
  $('review-missed').hidden = !(q && q.skipped.length);
  if (q && q.skipped.length)
    $('review-missed').textContent = `Quarters without a completed access review: ${q.skipped.join(', ')}.` +
      ((q.quarters.find(x => x.quarter === q.current) || {}).status === 'reviewed' ? '' : ` This quarter (${q.current}) is not reviewed yet either.`);
  $('reviews').replaceChildren(el('h3', {}, 'Reviews'), table('Reviews', ['Quarter', 'Area', 'Accounts', 'Status', 'Drawn', ''],
    rs.map(r => [r.quarter, r.local_area_id || r.field_division ? areaName(r.local_area_id || r.field_division) : 'statewide', String(r.sample_size ?? (r.items || []).length),
      r.status === 'complete' ? pill('Complete', 'ok') : pill('Open', 'warn'), fmtDateTime(r.created_at),
      el('a', { href: '/reports.html?' + qs({ report: 'review', review: r.id }) }, `Open review ${r.quarter}`)]),
    { empty: 'No review has been drawn yet.' }));
}

async function draw(ev) {
  ev.preventDefault();
  const form = $('draw');
  clearErrors(form);
  const quarter = $('d-quarter').value.trim();
  if (!/^\d{4}-Q[1-4]$/.test(quarter)) return showError(form, { message: 'Write the quarter like 2026-Q4.', field: 'quarter' }, 'd-');
  const body = { quarter, sample_size: Number($('d-size').value) };
  if ($('d-la').value) body.local_area_id = $('d-la').value;
  try {
    const r = await api('/api/v1/admin/reviews', { method: 'POST', body });
    location.href = '/reports.html?' + qs({ report: 'review', review: r.id });
  } catch (e) { showErrors(form, e, 'd-'); }
}

function reviewCsv(r) {
  downloadCsv(`access-review-${r.quarter}.csv`, ['Account', 'User name', 'Active', 'Documents complete', 'Documents current', 'Deactivation timely', 'Result', 'Note'],
    r.items.map(i => [i.display_name || '', i.username || '', yes(i.active), yes(i.docs_complete), yes(i.docs_current), yes(i.deactivation_timely), i.result || '', i.note || '']));
}

async function showReview(id, msg) {
  const r = await api('/api/v1/admin/reviews/' + encodeURIComponent(id));
  const open = r.status !== 'complete';
  const itemRow = i => {
    const rid = `res-${i.id}`, nid = `note-${i.id}`;
    const save = async () => {
      const result = $(rid).value;
      const st = $(`st-${i.id}`);
      if (!result) { st.textContent = 'Choose pass or fail.'; $(rid).focus(); return; }
      try {
        await api(`/api/v1/admin/reviews/${encodeURIComponent(r.id)}/items/${encodeURIComponent(i.id)}`, { method: 'POST',
          body: $(nid).value.trim() ? { result, note: $(nid).value.trim() } : { result } });
        i.result = result; i.note = $(nid).value.trim();
        $(`pr-${i.id}`).textContent = `${result}${i.note ? ': ' + i.note : ''}`;
        st.textContent = 'Saved.';
      } catch (e) { st.textContent = e.message; }
    };
    const who = `${i.display_name || i.username || i.staff_id}`;
    return [el('a', { href: '/account.html?id=' + encodeURIComponent(i.staff_id) }, who), i.active ? 'active' : 'deactivated',
      finding(i.docs_complete), finding(i.docs_current), finding(i.deactivation_timely),
      open ? el('div', {}, el('span', { class: 'print-only', id: `pr-${i.id}` }, i.result ? `${i.result}${i.note ? ': ' + i.note : ''}` : 'not yet recorded'),
        el('div', { class: 'no-print' },
        el('label', { for: rid, class: 'sr-only' }, `Result for ${who}`),
        el('select', { id: rid }, el('option', { value: '' }, 'Choose…'),
          el('option', { value: 'pass', selected: i.result === 'pass' ? true : null }, 'Pass'),
          el('option', { value: 'fail', selected: i.result === 'fail' ? true : null }, 'Fail')),
        el('label', { for: nid, class: 'sr-only' }, `Note for ${who}`),
        el('input', { id: nid, value: i.note || '', maxlength: 500, placeholder: 'Note (optional)' }),
        el('div', { class: 'actions' }, el('button', { type: 'button', class: 'secondary', onclick: save, 'aria-label': `Save result for ${who}` }, 'Save'),
          el('span', { role: 'status', id: `st-${i.id}`, class: 'small' }))))
        : el('span', {}, i.result === 'pass' ? pill('Pass', 'ok') : pill('Fail', 'bad'), i.note ? ` ${i.note}` : '')];
  };
  const complete = async ev => {
    ev.preventDefault();
    const form = ev.target;
    clearErrors(form);
    const to = $('reported_to').value.trim();
    if (!to) return showError(form, { message: 'Say to whom the results are reported.', field: 'reported_to' });
    try {
      await api(`/api/v1/admin/reviews/${encodeURIComponent(r.id)}/complete`, { method: 'POST', body: { reported_to: to } });
      await showReview(r.id, 'Review completed.');
    } catch (e) { showError(form, e.field === 'items' ? { message: e.message + ' Record a result for every account first.' } : e); }
  };
  const s = r.summary;
  $('review').replaceChildren(el('section', { class: 'card', 'aria-labelledby': 'rv-h' },
    el('h3', { id: 'rv-h' }, `Access review ${r.quarter}, ${areaName(r.local_area_id || r.field_division)}`),
    el('p', {}, `Drawn ${fmtDateTime(r.created_at)}${r.created_by_username ? ' by ' + r.created_by_username : ''}: ${r.items.length} accounts chosen at random. `,
      open ? 'Check each account’s documents, record the result, then complete the review.' : `Completed ${fmtDateTime(r.completed_at)}, reported to ${r.reported_to || ''}.`),
    s ? el('dl', { class: 'info' }, ...[['Accounts', s.items], ['Pass', s.pass], ['Fail', s.fail], ['Documents incomplete', s.docs_incomplete],
      ['Documents out of date', s.docs_stale], ['Late deactivations', s.late_deactivations]].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v ?? 0))])) : '',
    table(`Sample of review ${r.quarter}`, ['Account', 'Status', 'Documents complete', 'Documents current', 'Deactivated on time', 'Result'], r.items.map(itemRow), { showCaption: false }),
    el('p', { class: 'actions no-print' }, el('button', { type: 'button', class: 'secondary', onclick: () => window.print() }, 'Print'),
      el('button', { type: 'button', class: 'secondary', onclick: () => reviewCsv(r) }, 'Download CSV')),
    open ? el('form', { class: 'no-print', novalidate: true, onsubmit: complete },
      el('label', { for: 'reported_to' }, 'Results reported to'),
      el('input', { id: 'reported_to', maxlength: 200, placeholder: 'Local Area Director / Division Chief', 'aria-describedby': 'reported_to-err' }),
      el('p', { class: 'field-err error', id: 'reported_to-err', role: 'alert' }),
      el('p', { class: 'form-err error', role: 'alert' }),
      el('p', {}, el('button', { type: 'submit', id: 'complete' }, 'Complete review'))) : ''));
  printHead(`Quarterly access review ${r.quarter}, ${areaName(r.local_area_id || r.field_division)}.`);
  if (msg) $('status').textContent = msg;
}

// ---- recertification ------------------------------------------------------------
let recertRows = [];
async function recert(ev) {
  if (ev) ev.preventDefault();
  const asOf = $('rc-asof').value || isoToday();
  const r = await api('/api/v1/admin/recertification?' + qs({ as_of: asOf, within_days: $('rc-within').value }));
  const row = (s, state) => [el('a', { href: '/account.html?id=' + encodeURIComponent(s.id) }, s.display_name), s.username,
    s.local_area_id ? areaName(s.local_area_id) : s.field_division || '', s.privilege_group, fmtDate(s.ispa_date), fmtDate(s.confidentiality_date),
    el('span', {}, state === 'overdue' ? pill('Overdue', 'bad') : pill('Due', 'warn'), ' ', fmtDate(s.recertification_due_on)),
    el('a', { href: `/request.html?kind=recertify&staff_id=${encodeURIComponent(s.id)}`, class: 'no-print' }, `Recertify ${s.display_name}`)];
  const heads = ['Name', 'User name', 'Area', 'Group', 'ISPA training', 'Confidentiality statement', 'Due', ''];
  recertRows = [...r.overdue.map(s => ['overdue', s]), ...r.due.map(s => ['due', s])];
  $('recert').replaceChildren(
    el('h3', {}, `Overdue (${r.overdue.length})`), table('Overdue recertifications', heads, r.overdue.map(s => row(s, 'overdue')), { empty: 'None overdue.' }),
    el('h3', {}, `Coming due within ${$('rc-within').value} days (${r.due.length})`), table('Recertifications coming due', heads, r.due.map(s => row(s, 'due')), { empty: 'None coming due.' }));
  printHead(`Recertification due and overdue as of ${r.as_of || asOf}.`);
}

// ---- deactivation timeliness -------------------------------------------------------
let deactRows = [];
async function deact(ev) {
  if (ev) ev.preventDefault();
  const from = $('dt-from').value, to = $('dt-to').value;
  const list = await api('/api/v1/admin/staff?' + qs({ active: 0, local_area_id: $('dt-la').value }));
  deactRows = list.filter(s => s.separation_date || s.deactivated_at)
    .filter(s => (!from || (s.separation_date || '') >= from) && (!to || (s.separation_date || '') <= to))
    .map(s => {
      const d = fmtDate(s.deactivated_at), sep = s.separation_date ? fmtDate(s.separation_date) : '';
      const late = sep && d ? Math.round((new Date(d) - new Date(sep)) / 86400000) : null;
      return { s, d, sep, late, timely: sep ? late !== null && late <= 0 : null };
    });
  const late = deactRows.filter(x => x.timely === false).length;
  $('deact').replaceChildren(
    el('p', { class: 'stat' }, `${deactRows.length - late} of ${deactRows.length} on time`),
    table('Deactivations', ['Name', 'User name', 'Area', 'Separation date', 'Deactivated', 'Timely'],
      deactRows.map(x => [el('a', { href: '/account.html?id=' + encodeURIComponent(x.s.id) }, x.s.display_name), x.s.username,
        x.s.local_area_id ? areaName(x.s.local_area_id) : x.s.field_division || '', x.sep || 'not recorded', x.d,
        x.timely === null ? pill('no separation date', 'warn') : x.timely ? pill('on time', 'ok') : pill(`${x.late} day${x.late === 1 ? '' : 's'} late`, 'bad')]),
      { empty: 'No deactivation in this period.' }));
  printHead(`Deactivation timeliness, separations ${from ? fmtDate(from) : 'any time'} to ${to ? fmtDate(to) : 'today'}, ${areaName($('dt-la').value)}.`);
}

async function init() {
  for (const a of document.querySelectorAll('#report-nav a'))
    if (new URL(a.href).searchParams.get('report') === report) a.setAttribute('aria-current', 'page');
  $('r-' + report).hidden = false;
  document.querySelectorAll('button.print').forEach(b => b.addEventListener('click', () => window.print()));
  areas = await api('/api/v1/admin/local-areas').catch(() => []);
  try {
    if (report === 'review') {
      options($('d-la'), areas, { blank: 'All Local Areas' });
      $('d-quarter').value = currentQuarter();
      $('draw').addEventListener('submit', draw);
      const me = await session();
      if (me && me.staff && !(me.staff.roles || []).includes('operations')) $('draw').hidden = true;
      if (params.get('review')) { $('draw').hidden = true; await showReview(params.get('review')); }
      else await listReviews();
    } else if (report === 'recert') {
      $('rc-asof').value = isoToday();
      $('rc-form').addEventListener('submit', recert);
      $('rc-csv').addEventListener('click', () => downloadCsv('recertification.csv',
        ['State', 'Name', 'User name', 'Local Area', 'Field division', 'Group', 'ISPA training', 'Confidentiality statement', 'Due'],
        recertRows.map(([st, s]) => [st, s.display_name, s.username, s.local_area_id ? areaName(s.local_area_id) : '', s.field_division || '', s.privilege_group,
          s.ispa_date || '', s.confidentiality_date || '', s.recertification_due_on || ''])));
      await recert();
    } else {
      options($('dt-la'), areas, { blank: 'All' });
      $('dt-form').addEventListener('submit', deact);
      $('dt-csv').addEventListener('click', () => downloadCsv('deactivation-timeliness.csv',
        ['Name', 'User name', 'Local Area', 'Separation date', 'Deactivated', 'Days late', 'Timely'],
        deactRows.map(x => [x.s.display_name, x.s.username, x.s.local_area_id || '', x.sep, x.d, x.late ?? '', x.timely === null ? '' : x.timely ? 'yes' : 'no'])));
      await deact();
    }
  } catch (e) { $('status').textContent = 'Could not load the report: ' + e.message; }
}
init();
