import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, type EngineHarness, engineHarness, teardownEach } from '../support/engine-harness.js';
import { until } from '../support/server-harness.js';

const Any = z.record(z.string(), z.unknown());

let h: EngineHarness | undefined;
teardownEach(() => { const current = h; h = undefined; return current; }, { expectNoErrors: false });

describe('no error is swallowed', () => {
  it('a tool result the log refuses is reported with run, step, attempt and code', async () => {
    let release: (() => void) | undefined;
    const slow = defineTool({
      name: 'slow', description: 'waits', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' },
      idempotent: true, timeoutMs: 60_000,
      handler: () => new Promise((resolve) => { release = () => resolve('late'); }),
    });
    const reported: Array<{ error: unknown; context: object }> = [];
        h = await engineHarness([slow], { onError: (error, context) => reported.push({ error, context }) });
    await h.api.startRun({ runId: 'lost', goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'slow', input: {}, domain: 'ops', dependsOn: [] }] }, alice);
    await h.engine.waitFor('lost', (s) => s.steps[0]?.status === 'RUNNING');
    // Someone else's append that does not parse lands after the call's start: the result's append
    // conflicts, the re-read meets the corrupt event, and the result cannot be recorded.
    const db = new Database(h.store.settings().path);
    db.prepare("INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES ('run-lost', 4, 'bad', 'ToolCallSucceeded', '{\"bogus\":1}', '{}', 0)").run();
    db.close();
    await until(() => release !== undefined);
    release?.();
    await until(() => reported.length > 0);
    expect(reported[0]?.context).toMatchObject({ runId: 'lost', what: 'record-result', stepId: 's', attempt: 1, code: 'CORRUPT_EVENT' });
  });
});
