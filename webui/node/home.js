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
  } catch (e) {
    document.getElementById('sync-line').textContent = 'Could not load today\'s figures: ' + e.message;
  }
}
load();
setInterval(load, 15000);
