// login.js - sign-in to the hub console, and the forced password change at
// first sign-in (temporary password): the state's rule shown as a checklist
// that ticks while typing, checked again by the hub (which also refuses
// common passwords).
import { api, el, $, setCsrf, session, passwordChecks, clearErrors, showError, showErrors } from './console.js';
import { nextPage as next } from './ui.js';

const params = new URLSearchParams(location.search);
let username = '';
let typedPassword = '';

function renderRule() {
  const checks = passwordChecks($('new_password').value, username);
  $('rule').replaceChildren(...checks.map(c => el('li', { class: c.met ? 'met' : null, id: 'rule-' + c.id },
    c.text, el('span', { class: 'sr-only' }, c.met ? ' (done)' : ' (not yet)'))));
  return checks.every(c => c.met);
}

function showChange(why) {
  $('signin-card').hidden = true;
  $('change-card').hidden = false;
  if (why) $('change-why').textContent = why;
  // The password just typed at sign-in is the current one: no need to ask again.
  $('cur-wrap').hidden = !!typedPassword;
  renderRule();
  (typedPassword ? $('new_password') : $('current_password')).focus();
}

async function signIn(ev) {
  ev.preventDefault();
  clearErrors($('signin'));
  const u = $('username').value.trim(), p = $('password').value;
  if (!u || !p) {
    // Both missing fields at once, in the summary and under the form.
    return showErrors($('signin'), { errors: [!u && { field: 'username', error: 'Enter your user name' },
      !p && { field: 'password', error: 'Enter your password' }].filter(Boolean) });
  }
  $('signin-btn').disabled = true;
  try {
    const r = await api('/api/v1/admin/session', { method: 'POST', body: { username: u, password: p }, redirect: false });
    setCsrf(r.csrf_token);
    username = (r.staff && r.staff.username) || u;
    if (r.must_change_password) {
      typedPassword = p;
      showChange();
    } else {
      location.href = next();
    }
  } catch (e) {
    $('signin-err').textContent = e.status === 429 ? e.message :
      e.status === 401 || e.status === 403 ? e.message : 'Could not sign in: ' + e.message;
    $('password').value = '';
    $('password').focus();
  } finally {
    $('signin-btn').disabled = false;
  }
}

async function change(ev) {
  ev.preventDefault();
  const form = $('change');
  clearErrors(form);
  const cur = typedPassword || $('current_password').value;
  const np = $('new_password').value, again = $('confirm_password').value;
  if (!cur) return showError(form, { message: 'Enter your temporary password.', field: 'current_password' });
  if (!renderRule()) return showError(form, { message: 'The new password does not meet every point of the rule yet.', field: 'new_password' });
  if (np !== again) return showError(form, { message: 'The two new passwords differ.', field: 'confirm_password' });
  $('change-btn').disabled = true;
  try {
    await api('/api/v1/admin/session/password', { method: 'POST', body: { current_password: cur, new_password: np }, redirect: false });
    typedPassword = '';
    location.href = next();
  } catch (e) {
    if (e.field === 'current_password') { typedPassword = ''; $('cur-wrap').hidden = false; }
    if (e.status === 401 && e.field !== 'current_password') { location.href = '/login.html'; return; }
    showError(form, e.field === 'current_password' || e.field === 'new_password' ? e : { message: e.message });
  } finally {
    $('change-btn').disabled = false;
  }
}

async function init() {
  $('signin').addEventListener('submit', signIn);
  $('change').addEventListener('submit', change);
  $('new_password').addEventListener('input', renderRule);
  renderRule();
  const s = await session(true);
  if (s && s.staff) {
    username = s.staff.username;
    if (s.must_change_password) showChange();
    else if (params.get('change') !== '1') {
      try { sessionStorage.setItem('outpost_login_fwd', String(Date.now())); } catch { /* no storage */ }
      location.href = next();
    }
  }
  if (!$('signin-card').hidden) $('username').focus();
}
init();
