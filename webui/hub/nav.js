// nav.js - the hub console's header (it takes the place of the office
// node's nav.js in the hub's assets): the console's pages, who is signed in,
// and Sign out.  Every console page includes <header class="top" id="top">.
import { el } from './api.js';
import { session, signOut } from './console.js';

// ops: only the CalJOBS Operations Unit (role operations) runs replication.
export const PAGES = [
  { href: '/', label: 'Overview' },
  { href: '/accounts.html', label: 'Accounts' },
  { href: '/nodes.html', label: 'Offices and nodes', ops: true },
  { href: '/greeter.html', label: 'Greeter' },
  { href: '/codes.html', label: 'Code lists', ops: true },
  { href: '/conflicts.html', label: 'Conflicts and quarantine', ops: true },
  { href: '/audit.html', label: 'Audit trail' },
  { href: '/reports.html', label: 'Reviews and reports' },
  { href: '/approvals.html', label: 'Approvals', approver: true },
];

// An account holding only case approver roles (no administrator role) has
// the approver's view: the Approvals page and nothing else (the hub
// refuses it every other screen's data).
export function approverOnly(s) {
  return !!(s && s.staff && !(s.staff.roles || []).length);
}

export function renderNav() {
  const top = document.getElementById('top');
  if (!top) return;
  const here = location.pathname === '/index.html' ? '/' : location.pathname;
  const sub = { '/account.html': '/accounts.html', '/request.html': '/accounts.html' }[here] || here;
  const who = el('span', { class: 'who', id: 'who' });
  top.replaceChildren(el('div', { class: 'bar' },
    el('a', { class: 'brand', href: '/' }, 'Outpost hub console'),
    el('nav', { 'aria-label': 'Main' },
      el('ul', {}, PAGES.map(p => el('li', { 'data-ops': p.ops ? '1' : null, 'data-approver': p.approver ? '1' : null },
        el('a', { href: p.href, 'aria-current': p.href === sub ? 'page' : null }, p.label))))),
    el('div', { class: 'session' }, who,
      el('button', { type: 'button', class: 'secondary small', id: 'sign-out', onclick: signOut }, 'Sign out'))));
  session().then(s => {
    if (s && s.staff) who.textContent = `Signed in as ${s.staff.display_name || s.staff.username}`;
    if (s && s.staff && !(s.staff.roles || []).includes('operations'))
      top.querySelectorAll('li[data-ops]').forEach(li => { li.hidden = true; });
    else if (!s) who.textContent = '';
    if (approverOnly(s)) {
      top.querySelectorAll('nav li:not([data-approver])').forEach(li => { li.hidden = true; });
      top.querySelector('a.brand').setAttribute('href', '/approvals.html');
      if (here !== '/approvals.html' && !s.must_change_password) location.replace('/approvals.html');
    }
    if (s && s.must_change_password) location.href = '/login.html?change=1&next=' + encodeURIComponent(location.pathname + location.search);
  });
}
renderNav();

// The footer: the version, and where to turn.
(async () => {
  if (!document.getElementById('top') || document.querySelector('footer.site')) return;
  let h = {};
  try { h = await (await fetch('/healthz')).json(); } catch { /* no version shown */ }
  document.body.append(el('footer', { class: 'site no-print' }, el('div', { class: 'bar' },
    el('span', {}, `Outpost hub ${h.version || ''}`),
    el('span', {}, 'Questions about an account: your Local Area\'s MIS administrator. The hub itself: the CalJOBS Operations Unit.'))));
})();
