import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { SqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { type ServerHarness, startServer, until } from '../support/server-harness.js';

let s: ServerHarness | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** Retries an async check until it passes (waits on a condition, not a sleep): vitest's waitFor. */
const eventually = <T>(check: () => Promise<T>, ms = 10_000): Promise<T> => vi.waitFor(check, { timeout: ms, interval: 20 });

const metricsText = async (h: ServerHarness) => (await fetch(h.url.replace('/graphql', '/metrics'))).text();

describe('/metrics counts the errors nobody could be told of', () => {
  it('a tool result that cannot be recorded shows in gatehouse_engine_errors_total{what,code}', async () => {
    let release: (() => void) | undefined;
    const slow = defineTool({
      name: 'test.slow', description: 'waits', input: z.object({}).loose(), domain: 'test',
      action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 60_000,
      handler: () => new Promise((resolve) => { release = () => resolve({ ok: true }); }),
    });
    s = await startServer({ tools: [slow] });
    const h = s;
    await h.app.services.orchestrator.startRun({ runId: 'lost', goal: 'x', profile: 'enterprise', steps: [{ id: 'a', tool: 'test.slow', domain: 'test', input: {} }] }, { id: 'alice', role: 'developer' });
    await until(() => release !== undefined);
    const last = (await h.app.store.readStream('run-lost')).at(-1);
    // An append by someone else that does not parse: the result's append conflicts, the re-read fails.
    const db = new Database((h.app.store as SqliteEventStore).settings().path);
    db.prepare("INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES ('run-lost', ?, 'bad', 'ToolCallSucceeded', '{\"bogus\":1}', '{}', 0)").run((last?.revision ?? 0) + 1);
    db.close();
    release?.();
    await eventually(async () => expect(await metricsText(h)).toMatch(/gatehouse_engine_errors_total\{what="record-result",code="CORRUPT_EVENT"\} 1/));
  });
});
