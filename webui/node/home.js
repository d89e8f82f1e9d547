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
  } catch (e) {
    line.textContent = 'Could not load this page\'s figures: ' + e.message;
  }
}
load();
setInterval(load, 15000);
