// nav.js - the office node's header navigation.  Modules add their pages to
// PAGES; every staff page includes <header class="top" id="top"></header>.
import { el } from './api.js';

export const PAGES = [
  { href: '/', label: 'Home' },
  { href: '/desk.html', label: 'Front desk' },
  { href: '/visits.html', label: 'Visits' },
  { href: '/crm.html', label: 'CRM' },
  { href: '/case.html', label: 'Case work' },
  { href: '/kiosk.html', label: 'Visitor kiosk' },
  { href: '/sync.html', label: 'Sync' },
];

export function renderNav(brand = 'Outpost') {
  const top = document.getElementById('top');
  if (!top) return;
  const here = location.pathname === '/index.html' ? '/' : location.pathname;
  top.replaceChildren(el('div', { class: 'bar' },
    el('a', { class: 'brand', href: '/' }, brand),
    el('nav', { 'aria-label': 'Main' },
      el('ul', {}, PAGES.map(p => el('li', {},
        el('a', { href: p.href, 'aria-current': p.href === here ? 'page' : null }, p.label)))))));
}
renderNav();

// Who is signed in, and a way out (office node only: the session endpoint).
export async function renderUser() {
  const bar = document.querySelector('#top .bar');
  if (!bar || !location.pathname.match(/^\/($|[a-z-]+\.html$)/)) return;
  let s;
  try { s = await (await fetch('/api/v1/session', { credentials: 'same-origin' })).json(); } catch { return; }
  if (!s || !s.signed_in || !s.user) return;
  const out = el('button', { type: 'button', class: 'secondary', id: 'nav-signout' }, 'Sign out');
  out.addEventListener('click', async () => {
    await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': s.csrf_token } });
    location.href = '/login.html';
  });
  bar.append(el('span', { class: 'user', style: 'margin-left: auto' }, s.user.display_name), out);
}
renderUser();
