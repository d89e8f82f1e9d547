// nav.js - the office node's header (the office's name, the pages this
// user may open, who is signed in) and footer (help, version).  Every staff
// page includes <header class="top" id="top"></header>.
import { el } from './api.js';
import { session, applyRoles, startOffice, forgetDrafts } from './office.js';

// needs: the privileges that open the page (any one of them); none: anyone.
export const PAGES = [
  { href: '/', label: 'Home' },
  { href: '/desk.html', label: 'Front desk', needs: ['greeter_desk'] },
  { href: '/visits.html', label: 'Visits', needs: ['reports'] },
  { href: '/crm.html', label: 'CRM', needs: ['view', 'crm'] },
  { href: '/case.html', label: 'Case work', needs: ['view', 'participant_edit', 'case_notes'] },
  { href: '/kiosk.html', label: 'Visitor kiosk', needs: ['greeter_desk'] },
  { href: '/sync.html', label: 'Sync' },
];

let health = null;
function healthz() {
  return health || (health = fetch('/healthz').then(r => r.json()).catch(() => ({})));
}

export async function renderNav(brand = 'Outpost') {
  const top = document.getElementById('top');
  if (!top) return;
  const here = location.pathname === '/index.html' ? '/' : location.pathname;
  const [s, h] = await Promise.all([session(), healthz()]);
  const have = new Set(s.privileges || []);
  const pages = s.signed_in ? PAGES.filter(p => !p.needs || p.needs.some(x => have.has(x))) : [];
  top.replaceChildren(el('div', { class: 'bar' },
    el('a', { class: 'brand', href: '/' }, h.office_name || brand,
      h.office_name ? el('span', { class: 'brand-sub' }, 'America\'s Job Center of California') : null),
    el('nav', { 'aria-label': 'Main' },
      el('ul', {}, pages.map(p => el('li', {},
        el('a', { href: p.href, 'aria-current': p.href === here ? 'page' : null }, p.label)))))));
  renderUser(s);
}

// Who is signed in, and a way out.
function renderUser(s) {
  const bar = document.querySelector('#top .bar');
  if (!bar || !s || !s.signed_in || !s.user) return;
  const out = el('button', { type: 'button', class: 'secondary', id: 'nav-signout' }, 'Sign out');
  out.addEventListener('click', async () => {
    forgetDrafts();
    await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': s.csrf_token } });
    location.href = '/login.html';
  });
  bar.append(el('span', { class: 'user' }, s.user.display_name), out);
}

async function renderFooter() {
  if (!document.getElementById('top') || document.querySelector('footer.site')) return;
  const h = await healthz();
  document.body.append(el('footer', { class: 'site no-print' },
    el('div', { class: 'bar' },
      el('a', { href: '/help.html' }, 'Help and who to call'),
      el('span', {}, `Outpost ${h.version || ''}`),
      el('span', {}, 'This office keeps working without a network connection.'))));
}

renderNav();
renderFooter();
applyRoles();
startOffice();
