/**
 * What the audit chain costs: the engine benchmark's runs with and without the hash chain, in the
 * same process, interleaved; and how fast a stream verifies offline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { loadOrCreateAuditSigner } from '../src/adapters/audit/ed25519-keys.js';
import { createSqliteEventStore } from '../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { eventHash, GENESIS_HASH } from '../src/domain/audit/chain.js';
import { type ChainEvent, verifyStream } from '../src/domain/audit/verify.js';
import type { AuditSigner } from '../src/domain/ports/audit-signer.js';
import { TERMINAL_RUN } from '../src/domain/run/state.js';
import { Orchestrator } from '../src/orchestrator/api.js';
import { RunEngine } from '../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../src/orchestrator/tools/tool.js';
import { median } from './support/measure.js';
import { printTable } from './support/table.js';

const RUNS = 1_000;
const noop = defineTool({ name: 'noop', description: 'x', input: z.object({ n: z.number() }), domain: 'bench', action: { category: 'files', operation: 'read' }, idempotent: true, timeoutMs: 5_000, handler: (i) => ({ n: i.n }) });
const steps = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, tool: 'noop', input: { n: i }, domain: 'bench', dependsOn: i ? [`s${i - 1}`] : [] }));

async function runsPerSecond(dir: string, tag: string, chain: boolean, inFlight: number, signer?: AuditSigner): Promise<number> {
  const store = createSqliteEventStore({ path: join(dir, `${tag}.sqlite`) });
  const tools = new ToolRegistry([noop]);
  const engine = new RunEngine({ store, tools, chain, signer });
  const api = new Orchestrator({ engine, tools });
  const one = async (id: string) => {
    await api.startRun({ runId: id, goal: 'b', profile: 'technical', steps }, { id: 'b', role: 'developer' });
    await engine.waitFor(id, (s) => TERMINAL_RUN.has(s.status), 30_000);
  };
  for (let i = 0; i < 50; i++) await one(`w${i}`);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => { while (next < RUNS) await one(`r${next++}`); }));
  const rate = (RUNS / (performance.now() - t0)) * 1000;
  await engine.close();
  await store.close();
  return rate;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-audit-'));
  // One Ed25519 seal per finished run (these runs have no gates, so no decision signatures).
  const signer = loadOrCreateAuditSigner({ dataDir: join(dir, 'keys') });
  try {
    const rows = [];
    for (const inFlight of [1, 10]) {
      const on: number[] = [];
      const off: number[] = [];
      const sealed: number[] = [];
      for (let pass = 0; pass < 3; pass++) {
        off.push(await runsPerSecond(dir, `off-${inFlight}-${pass}`, false, inFlight));
        on.push(await runsPerSecond(dir, `on-${inFlight}-${pass}`, true, inFlight));
        sealed.push(await runsPerSecond(dir, `sealed-${inFlight}-${pass}`, true, inFlight, signer));
      }
      const a = median(off);
      const b = median(on);
      const c = median(sealed);
      rows.push({
        mode: inFlight === 1 ? 'sequential' : `${inFlight} in flight`, 'runs/s without chain': Math.round(a), 'runs/s with chain': Math.round(b), overhead: `${Math.round((1 - b / a) * 100)} %`,
        'runs/s chain + seal': Math.round(c), 'seal overhead': `${Math.round((1 - c / a) * 100)} %`, target: '≤ 10 %',
      });
    }
    printTable(`audit chain overhead on the engine (${RUNS} runs of 5 steps, SQLite, median of 3 interleaved passes)`, rows);

    // Verify speed: a chained stream of realistic events, verified in memory.
    const events: ChainEvent[] = [];
    let previous = GENESIS_HASH;
    for (let i = 0; i < 200_000; i++) {
      const type = i % 2 ? 'ToolCallSucceeded' : 'ToolCallStarted';
      const data = i % 2 ? { stepId: `s${i}`, attempt: 1, output: { ok: true, rows: i % 17 }, durationMs: 3.5 } : { stepId: `s${i}`, tool: 'noop', worker: 'local', attempt: 1, idempotencyKey: `r:s${i}:1`, input: { n: i }, timeoutMs: 5000, startedAt: '2026-01-01T00:00:00.000Z' };
      const metadata: Record<string, unknown> = { correlationId: 'r', actor: 'system:engine', schemaVersion: 1 };
      metadata.hash = eventHash(previous, type, data, metadata);
      previous = metadata.hash as string;
      events.push({ revision: i, type, data, metadata });
    }
    const samples: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      const report = verifyStream(events, { allowUnsealed: true });
      samples.push((events.length / (performance.now() - t0)) * 1000);
      if (!report.ok) throw new Error('bench chain does not verify');
    }
    printTable('verify speed (200,000 events, in memory, median of 3)', [{ measure: 'verifyStream', 'events/s': Math.round(median(samples)), target: '≥ 100,000' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
