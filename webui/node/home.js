import { api, fmtDuration } from './api.js';
import { summary } from './sync.js';
import { session } from './office.js';

async function load() {
  const s = await session();
  const privs = new Set(s.privileges || []);
  const line = document.getElementById('sync-line');
  try {
    const h = await api('/healthz', { background: true });
    document.getElementById('office').textContent = h.office_name || h.office_id || 'Office';
    if (s.user) document.getElementById('hello').textContent = `Signed in as ${s.user.display_name}.`;
    // Today's figures only for those who run the desk or reports.
    if (privs.has('greeter_desk') || privs.has('reports')) {
      const st = await api('/api/v1/greeter/stats', { background: true });
      document.getElementById('s-waiting').textContent = st.waiting;
      document.getElementById('s-total').textContent = st.total;
      document.getElementById('s-served').textContent = st.served;
      document.getElementById('s-avg').textContent = st.total ? fmtDuration(st.avg_wait_ms) : '–';
    }
    line.textContent = summary(await api('/api/v1/sync/status', { background: true })).text + ' ';
    line.append(Object.assign(document.createElement('a'), { href: '/sync.html', textContent: 'Sync details' }));
    if (privs.has('greeter_desk') || privs.has('reports')) await greeterMissing();
  } catch (e) {
    line.textContent = 'Could not load this page\'s figures: ' + e.message;
  }
}
// The business days of the last two weeks with no check-in at this office
// (the greeter must be used daily): a notice under the sync line.
async function greeterMissing() {
  let p = document.getElementById('greeter-missing');
  let d;
  try { d = await api('/api/v1/greeter/days', { background: true }); } catch { return; }
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
