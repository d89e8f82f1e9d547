// office.js - what every staff page of the office node shares beyond the
// header: who is signed in and what they may do (GET /api/v1/session), the
// idle warning, signing in again in place when a session has ended, drafts
// of forms kept in this tab until saved, the error summary, and the notice
// of a full disk.
import { api, el, hooks, office, fmtDateTime, DISK_FULL_SIGNIN } from './api.js';
import { clearSummary, showSummary } from './ui.js';

const $ = id => document.getElementById(id);
const staffPage = typeof location !== 'undefined' && !location.pathname.startsWith('/login') &&
  !location.pathname.startsWith('/kiosk');

// ---- the session ---------------------------------------------------------------

let sessP = null;
let lastUser = '';
// The signed-in session ({signed_in, user, privileges, ...}); cached per page.
export function session(refresh = false) {
  if (!sessP || refresh) {
    sessP = api('/api/v1/session', { background: true }).then(s => {
      if (s && s.user) lastUser = s.user.username;
      return s || { signed_in: false };
    }).catch(() => ({ signed_in: false }));
  }
  return sessP;
}

// Whether the signed-in user holds privilege `p` ("greeter_desk", ...).
export async function can(p) {
  const s = await session();
  return !!(s.signed_in && (s.privileges || []).includes(p));
}

// Hide every element marked data-needs="priv[ priv...]" whose privileges
// the user lacks (any one listed is enough): class role-hidden is
// display: none whatever the page's own script does with `hidden`.
export async function applyRoles(root = document) {
  const s = await session();
  const have = new Set(s.privileges || []);
  for (const e of root.querySelectorAll('[data-needs]')) {
    const ok = e.dataset.needs.split(/\s+/).some(p => have.has(p));
    e.classList.toggle('role-hidden', !ok);
  }
  return s;
}

// ---- signing in again in place ---------------------------------------------------

let reauthP = null;
function reauthDialog() {
  let d = $('reauth-dlg');
  if (d) return d;
  d = el('dialog', { id: 'reauth-dlg', 'aria-labelledby': 'reauth-h', 'aria-describedby': 'reauth-why' },
    el('form', { id: 'reauth-form', 'data-no-draft': '', 'data-no-summary': '', novalidate: true },
      el('h2', { id: 'reauth-h' }, 'Sign in again to carry on'),
      el('p', { id: 'reauth-why' }, 'Your session has ended. What you typed is still here; sign in and it will be saved.'),
      el('label', { for: 'reauth-user' }, 'User name'),
      el('input', { id: 'reauth-user', autocomplete: 'username', autocapitalize: 'none', maxlength: '64' }),
      el('label', { for: 'reauth-pass' }, 'Password'),
      el('input', { id: 'reauth-pass', type: 'password', autocomplete: 'current-password', maxlength: '128' }),
      el('p', { class: 'error', id: 'reauth-err', role: 'alert' }),
      el('p', { class: 'actions' },
        el('button', { type: 'submit', id: 'reauth-btn' }, 'Sign in and continue'),
        el('button', { type: 'button', class: 'secondary', id: 'reauth-leave' }, 'Go to the sign-in page'))));
  document.body.append(d);
  return d;
}

function reauth({ reason } = {}) {
  if (reauthP) return reauthP;
  const d = reauthDialog();
  warnDialog().open && warnDialog().close();
  if (reason) $('reauth-why').textContent = reason;
  $('reauth-user').value = lastUser;
  $('reauth-pass').value = '';
  $('reauth-err').textContent = '';
  reauthP = new Promise(resolve => {
    const form = $('reauth-form');
    const done = ok => {
      form.removeEventListener('submit', onSubmit);
      d.removeEventListener('cancel', onCancel);
      $('reauth-pass').value = '';
      if (d.open) d.close();
      document.body.classList.remove('signed-out');
      reauthP = null;
      resolve(ok);
    };
    const onCancel = ev => ev.preventDefault(); // Escape does not drop the work
    async function onSubmit(ev) {
      ev.preventDefault();
      $('reauth-err').textContent = '';
      const username = $('reauth-user').value.trim(), password = $('reauth-pass').value;
      if (!username || !password) { $('reauth-err').textContent = 'Enter your user name and password.'; return; }
      $('reauth-btn').disabled = true;
      try {
        const s = await api('/api/v1/session', { method: 'POST', body: { username, password } });
        if (s.user && lastUser && s.user.username !== lastUser) {
          // Someone else signed in: the work typed here is not theirs to see
          // or to save under their name.
          forgetDrafts();
          location.replace(s.must_change_password ? '/login.html' : location.href);
          return;
        }
        if (s.must_change_password) { location.href = '/login.html?next=' + encodeURIComponent(location.pathname + location.search); return; }
        sessP = Promise.resolve(s);
        lastUser = s.user ? s.user.username : username;
        idle.reset(s);
        done(true);
      } catch (e) {
        $('reauth-err').textContent = e.status === 401 || e.status === 403 ? 'The user name or password is not correct.' :
          e.status === 507 ? DISK_FULL_SIGNIN : e.message;
      } finally {
        $('reauth-btn').disabled = false;
      }
    }
    form.addEventListener('submit', onSubmit);
    d.addEventListener('cancel', onCancel);
    $('reauth-leave').onclick = () => {
      saveAllDrafts();
      location.href = '/login.html?next=' + encodeURIComponent(location.pathname + location.search);
    };
    document.body.classList.add('signed-out'); // the page's data hidden meanwhile
    d.showModal();
    $(lastUser ? 'reauth-pass' : 'reauth-user').focus();
  });
  return reauthP;
}

// ---- the idle warning ------------------------------------------------------------

const WARN_MS = 120 * 1000;
const idle = {
  limitMs: 30 * 60 * 1000,   // fallback when the node does not say
  deadline: Date.now() + 30 * 60 * 1000,
  serverSays: false,          // the node reports idle_remaining_s
  checkedAt: 0,
  signedIn: false,
  reset(s) {
    if (s && s.idle_timeout_s) this.limitMs = s.idle_timeout_s * 1000;
    if (s && typeof s.idle_remaining_s === 'number') {
      this.serverSays = true;
      this.deadline = Date.now() + s.idle_remaining_s * 1000;
    } else {
      this.deadline = Date.now() + this.limitMs;
    }
    this.signedIn = !!(s && s.signed_in);
    this.checkedAt = Date.now();
  },
};

function warnDialog() {
  let d = $('idle-dlg');
  if (d) return d;
  d = el('dialog', { id: 'idle-dlg', 'aria-labelledby': 'idle-h', 'aria-describedby': 'idle-text' },
    el('h2', { id: 'idle-h' }, 'You will be signed out soon'),
    el('p', { id: 'idle-text' }, ''),
    el('p', { class: 'actions' },
      el('button', { type: 'button', id: 'idle-stay' }, 'Stay signed in'),
      el('button', { type: 'button', class: 'secondary', id: 'idle-out' }, 'Sign out now')));
  document.body.append(d);
  $('idle-stay').addEventListener('click', async () => {
    d.close();
    try { idle.reset(await api('/api/v1/session')); } catch { /* the dialog to sign in again follows */ }
  });
  $('idle-out').addEventListener('click', async () => {
    d.close();
    forgetDrafts();
    try { await api('/api/v1/session', { method: 'DELETE' }); } catch { /* signed out anyway */ }
    location.href = '/login.html';
  });
  return d;
}

function mmss(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(s / 60), r = s % 60;
  return (m ? `${m} minute${m === 1 ? '' : 's'} ` : '') + `${r} second${r === 1 ? '' : 's'}`;
}

async function idleTick() {
  if (!idle.signedIn || reauthP) return;
  let left = idle.deadline - Date.now();
  // Other tabs of this browser may have kept the session alive: ask the node
  // (a background request, so asking does not count as activity).
  const every = left < 3 * WARN_MS ? 10000 : 60000;
  if (idle.serverSays && Date.now() - idle.checkedAt >= every) {
    idle.checkedAt = Date.now();
    const s = await session(true);
    if (!s.signed_in) { idle.signedIn = false; left = 0; } else { idle.reset(s); left = idle.deadline - Date.now(); }
  }
  const d = warnDialog();
  if (left <= 0) {
    if (d.open) d.close();
    idle.signedIn = false;
    reauth({ reason: 'You were signed out after a time without activity. What you typed is still here; sign in again to carry on.' })
      .then(ok => { if (ok) idle.signedIn = true; });
    return;
  }
  if (left <= WARN_MS) {
    $('idle-text').textContent = `For your security you will be signed out in ${mmss(left)} unless you carry on. What you typed is kept.`;
    if (!d.open) { d.showModal(); $('idle-stay').focus(); }
  } else if (d.open) {
    d.close();
  }
}

// ---- drafts: typed work kept in this tab until it is saved ------------------------
// Kept per signed-in user (the key names them): a page drops the drafts of
// anyone else, and every sign-out drops them all, so the next person at a
// shared PC never sees what the last one typed.

const DRAFT = 'outpost-draft:';
let draftsOff = false;  // signing out: nothing is kept any more
function draftPrefix() { return lastUser ? DRAFT + encodeURIComponent(lastUser) + ':' : null; }
function draftKey(form) { return draftPrefix() + location.pathname + location.search + '#' + form.id; }
function draftKeys() {
  const keys = [];
  try {
    for (let i = 0; i < sessionStorage.length; i++) {
      const k = sessionStorage.key(i);
      if (k && k.startsWith(DRAFT)) keys.push(k);
    }
  } catch { /* no storage */ }
  return keys;
}
// A key of this tab's storage for something else the signed-in user typed
// (the desk's note whose save failed): null when no one is signed in.  It
// goes with the drafts: on signing out, or when someone else signs in.
export function userStoreKey(name) {
  const p = draftPrefix();
  return p ? p + '~' + name : null;
}
// Every draft of this tab, whoever typed it: on signing out.
export function forgetDrafts() {
  draftsOff = true;
  for (const k of draftKeys()) try { sessionStorage.removeItem(k); } catch { /* nothing */ }
}
// The drafts of anyone but the signed-in user.
function dropOthersDrafts() {
  const mine = draftPrefix();
  if (!mine) return;
  for (const k of draftKeys()) if (!k.startsWith(mine)) try { sessionStorage.removeItem(k); } catch { /* nothing */ }
}
function draftable(f) {
  const t = (f.type || '').toLowerCase();
  if (!f.id || ['password', 'file', 'hidden', 'submit', 'button', 'reset', 'search'].includes(t)) return false;
  if (f.closest('[data-no-draft]')) return false;
  // Never an SSN, a password or a secret, whatever the field is called.
  return !/ssn|pass|secret|token|pin\b/i.test(`${f.id} ${f.name || ''} ${f.autocomplete || ''}`);
}
function formsWithDrafts() {
  return [...document.querySelectorAll('main form[id]')].filter(f => !f.hasAttribute('data-no-draft') &&
    f.getAttribute('role') !== 'search' && !/filter|search/i.test(f.id));
}
function saveDraft(form) {
  if (draftsOff || !draftPrefix()) return;
  const vals = {};
  let any = false;
  for (const f of form.elements) {
    if (!draftable(f)) continue;
    const v = f.type === 'checkbox' || f.type === 'radio' ? f.checked : f.value;
    vals[f.id] = v;
    if (f.tagName === 'TEXTAREA' || (f.tagName === 'INPUT' && !['checkbox', 'radio', 'date'].includes(f.type))) any = any || v !== '';
  }
  try {
    if (any) sessionStorage.setItem(draftKey(form), JSON.stringify(vals));
    else sessionStorage.removeItem(draftKey(form));
  } catch { /* storage full or off: nothing to keep */ }
}
function saveAllDrafts() { formsWithDrafts().forEach(saveDraft); }
export function clearDraft(form) {
  if (draftPrefix()) try { sessionStorage.removeItem(draftKey(form)); } catch { /* nothing */ }
  const n = form.querySelector('.draft-note');
  if (n) n.remove();
}
function restoreDraft(form) {
  if (draftsOff || !draftPrefix()) return false;
  let vals;
  try { vals = JSON.parse(sessionStorage.getItem(draftKey(form)) || 'null'); } catch { vals = null; }
  if (!vals) return false;
  let restored = false;
  for (const [id, v] of Object.entries(vals)) {
    const f = form.querySelector('#' + CSS.escape(id));
    if (!f || !draftable(f)) continue;
    if (f.type === 'checkbox' || f.type === 'radio') { if (f.checked !== v) { f.checked = v; restored = true; } continue; }
    if (f.value === v || v === '') continue;
    if (f.tagName === 'SELECT' && ![...f.options].some(o => o.value === v)) continue;
    f.value = v;
    f.dispatchEvent(new Event('input', { bubbles: true }));
    f.dispatchEvent(new Event('change', { bubbles: true }));
    restored = true;
  }
  if (restored) {
    const d = form.closest('details');
    if (d) d.open = true; // a kept draft is never hidden in a closed section
  }
  if (restored && !form.querySelector('.draft-note')) {
    form.prepend(el('p', { class: 'notice draft-note', role: 'status' },
      'What you typed here before was kept and is back in the form. It is not saved yet.'));
  }
  return restored;
}
function startDrafts() {
  const forms = formsWithDrafts();
  for (const f of forms) {
    f.addEventListener('input', () => saveDraft(f));
    f.addEventListener('change', () => saveDraft(f));
  }
  // The pages fill their lists and defaults as they load: restore after them
  // (and once it is known who is signed in).
  const known = session().then(dropOthersDrafts);
  setTimeout(() => known.then(() => forms.forEach(restoreDraft)), 600);
  setTimeout(() => known.then(() => forms.forEach(restoreDraft)), 2000);
  window.addEventListener('pagehide', saveAllDrafts);
}

// ---- the error summary ------------------------------------------------------------
// ui.js's, shared with the hub console.
export { labelOf, plainMessage, clearSummary, showSummary } from './ui.js';

function formDone(form, err) {
  if (!form || form.hasAttribute('data-no-summary')) return;
  if (!err) {
    clearDraft(form);
    if ($('error-summary')) clearSummary();
    form.querySelectorAll('[aria-invalid]').forEach(i => i.removeAttribute('aria-invalid'));
    return;
  }
  if (err.status === 400 || err.status === 409 || err.status === 422 || err.status === 403) {
    const first = showSummary(form, err.errors);
    if (first) err.message = first;
  }
}

// ---- a full disk -----------------------------------------------------------------
// While the node's disk is full (/healthz disk_full) every staff page says
// so at the top of its main content, for the desk to see before a visit
// fails: read when the page opens and every 15 s, shown at once by a write
// refused with 507, read again after a write that went through.  The Sync
// page says it in its own state box, so not twice there.

const DISK_FULL_NOTICE = 'The disk of this computer is full: new visits and changes cannot be saved ' +
  'until some space is freed. Everything saved before is kept. Tell your IT help desk.';
const diskNoticeHere = staffPage && location.pathname !== '/sync.html';

function showDiskFull(full) {
  const p = $('disk-full'), main = document.querySelector('main');
  if (!full || !main) { if (p) p.remove(); return; }
  if (!p) main.prepend(el('p', { id: 'disk-full', class: 'notice bad', role: 'alert' }, DISK_FULL_NOTICE));
}

async function checkDisk() {
  try { showDiskFull(!!(await (await fetch('/healthz')).json()).disk_full); } catch { /* no answer: as it was */ }
}

function storageHook(status) {
  if (status === 507) showDiskFull(true);
  else if (status < 400 && $('disk-full')) checkDisk();
}

// ---- start -----------------------------------------------------------------------

export async function startOffice() {
  if (!staffPage) return;
  // The office's time zone for every time shown.
  fetch('/healthz').then(r => r.json()).then(h => { if (h.timezone) office.tz = h.timezone; }).catch(() => {});
  hooks.reauth = reauth;
  hooks.formDone = formDone;
  hooks.activity = () => {
    idle.deadline = Date.now() + idle.limitMs;
    const d = $('idle-dlg');
    if (d && d.open) d.close();
  };
  startDrafts();
  if (diskNoticeHere) {
    hooks.storage = storageHook;
    checkDisk();
    setInterval(checkDisk, 15000);
  }
  const s = await session();
  idle.reset(s);
  setInterval(idleTick, 1000);
}

// A record that does not exist: the shared page in ui.js.
export { showNotFound } from './ui.js';

// The line a printout carries, since the page's header is not printed: the
// office's name, what is printed (its filters and dates) and when.
export async function printLine(target, what) {
  let name = '';
  try { name = (await (await fetch('/healthz')).json()).office_name || ''; } catch { /* the page still prints */ }
  target.textContent = [name, what, `Printed ${fmtDateTime(Date.now())}`].filter(Boolean).join(' · ');
}
