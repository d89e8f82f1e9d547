// desk.js - the front desk: live waiting list with wait times and actions.
import { api, el, fmtDuration, fmtTime } from './api.js';

const $ = id => document.getElementById(id);
const ACTIONS = {
  waiting: [['call', 'Call'], ['serve', 'Serving'], ['left', 'Left']],
  called: [['serve', 'Serving'], ['done', 'Done'], ['requeue', 'Back to queue'], ['left', 'Left']],
  serving: [['done', 'Done'], ['requeue', 'Back to queue']],
  done: [], left: [],
};
const LABEL = { waiting: 'Waiting', called: 'Called', serving: 'Serving', done: 'Done', left: 'Left without service' };
let visits = [];
let loadedAt = Date.now();

function noteFor(action) {
  if (action !== 'done' && action !== 'left') return Promise.resolve(undefined);
  const dlg = $('note-dlg');
  $('note').value = '';
  return new Promise(resolve => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok' ? $('note').value.trim() || undefined : null), { once: true });
    dlg.showModal();
  });
}

async function act(v, action) {
  const note = await noteFor(action);
  if (note === null) return;
  try {
    await api(`/api/v1/checkins/${encodeURIComponent(v.id)}/action`, { method: 'POST', body: note ? { action, note } : { action } });
    await load();
    $('status').textContent = `${v.visitor_name} updated.`;
  } catch (e) {
    $('status').textContent = e.message;
    await load();
  }
}

function render() {
  const rows = visits.map((v, i) => {
    const wait = v.status === 'waiting' ? v.wait_ms + (Date.now() - loadedAt) : v.wait_ms;
    return el('tr', { 'data-id': v.id },
      el('td', {}, String(i + 1)),
      el('td', {}, el('strong', {}, v.visitor_name), v.virtual ? ' (virtual)' : '',
        v.appointment_with ? el('div', { class: 'muted' }, 'Appointment: ' + v.appointment_with) : null),
      el('td', {}, v.reasons.map(r => r.label).join(', ')),
      el('td', {}, fmtTime(v.arrived_at)),
      el('td', { class: 'wait' }, fmtDuration(wait)),
      el('td', {}, el('span', { class: 'pill ' + v.status }, LABEL[v.status])),
      el('td', {}, el('div', { class: 'actions' }, ACTIONS[v.status].map(([a, label]) =>
        el('button', { type: 'button', class: a === 'left' ? 'secondary' : null,
          'aria-label': `${label}: ${v.visitor_name}`, onclick: () => act(v, a) }, label)))));
  });
  $('rows').replaceChildren(...rows);
  if (!rows.length) $('rows').append(el('tr', {}, el('td', { colspan: '7', class: 'muted' }, 'No visitors in this list.')));
}

async function load() {
  try {
    visits = await api('/api/v1/checkins?status=' + encodeURIComponent($('filter').value));
    loadedAt = Date.now();
    const w = visits.filter(v => v.status === 'waiting').length;
    $('status').textContent = `${w} waiting · updated ${fmtTime(Date.now())}`;
    render();
  } catch (e) {
    $('status').textContent = 'Could not load the list: ' + e.message;
  }
}

async function add(ev) {
  ev.preventDefault();
  $('a-err').textContent = '';
  const body = { visitor_name: $('a-name').value.trim(), reason_ids: [$('a-reason').value],
    virtual: $('a-virtual').value === '1' };
  if ($('a-phone').value.trim()) body.phone = $('a-phone').value.trim();
  try {
    await api('/api/v1/checkins', { method: 'POST', body });
    $('add').reset();
    await load();
  } catch (e) {
    $('a-err').textContent = e.message;
  }
}

async function init() {
  const reasons = await api('/api/v1/greeter/reasons').catch(() => []);
  $('a-reason').replaceChildren(...reasons.map(r => el('option', { value: r.id }, r.label)));
  $('filter').addEventListener('change', load);
  $('add').addEventListener('submit', add);
  await load();
  setInterval(load, 5000);
  setInterval(() => {
    for (const tr of $('rows').querySelectorAll('tr[data-id]')) {
      const v = visits.find(x => x.id === tr.dataset.id);
      if (v && v.status === 'waiting') tr.querySelector('.wait').textContent = fmtDuration(v.wait_ms + (Date.now() - loadedAt));
    }
  }, 1000);
}
init();
