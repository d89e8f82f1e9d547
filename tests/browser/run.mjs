// run.mjs - run every *.test.mjs here (each exports `tests`: [[name, fn], ...])
// and end with "browser: N passed, N failed".
import { readdirSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OUT, browserEvents } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(OUT, { recursive: true });
let pass = 0, fail = 0, skipped = 0;
const only = process.argv[2];
// seconds a test may take (OUTPOST_BROWSER_TIMEOUT): a hang catcher; the CRM
// pages' axe check alone takes about 2 minutes under the sanitizer
const limit = Number(process.env.OUTPOST_BROWSER_TIMEOUT) || 300;
for (const f of readdirSync(here).filter(f => f.endsWith('.test.mjs')).sort()) {
  if (only && !f.includes(only)) continue;
  const mod = await import(pathToFileURL(`${here}/${f}`));
  for (const [name, fn] of mod.tests) {
    const t0 = Date.now();
    browserEvents();
    try {
      await Promise.race([fn(), new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out after ${limit} s`)), limit * 1000))]);
      pass++;
      console.log(`ok   ${f}: ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (e) {
      if (e && e.skip) {
        skipped++;
        console.log(`SKIP ${f}: ${name}: ${e.message}`);
        continue;
      }
      fail++;
      console.log(`FAIL ${f}: ${name}\n  ${String(e && e.stack || e).replace(/\n/g, '\n  ')}`);
      const ev = browserEvents();
      if (ev.length) console.log('  what the browser saw go wrong (last ' + ev.length + '):\n    ' + ev.join('\n    '));
    }
  }
}
console.log(`browser: ${pass} passed, ${fail} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(fail ? 1 : 0);
