// kiosk.js - the visitor kiosk: no login, English and Spanish, large targets.
import { api, el } from './api.js';
import { latest } from './ui.js';

const T = {
  en: {
    title: 'Welcome! Please check in.',
    intro: 'Tell us who you are and why you came today. A staff member will call you.',
    name: 'Your name', phone: 'Phone (optional)', email: 'Email (optional)',
    reasons: 'Why are you here today? Choose one or more.',
    appt: 'I have an appointment with (optional)', submit: 'Check in',
    thanks: 'Thank you! You are checked in.', seat: 'Please have a seat. A staff member will call your name.',
    again: 'Done', position: n => `You are number ${n} in line.`,
    needName: 'Please enter your name.', needReason: 'Please choose at least one reason.',
    badPhone: 'Please check the phone number.', badEmail: 'Please check the email address.',
    failed: 'Sorry, the check-in did not work. Please ask at the front desk.',
    busy: 'Many check-ins came from this kiosk just now. Please wait a moment and try again, or ask at the front desk.',
    isThis: 'Is this you?', docTitle: 'Welcome — please check in',
    chosen: 'You chose English.',
    phoneHint: 'Been here before? Type the same phone number and we will find your name.',
    nextPhone: 'Next time, type the same phone number and the kiosk will find your name.',
    nextNoPhone: 'Next time, add your phone number and the kiosk will find your name for you.',
  },
  es: {
    title: '¡Bienvenido! Por favor, regístrese.',
    intro: 'Díganos quién es y por qué vino hoy. Un miembro del personal le llamará.',
    name: 'Su nombre', phone: 'Teléfono (opcional)', email: 'Correo electrónico (opcional)',
    reasons: '¿Por qué vino hoy? Elija una o más opciones.',
    appt: 'Tengo una cita con (opcional)', submit: 'Registrarme',
    thanks: '¡Gracias! Ya está registrado.', seat: 'Por favor, tome asiento. Un miembro del personal dirá su nombre.',
    again: 'Listo', position: n => `Usted es el número ${n} en la fila.`,
    needName: 'Por favor, escriba su nombre.', needReason: 'Por favor, elija al menos una opción.',
    badPhone: 'Por favor, revise el número de teléfono.', badEmail: 'Por favor, revise el correo electrónico.',
    failed: 'Lo sentimos, el registro no funcionó. Por favor, pregunte en la recepción.',
    busy: 'Se registraron muchas visitas en este quiosco hace un momento. Espere un momento e inténtelo de nuevo, o pregunte en la recepción.',
    isThis: '¿Es usted?', docTitle: 'Bienvenido — por favor, regístrese',
    chosen: 'Usted eligió español.',
    phoneHint: '¿Ya vino antes? Escriba el mismo número de teléfono y encontraremos su nombre.',
    nextPhone: 'La próxima vez, escriba el mismo número de teléfono y el quiosco encontrará su nombre.',
    nextNoPhone: 'La próxima vez, agregue su número de teléfono y el quiosco encontrará su nombre.',
  },
};
let lang = 'en';
let reasons = [];
let resetTimer = null;
const $ = id => document.getElementById(id);

function setLang(l) {
  lang = l;
  document.documentElement.lang = l;
  document.title = T[l].docTitle;
  for (const e of document.querySelectorAll('[data-t]')) {
    const v = T[l][e.dataset.t];
    if (typeof v === 'string') e.textContent = v;
  }
  $('lang-en').setAttribute('aria-pressed', String(l === 'en'));
  $('lang-es').setAttribute('aria-pressed', String(l === 'es'));
  renderReasons();
}

function renderReasons() {
  const fs = $('reasons');
  const checked = new Set([...fs.querySelectorAll('input:checked')].map(i => i.value));
  for (const x of [...fs.querySelectorAll('label.reason')]) x.remove();
  for (const r of reasons) {
    const id = 'r-' + r.id;
    fs.append(el('label', { class: 'reason', for: id },
      el('input', { type: 'checkbox', id, name: 'reason', value: r.id, checked: checked.has(r.id) }),
      lang === 'es' && r.label_es ? r.label_es : r.label));
  }
}

function clearErrors() {
  for (const id of ['name-err', 'phone-err', 'email-err', 'reasons-err', 'form-err']) $(id).textContent = '';
  for (const id of ['name', 'phone', 'email']) $(id).removeAttribute('aria-invalid');
}

function showError(field, msg) {
  const map = { visitor_name: 'name', phone: 'phone', email: 'email', reason_ids: 'reasons' };
  const f = map[field];
  if (f) {
    $(f + '-err').textContent = msg;
    if (f !== 'reasons') { $(f).setAttribute('aria-invalid', 'true'); $(f).focus(); }
  } else {
    $('form-err').textContent = msg;
  }
}

async function submit(ev) {
  ev.preventDefault();
  clearErrors();
  const t = T[lang];
  const name = $('name').value.trim();
  const ids = [...document.querySelectorAll('#reasons input:checked')].map(i => i.value);
  if (!name || !ids.length) {
    // Every missing answer at once, the first one focused.
    if (!ids.length) showError('reason_ids', t.needReason);
    if (!name) showError('visitor_name', t.needName);
    return;
  }
  const body = { visitor_name: name, reason_ids: ids, language: lang };
  if ($('phone').value.trim()) body.phone = $('phone').value.trim();
  if ($('email').value.trim()) body.email = $('email').value.trim();
  if ($('appt').value.trim()) body.appointment_with = $('appt').value.trim();
  $('submit').disabled = true;
  try {
    const c = await api('/api/v1/checkins', { method: 'POST', body });
    $('position').textContent = c.position ? t.position(c.position) : '';
    $('next-time').textContent = body.phone ? t.nextPhone : t.nextNoPhone;
    $('form-view').hidden = true;
    $('thanks-view').hidden = false;
    $('again').focus();
    clearTimeout(resetTimer);
    resetTimer = setTimeout(reset, 10000);
  } catch (e) {
    const msg = e.field === 'phone' ? t.badPhone : e.field === 'email' ? t.badEmail
      : e.status === 429 ? t.busy : t.failed;
    showError(e.field, msg);
  } finally {
    $('submit').disabled = false;
  }
}

// A visitor who walks away: after 90 s without a touch or a key the form is
// cleared, so the next visitor never sees someone else's details.
export const IDLE_RESET_MS = 90 * 1000;
let idleTimer = null;
function touched() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => { if (dirty()) reset(); }, IDLE_RESET_MS);
}
function dirty() {
  return lang !== 'en' || $('form-view').hidden ||
    ['name', 'phone', 'email', 'appt'].some(id => $(id).value !== '') ||
    document.querySelector('#reasons input:checked') !== null ||
    [...document.querySelectorAll('.error')].some(e => e.textContent !== '');
}

function reset() {
  clearTimeout(resetTimer);
  clearTimeout(idleTimer);
  $('checkin').reset();
  $('matches').replaceChildren();
  clearErrors();
  $('thanks-view').hidden = true;
  $('form-view').hidden = false;
  setLang('en');
  $('name').focus();
}

let searchTimer = null;
// Only the number typed now may offer a name: an answer for an earlier
// one (a digit ago) would offer a stranger's.
const lookups = latest();
function lookup() {
  clearTimeout(searchTimer);
  const current = lookups();
  // A returning visitor is found by the phone number they type (at least 7
  // digits), so a public kiosk never lists other people's details.
  // The node answers only the whole number with the name's first letter.
  const q = $('phone').value.replace(/[^0-9]/g, '');
  const initial = [...$('name').value.trim()][0] || '';
  if (q.length < 7 || !initial) { $('matches').replaceChildren(); return; }
  searchTimer = setTimeout(async () => {
    try {
      const found = await api('/api/v1/visitors?q=' + encodeURIComponent(q) +
                              '&initial=' + encodeURIComponent(initial));
      if (!current()) return;
      const exact = found.filter(v => (v.phone || '').replace(/[^0-9]/g, '') === q);
      $('matches').replaceChildren(...exact.slice(0, 2).map(v => el('li', {},
        el('button', { type: 'button', class: 'secondary', onclick: () => {
          $('name').value = v.visitor_name;
          $('matches').replaceChildren();
        } }, `${T[lang].isThis} ${v.visitor_name}`))));
    } catch { /* the search is a convenience only */ }
  }, 250);
}

async function init() {
  $('lang-en').addEventListener('click', () => setLang('en'));
  $('lang-es').addEventListener('click', () => setLang('es'));
  $('checkin').addEventListener('submit', submit);
  $('again').addEventListener('click', reset);
  $('phone').addEventListener('input', lookup);
  for (const ev of ['pointerdown', 'keydown', 'input']) document.addEventListener(ev, touched, true);
  fetch('/healthz').then(r => r.json()).then(h => { $('office-name').textContent = h.office_name || ''; }).catch(() => {});
  try { reasons = await api('/api/v1/greeter/reasons'); } catch { reasons = []; }
  setLang('en');
}
init();
