import { api, fmtDuration } from './api.js';
import { summary } from './sync.js';

async function load() {
  try {
    const h = await api('/healthz');
    document.getElementById('office').textContent = h.office_id || '';
    const s = await api('/api/v1/greeter/stats');
    document.getElementById('s-waiting').textContent = s.waiting;
    document.getElementById('s-total').textContent = s.total;
    document.getElementById('s-served').textContent = s.served;
    document.getElementById('s-avg').textContent = s.total ? fmtDuration(s.avg_wait_ms) : '–';
    const line = document.getElementById('sync-line');
    line.textContent = summary(await api('/api/v1/sync/status')).text + ' ';
    line.append(Object.assign(document.createElement('a'), { href: '/sync.html', textContent: 'Sync details' }));
    await greeterMissing();
  } catch (e) {
    document.getElementById('sync-line').textContent = 'Could not load today\'s figures: ' + e.message;
  }
}
// The business days of the last two weeks with no check-in at this office
// (the greeter must be used daily): a notice under the sync line.
async function greeterMissing() {
  let p = document.getElementById('greeter-missing');
  let d;
  try { d = await api('/api/v1/greeter/days'); } catch { return; } /* no desk or reports privilege */
  if (!p) {
    p = Object.assign(document.createElement('p'), { id: 'greeter-missing', className: 'notice' });
    p.setAttribute('role', 'status');
    document.getElementById('sync-line').after(p);
  }
  p.hidden = !d.missing.length && !d.no_checkins_yet;
  p.textContent = d.no_checkins_yet ? 'No visitor has been checked in at this office yet: the greeter is to be used every business day.'
    : d.missing.length ? `No visitor was checked in on ${d.missing.length === 1 ? 'this business day' : 'these business days'}: ${d.missing.join(', ')}. The greeter must be used every day.` : '';
}

load();
setInterval(load, 15000);
