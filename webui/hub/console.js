// console.js - helpers shared by the hub console's pages: the signed-in
// session, dates, CSV downloads, a confirmation dialog and a copy button;
// the page helpers of every Outpost page (query strings, <select> options,
// field errors, tables, pills) are ui.js's, passed on here.  Pages import
// what they need.  The JSON calls go through api() below (session cookie,
// and the CSRF token from sessionStorage); api.js gives el(), the DOM builder.
import { el, office, fmtDate as commonDate, fmtDateTime as commonDateTime } from './api.js';
import { table as uiTable, clearErrors as uiClearErrors, showErrors as uiShowErrors, showSummary, clearSummary } from './ui.js';

export { $, qs, options, pill, latest } from './ui.js';

// ---- field errors: beside each field and in a summary at the top ------------
// Every field error of a reply (ApiError.errors, else its one error), as
// the office node's pages show them (ui.js showSummary): plain words, each
// linking to its field; the summary takes the focus.
export function clearErrors(form) {
  uiClearErrors(form);
  clearSummary();
}
export function showErrors(form, e, prefix = '') {
  const errs = e.errors && e.errors.length ? e.errors : [{ field: e.field, error: e.message }];
  uiShowErrors(form, { errors: errs }, prefix);
  showSummary(form, errs.map(x => ({ field: x.field, error: x.error || x.message })), prefix);
}
// One error ({message, field}, or an ApiError with every field at fault).
export function showError(form, e, prefix = '') {
  showErrors(form, e, prefix);
}

// ---- the signed-in session (docs/hub-admin-api.md, 1.1) -------------------
// The session cookie (HttpOnly) rides along by itself; the CSRF token comes
// in the sign-in answer and from GET /api/v1/admin/session, and is kept in
// this tab's sessionStorage for the X-CSRF-Token header.
const CSRF_KEY = 'outpost_admin_csrf';
export function setCsrf(t) { try { if (t) sessionStorage.setItem(CSRF_KEY, t); else sessionStorage.removeItem(CSRF_KEY); } catch { /* private mode */ } }
function getCsrf() { try { return sessionStorage.getItem(CSRF_KEY); } catch { return null; } }

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `Request failed (${status})`);
    this.status = status;
    this.field = body && body.field;
    this.errors = body && body.errors;  // every field at fault (ui.js showErrors)
    this.body = body;
  }
}

function toLogin(extra = '') {
  if (location.pathname === '/login.html') return;
  // The sign-in page just sent a signed-in user here: going back would loop.
  try { if (Date.now() - Number(sessionStorage.getItem('outpost_login_fwd') || 0) < 10000) return; } catch { /* no storage */ }
  location.href = '/login.html?next=' + encodeURIComponent(location.pathname + location.search) + extra;
}

// JSON (or raw bytes with rawBody/contentType) to the hub; throws ApiError.
// A page's poll passes {background: true}: X-Outpost-Background: 1 uses the
// session without extending its idle timeout (people count, not pages).
export async function api(path, { method = 'GET', body, rawBody, contentType, redirect = true, background = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (background) headers['X-Outpost-Background'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (rawBody !== undefined) headers['Content-Type'] = contentType || 'application/octet-stream';
  if (method !== 'GET' && method !== 'HEAD') {
    if (!getCsrf() && path !== '/api/v1/admin/session') await session(true);
    const t = getCsrf();
    if (t) headers['X-CSRF-Token'] = t;
  }
  const res = await fetch(path, { method, headers, credentials: 'same-origin',
    body: rawBody !== undefined ? rawBody : body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  const text = await res.text();
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (redirect && res.status === 401 && path !== '/api/v1/admin/session') toLogin();
  if (redirect && res.status === 403 && data && data.field === 'password_change_required') toLogin('&change=1');
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

let sessionP = null;
// The signed-in administrator ({staff, csrf_token, must_change_password,
// ...}) or null when nobody is signed in (bearer-token callers included).
export function session(fresh = false) {
  if (fresh || !sessionP) {
    sessionP = api('/api/v1/admin/session', { redirect: false }).then(s => {
      if (s && s.csrf_token) setCsrf(s.csrf_token);
      return s;
    }).catch(() => null);
  }
  return sessionP;
}

export async function signOut() {
  try { await api('/api/v1/admin/session', { method: 'DELETE', redirect: false }); } catch { /* signed out anyway */ }
  setCsrf(null);
  location.href = '/login.html';
}

// The state's password rule [WSD24-13] as a checklist: [{id, text, met}].
export const SPECIALS = '!@#$%^*._';
export function passwordChecks(pw, username = '') {
  const chars = [...pw];
  return [
    { id: 'len', text: '8 to 20 characters', met: chars.length >= 8 && chars.length <= 20 },
    { id: 'upper', text: 'an upper-case letter (A–Z)', met: /[A-Z]/.test(pw) },
    { id: 'lower', text: 'a lower-case letter (a–z)', met: /[a-z]/.test(pw) },
    { id: 'digit', text: 'a digit (0–9)', met: /[0-9]/.test(pw) },
    { id: 'special', text: `one of these special characters: ${SPECIALS.split('').join(' ')}`, met: chars.some(c => SPECIALS.includes(c)) },
    { id: 'only', text: 'no other characters (no spaces)', met: pw.length > 0 && chars.every(c => /[A-Za-z0-9]/.test(c) || SPECIALS.includes(c)) },
    { id: 'name', text: 'not your user name', met: pw.length > 0 && (!username || !pw.toLowerCase().includes(username.toLowerCase())) },
  ];
}

// Dates: the one format of every Outpost page (api.js: MM/DD/YYYY and a
// 12-hour clock; a time of 0 or less is no time at all, never 1970), in the
// hub's time zone, which /healthz names.  The zone is known before any page
// module runs (top-level await), so "today" on a page is the hub's today and
// never the browser's (a console opened from another zone, or from a machine
// in UTC after 4 p.m. Pacific, would otherwise date things a day off).
try {
  const h = await (await fetch('/healthz')).json();
  if (h && h.timezone) office.tz = h.timezone;
} catch { /* the browser's zone, as before */ }
const dayFormat = new Intl.DateTimeFormat('en-US', { timeZone: office.tz, year: 'numeric', month: '2-digit', day: '2-digit' });
export const fmtDateTime = commonDateTime;
export const fmtDate = commonDate;
// YYYY-MM-DD of a time on the hub's calendar, for comparing and for date inputs.
export function isoDate(ms) {
  if (ms == null || ms === '') return '';
  if (typeof ms === 'string' && /^\d{4}-\d{2}-\d{2}/.test(ms)) return ms.slice(0, 10);
  if (!(Number(ms) > 0)) return '';
  const p = Object.fromEntries(dayFormat.formatToParts(new Date(Number(ms))).map(x => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}
// "3 min ago", "2 h ago", "4 days ago" from a Unix ms time.
export function ago(ms, now = Date.now()) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

// A table (ui.js); no rows give "Nothing to show." unless empty says else.
export function table(caption, headers, rows, opts = {}) {
  return uiTable(caption, headers, rows, { empty: 'Nothing to show.', ...opts });
}

// A cell a spreadsheet cannot take for a formula, as the servers write them
// (lib/csv.c): one starting = + - @ TAB or CR gets an apostrophe, unless it
// is a plain number ("-5").
function csvCell(v) {
  const s = v == null ? '' : String(v);
  const formula = /^[=+\-@\t\r]/.test(s) && !/^-\d+(\.\d+)?$/.test(s);
  return formula || /[",\n\r]/.test(s) ? '"' + (formula ? "'" : '') + s.replace(/"/g, '""') + '"' : s;
}
export function toCsv(headers, rows) {
  return [headers, ...rows].map(r => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
// Offer rows as a CSV file download, a UTF-8 byte-order mark first so a
// spreadsheet reads accented names ("Núñez") as they are.
export function downloadCsv(name, headers, rows) {
  const blob = new Blob(['\uFEFF' + toCsv(headers, rows)], { type: 'text/csv;charset=utf-8' });
  const a = el('a', { href: URL.createObjectURL(blob), download: name, hidden: true }, name);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// Ask before a serious action with a modal dialog (keyboard: Tab between the
// buttons, Escape cancels).  Resolves true when confirmed.
export function confirmDialog(title, text, okLabel = 'Confirm', { danger = true, cancelLabel = 'Cancel' } = {}) {
  const id = 'cd-' + Math.random().toString(36).slice(2);
  const dlg = el('dialog', { 'aria-labelledby': id + '-h', 'aria-describedby': id + '-p' },
    el('form', { method: 'dialog' },
      el('h2', { id: id + '-h' }, title),
      el('p', { id: id + '-p' }, text),
      el('p', { class: 'actions' },
        el('button', { value: 'ok', class: danger ? 'danger' : null }, okLabel),
        el('button', { value: 'cancel', class: 'secondary', autofocus: true }, cancelLabel))));
  document.body.append(dlg);
  return new Promise(resolve => {
    dlg.addEventListener('close', () => { resolve(dlg.returnValue === 'ok'); dlg.remove(); }, { once: true });
    dlg.showModal();
  });
}

// A secret shown once: the value in a read-only field with a Copy button and
// a note.  Returns the element.
export function shownOnce(id, label, value, note) {
  const input = el('input', { id, readonly: true, value, class: 'secret', 'aria-describedby': id + '-note', spellcheck: 'false', autocomplete: 'off' });
  const status = el('span', { role: 'status', class: 'muted', id: id + '-copied' });
  const copy = el('button', { type: 'button', class: 'secondary', id: id + '-copy', onclick: async () => {
    input.select();
    try { await navigator.clipboard.writeText(value); } catch { document.execCommand && document.execCommand('copy'); }
    status.textContent = 'Copied.';
  } }, 'Copy');
  return el('div', { class: 'once notice warn' },
    el('label', { for: id }, label),
    el('div', { class: 'copy-row' }, input, copy, status),
    el('p', { id: id + '-note' }, note));
}

// ---- audit events -----------------------------------------------------------
// What an admin audit event changed, in words: the fields whose values differ
// between before and after (both may be whole accounts), or the few fields
// of an event with only one side.  Secrets never reach here (the hub leaves
// them out); password fields are skipped all the same.
const SKIP = new Set(['password', 'password_hash', 'updated_hlc', 'privileges', 'last_login_at', 'files', 'requests']);
// A privilege in words ("participant_edit" is "Edit participant data").
// program_edit: activities, their Help Requests, the program forms and job
// referrals (LWIA Intake Staff reads them only, WSD24-13).
export const PRIV_LABEL = { view: 'View', participant_edit: 'Edit participant data',
  program_edit: 'Program applications and activities', case_notes: 'Case notes',
  crm: 'Employer / CRM', reports: 'Reports', greeter_desk: 'Greeter desk', greeter_setup: 'Greeter setup',
  staff_admin: 'Staff accounts', vetting: 'Employer vetting' };
export const privLabels = list => (list || []).map(p => PRIV_LABEL[p] || p).join(', ');

// An audit action in words ("staff.reset" is "Password reset"); a code not
// listed here is said in words from its parts.  The code stays on the page
// as the cell's title and in the CSV, for IT.
export const ACTION_LABEL = {
  login: 'Signed in', login_failed: 'Sign-in refused', logout: 'Signed out', login_offline: 'Signed in offline',
  password_change: 'Password changed', password_change_failed: 'Password change refused',
  participant_read: 'Participant record opened',
  'request.create': 'Access request recorded', 'request.approve': 'Access request approved',
  'request.reject': 'Access request rejected', 'request.reopen': 'Approval withdrawn (approver lost its authority)',
  'file.upload': 'Form uploaded',
  'staff.create': 'Account created', 'staff.reset': 'Password reset', 'staff.change': 'Group, privileges or office changed',
  'staff.recertify': 'Annual recertification', 'staff.deactivate': 'Account deactivated',
  'staff.reactivate': 'Account reactivated', 'staff.suspend': 'Account suspended',
  'staff.schedule_deactivation': 'Deactivation scheduled', 'staff.roles': 'Administrator roles changed',
  'staff.roles_moved': 'Administrator roles handed over',
  'review.create': 'Quarterly review started', 'review.item': 'Review result recorded', 'review.complete': 'Quarterly review completed',
  'local_area.create': 'Local Area added', 'local_area.change': 'Local Area changed',
  'field_division.create': 'Field division added', 'office.create': 'Office added', 'office.change': 'Office changed',
  'greeter_reason.create': 'Greeter reason added', 'greeter_reason.change': 'Greeter reason changed',
  'greeter_reason.retire': 'Greeter reason retired', 'code_list.load': 'Code list loaded',
  'code_list.withdraw': 'Code list version withdrawn',
  'work_item_category.create': 'Work item category added', 'work_item_category.change': 'Work item category changed',
  'work_item_category.retire': 'Work item category retired', 'work_item_priority.create': 'Work item priority added',
  'work_item_priority.change': 'Work item priority changed', 'work_item_priority.retire': 'Work item priority retired',
  'work_item_priority.default': 'Default work item priority changed',
  'credential_change.applied': 'Password change from an office applied',
  'credential_change.refused': 'Password change from an office refused',
  'node.enroll': 'Office computer enrolled', 'node.revoke': 'Office computer revoked',
  'ssn_key.rotate': 'SSN key rotated', 'ssn_key.retire': 'Older SSN keys retired',
  'enroll_code.create': 'Enrollment code created', 'enroll_code.cancel': 'Enrollment code cancelled',
  conflict_resolve: 'Conflict resolved',
  quarantine_resolve: 'Quarantined entry handled', 'case.approvals_read': 'Approvals opened',
  'case.approver_roles': 'Approver roles changed', 'case.request_approved': 'Help Request approved',
  'case.request_refused': 'Help Request refused',
};
export function actionLabel(code) {
  if (!code) return '';
  if (ACTION_LABEL[code]) return ACTION_LABEL[code];
  const w = String(code).replace(/[._]+/g, ' ').trim();
  return w.charAt(0).toUpperCase() + w.slice(1);
}
// The action as a table cell: its words, its code in the title.
export const actionCell = code => el('span', { title: code || '' }, actionLabel(code));

export function auditChanges(a) {
  const before = a.before && typeof a.before === 'object' ? a.before : null;
  const after = a.after && typeof a.after === 'object' ? a.after : null;
  // Times (fields ending in _at, in ms) as dates, not milliseconds; dates
  // as MM/DD/YYYY; yes and no; the field's name in words.
  const show = (v, k = '') => (v === null || v === undefined || v === '' ? 'empty'
    : /_at$/.test(k) && Number(v) > 1e11 ? fmtDateTime(v)
      : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? commonDate(v)
        : typeof v === 'boolean' ? (v ? 'yes' : 'no')
          : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const label = k => k.replace(/_(at|id)$/, '').replace(/_/g, ' ');
  const out = [];
  if (before && after) {
    for (const k of Object.keys(after)) {
      if (SKIP.has(k) || JSON.stringify(before[k]) === JSON.stringify(after[k])) continue;
      out.push(`${label(k)}: ${show(before[k], k)} → ${show(after[k], k)}`);
    }
  } else if (after || before) {
    const o = after || before;
    for (const [k, v] of Object.entries(o)) {
      if (SKIP.has(k) || v === null || v === '' || (Array.isArray(v) && !v.length)) continue;
      out.push(`${label(k)}: ${show(v, k)}`);
      if (out.length >= 8) { out.push('…'); break; }
    }
  } else if (a.detail != null) {
    out.push(typeof a.detail === 'string' ? a.detail : JSON.stringify(a.detail));
  }
  return out.join('; ');
}

// ---- accounts -------------------------------------------------------------
export const KIND_LABEL = { new: 'New account', reset: 'Password reset', change: 'Change of group or office',
  recertify: 'Annual recertification', deactivate: 'Deactivation' };
// One of GET /api/v1/admin/staff/ID/owners in a caseload picker.
export const ownerName = x => `${x.display_name} (${x.username})${x.office ? `, ${x.office}` : ''}`;
export function isoToday() { return isoDate(Date.now()); }
export function addDays(iso, n) { const d = new Date(iso + 'T12:00:00Z'); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); }

export function recertState(s, asOf = isoToday()) {
  if (!s.active || !s.recertification_due_on) return null;
  if (s.recertification_due_on < asOf) return 'overdue';
  if (s.recertification_due_on <= addDays(asOf, 30)) return 'due';
  return 'current';
}


export { el };
