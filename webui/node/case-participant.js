// case-participant.js - one participant: the record (SSN masked; the full
// SSN only on request, which the office records), the case's clocks (soft
// exit, case-note cadence, closure form, follow-up), an activity with its
// case note in one form (subject and contact date are the activity's), a
// stand-alone note, and the timeline of visits, activities, notes and their
// amendments (an amendment never changes the original: both are shown).
import { api, el, fmtDate } from './api.js';
import { showNotFound, session } from './office.js';
import { $, API, meta, clearErrors, showError, showErrors, pill, clockNotice, saving } from './case-common.js';

const id = new URLSearchParams(location.search).get('id');
let M = null, P = null, codes = {}, canNotes = false, canEdit = false, canProgram = false, canRaise = false, FORMS = null;

function daysBetween(a, b) {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86400000);
}

function statusView(s) {
  const items = [];
  if (s.exited) {
    items.push(el('p', {}, pill('Exited ' + fmtDate(s.exit_date), 'exited'), ' Only follow-up codes may be entered.'));
    if (s.followup_quarter) {
      items.push(el('p', {}, `Follow-up quarter ${s.followup_quarter} ends ${fmtDate(s.followup_due_date)}: `,
        s.followup_done ? pill('done', 'ok') : pill('due', 'due')));
    }
    if (s.followup_declined_date) items.push(el('p', {}, pill('follow-up declined', 'ok'), ` on ${fmtDate(s.followup_declined_date)}`));
    if (s.followup_overdue_quarters) items.push(el('p', { class: 'error' }, `${s.followup_overdue_quarters} quarter(s) of follow-up missed.`));
  } else {
    const warn = s.exit_warning ? pill(`${s.days_to_exit} days to soft exit`, s.exit_warning >= 85 ? 'overdue' : 'due') : pill(`${s.days_to_exit} days to soft exit`, 'ok');
    items.push(el('p', {}, 'Soft exit on ', el('strong', {}, fmtDate(s.soft_exit_date)), ' ', warn,
      el('br'), el('span', { class: 'muted' }, s.last_service_date ? `Last clock-restarting service ${fmtDate(s.last_service_date)}` : `No clock-restarting service yet (counted from registration, ${fmtDate(s.exit_clock_from)})`)));
    if (s.closure_form_due) items.push(el('p', { class: 'notice warn' }, 'This case is nearing its soft exit: review it and complete the closure form.'));
    const ns = s.note_status === 'overdue' ? pill('overdue', 'overdue') : s.note_status === 'due_this_week' ? pill('due this week', 'due') : pill('on time', 'ok');
    items.push(el('p', {}, 'Next case note due ', el('strong', {}, fmtDate(s.note_due_date)), ' ', ns,
      el('br'), el('span', { class: 'muted' }, s.last_note_date ? `Last note's contact date ${fmtDate(s.last_note_date)}` : 'No case note yet')));
  }
  if (s.late_activities || s.late_notes) items.push(el('p', { class: 'muted' }, `Entered late: ${s.late_activities} activit${s.late_activities === 1 ? 'y' : 'ies'}, ${s.late_notes} note(s).`));
  if (s.activities_without_note) items.push(el('p', { class: 'error' }, `${s.activities_without_note} activit${s.activities_without_note === 1 ? 'y has' : 'ies have'} no case note.`));
  $('status').replaceChildren(...items);
  $('closure').hidden = !s.closure_form_due;
}

function fillCodes(exited) {
  const sel = $('code');
  const group = (label, list, kind) => el('optgroup', { label }, list.map(c =>
    el('option', { value: kind + ':' + c.code }, `${c.code} ${c.title}${c.restarts_exit_clock ? ' (restarts exit clock)' : ''}`)));
  sel.replaceChildren(el('option', { value: '' }, 'Choose a code'),
    exited ? group('Follow-up codes', M.followup_codes, 'followup') : group('Activity codes', M.activity_codes, 'activity'));
}

// The form of a Help Request (ids prefixed p): the intro, the fields, the
// reason every request needs; sent as POST url with body(reason), then the
// page reloads.
function helpRequestForm(p, attrs, intro, fields, url, body) {
  const form = el('form', { novalidate: true, ...attrs },
    el('p', { class: 'muted' }, 'Raised by a supervisor or manager; DSS WIOA staff approve it. ' + intro),
    fields,
    el('label', { for: p + 'reason' }, 'Reason for the change *'),
    el('textarea', { id: p + 'reason', rows: 2, 'aria-describedby': p + 'reason-err' }),
    el('p', { class: 'field-err error', id: p + 'reason-err' }),
    el('p', { class: 'actions' }, el('button', { type: 'submit', class: 'secondary' }, 'Send the Help Request')),
    el('p', { class: 'error form-err', role: 'alert' }));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    return saving(form, async () => {
      clearErrors(form);
      try {
        await api(url, { method: 'POST', body: body($(p + 'reason').value) });
        await load();
      } catch (e) {
        showErrors(form, e, p);
      }
    });
  });
  return form;
}

// Who may not raise a Help Request is told who can, in place of a form
// the node would refuse.
function raiseHint(what) {
  return el('p', { class: 'muted no-print' }, `A supervisor or manager can raise a Help Request to ${what}.`);
}

// A Help Request to change or void an entered activity: raised by a
// supervisor or manager, approved by DSS WIOA staff; the entry stands
// until then.
function helpRequest(x) {
  const p = `hr-${x.id}-`;
  const form = helpRequestForm(p, { 'aria-label': `Help Request for ${x.code}` }, 'Until then the entry stands as it is.',
    el('div', { class: 'grid' },
      el('div', {}, el('label', { for: p + 'void' }, el('input', { type: 'checkbox', id: p + 'void' }), ' Void this activity')),
      el('div', {}, el('label', { for: p + 'end_date' }, 'End date'), el('input', { id: p + 'end_date', type: 'date', max: M.today, 'aria-describedby': p + 'end_date-err' }), el('p', { class: 'field-err error', id: p + 'end_date-err' })),
      el('div', {}, el('label', { for: p + 'completion' }, 'Completion'),
        el('select', { id: p + 'completion', 'aria-describedby': p + 'completion-err' }, el('option', { value: '' }, 'Not completed'),
          el('option', { value: 'successful' }, 'Successful'), el('option', { value: 'unsuccessful' }, 'Unsuccessful')),
        el('p', { class: 'field-err error', id: p + 'completion-err' }))),
    `${API}/activities/${encodeURIComponent(x.id)}/amend`, reason => {
      const body = { reason };
      if ($(p + 'void').checked) body.void = true;
      else {
        if ($(p + 'end_date').value) body.end_date = $(p + 'end_date').value;
        if ($(p + 'completion').value) body.completion = $(p + 'completion').value;
      }
      return body;
    });
  return el('details', { class: 'no-print' }, el('summary', {}, 'Request a change (Help Request)'), form);
}

function approvalPill(x) {
  if (x.approval_state === 'pending') return pill('backdated: pending approval', 'due');
  if (x.approval_state === 'refused') return pill('backdated: approval refused (does not count)', 'overdue');
  return pill('backdated with approval', 'ok');
}

// The closure form, the follow-up form and the follow-up decline: each
// field of the policy's form, N/A allowed, all required.
function formView(kind, title, path, help, open) {
  const pre = `${kind}-`;
  const form = el('form', { novalidate: true, id: `form-${kind}`, 'aria-label': title },
    el('div', { class: 'grid' },
      el('div', {}, el('label', { for: pre + 'form_date' }, 'Date *'),
        el('input', { id: pre + 'form_date', type: 'date', value: M.today, max: M.today, 'aria-describedby': pre + 'form_date-err' }),
        el('p', { class: 'field-err error', id: pre + 'form_date-err' })),
      ...FORMS[kind].map(f => el('div', {}, el('label', { for: pre + 'fields-' + f.name }, f.label + ' *'),
        f.choices ? el('select', { id: pre + 'fields-' + f.name, 'aria-describedby': pre + 'fields-' + f.name + '-err' },
          el('option', { value: '' }, 'Choose…'), ...f.choices.map(c => el('option', { value: c }, c)))
          : el('input', { id: pre + 'fields-' + f.name, 'aria-describedby': pre + 'fields-' + f.name + '-err' }),
        el('p', { class: 'field-err error', id: pre + 'fields-' + f.name + '-err' })))),
    el('p', { class: 'actions' }, el('button', { type: 'submit' }, 'Save ' + title.toLowerCase())),
    el('p', { class: 'error form-err', role: 'alert' }));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    return saving(form, async () => {
      clearErrors(form);
      const fields = {};
      for (const f of FORMS[kind]) fields[f.name] = $(pre + 'fields-' + f.name).value;
      try {
        await api(`${API}/participants/${encodeURIComponent(id)}/${path}`, { method: 'POST', body: { form_date: $(pre + 'form_date').value, fields } });
        await load();
        $('forms-ok').hidden = false;
        $('forms-ok').textContent = `${title} saved.`;
      } catch (e) {
        showErrors(form, e, pre);
      }
    });
  });
  return el('details', { class: 'more', open: open ? true : null }, el('summary', {}, title), el('p', { class: 'muted' }, help), form);
}

function formsView(s) {
  const body = $('forms-body');
  const parts = [el('p', { class: 'notice', id: 'forms-ok', role: 'status', hidden: true })];
  if (!FORMS) { $('forms').hidden = true; return; }
  if (!s.exited && FORMS.skill_gain) {
    parts.push(el('div', { id: 'skill-gains' }));
    // Read-only (no program_edit): the gains recorded, no form.
    if (canProgram) parts.push(formView('skill_gain', 'Measurable skill gain', 'skill-gains',
      'A gain the participant made during the program (one of the five WIOA types), dated the day it was achieved; entered within 5 business days.', false));
  }
  if (!s.exited) {
    if (canProgram) parts.push(formView('closure', 'Closure form', 'closure-form',
      s.closure_form_due ? 'This case nears its soft exit: the closure form is due now.' : 'Completed for every case nearing its 90-day soft exit.', s.closure_form_due));
  } else if (s.followup_declined_date) {
    parts.push(el('p', {}, `The participant declined follow-up services on ${fmtDate(s.followup_declined_date)}: no follow-up is due.`));
  } else if (s.followup_quarter && canProgram) {
    parts.push(formView('followup', 'Follow-up form', 'followup-form',
      `Quarter ${s.followup_quarter} of follow-up ends ${fmtDate(s.followup_due_date)}` + (s.followup_form_done ? ': its form is done.' : ': its form is due.'), !s.followup_form_done));
    parts.push(formView('followup_declined', 'Follow-up declined', 'followup-declined',
      'The participant declines follow-up services: record how, and when. This ends the follow-up clocks.', false));
  }
  body.replaceChildren(...parts);
  $('forms').hidden = parts.length < 2;
  if ($('skill-gains')) skillGains();
}

// The measurable skill gains recorded for this participant.
async function skillGains() {
  const rows = await api(`${API}/participants/${encodeURIComponent(id)}/skill-gains`).catch(() => []);
  $('skill-gains').replaceChildren(rows.length ? el('ul', {}, rows.map(g => el('li', {},
    el('strong', {}, g.fields.gain_type), ` on ${fmtDate(g.form_date)}: ${g.fields.achievement}`,
    el('span', { class: 'muted' }, ` (${g.fields.program}; ${g.fields.documentation}; entered ${fmtDate(g.entered_date)} by ${g.staff_name || g.staff_id || 'staff'})`))))
    : el('p', { class: 'muted' }, 'No measurable skill gain recorded.'));
}

function noteItem(n) {
  const wrap = el('div', {},
    el('p', {}, el('strong', {}, n.subject), ' — contact ', fmtDate(n.contact_date), el('span', { class: 'muted' }, ` (entered ${fmtDate(n.entered_date)} by ${n.staff_name || n.staff_id || 'staff'})`)),
    el('p', { class: 'note-body' }, n.body));
  const AM_STATE = { pending: ['Help Request waiting for DSS WIOA staff: the note above stands', 'due'], refused: ['Help Request refused', 'overdue'] };
  for (const a of n.amendments || []) {
    const st = AM_STATE[a.change_state];
    wrap.append(el('div', { class: 'amendment' }, el('p', {}, el('strong', {}, 'Amendment'), el('span', { class: 'muted' }, ` entered ${fmtDate(a.entered_date)} by ${a.staff_name || a.staff_id || 'staff'}`),
      st ? ' ' : '', st ? pill(st[0], st[1]) : ''),
      el('p', { class: 'note-body' }, a.body)));
  }
  const waiting = (n.amendments || []).some(a => a.change_state === 'pending');
  const tid = 'am-' + n.id, p = tid + '-';
  const form = helpRequestForm(p, { class: 'no-print', 'aria-label': `Help Request to amend ${n.subject}` },
    'The note never changes: the amendment is shown under it.',
    [el('label', { for: p + 'body' }, 'Amendment text *'),
      el('textarea', { id: p + 'body', rows: 2, 'aria-describedby': p + 'body-err' }),
      el('p', { class: 'field-err error', id: p + 'body-err' })],
    `${API}/notes/${encodeURIComponent(n.id)}/amend`, reason => ({ body: $(p + 'body').value, reason }));
  if (canNotes && !waiting) wrap.append(canRaise ? el('details', { class: 'no-print' }, el('summary', {}, 'Amend this note (Help Request)'), form) : raiseHint('amend this note'));
  return wrap;
}

function render(t) {
  P = t.participant;
  const s = t.status;
  document.title = `${P.last_name}, ${P.first_name} — Outpost`;
  $('title').textContent = `${P.first_name} ${P.last_name}`;
  const dl = $('info');
  dl.replaceChildren();
  const row = (k, v) => dl.append(el('dt', {}, k), el('dd', {}, v || '—'));
  row('Birth date', fmtDate(P.birth_date));
  row('SSN', P.ssn_masked ? `${P.ssn_masked}${P.ssn_kind === 'pseudo' ? ' (pseudo-SSN)' : ''}` : 'none recorded');
  row('Phone', P.phone); row('Email', P.email); row('Address', P.address);
  row('Office', P.office_name || P.office_id); row('Assigned staff', P.assigned_staff_name);
  row('Registered', fmtDate(P.registered_date));
  row('Case', P.exit_state === 'exited' ? `exited ${fmtDate(P.exit_date)}` : 'active');
  $('reveal').hidden = !P.ssn_masked;
  // Registered twice (two offices, offline): found at the hub by the SSN.
  const dups = P.possible_duplicates || [];
  $('dups').hidden = !dups.length;
  $('dups').replaceChildren(...dups.map(d => {
    const who = d.name || d.id;
    const review = (outcome, label) => {
      const b = el('button', { type: 'button', class: 'secondary', 'aria-label': `${label}: ${who}` }, label);
      b.addEventListener('click', async () => {
        b.disabled = true;
        try {
          await api(`${API}/duplicates/${encodeURIComponent(d.flag_id)}/review`, { method: 'POST', body: { outcome } });
          load();
        } catch (e) {
          // Reviewed meanwhile at another office: show the page as it is now.
          if (e.status === 409) { load(); return; }
          b.disabled = false; $('load-err').textContent = e.message;
        }
      });
      return b;
    };
    return el('p', { class: 'notice warn' }, 'Possible duplicate: the same SSN is recorded for ',
      el('a', { href: '/case-participant.html?id=' + encodeURIComponent(d.id) }, who),
      ` (${d.office_name || d.office_id}), registered while the offices were apart. `,
      ...(canEdit ? [review('same_person', 'Same person'), ' ', review('different_people', 'Different people')] : []));
  }));
  statusView(s);
  formsView(s);
  fillCodes(s.exited);
  const byId = {};
  for (const a of t.activities) byId[a.id] = a;
  for (const n of t.notes) byId[n.id] = n;
  for (const v of t.visits) byId[v.id] = v;
  for (const x of t.exits) byId[x.id] = x;
  for (const r of t.referrals || []) byId[r.id] = r;
  $('timeline').replaceChildren(...t.events.map(e => {
    const x = byId[e.id];
    if (e.type === 'activity') {
      const li = el('li', { class: 'activity' },
        el('h3', {}, `${x.code} ${x.title || ''}`),
        el('p', {}, `Started ${fmtDate(x.start_date)}`, x.end_date ? `, ended ${fmtDate(x.end_date)}` : '', x.completion ? ` — ${x.completion}` : '',
          x.approval_id ? ' ' : '', x.approval_id ? approvalPill(x) : '',
          el('span', { class: 'muted' }, ` (entered ${fmtDate(x.entered_date)})`)));
      if (x.pending_change) li.append(el('p', { class: 'notice warn' }, pill('change waiting for approval', 'due'),
        x.pending_change.voided ? ' A Help Request to void this activity' : ` A Help Request to change it (end date ${fmtDate(x.pending_change.end_date) || 'none'}, ${x.pending_change.completion || 'not completed'})`,
        ' waits for DSS WIOA staff; until then this entry stands.'));
      if (x.history && x.history.length) li.append(el('p', { class: 'muted' }, `Amended: replaces ${x.history.length} earlier entr${x.history.length === 1 ? 'y' : 'ies'}.`));
      for (const n of x.notes || []) li.append(noteItem(n));
      if (!x.pending_change && !x.voided && canProgram) li.append(canRaise ? helpRequest(x) : raiseHint('change or void this activity'));
      return li;
    }
    if (e.type === 'note') return el('li', { class: 'note' }, el('h3', {}, 'Case note'), noteItem(x));
    if (e.type === 'referral') return el('li', { class: 'referral' }, el('h3', {}, 'Job referral'), el('p', {}, `${fmtDate(x.referral_date)}: ${x.job_title} at ${x.employer_name} (${x.location}), by ${x.staff_name || x.staff_id}`));
    if (e.type === 'visit') return el('li', {}, el('h3', {}, 'Visit'), el('p', {}, `${fmtDate(x.visit_date)} at ${x.office_name || x.office_id} (${x.status})`,
      el('br'), el('span', { class: 'muted' }, `Checked in as ${x.visitor_name}`)));
    return el('li', { class: 'exit' }, el('h3', {}, 'Soft exit'), el('p', {}, `${fmtDate(x.exit_date)}: no clock-restarting service for 90 days. This cannot be reversed.`));
  }));
  if (!t.events.length) $('timeline').replaceChildren(el('li', {}, 'Nothing recorded yet.'));
}

async function load() {
  try {
    render(await api(`${API}/participants/${encodeURIComponent(id)}/timeline`));
  } catch (e) {
    if (e.status === 404 || e.status === 400) { showNotFound('Participant', '/case.html', 'Find a participant'); return false; }
    $('load-err').textContent = 'Could not load the participant: ' + e.message;
  }
  return true;
}

function preview() {
  const [kind, code] = ($('code').value || ':').split(':');
  const list = kind === 'followup' ? M.followup_codes : M.activity_codes;
  const c = (list || []).find(x => x.code === code);
  const start = $('start_date').value;
  $('subject-preview').textContent = c ? `The note's subject will be "${c.code} ${c.title}" and its contact date ${start || 'the start date'}.` : '';
  const back = start ? daysBetween(start, M.today) : 0;
  $('approval').hidden = !(back > 30 && back <= 90);
}

async function saveActivity(ev) {
  ev.preventDefault();
  const form = $('act-form');
  clearErrors(form);
  $('act-ok').hidden = true;
  const [kind, code] = ($('code').value || ':').split(':');
  const body = { code, code_list: kind || null, start_date: $('start_date').value, note: { body: $('note-body').value } };
  if ($('end_date').value) body.end_date = $('end_date').value;
  if ($('completion').value) body.completion = $('completion').value;
  $('act-save').disabled = true;
  try {
    const r = await api(`${API}/participants/${encodeURIComponent(id)}/activities`, { method: 'POST', body });
    $('act-ok').hidden = false;
    $('act-ok').textContent = `Saved ${r.note.subject}.` + (r.timely ? '' : ` Entered after the deadline (${fmtDate(r.entry_deadline)}).`) +
      (r.approval ? ` It is pending approval by ${r.approval.waiting_for.join(', ')}.` : '');
    resetActivityForm();
    await load();
  } catch (e) {
    showError(form, e);
  } finally {
    $('act-save').disabled = false;
  }
}

// After each save the form starts over: today's date, no code, no
// approval, so the next activity is never backdated by accident.
function resetActivityForm() {
  $('act-form').reset();
  $('start_date').value = M.today;
  $('subject-preview').textContent = '';
  $('approval').hidden = true;
}

function saveNote(ev) {
  ev.preventDefault();
  const form = $('note-form');
  return saving(form, async () => {
    clearErrors(form);
    try {
      await api(`${API}/participants/${encodeURIComponent(id)}/notes`, { method: 'POST',
        body: { subject: $('n-subject').value, contact_date: $('n-contact_date').value, body: $('n-body').value } });
      $('n-subject').value = ''; $('n-body').value = '';
      await load();
    } catch (e) {
      showError(form, e, 'n-');
    }
  });
}

async function loadVisits() {
  try {
    const v = await api('/api/v1/checkins?status=all');
    const open = v.filter(x => !x.participant_id);
    $('visit').replaceChildren(el('option', { value: '' }, open.length ? 'Choose a visit' : 'No unlinked visit today'),
      ...open.map(x => el('option', { value: x.id }, `${x.visitor_name} (${x.status})`)));
  } catch { $('visit-form').hidden = true; }
}

// A visit checked in under another name is linked only once staff have
// seen both names and confirmed it is the same person.
async function linkVisit(ev, confirm = false) {
  if (ev) ev.preventDefault();
  const form = $('visit-form');
  clearErrors(form);
  $('visit-warn').hidden = true;
  if (!$('visit').value) { showError(form, { field: 'visit', message: 'Choose a visit.' }); return; }
  try {
    const body = { checkin_id: $('visit').value };
    if (confirm) body.confirm_name = true;
    await api(`${API}/participants/${encodeURIComponent(id)}/visits`, { method: 'POST', body });
    await Promise.all([load(), loadVisits()]);
  } catch (e) {
    if (e.status === 409 && e.body && e.body.name_mismatch) {
      $('visit-warn-text').textContent = `This visitor checked in as "${e.body.visitor_name}", not ${P.first_name} ${P.last_name}. Link the visit only if it is the same person.`;
      $('visit-warn').hidden = false;
      $('visit-anyway').focus();
      return;
    }
    showError(form, e.field === 'checkin_id' ? Object.assign(e, { field: 'visit' }) : e);
  }
}

async function init() {
  if (!id) { showNotFound('Participant', '/case.html', 'Find a participant'); return; }
  const s = await session();
  canNotes = (s.privileges || []).includes('case_notes');
  canEdit = (s.privileges || []).includes('participant_edit');
  // Program entries (activities, their Help Requests, forms, referrals):
  // an LWIA Intake account reads them only (WSD24-13).
  canProgram = (s.privileges || []).includes('program_edit');
  // A Help Request is a supervisor's or manager's (the node's
  // case__is_supervisor: the group's name says so).
  canRaise = /Supervisor|Manager/.test((s.user || {}).privilege_group || '');
  M = await meta();
  $('visit-form').addEventListener('submit', linkVisit);
  $('visit-anyway').addEventListener('click', () => linkVisit(null, true));
  $('visit').addEventListener('change', () => { $('visit-warn').hidden = true; });
  loadVisits();
  clockNotice($('clock'));
  $('start_date').value = M.today;
  $('start_date').max = M.today;
  $('n-contact_date').value = M.today;
  $('n-contact_date').max = M.today;
  $('code').addEventListener('change', preview);
  $('start_date').addEventListener('change', preview);
  $('act-form').addEventListener('submit', saveActivity);
  $('note-form').addEventListener('submit', saveNote);
  $('print').addEventListener('click', () => window.print());
  window.addEventListener('participant-changed', load);
  $('reveal').addEventListener('click', async () => {
    try {
      const r = await api(`${API}/participants/${encodeURIComponent(id)}/ssn/reveal`, { method: 'POST', body: {} });
      $('ssn-out').textContent = 'SSN: ' + r.ssn + ' (this view was recorded)';
      setTimeout(() => { $('ssn-out').textContent = ''; }, 30000);
    } catch (e) { $('ssn-out').textContent = e.message; }
  });
  FORMS = await api(`${API}/forms`).catch(() => null);
  await load();
}
init();
