// ca.js - the office CA page: shows the public-key fingerprint to check.
const spki = document.getElementById('ca-spki');
fetch('/api/v1/ca').then(r => r.ok ? r.json() : Promise.reject(r.status))
  .then(o => { spki.textContent = o.spki_sha256; })
  .catch(() => { spki.textContent = '(not available)'; });
