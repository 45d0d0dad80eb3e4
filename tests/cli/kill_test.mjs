// Kill trials: `kill -9` at random moments of `khive import` and of concurrent
// create/link/merge loops (several `khive mcp` processes), then checks what is left:
//   - `khive db check` is ok (it reports live records without their text document);
//   - every entity and note has its success "create" event and every success create event its
//     record; every success link event its edge; merged losers match success merge events;
//     every edge was written by a successful link or moved by a successful merge;
//   - after an import: every edge joins two stored records, and a rerun of the import completes
//     with exactly the file's counts.
//
//   node kill_test.mjs KHIVE_BINARY WORK_DIR
// Environment:
//   KHIVE_KILL_TRIALS      trials of each kind per backend (default 4; 100 for the full run)
//   KHIVE_KILL_BACKENDS    comma list of sqlite, postgres (default: sqlite, and postgres when
//                          KHIVE_PG_URL is set)
//   KHIVE_PG_URL           native PostgreSQL 15 (scripts/services.sh); a database of the run's
//                          own is made there and dropped at the end. PGlite serves one session only, so it has no place here.
//   KHIVE_REQUIRE_SERVICES=1  a missing KHIVE_PG_URL fails instead of skipping PostgreSQL
//   KHIVE_KILL_SEED        seed of the random moments (default: time)
//   KHIVE_KILL_KINDS       comma list of import, verbs (default both)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import crypto from 'node:crypto';

const [khiveArg, workArg] = process.argv.slice(2);
if (!khiveArg || !workArg) {
  console.error('usage: node kill_test.mjs KHIVE_BINARY WORK_DIR');
  process.exit(2);
}
const khive = path.resolve(khiveArg);
const work = path.resolve(workArg);
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(path.join(work, 'home'), { recursive: true });
const env = { ...process.env, HOME: path.join(work, 'home'), XDG_CONFIG_HOME: '', XDG_DATA_HOME: '', KHIVE_CONFIG: '' };

const trials = Number(process.env.KHIVE_KILL_TRIALS || 4);
let seed = Number(process.env.KHIVE_KILL_SEED || Date.now() % 1e9);
console.log(`kill trials: ${trials} of each kind per backend, seed ${seed}`);
// Small deterministic generator (mulberry32), so a failing run can be replayed with its seed.
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

// ---- backends -------------------------------------------------------------------------------

const wanted = (process.env.KHIVE_KILL_BACKENDS || 'sqlite,postgres').split(',').map((s) => s.trim());
const backends = [];
if (wanted.includes('sqlite')) {
  const db = path.join(work, 'kill.db');
  backends.push({
    name: 'sqlite',
    args: ['--db', db],
    reset() {
      for (const f of [db, `${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
      run(['--db', db, 'init']);
    },
  });
}
if (wanted.includes('postgres')) {
  const base = process.env.KHIVE_PG_URL;
  if (!base) {
    if (process.env.KHIVE_REQUIRE_SERVICES === '1') fail('KHIVE_PG_URL is not set but services are required');
    console.log('postgres: skipped (KHIVE_PG_URL is not set; scripts/services.sh start)');
  } else {
    const psql = (url, sql) => {
      const r = spawnSync('psql', [url, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
      if (r.status !== 0) fail(`psql: ${sql}: ${r.stderr}`);
      return r.stdout.trim();
    };
    // A database of this run's own, so runs in parallel do not drop each other's.
    const name = `khive_kill_${process.pid}`;
    psql(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    psql(base, `CREATE DATABASE ${name}`);
    const url = base.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
    backends.push({
      name: 'postgres',
      args: ['--backend', url],
      drop() {
        // db check reports a live record whose text document is gone (then the store is dropped).
        psql(url, 'DELETE FROM text_documents WHERE subject_id = (SELECT min(id::text)::uuid FROM entities WHERE deleted_at IS NULL)');
        const r = run(['--backend', url, 'db', 'check'], { allowFail: true });
        if (r.status === 0 || !/have no text document/.test(r.stdout + r.stderr)) fail(`db check missed a record without its text document: ${r.stdout} ${r.stderr}`);
        psql(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
      reset() {
        run(['--backend', url, 'init']);
        // The events table refuses TRUNCATE (append-only trigger); a superuser's replica role skips it.
        psql(url, 'SET session_replication_role = replica; TRUNCATE entities, notes, edges, events, text_documents, sparse_entries');
        if (psql(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'vectors'") !== '0') psql(url, 'TRUNCATE vectors');
      },
    });
  }
}
console.log('pglite: not tried (it serves one session for every client, so concurrent processes cannot share it)');

function run(args, { allowFail = false } = {}) {
  const r = spawnSync(khive, args, { env, cwd: work, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0 && !allowFail) fail(`khive ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

// ---- what a killed store must satisfy -------------------------------------------------------

function exportOf(b) {
  const out = run([...b.args, 'export']).stdout;
  const rec = { entity: [], note: [], edge: [], event: [] };
  for (const line of out.split('\n')) if (line) { const j = JSON.parse(line); rec[j.type].push(j); }
  return rec;
}

function checkDb(b, label) {
  const r = run([...b.args, 'db', 'check'], { allowFail: true });
  if (r.status !== 0) fail(`${label}: db check failed: ${r.stdout} ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  if (!j.ok) fail(`${label}: db check not ok: ${r.stdout}`);
}

// Every record has its success event and every success event its record.
function checkVerbs(b, label) {
  const rec = exportOf(b);
  const ok = rec.event.filter((e) => e.outcome === 'success');
  const created = new Set(ok.filter((e) => e.verb === 'create').map((e) => e.target_id));
  const linked = new Set(ok.filter((e) => e.verb === 'link').map((e) => e.target_id));
  const winners = new Set(ok.filter((e) => e.verb === 'merge').map((e) => e.target_id));
  const records = new Set([...rec.entity, ...rec.note].map((r) => r.id));
  const edges = new Set(rec.edge.map((e) => e.id));
  for (const r of [...rec.entity, ...rec.note])
    if (!created.has(r.id)) fail(`${label}: record ${r.id} has no success create event`);
  for (const id of created) if (!records.has(id)) fail(`${label}: create event for ${id} but no record`);
  for (const id of linked) if (!edges.has(id)) fail(`${label}: link event for edge ${id} but no edge`);
  const merged = rec.entity.filter((e) => e.merged_into).length;
  const merges = ok.filter((e) => e.verb === 'merge').length;
  if (merged !== merges) fail(`${label}: ${merged} merged entities but ${merges} success merge events`);
  for (const e of rec.edge)
    if (!linked.has(e.id) && !winners.has(e.source_id) && !winners.has(e.target_id))
      fail(`${label}: edge ${e.id} was written by no successful link or merge`);
  return { entities: rec.entity.length, edges: rec.edge.length, merges, events: rec.event.length };
}

// ---- import trials --------------------------------------------------------------------------

const uuid = () => crypto.randomUUID();
function makeImportFile() {
  const file = path.join(work, 'import.jsonl');
  const lines = [];
  const nodes = [];
  const counts = { entities: 3000, notes: 1000, edges: 6000, events: 100 };
  for (let i = 0; i < counts.entities; ++i) {
    const id = uuid();
    nodes.push(id);
    lines.push(JSON.stringify({ type: 'entity', id, kind: 'concept', name: `entity ${i}`, description: `kill trial entity number ${i}` }));
  }
  const notes = [];
  for (let i = 0; i < counts.notes; ++i) {
    const id = uuid();
    notes.push(id);
    lines.push(JSON.stringify({ type: 'note', id, kind: 'observation', content: `kill trial note ${i}` }));
  }
  const keys = new Set();
  while (keys.size < counts.edges) {
    const s = nodes[Math.floor(random() * nodes.length)], t = nodes[Math.floor(random() * nodes.length)];
    if (s === t || keys.has(`${s}>${t}`) || keys.has(`${t}>${s}`)) continue;
    keys.add(`${s}>${t}`);
    lines.push(JSON.stringify({ type: 'edge', id: uuid(), source_id: s, target_id: t, relation: 'extends', weight: 0.5 }));
  }
  for (let i = 0; i < counts.events; ++i)
    lines.push(JSON.stringify({ type: 'event', id: uuid(), verb: 'kill_trial', substrate: 'entity', actor: 'trial', kind: 'x', outcome: 'success', target_id: pick(nodes) }));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { file, counts };
}

function statsOf(b) {
  return JSON.parse(run([...b.args, 'stats']).stdout);
}

function checkImportComplete(b, counts, label) {
  const s = statsOf(b);
  const want = { entities: counts.entities, notes: counts.notes, edges: counts.edges, text_documents: counts.entities + counts.notes };
  for (const [k, v] of Object.entries(want)) if (s[k] !== v) fail(`${label}: ${k} = ${s[k]}, wanted ${v}`);
  const rec = exportOf(b);
  const trialEvents = rec.event.filter((e) => e.verb === 'kill_trial').length;
  if (trialEvents !== counts.events) fail(`${label}: ${trialEvents} imported events, wanted ${counts.events}`);
}

// Edges only join stored records (nodes are written before the edges of their lines).
function checkEdges(b, label) {
  const rec = exportOf(b);
  const nodes = new Set([...rec.entity, ...rec.note].map((r) => r.id));
  for (const e of rec.edge)
    if (!nodes.has(e.source_id) || !nodes.has(e.target_id)) fail(`${label}: edge ${e.id} joins a missing record`);
  return { entities: rec.entity.length, notes: rec.note.length, edges: rec.edge.length };
}

async function importTrials(b, spec) {
  // One import without a kill: how long it takes, so kills land all over it.
  b.reset();
  let t0 = Date.now();
  run([...b.args, 'import', spec.file, '--batch', '500']);
  const took = Date.now() - t0;
  checkDb(b, `${b.name} import reference`);
  checkImportComplete(b, spec.counts, `${b.name} import reference`);
  console.log(`${b.name}: a whole import takes ${took} ms`);
  const left = { entities: [], edges: [] };
  for (let t = 1; t <= trials; ++t) {
    const label = `${b.name} import trial ${t}`;
    b.reset();
    const child = spawn(khive, [...b.args, 'import', spec.file, '--batch', '500'], { env, cwd: work, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    const at = Math.floor(random() * took * 1.05);
    await sleep(at);
    child.kill('SIGKILL');  // nothing happens when the import already ended
    await exited;
    checkDb(b, label);
    // No deletes in an import: every record has exactly one text document.
    const s = statsOf(b);
    if (s.text_documents !== s.entities + s.notes)
      fail(`${label}: ${s.entities} entities and ${s.notes} notes but ${s.text_documents} text documents`);
    const n = checkEdges(b, label);
    left.entities.push(n.entities);
    left.edges.push(n.edges);
    run([...b.args, 'import', spec.file, '--batch', '500']);
    checkDb(b, `${label} rerun`);
    checkImportComplete(b, spec.counts, `${label} rerun`);
    if (t % 10 === 0) console.log(`${label}: ok so far`);
  }
  const partial = left.entities.filter((n) => n > 0 && n < spec.counts.entities).length;
  const midEdges = left.edges.filter((n) => n > 0 && n < spec.counts.edges).length;
  console.log(`${b.name}: ${trials} import kills ok (left partial nodes in ${partial}, partial edges in ${midEdges}); each rerun complete`);
}

// ---- concurrent verb trials -----------------------------------------------------------------

// One `khive mcp` process sending create/link/merge calls, a few in flight at once.
function startWorker(b, index) {
  const child = spawn(khive, [...b.args, 'mcp'], { env, cwd: work, stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise((r) => child.once('exit', r));
  const ids = [];
  let next = 1;
  let stopped = false;
  const send = (method, params) => {
    if (stopped) return;
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: next++, method, params }) + '\n');
  };
  const call = () => {
    const r = random();
    if (ids.length < 4 || r < 0.5) {
      const kind = random() < 0.8 ? 'entity' : 'note';
      if (kind === 'entity') send('tools/call', { name: 'create_entity', arguments: { kind: 'concept', name: `w${index} e${next}`, description: 'a record of the kill trial' } });
      else send('tools/call', { name: 'create_note', arguments: { kind: 'observation', content: `w${index} note ${next}` } });
    } else if (r < 0.85) {
      send('tools/call', { name: 'link', arguments: { source: pick(ids), relation: 'extends', target: pick(ids), weight: Math.round(random() * 100) / 100 } });
    } else {
      const from = pick(ids), into = pick(ids);
      send('tools/call', { name: 'merge', arguments: { from, into } });
    }
  };
  child.stdin.on('error', () => {});
  const rl = readline.createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    let j;
    try { j = JSON.parse(line); } catch { return; }
    const s = j.result && j.result.structuredContent;
    if (s && s.type === 'entity' && !s.merged_into) ids.push(s.id);
    if (j.id !== 1) call();  // every answer but the initialize one makes room for the next call
  });
  send('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kill_test', version: '1' } });
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
  for (let i = 0; i < 3; ++i) call();
  return {
    child,
    kill() {
      stopped = true;
      child.kill('SIGKILL');
      return exited;
    },
  };
}

async function verbTrials(b) {
  const workers = 3;
  const totals = { entities: 0, edges: 0, merges: 0 };
  for (let t = 1; t <= trials; ++t) {
    const label = `${b.name} verb trial ${t}`;
    b.reset();
    const ws = Array.from({ length: workers }, (_, i) => startWorker(b, i));
    // Each worker is killed at its own random moment.
    await Promise.all(ws.map(async (w) => {
      await sleep(300 + Math.floor(random() * 1500));
      await w.kill();
    }));
    checkDb(b, label);
    const n = checkVerbs(b, label);
    totals.entities += n.entities;
    totals.edges += n.edges;
    totals.merges += n.merges;
  }
  console.log(`${b.name}: ${trials} verb kills (${workers} processes each) ok; ${totals.entities} entities, ${totals.edges} edges, ${totals.merges} merges checked`);
}

// ---- main -----------------------------------------------------------------------------------

const spec = makeImportFile();
const started = Date.now();
const kinds = (process.env.KHIVE_KILL_KINDS || 'import,verbs').split(',').map((s) => s.trim());
for (const b of backends) {
  if (kinds.includes('import')) await importTrials(b, spec);
  if (kinds.includes('verbs')) await verbTrials(b);
  if (b.drop) b.drop();
}
console.log(`kill trials passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
