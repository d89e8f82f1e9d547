// login.js - staff sign-in at the office node: explains when sign-in is
// closed or limited (offline office, stand-alone node), signs in, and when a
// temporary password was used asks for a personal one with the state's rule
// checked live (and the common-password list asked on the server).
import { api, ApiError, DISK_FULL_SIGNIN } from './api.js';
import { nextPage } from './ui.js';
import { forgetDrafts } from './office.js';

const $ = id => document.getElementById(id);
let tempPassword = null;  // kept only in memory, for the change form
let checkTimer = null;

function show(view) {
  for (const v of ['signin-view', 'change-view', 'done-view']) $(v).hidden = v !== view;
}

function showState(login, signedIn) {
  const st = $('state');
  if (!login || !login.message || (signedIn && login.logins_allowed)) { st.hidden = true; return; }
  st.textContent = login.message;
  st.className = login.logins_allowed ? 'notice' : 'notice warn';
  st.hidden = false;
}

const RULES = {
  len: p => p.length >= 8 && p.length <= 20,
  upper: p => /[A-Z]/.test(p),
  lower: p => /[a-z]/.test(p),
  digit: p => /[0-9]/.test(p),
  special: p => /[!@#$%^*._]/.test(p),
  chars: p => p.length > 0 && /^[A-Za-z0-9!@#$%^*._]*$/.test(p),
};

function mark(li, ok) {
  li.classList.toggle('ok', ok === true);
  li.classList.toggle('bad', ok === false);
  let s = li.querySelector('.sr-only');
  if (!s) { s = document.createElement('span'); s.className = 'sr-only'; li.append(s); }
  s.textContent = ok === true ? ' (met)' : ok === false ? ' (not met)' : '';
}

function checkRules() {
  const p = $('new1').value;
  let all = true;
  for (const li of $('rules').querySelectorAll('li[data-rule]')) {
    const f = RULES[li.dataset.rule];
    if (!f) continue;
    const ok = p ? f(p) : null;
    if (ok !== true) all = false;
    mark(li, ok);
  }
  const common = $('rules').querySelector('li[data-rule="common"]');
  clearTimeout(checkTimer);
  if (!all) { mark(common, null); return; }
  checkTimer = setTimeout(async () => {
    try {
      const r = await api('/api/v1/session/password-check', { method: 'POST', body: { password: p } });
      if ($('new1').value !== p) return;
      mark(common, r.ok);
      if (!r.ok && r.why) $('change-err').textContent = r.why;
      else $('change-err').textContent = '';
    } catch { mark(common, null); }
  }, 250);
}

function signedIn(s) {
  $('who').textContent = `Signed in as ${s.user.display_name} (${s.user.username}).`;
  if (s.due_today) {
    $('due').textContent = `You have ${s.due_today} work item${s.due_today === 1 ? '' : 's'} due today.`;
    $('due').hidden = false;
  }
  $('continue').href = nextPage();
  show('done-view');
}

async function refresh() {
  let s;
  try { s = await api('/api/v1/session'); } catch (e) {
    $('state').textContent = 'The office node cannot be reached: ' + e.message;
    $('state').hidden = false;
    return;
  }
  showState(s.login, s.signed_in);
  if (s.signed_in && s.must_change_password) {
    $('current-wrap').hidden = tempPassword !== null;
    show('change-view');
    $(tempPassword !== null ? 'new1' : 'current').focus();
  } else if (s.signed_in) {
    signedIn(s);
  } else {
    show('signin-view');
    $('signin-btn').disabled = !s.login.logins_allowed;
    $('username').focus();
  }
}

async function signin(ev) {
  ev.preventDefault();
  const username = $('username').value.trim(), password = $('password').value;
  $('signin-err').textContent = '';
  if (!username) { $('signin-err').textContent = 'Enter your user name.'; $('username').focus(); return; }
  if (!password) { $('signin-err').textContent = 'Enter your password.'; $('password').focus(); return; }
  $('signin-btn').disabled = true;
  $('signin-btn').textContent = 'Signing in…';
  try {
    const s = await api('/api/v1/session', { method: 'POST', body: { username, password } });
    $('password').value = '';
    if (s.must_change_password) {
      tempPassword = password;
      await refresh();
    } else {
      location.href = nextPage();
    }
  } catch (e) {
    $('signin-err').textContent = e.status === 507 ? DISK_FULL_SIGNIN : e instanceof ApiError ? e.message : 'Sign-in failed: ' + e.message;
    $('password').value = '';
    $('password').focus();
  } finally {
    $('signin-btn').disabled = false;
    $('signin-btn').textContent = 'Sign in';
  }
}

async function change(ev) {
  ev.preventDefault();
  const p1 = $('new1').value, p2 = $('new2').value;
  const current = tempPassword !== null ? tempPassword : $('current').value;
  $('change-err').textContent = '';
  if (!Object.values(RULES).every(f => f(p1))) {
    $('change-err').textContent = 'The new password does not meet every rule above.';
    $('new1').focus();
    return;
  }
  if (p1 !== p2) {
    $('change-err').textContent = 'The two new passwords are not the same.';
    $('new2').focus();
    return;
  }
  $('change-btn').disabled = true;
  try {
    await api('/api/v1/session/password', { method: 'POST', body: { current_password: current, new_password: p1 } });
    tempPassword = null;
    location.href = nextPage();
  } catch (e) {
    $('change-err').textContent = e.message;
  } finally {
    $('change-btn').disabled = false;
  }
}

async function signout() {
  forgetDrafts();
  try { await api('/api/v1/session', { method: 'DELETE' }); } catch { /* signed out anyway */ }
  await refresh();
}

$('signin').addEventListener('submit', signin);
$('change').addEventListener('submit', change);
$('new1').addEventListener('input', checkRules);
$('signout').addEventListener('click', signout);
refresh();
