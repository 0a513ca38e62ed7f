/**
 * 5-step runs of no-op in-process tools on the SQLite file store (durability "process"), beside
 * what the store's file can do at all in the same run: raw better-sqlite3 single-row commits/s with
 * the store's pragmas and table. From it, the ceiling for a 5-step run (commits/s ÷ the appends the
 * engine actually makes per run, counted on the store). Interleaved passes: sequential and 10 in
 * flight, each with the audit chain (hash chain + the run's Ed25519 seal, as the server runs), with
 * the hash chain only (no signer: no seal, no signatures) and without either; medians of the passes,
 * all passes printed. Then the chain's pieces in CPU per run (support/chain-pieces.ts).
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { createSqliteEventStore } from '../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { CREATE_TABLES } from '../src/adapters/eventstore/sqlite/schema.js';
import { openSqliteFile } from '../src/adapters/sqlite-file.js';
import { keyIdOf } from '../src/domain/audit/chain.js';
import type { AuditSigner } from '../src/domain/ports/audit-signer.js';
import type { EventStore } from '../src/domain/ports/event-store.js';
import { TERMINAL_RUN } from '../src/domain/run/state.js';
import { Orchestrator } from '../src/orchestrator/api.js';
import { RunEngine } from '../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../src/orchestrator/tools/tool.js';
import { measureChainPieces } from './support/chain-pieces.js';
import { storedBytesBreakdown } from './support/stored-bytes.js';
import { timedStore } from './support/timed-store.js';
import { printTable } from './support/table.js';

const RUNS = 1_000;
const STEPS = 5;
const PASSES = Number(process.env.BENCH_ENGINE_PASSES ?? 5);
const BASELINE_COMMITS = 4_000;
const TARGET = { sequential: 0.4, inFlight: 0.6, auditCost: 0.1, bytesPerRun: 4096 };

const noop = defineTool({
  name: 'noop',
  description: 'does nothing',
  input: z.object({ n: z.number() }),
  domain: 'bench',
  action: { category: 'read', operation: 'read' },
  idempotent: true,
  timeoutMs: 5_000,
  handler: (input) => ({ n: input.n }),
});

const steps = Array.from({ length: STEPS }, (_, i) => ({
  id: `s${i}`,
  tool: 'noop',
  input: { n: i },
  domain: 'bench',
  dependsOn: i === 0 ? [] : [`s${i - 1}`],
}));

/** The server's signer, with a key made for this run (the server loads its key from the data folder). */
function benchSigner(): AuditSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { publicKeyPem, keyId: keyIdOf(publicKeyPem), sign: (payload) => sign(null, Buffer.from(payload), privateKey).toString('base64') };
}
const signer = benchSigner();

/**
 * What the file can do: one INSERT per write transaction, on a file opened as the store opens its
 * own (WAL, synchronous NORMAL for durability "process", the same table and index), of a row the
 * size of a typical event row (a ToolCallStarted with its chained metadata, as stored).
 */
function baselineCommitsPerSecond(dir: string, name: string): number {
  const db = openSqliteFile(join(dir, `${name}.sqlite`), { durability: 'process' }, (d) => d.exec(CREATE_TABLES));
  const data = JSON.stringify({ stepId: 's0', tool: 'noop', worker: 'local', attempt: 1, idempotencyKey: `${randomUUID()}:s0:1`, input: { n: 0 }, timeoutMs: 5000, startedAt: new Date().toISOString() });
  // As the store writes an engine event's metadata: the stream's id, schemaVersion 1 and the engine's actor left out, the hash in base64url.
  const metadata = JSON.stringify({ hash: Buffer.alloc(32, 0xff).toString('base64url') });
  const insert = db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const commit = db.transaction((i: number) => insert.run(`run-b${i}`, 0, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'ToolCallStarted', data, metadata, Date.now()));
  for (let i = 0; i < 500; i++) commit.immediate(-1 - i); // warm-up
  const start = performance.now();
  for (let i = 0; i < BASELINE_COMMITS; i++) commit.immediate(i);
  const ms = performance.now() - start;
  db.close();
  return (BASELINE_COMMITS / ms) * 1000;
}

/** Counts the engine's appends (each a commit of its own unless group commit merges them). */
function countingStore(store: EventStore): { store: EventStore; appends: () => number } {
  let appends = 0;
  const counted = Object.create(store) as EventStore;
  counted.append = (...args) => {
    appends++;
    return store.append(...args);
  };
  return { store: counted, appends: () => appends };
}

interface Pass {
  readonly runsPerSecond: number;
  /** CPU time of this process (every thread) per run: less moved by other processes than wall time. */
  readonly cpuUsPerRun: number;
  /** Garbage collections per 1,000 runs and their pause time per run: allocation pressure, which load moves little. */
  readonly gcsPer1000Runs: number;
  readonly gcUsPerRun: number;
  readonly appendsPerRun: number;
  readonly eventsPerRun: number;
  readonly jsonBytesPerRun: number;
  readonly fileBytesPerRun: number;
  readonly storeShare: number;
  readonly peakRssMiB: number;
  /** Where the bytes go (instrumented passes only). */
  readonly breakdown?: ReturnType<typeof storedBytesBreakdown>;
}

/**
 * One pass of RUNS runs. `instrumented` wraps the store to time its calls (that wrapper costs
 * throughput itself), so throughput comes from bare passes and the store's share from one
 * instrumented pass.
 */
/** "sealed": hash chain and signer, as the server runs; "chained": the hash chain without a signer; "off": neither. */
type AuditMode = 'sealed' | 'chained' | 'off';

async function measure(dir: string, name: string, inFlight: number, audit: AuditMode, instrumented = false): Promise<Pass> {
  const path = join(dir, `${name}.sqlite`);
  const sqlite = createSqliteEventStore({ path, durability: 'process' });
  const timed = instrumented ? timedStore(sqlite) : { store: sqlite, elapsedMs: () => 0, reset: () => {} };
  const counted = countingStore(timed.store);
  const tools = new ToolRegistry([noop]);
  const engine = new RunEngine({ store: counted.store, tools, chain: audit !== 'off', ...(audit === 'sealed' ? { signer } : {}) });
  const api = new Orchestrator({ engine, tools });
  const who = { id: 'bench', role: 'developer' };
  // Run ids as the server makes them when the caller gives none (UUIDs): they are in every event's metadata.
  const runOne = async (_i: number) => {
    const runId = randomUUID();
    await api.startRun({ runId, goal: 'bench', profile: 'technical', steps }, who);
    await engine.waitFor(runId, (s) => TERMINAL_RUN.has(s.status), 30_000);
  };
  // Warm-up (JIT, statement caches), not counted.
  for (let i = 0; i < 200; i++) await runOne(-1 - i);
  const sizeBefore = statSync(path).size + walSize(path);
  const head = Number((await sqlite.headPosition()) ?? 0);
  const appendsBefore = counted.appends();
  timed.reset();
  let peakRss = process.memoryUsage().rss;
  const rssTimer = instrumented ? setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 10) : undefined;
  const start = performance.now();
  let gcs = 0;
  let gcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcs++;
      gcMs += entry.duration;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const cpuStart = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < RUNS) await runOne(next++);
  }));
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  gcObserver.disconnect(); // entries not yet delivered are dropped: the counts are a floor
  if (rssTimer) clearInterval(rssTimer);
  const storeMs = timed.elapsedMs();
  const appends = counted.appends() - appendsBefore;
  await engine.close();
  await sqlite.close();
  const fileBytes = statSync(path).size + walSize(path) - sizeBefore;
  // What is stored, byte for byte: the data and metadata columns as written (UTF-8).
  const db = new Database(path, { readonly: true });
  const stored = db
    .prepare('SELECT count(*) AS events, sum(length(CAST(data AS BLOB)) + length(CAST(metadata AS BLOB))) AS bytes FROM events WHERE position > ?')
    .get(head) as { events: number; bytes: number };
  db.close();
  const breakdown = instrumented ? storedBytesBreakdown(path, head, RUNS) : undefined;
  return {
    runsPerSecond: (RUNS / ms) * 1000,
    cpuUsPerRun: (cpu.user + cpu.system) / RUNS,
    gcsPer1000Runs: (gcs * 1000) / RUNS,
    gcUsPerRun: (gcMs * 1000) / RUNS,
    appendsPerRun: appends / RUNS,
    eventsPerRun: stored.events / RUNS,
    jsonBytesPerRun: stored.bytes / RUNS,
    fileBytesPerRun: Math.max(0, fileBytes) / RUNS,
    storeShare: storeMs / ms,
    peakRssMiB: peakRss / 1024 / 1024,
    ...(breakdown ? { breakdown } : {}),
  };
}

function walSize(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const met = (ok: boolean) => (ok ? 'met' : '**missed**');

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-engine-'));
  const loadBefore = loadavg()[0] as number;
  try {
    const modes = [{ label: 'sequential', inFlight: 1 }, { label: '10 in flight', inFlight: 10 }] as const;
    const baseline: number[] = [];
    const passes = new Map<string, Pass[]>();
    const push = (key: string, p: Pass) => passes.set(key, [...(passes.get(key) ?? []), p]);
    for (let pass = 0; pass < PASSES; pass++) {
      // Interleaved, and the order flipped every pass, so a load spike or a warmer cache does not
      // land on one configuration only.
      const order: (() => Promise<void>)[] = [async () => { baseline.push(baselineCommitsPerSecond(dir, `b-${pass}`)); }];
      for (const mode of modes) {
        for (const audit of ['sealed', 'chained', 'off'] as const) {
          order.push(async () => { push(`${mode.inFlight}:${audit}`, await measure(dir, `m${mode.inFlight}-${audit}-${pass}`, mode.inFlight, audit)); });
        }
      }
      if (pass % 2 === 1) order.reverse();
      for (const step of order) await step();
    }
    const commits = median(baseline);
    const all = (key: string, pick: (p: Pass) => number) => (passes.get(key) ?? []).map(pick);
    const appendsPerRun = median(all('1:sealed', (p) => p.appendsPerRun));
    const ceiling = commits / appendsPerRun;
    const rows: Record<string, string>[] = [
      { measure: 'raw better-sqlite3 single-row commits/s (baseline)', median: int(commits), 'all passes': baseline.map(int).join(' / '), 'beside': '-', ratio: '-', target: '-', '': '' },
      { measure: 'appends (commits) per 5-step run, counted on the store', median: String(appendsPerRun), 'all passes': all('1:sealed', (p) => p.appendsPerRun).join(' / '), 'beside': '-', ratio: '-', target: '-', '': '' },
      { measure: 'ceiling runs/s = commits/s ÷ appends per run', median: int(ceiling), 'all passes': '-', 'beside': '-', ratio: '100 %', target: '-', '': '' },
    ];
    const probes: Record<string, string | number>[] = [];
    for (const mode of modes) {
      const on = all(`${mode.inFlight}:sealed`, (p) => p.runsPerSecond);
      const off = all(`${mode.inFlight}:off`, (p) => p.runsPerSecond);
      const share = median(on) / ceiling;
      const goal = mode.inFlight === 1 ? TARGET.sequential : TARGET.inFlight;
      rows.push({ measure: `${mode.label}: runs/s (audit chain on)`, median: int(median(on)), 'all passes': on.map(int).join(' / '), 'beside': `ceiling ${int(ceiling)}`, ratio: pct(share), target: `≥ ${pct(goal)}`, '': met(share >= goal) });
      // Cost of the chain: how much longer a run takes with it, pass by pass (the pair ran back to back).
      const costs = on.map((r, i) => (off[i] as number) / r - 1);
      const cost = median(costs);
      rows.push({ measure: `${mode.label}: audit chain cost (runs/s without it)`, median: pct(cost), 'all passes': costs.map(pct).join(' / '), 'beside': `without ${int(median(off))}`, ratio: pct(median(off) / ceiling), target: `≤ ${pct(TARGET.auditCost)}`, '': met(cost <= TARGET.auditCost) });
      // The same cost in CPU time per run, pass by pass: on a shared machine, wall time also counts
      // the time other processes held the cores, CPU time mostly does not.
      const cpuOn = all(`${mode.inFlight}:sealed`, (p) => p.cpuUsPerRun);
      const cpuOff = all(`${mode.inFlight}:off`, (p) => p.cpuUsPerRun);
      const cpuCosts = cpuOn.map((c, i) => c / (cpuOff[i] as number) - 1);
      rows.push({ measure: `${mode.label}: CPU µs per run, chain on (cost over off)`, median: int(median(cpuOn)), 'all passes': cpuOn.map(int).join(' / '), 'beside': `off ${int(median(cpuOff))} µs`, ratio: pct(median(cpuCosts)), target: '-', '': '' });
      // The hash chain alone (no signer): splits the chain's cost into the chain and the seal, inside the engine.
      const cpuChained = all(`${mode.inFlight}:chained`, (p) => p.cpuUsPerRun);
      const chainedCosts = cpuChained.map((c, i) => c / (cpuOff[i] as number) - 1);
      const gcRow = (audit: AuditMode) => `${int(median(all(`${mode.inFlight}:${audit}`, (p) => p.gcsPer1000Runs)))} GCs, ${int(median(all(`${mode.inFlight}:${audit}`, (p) => p.gcUsPerRun)))} µs`;
      rows.push({ measure: `${mode.label}: GCs per 1,000 runs and GC pause µs per run: chain on`, median: gcRow('sealed'), 'all passes': all(`${mode.inFlight}:sealed`, (p) => p.gcsPer1000Runs).map(int).join(' / '), 'beside': `off ${gcRow('off')}`, ratio: '-', target: '-', '': '' });
      rows.push({ measure: `${mode.label}: CPU µs per run, hash chain without signer (cost over off)`, median: int(median(cpuChained)), 'all passes': cpuChained.map(int).join(' / '), 'beside': `runs/s ${int(median(all(`${mode.inFlight}:chained`, (p) => p.runsPerSecond)))}`, ratio: pct(median(chainedCosts)), target: '-', '': '' });
    }
    const bytes = median(all('1:sealed', (p) => p.jsonBytesPerRun));
    rows.push({ measure: 'stored JSON bytes per run (data + metadata, audit on)', median: int(bytes), 'all passes': all('1:sealed', (p) => p.jsonBytesPerRun).map(int).join(' / '), 'beside': `${median(all('1:sealed', (p) => p.eventsPerRun))} events`, ratio: '-', target: `≤ ${int(TARGET.bytesPerRun)}`, '': met(bytes <= TARGET.bytesPerRun) });
    let breakdown: Pass['breakdown'];
    for (const mode of modes) {
      const probe = await measure(dir, `m${mode.inFlight}-probe`, mode.inFlight, 'sealed', true);
      breakdown ??= probe.breakdown;
      probes.push({ mode: mode.label, 'time in store': pct(probe.storeShare), 'peak RSS MiB': Math.round(probe.peakRssMiB), 'file bytes/run': Math.round(probe.fileBytesPerRun), 'runs/s (instrumented)': Math.round(probe.runsPerSecond) });
    }
    printTable(`engine: ${RUNS.toLocaleString('en-US')} runs of ${STEPS} no-op steps per pass, SQLite file, durability "process"; medians of ${PASSES} interleaved passes; load average ${loadBefore.toFixed(1)} → ${(loadavg()[0] as number).toFixed(1)}`, rows);
    printTable('where the time goes (one more pass per mode, the store wrapped to time its calls; audit chain on)', probes);
    const pieces = await measureChainPieces({ tool: noop, steps, signer });
    printTable('the audit chain\'s pieces: one run\'s 6 appends replayed through the codec (CPU µs per run, this thread, medians of 7 rounds)', pieces.map((p) => ({ piece: p.piece, 'CPU µs per run': p.cpuUsPerRun.toFixed(1), 'all rounds': p.allRounds.map((v) => v.toFixed(0)).join(' / ') })));
    if (breakdown) {
      printTable('stored bytes per run by event type (the sequential probe pass, audit chain on)', breakdown.byType);
      printTable('the largest top-level fields, bytes per run (key, value and separators)', breakdown.byField);
    }
    console.log('\nThe ceiling counts one commit per append; with 10 in flight the store\'s group commit merges appends made in');
    console.log('the same event-loop turn into one transaction, so that mode can pass 100 %. "time in store" is the share of wall');
    console.log('time during which at least one EventStore call was under way (validation, hashing and signing included: they');
    console.log('run inside append). "file bytes/run" includes the WAL, which SQLite reuses after checkpoints.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
