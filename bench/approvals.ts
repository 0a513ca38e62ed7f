/**
 * Approval round trip on the SQLite file store: a run waits at a gate; time the GrantApproval call
 * until it returns with ToolCallStarted recorded. (The engine appends ToolCallStarted in the same
 * append as ApprovalGranted, so "return → ToolCallStarted recorded" is ≤ 0: the whole call is the number.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { createSqliteEventStore } from '../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { defaultApprovalPolicy } from '../src/domain/approvals/policy-config.js';
import { Orchestrator } from '../src/orchestrator/api.js';
import { RunEngine } from '../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../src/orchestrator/tools/tool.js';
import { percentile } from './support/measure.js';
import { printTable } from './support/table.js';

const RUNS = 1_000;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-approvals-'));
  try {
    const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
    const write = defineTool({
      name: 'files.write', description: 'x', input: z.record(z.string(), z.unknown()), domain: 'bench',
      action: { category: 'files', operation: 'write' }, idempotent: true, timeoutMs: 5_000, handler: () => 'ok',
    });
    const tools = new ToolRegistry([write]);
    const engine = new RunEngine({ store, tools, approvalPolicy: defaultApprovalPolicy });
    const api = new Orchestrator({ engine, tools });
    const grant: number[] = [];
    let started = 0;
    for (let i = -50; i < RUNS; i++) {
      const runId = `a${i}`;
      const s = await api.startRun({ runId, goal: 'bench', profile: 'technical', steps: [{ id: 's', tool: 'files.write', input: {}, domain: 'bench' }] }, { id: 'dev', role: 'developer' });
      const approvalId = s.steps[0]?.gate?.approvalId as string;
      const t0 = performance.now();
      const after = await api.grantApproval({ approvalId }, { id: 'lead', role: 'tech_lead' });
      const ms = performance.now() - t0;
      if (after.steps[0]?.status === 'RUNNING' || after.steps[0]?.status === 'SUCCEEDED') started++;
      if (i >= 0) grant.push(ms); // the first 50 warm up
    }
    await engine.close();
    await store.close();
    printTable(`approval round trip: GrantApproval → ToolCallStarted recorded, ${RUNS.toLocaleString('en-US')} runs, SQLite file (target p99 ≤ 3 ms)`, [
      { measure: 'grant call, ToolCallStarted in the same append', 'p50 ms': percentile(grant, 50), 'p95 ms': percentile(grant, 95), 'p99 ms': percentile(grant, 99), 'max ms': percentile(grant, 100), 'claimed on return': `${started - 50}/${RUNS}` },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
