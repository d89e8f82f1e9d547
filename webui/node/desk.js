// desk.js - the front desk: the waiting list, live (server-sent events from
// the node, GET /api/v1/greeter/events, each carrying the changed visit, so
// the list is read whole only when the stream (re)connects or an event
// cannot be applied; polling when events cannot be had), wait times,
// actions, and a visit added by hand.
import { api, el, fmtDuration, fmtTime } from './api.js';
import { saving } from './ui.js';
import { userStoreKey } from './office.js';

const $ = id => document.getElementById(id);
const ACTIONS = {
  waiting: [['call', 'Call'], ['serve', 'Serving'], ['left', 'Left without service']],
  called: [['serve', 'Serving'], ['done', 'Done'], ['requeue', 'Back to queue'], ['left', 'Left without service']],
  serving: [['done', 'Done'], ['requeue', 'Back to queue']],
  done: [], left: [],
};
const LABEL = { waiting: 'Waiting', called: 'Called', serving: 'Serving', done: 'Done', left: 'Left without service' };
const LANG = { es: ['ES', 'Spanish'] };
// The list shown: rows as GET /api/v1/checkins gives them, each with _t,
// when its wait_ms was read (the wait counts on from there).
let visits = [];

// A note whose action was refused (a full disk, say) comes back in the
// dialog when the same action on the same visit is tried again, in this
// tab, after a reload too - for the same user only, and gone at sign-out
// (kept like the drafts of forms: office.js).
const UNSAVED = () => userStoreKey('desk-unsaved-note');
function unsavedNote(v, action) {
  try {
    const k = UNSAVED();
    const u = k ? JSON.parse(sessionStorage.getItem(k) || 'null') : null;
    return u && u.id === v.id && u.action === action ? u.note : '';
  } catch { return ''; }
}
function keepNote(u) {
  const k = UNSAVED();
  try { if (!k) return; if (u) sessionStorage.setItem(k, JSON.stringify(u)); else sessionStorage.removeItem(k); } catch { /* storage off */ }
}
function noteFor(v, action) {
  if (action !== 'done' && action !== 'left') return Promise.resolve(undefined);
  const dlg = $('note-dlg');
  $('note').value = unsavedNote(v, action);
  return new Promise(resolve => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok' ? $('note').value.trim() || undefined : null), { once: true });
    dlg.showModal();
  });
}

async function act(v, action) {
  const note = await noteFor(v, action);
  if (note === null) return;
  try {
    const r = await api(`/api/v1/checkins/${encodeURIComponent(v.id)}/action`, { method: 'POST', body: note ? { action, note } : { action } });
    if (note) keepNote(null);
    if (live) { put(r); show(); } else await load();
    // Said with the name while the row is still in this list; a visit that
    // left the list is not named again (the screen no longer shows it).
    const now = visits.find(x => x.id === v.id);
    $('status').textContent = now ? `${v.visitor_name}: ${LABEL[now.status]}.` : 'Saved. The visit left this list (see Finished).';
  } catch (e) {
    if (note) keepNote({ id: v.id, action, note });
    await load(); // (which rewrites the status line: the error goes after it)
    $('status').textContent = e.message;
  }
}

function visitorCell(v) {
  const lang = LANG[v.language];
  return el('td', { 'data-label': 'Visitor' }, el('strong', {}, v.visitor_name),
    lang ? el('span', { class: 'badge', lang: v.language }, lang[0], el('span', { class: 'sr-only' }, ` (speaks ${lang[1]})`)) : null,
    v.virtual ? el('span', { class: 'badge' }, 'Virtual') : null,
    v.appointment_with ? el('div', { class: 'muted' }, 'Appointment: ' + v.appointment_with) : null,
    v.staff_name && (v.status === 'done' || v.status === 'serving') ? el('div', { class: 'muted served-by' }, 'Served by ' + v.staff_name) : null,
    v.note ? el('div', { class: 'muted' }, 'Note: ' + v.note) : null);
}

function render() {
  const rows = visits.map((v, i) => {
    const wait = waitOf(v);
    return el('tr', { 'data-id': v.id },
      el('td', { 'data-label': '#' }, String(i + 1)),
      visitorCell(v),
      el('td', { 'data-label': 'Reasons' }, v.reasons.map(r => r.label).join(', ')),
      el('td', { 'data-label': 'Arrived' }, fmtTime(v.arrived_at)),
      el('td', { class: 'wait', 'data-label': 'Wait' }, v.virtual ? '–' : fmtDuration(wait)),
      el('td', { 'data-label': 'Status' }, el('span', { class: 'pill ' + v.status }, LABEL[v.status])),
      el('td', {}, el('div', { class: 'actions' }, ACTIONS[v.status].map(([a, label], k) =>
        el('button', { type: 'button', class: k === 0 ? null : 'secondary',
          'aria-label': `${label}: ${v.visitor_name}`, onclick: () => act(v, a) }, label)))));
  });
  $('rows').replaceChildren(...rows);
  if (!rows.length) $('rows').append(el('tr', {}, el('td', { colspan: '7', class: 'muted' }, 'No visitors in this list.')));
}

const waitOf = v => v.status === 'waiting' ? v.wait_ms + (Date.now() - v._t) : v.wait_ms;

function show() {
  const w = visits.filter(v => v.status === 'waiting').length;
  $('status').textContent = `${w} waiting · updated ${fmtTime(Date.now())}` + (live ? '' : ' (refreshing every 5 seconds)');
  render();
}

// The node's day (its hello and every event say it) and the last event
// applied; events that come while the list is being read wait for it.
let today = '', lastSeq = -1, queued = null;
const shown = v => v.visit_date === today && ($('filter').value === 'all' || $('filter').value.split(',').includes(v.status));

// One visit as the node now has it: into the list, or out of it.
function put(v) {
  v._t = Date.now();
  const i = visits.findIndex(x => x.id === v.id);
  if (!shown(v)) { if (i >= 0) visits.splice(i, 1); return; }
  if (i >= 0) visits[i] = v; else visits.push(v);
  visits.sort((a, b) => a.arrived_at - b.arrived_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let pos = 0;
  for (const x of visits) x.position = x.status === 'waiting' ? ++pos : null;
}

// An event of the node: {seq, today, op: upsert (visit) | remove (id) | reload}.
function apply(d) {
  if (queued) { queued.push(d); return; }
  const ok = d.seq === lastSeq + 1 && d.today === today && (d.op === 'upsert' || d.op === 'remove');
  lastSeq = d.seq;
  if (!ok) { today = d.today || today; load(); return; }
  if (d.op === 'upsert') put(d.visit);
  else visits = visits.filter(x => x.id !== d.id);
  document.body.dataset.applied = String(Number(document.body.dataset.applied || 0) + 1);
  show();
}

// fresh: a read that starts now (after a reconnect, one under way may be
// older than the stream).
let loading = null;
async function load(fresh) {
  if (loading) return fresh === true ? loading.then(() => load()) : loading;
  if (!queued) queued = [];
  loading = (async () => {
    try {
      const list = await api('/api/v1/checkins?status=' + encodeURIComponent($('filter').value), { background: true });
      const t = Date.now();
      for (const v of list) v._t = t;
      visits = list;
      document.body.dataset.reads = String(Number(document.body.dataset.reads || 0) + 1);
    } catch (e) {
      $('status').textContent = 'Could not load the list: ' + e.message;
      return;
    } finally {
      // Events of the read's time apply after it (each is a whole row, so
      // one the read already shows changes nothing).
      const q = queued || [];
      queued = null;
      loading = null;
      for (const d of q) apply(d);
    }
    show();
  })();
  return loading;
}

function add(ev) {
  ev.preventDefault();
  return saving($('add'), () => addVisit());
}
async function addVisit() {
  for (const id of ['a-err', 'a-name-err', 'a-phone-err', 'a-reasons-err']) $(id).textContent = '';
  const body = { visitor_name: $('a-name').value.trim(),
    reason_ids: [...$('a-reasons').querySelectorAll('input:checked')].map(i => i.value),
    virtual: $('a-virtual').value === '1', language: $('a-lang').value };
  if ($('a-phone').value.trim()) body.phone = $('a-phone').value.trim();
  try {
    const c = await api('/api/v1/checkins', { method: 'POST', body });
    $('add').reset();
    if (live) { put(c); show(); } else await load();
    $('status').textContent = c.virtual ? `${c.visitor_name}: virtual visit recorded as served.` : `${c.visitor_name} added to the line.`;
  } catch (e) {
    $('a-err').textContent = e.message;
  }
}

// Live: the node sends an event for each visit changed by a committed
// check-in or action of this office.  When the stream fails (an old proxy,
// too many screens), the list is polled every 5 seconds instead.
let live = false, poller = null;
function startPolling() {
  if (poller) return;
  poller = setInterval(load, 5000);
  load();
}
function startLive() {
  if (typeof EventSource === 'undefined') { startPolling(); return; }
  const es = new EventSource('/api/v1/greeter/events');
  let failures = 0;
  es.addEventListener('hello', ev => {
    const d = JSON.parse(ev.data);
    live = true; failures = 0;
    lastSeq = d.seq; today = d.today;
    document.body.dataset.live = '1';
    if (poller) { clearInterval(poller); poller = null; }
    load(true);
  });
  es.addEventListener('checkins', ev => {
    document.body.dataset.events = String(Number(document.body.dataset.events || 0) + 1);
    let d = null;
    try { d = JSON.parse(ev.data); } catch { d = { op: 'reload' }; }
    apply(d);
  });
  es.onerror = () => {
    live = false;
    document.body.dataset.live = '0';
    startPolling();
    if (++failures >= 3 || es.readyState === EventSource.CLOSED) es.close();
  };
  window.addEventListener('pagehide', () => es.close());
}

async function init() {
  const reasons = await api('/api/v1/greeter/reasons', { background: true }).catch(() => []);
  $('a-reasons').append(...reasons.map(r => el('label', { class: 'reason', for: 'ar-' + r.id },
    el('input', { type: 'checkbox', id: 'ar-' + r.id, value: r.id }), r.label)));
  $('filter').addEventListener('change', () => load(true));
  $('add').addEventListener('submit', add);
  startLive(); // its hello (or its failure) reads the list
  let day = new Date().toDateString();
  setInterval(() => {
    // A new day here: the node's list is read again (a quiet night sends no event).
    if (new Date().toDateString() !== day) { day = new Date().toDateString(); load(); }
    for (const tr of $('rows').querySelectorAll('tr[data-id]')) {
      const v = visits.find(x => x.id === tr.dataset.id);
      if (v && v.status === 'waiting') tr.querySelector('.wait').textContent = fmtDuration(waitOf(v));
    }
  }, 1000);
}
init();
