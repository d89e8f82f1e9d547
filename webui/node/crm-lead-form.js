// crm-lead-form.js - create a marketing lead: manual entry, or prefilled
// from an external employer (?external=ID) or a local employer site
// (?directory=ID).  ZIP first, then the street; likely duplicates (same
// normalized name, every office's employers) are shown while typing.
import { api, el } from './api.js';
import { showNotFound } from './office.js';
import { $, API, meta, options, qs, clearErrors, filled, sendAndGo, TYPE_LABEL, DUP_WHY, latest } from './crm-common.js';

const params = new URLSearchParams(location.search);
const FIELDS = ['edd_account_number', 'company_name', 'zip', 'street', 'city', 'state', 'mailing_street', 'mailing_city',
  'mailing_state', 'mailing_zip', 'phone', 'email', 'website', 'industry', 'office_id', 'lead_owner_id'];
let source = { source: 'manual' };
let strongDup = false;
let timer = null;

function zipChanged() {
  const ok = /^\d{5}(-\d{4})?$/.test($('zip').value.trim());
  $('street').disabled = !ok && !$('street').value;
  checkDups();
}

// Only the check of what is typed now may draw (and set strongDup): an
// answer about an earlier name comes too late.
const dupChecks = latest();
async function checkDups() {
  clearTimeout(timer);
  const current = dupChecks();
  timer = setTimeout(async () => {
    const name = $('company_name').value.trim();
    if (name.length < 2) { $('dups').replaceChildren(); $('confirm-wrap').hidden = true; strongDup = false; return; }
    const zip = $('zip').value.trim();
    const edd = $('edd_account_number').value.replace(/[\s-]/g, '');
    try {
      const d = await api(`${API}/employers/duplicates?${qs({ name, zip: /^\d{5}(-\d{4})?$/.test(zip) ? zip : '', edd: /^\d{7,8}$/.test(edd) ? edd : '' })}`);
      if (!current()) return;
      strongDup = d.some(x => x.match !== 'similar');
      $('confirm-wrap').hidden = !strongDup;
      $('dups').replaceChildren(...(d.length ? [el('strong', {}, `Possible duplicate${d.length > 1 ? 's' : ''} already in the system:`),
        el('ul', {}, d.map(x => el('li', {}, el('a', { href: '/crm-lead.html?id=' + x.id, target: '_blank' }, x.company_name),
          ` — ${TYPE_LABEL[x.account_type]}, ZIP ${x.zip}, owner ${x.lead_owner_name || '?'}, ${x.office_name || x.office_id || ''}`,
          ` (${DUP_WHY[x.match] || DUP_WHY.similar})`)))] : []));
    } catch { /* the warning is advisory */ }
  }, 250);
}

async function save(ev) {
  ev.preventDefault();
  const f = $('lead');
  clearErrors(f);
  const body = { ...source, ...filled(FIELDS) };
  const c = filled(['name', 'title', 'phone', 'email'], 'contacts-0-');
  if (Object.keys(c).length) body.contacts = [{ kind: 'primary', ...c }];
  if ($('confirm_not_duplicate').checked) body.confirm_not_duplicate = true;
  await sendAndGo($('save'), f, async () => {
    const e = await api(API + '/employers', { method: 'POST', body });
    return '/crm-lead.html?id=' + encodeURIComponent(e.id) + '&created=1';
  }, e => {
    if (e.status === 409) { checkDups(); $('confirm-wrap').hidden = false; }
  });
}

async function init() {
  const m = await meta();
  options($('office_id'), m.offices, { selected: m.office_id });
  options($('lead_owner_id'), m.staff, { label: 'display_name', selected: m.me.id });
  const ext = params.get('external'), dir = params.get('directory');
  if (ext || dir) {
    try {
      const p = await api(ext ? `${API}/external-employers/${encodeURIComponent(ext)}/prefill` : `${API}/directory/${encodeURIComponent(dir)}/prefill`);
      source = ext ? { source: 'external', external_employer_id: ext } : { source: 'local_search', directory_id: dir };
      for (const k of FIELDS) if (p[k] != null && $(k)) $(k).value = p[k];
      $('source-line').textContent = ext ? 'Prefilled from the external employer (spidered job postings). Complete the required fields and save.'
        : 'Prefilled from the local employer sites search. Complete the required fields and save.';
    } catch (e) {
      if (e.status === 404) {
        showNotFound(ext ? 'External employer' : 'Local employer site', ext ? '/crm-external.html' : '/crm-external.html?view=directory',
          ext ? 'Find an external employer' : 'Search the local employer sites');
        return;
      }
      $('source-line').textContent = e.message;
    }
  }
  $('zip').addEventListener('input', zipChanged);
  $('company_name').addEventListener('input', checkDups);
  $('edd_account_number').addEventListener('input', checkDups);
  $('lead').addEventListener('submit', save);
  zipChanged();
}
init();
