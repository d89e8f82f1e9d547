// peers.mjs - the PouchDB side of `make bench-peers` (bench/peers.py
// runs it): PouchDB from npm, installed by bench/peers.sh into its own
// folder (PEERS_DIR, default build/peers), on LevelDB on disk as in Node.
//
//   node peers.mjs load DIR FILE     visits (one JSON document a line) into a local database
//   node peers.mjs push DIR URL      replicate DIR to the server; prints {"docs", "seconds"}
//   node peers.mjs pull URL DIR      replicate the server into DIR; same output
//   node peers.mjs verify DIR FILE   every visit of FILE in DIR, field for field; prints {"count", "match"}
//
// Replication uses batches of 500 documents (the size of the grouped apply
// Outpost's sync bench compares against), 10 batches in flight.
import { createRequire } from 'node:module';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';

const peers = resolve(process.env.PEERS_DIR || 'build/peers');
const PouchDB = createRequire(join(peers, 'package.json'))('pouchdb');
const OPTS = { batch_size: 500, batches_limit: 10 };

async function* lines(file) {
  for await (const line of createInterface({ input: createReadStream(file) }))
    if (line) yield JSON.parse(line);
}

async function load(dir, file) {
  const db = new PouchDB(dir);
  let batch = [], n = 0;
  for await (const doc of lines(file)) {
    batch.push(doc);
    if (batch.length === 1000) { n += (await db.bulkDocs(batch)).length; batch = []; }
  }
  if (batch.length) n += (await db.bulkDocs(batch)).length;
  await db.close();
  return { docs: n };
}

async function replicate(from, to) {
  const t0 = process.hrtime.bigint();
  const r = await PouchDB.replicate(from, to, OPTS);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { docs: r.docs_written, seconds, ok: r.ok };
}

// Sorted keys, so two copies of a document compare by content.
const canon = v => Array.isArray(v) ? v.map(canon)
  : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map(k => [k, canon(v[k])])) : v;

async function verify(dir, file) {
  const db = new PouchDB(dir);
  let count = 0, match = true;
  for await (const want of lines(file)) {
    let got = null;
    try { got = await db.get(want._id); } catch { got = null; }
    if (got) { delete got._rev; count++; }
    if (!got || JSON.stringify(canon(got)) !== JSON.stringify(canon(want))) match = false;
  }
  const info = await db.info();
  await db.close();
  return { count, match: match && info.doc_count === count };
}

const [cmd, a, b] = process.argv.slice(2);
const run = { load: () => load(a, b), verify: () => verify(a, b),
  push: () => replicate(new PouchDB(a), b), pull: () => replicate(a, new PouchDB(b)) }[cmd];
if (!run) {
  console.error('usage: peers.mjs load|push|pull|verify ARGS');
  process.exit(2);
}
console.log(JSON.stringify(await run()));
