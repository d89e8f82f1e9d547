// api.js - JSON fetch wrapper shared by the Outpost web apps.
// Errors are thrown as ApiError with the server's {error, field, errors}.
//
// Hooks (set by office.js on staff pages; absent on the kiosk and login):
//  * a 401 on a staff page opens a sign-in dialog in place (hooks.reauth) and,
//    once signed in again, sends the request again, so nothing typed is lost;
//  * a write made by a form's submit handler reports its outcome to
//    hooks.formDone(form, error) (error summary, drafts);
//  * every non-background request tells hooks.activity() (idle warning);
//  * every write tells hooks.storage(status) its outcome (a 507 is a full
//    disk: the notice on every staff page).
// Polls and background refreshes pass {background: true}: they carry
// X-Outpost-Background: 1, which does not count as activity at the node.

export const hooks = { reauth: null, formDone: null, activity: null, storage: null };

// What a write refused for a full disk (507) says wherever it is shown: who
// works at the desk cannot free space; what they typed stays in the form.
export const DISK_FULL_MESSAGE = 'The disk of this computer is full, so this was not saved. ' +
  'Tell your IT help desk, and try again once they have freed some space.';
// A sign-in is a write too (the session is kept in the database).
export const DISK_FULL_SIGNIN = 'The disk of this computer is full, so signing in is not possible ' +
  'until some space is freed. Tell your IT help desk.';

export class ApiError extends Error {
  constructor(status, body) {
    super(status === 507 ? DISK_FULL_MESSAGE : (body && body.error) || `Request failed (${status})`);
    this.status = status;
    this.field = body && body.field;
    this.body = body || null;
    // Every field error of the request: the API's "errors" when it sends
    // them, else the one {error, field}.
    this.errors = status !== 507 && body && Array.isArray(body.errors) && body.errors.length
      ? body.errors.map(x => ({ field: x.field || null, error: String(x.error || '') }))
      : [{ field: this.field || null, error: this.message }];
  }
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)outpost_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

// The form whose submit handler is running (or awaited) now, if any.
let submitting = null;
if (typeof document !== 'undefined') {
  document.addEventListener('submit', ev => {
    submitting = { form: ev.target, at: Date.now() };
  }, true);
}
function currentForm() {
  if (!submitting || Date.now() - submitting.at > 3000) return null;
  return submitting.form;
}

async function send(path, method, body, contentType, background) {
  const headers = { Accept: 'application/json' };
  const raw = typeof Blob !== 'undefined' && body instanceof Blob;
  if (body !== undefined) headers['Content-Type'] = raw ? (contentType || body.type || 'application/octet-stream') : 'application/json';
  const t = csrfToken();
  if (t && method !== 'GET') headers['X-CSRF-Token'] = t;
  if (background) headers['X-Outpost-Background'] = '1';
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  let data = null;
  const text = await res.text();
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  return { res, data };
}

// body: an object sent as JSON, or a Blob/File sent as it is with
// contentType (default: the Blob's own type).  background: a poll.
export async function api(path, { method = 'GET', body, contentType, background = false } = {}) {
  const form = method !== 'GET' ? currentForm() : null;
  let { res, data } = await send(path, method, body, contentType, background);
  const onLogin = location.pathname.startsWith('/login');
  const isSession = path.startsWith('/api/v1/session');
  if (res.status === 401 && !onLogin && !isSession) {
    if (hooks.reauth) {
      // Sign in again where we are; then the request is sent once more.
      const ok = await hooks.reauth({ background });
      if (ok) ({ res, data } = await send(path, method, body, contentType, background));
    } else {
      location.href = '/login.html?next=' + encodeURIComponent(location.pathname + location.search);
    }
  }
  if (!background && res.ok && hooks.activity) hooks.activity();
  if (method !== 'GET' && hooks.storage) hooks.storage(res.status);
  const err = res.ok ? null : new ApiError(res.status, data);
  if (form && hooks.formDone && res.status !== 401) hooks.formDone(form, err);
  if (err) throw err;
  return data;
}

// Small DOM helper: el('td', {class: 'x'}, 'text', child...)
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

export function fmtDuration(ms) {
  if (ms == null) return '';
  const m = Math.floor(ms / 60000);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// One date and time format everywhere (MM/DD/YYYY, 12-hour clock), in the
// office's time zone once office.js has read it from /healthz.
export const office = { tz: undefined };

export function fmtTime(ms) {
  if (ms == null) return '';
  return new Date(ms).toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', timeZone: office.tz });
}

export function fmtDate(v) {
  if (v == null || v === '') return '';
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const [y, m, d] = v.split('-');
    return `${m}/${d}/${y}`;
  }
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms) || ms <= 0) return '';
  return new Date(ms).toLocaleDateString('en-US', { month: '2-digit', day: '2-digit', year: 'numeric', timeZone: office.tz });
}

export function fmtDateTime(ms) {
  if (ms == null || ms === '' || !(Number(ms) > 0)) return '';
  return `${fmtDate(Number(ms))} ${fmtTime(Number(ms))}`;
}

// "just now", "about 2 minutes ago", "3 hours ago": a duration in words.
export function inWords(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 10) return 'a few seconds';
  if (s < 60) return 'less than a minute';
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? '1 minute' : `${m} minutes`;
  const h = Math.round(m / 60);
  if (h < 48) return h === 1 ? 'about 1 hour' : `about ${h} hours`;
  const d = Math.round(h / 24);
  return `${d} days`;
}

// The office's date (its time zone, and the node's trusted clock), which is
// not the browser's when the browser's computer is in another zone or wrong.
export async function officeToday() {
  try {
    const h = await (await fetch('/healthz')).json();
    if (h.today) return h.today;
  } catch { /* fall back to the browser's date */ }
  return today();
}

export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
