// api.js - JSON fetch wrapper shared by the Outpost web apps.
// Errors are thrown as ApiError with the server's {error, field}.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `Request failed (${status})`);
    this.status = status;
    this.field = body && body.field;
  }
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)outpost_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

// body: an object sent as JSON, or a Blob/File sent as it is with
// contentType (default: the Blob's own type).
export async function api(path, { method = 'GET', body, contentType } = {}) {
  const headers = { Accept: 'application/json' };
  const raw = typeof Blob !== 'undefined' && body instanceof Blob;
  if (body !== undefined) headers['Content-Type'] = raw ? (contentType || body.type || 'application/octet-stream') : 'application/json';
  const t = csrfToken();
  if (t && method !== 'GET') headers['X-CSRF-Token'] = t;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  let data = null;
  const text = await res.text();
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (res.status === 401 && !location.pathname.startsWith('/login')) {
    location.href = '/login.html?next=' + encodeURIComponent(location.pathname + location.search);
  }
  if (!res.ok) throw new ApiError(res.status, data);
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

export function fmtTime(ms) {
  if (ms == null) return '';
  return new Date(ms).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
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
