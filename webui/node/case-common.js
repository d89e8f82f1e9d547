// case-common.js - what the case-work pages share: the lists the forms need
// (GET /api/v1/case/meta: codes, staff, offices, the office's trusted date
// and clock skew), participant names and links, the clock banner and the
// sub-page links.  Field errors, tables and the like are ui.js's, passed on
// here.  Every case page has <header id="top">, <nav id="sub"> and
// <main id="main">; nothing here keeps a participant's data beyond the page.
import { api, el, fmtDate } from './api.js';
import { subNav } from './ui.js';

export { $, qs, options, clearErrors, showError, showErrors, table, pill, filled, sendAndGo, saving, latest } from './ui.js';
export const API = '/api/v1/case';
let metaP = null;
export function meta() { return metaP || (metaP = api(API + '/meta')); }

export function name(p) { return `${p.last_name}, ${p.first_name}`; }
export function partLink(p, id = p.id || p.participant_id) {
  return el('a', { href: '/case-participant.html?id=' + encodeURIComponent(id) }, name(p));
}

// The clock banner: a skewed or unchecked office clock is shown to staff.
export async function clockNotice(target) {
  const m = await meta();
  if (m.clock_skew_warning) {
    target.hidden = false;
    target.className = 'notice warn';
    target.textContent = `This computer's clock is ${Math.round(Math.abs(m.clock_offset_ms) / 60000)} minutes off the hub's. ` +
      `Dates are checked against the hub's time (${fmtDate(m.today)}); tell your administrator.`;
  } else if (!m.clock_checked) {
    target.hidden = false;
    target.className = 'notice';
    target.textContent = `Dates are checked against this office's clock (today is ${fmtDate(m.today)}); it has not yet been compared with the hub's.`;
  }
}


subNav('case-sub', [
  ['/case.html', 'Participants'],
  ['/case-register.html', 'Register a participant'],
  ['/case-compliance.html', 'Compliance'],
  ['/case-approvals.html', 'Approvals'],
]);
