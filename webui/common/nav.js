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
