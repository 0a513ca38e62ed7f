import Database from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyExport } from '../../src/orchestrator/audit-export.js';
import { ConfigError, parseConfig } from '../../src/orchestrator/config.js';
import { startGatehouse } from '../../src/server/app.js';
import { repoRoot } from '../support/built.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`;
const RUNS = `query($status: RunStatus) { runs(first: 50, filter: { status: $status }) { edges { node { runId status } } totalCount } }`;
const RUN = `query($id: ID!) { run(runId: $id) { runId status endedAt steps { id status output } trace { type } } }`;
const EVENTS = `query($id: ID!) { runEvents(runId: $id, first: 100) { edges { node { type hash } } } }`;
const VERIFY = `query($id: ID!) { auditVerification(runId: $id) { ok sealed signaturesVerified } }`;
const EXPORT = `query($id: ID!) { auditExport(runId: $id) }`;
const BUDGET = `query($id: String) { budget(scope: { runId: $id }) { runId } }`;
const DAY_MS = 86_400_000;

/**
 * Retention on real SQLite files: a run over for good past `retention.finishedRunsDays` leaves
 * `runs(...)` and its per-run read models at the sweep after catch-up; the log keeps it, so
 * `run(runId)` (folded from its stream), its trace, the audit replay, export and verify still answer.
 */
describe('retention.finishedRunsDays: finished runs leave the read models, the log keeps them', () => {
  const tmp = tempDir('gatehouse-retention-');
  const dataDir = join(tmp.dir, 'data');
  const configPath = join(tmp.dir, 'gatehouse.yaml');
  let s: ServerHarness;
  let old: string;
  let failed: string;
  let recent: string;

  const start = async (steps: unknown[]) => {
    const r = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, { input: { goal: 'retention', profile: 'enterprise', steps } });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    return r.body.data!.startRun.runId;
  };
  const settled = (runId: string, status: string) => until(async () => (await s.app.services.orchestrator.getRun(runId)).status === status);
  const read = { id: 'look', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' } };
  const listed = async () => (await s.gql<{ runs: { edges: Array<{ node: { runId: string } }> } }>(TOKENS.developer, RUNS)).body.data!.runs.edges.map((e) => e.node.runId);

  beforeAll(async () => {
    writeFileSync(configPath, `${readFileSync(join(repoRoot, 'test/fixtures/gatehouse.yaml'), 'utf8')}\nretention:\n  finishedRunsDays: 1\n`);
    s = await startServer({ env: { dataDir, configPath } });
    old = await start([read]);
    await settled(old, 'SUCCEEDED');
    // A FAILED run is kept whatever its age: a resume re-opens it.
    failed = await start([{ id: 'bad', tool: 'file.read', domain: 'files', input: { path: '../etc/passwd' } }]);
    await settled(failed, 'FAILED');
    recent = await start([read]);
    await settled(recent, 'SUCCEEDED');
    expect(await listed()).toEqual(expect.arrayContaining([old, failed, recent]));
    await s.close();
    // Two of the runs happened three days ago: their events' times moved back in the file (the
    // audit chain does not cover them), and the read models dropped so the restart replays the log.
    const db = new Database(join(dataDir, 'gatehouse.sqlite'));
    try {
      db.prepare('UPDATE events SET recorded_at = recorded_at - ? WHERE stream_id IN (?, ?)').run(3 * DAY_MS, `run-${old}`, `run-${failed}`);
      db.exec('DELETE FROM projection_checkpoints');
    } finally {
      db.close();
    }
    // The restart on the same files: catch-up, then the sweep drops what is past retention.
    s = await startServer({ env: { dataDir, configPath } });
  }, 60_000);

  afterAll(async () => {
    await s?.close();
    tmp.remove();
  });

  it('runs(...) no longer lists a run past retention; a run inside the window and a FAILED run stay', async () => {
    const ids = await listed();
    expect(ids).not.toContain(old);
    expect(ids).toContain(recent);
    expect(ids).toContain(failed);
    const succeeded = (await s.gql<{ runs: { edges: Array<{ node: { runId: string } }>; totalCount: number } }>(TOKENS.developer, RUNS, { status: 'SUCCEEDED' })).body.data!.runs;
    expect(succeeded.edges.map((e) => e.node.runId)).toEqual([recent]);
    expect(succeeded.totalCount).toBe(1);
    // Its per-run read models went with it (aggregates such as the profile's budget keep counting it).
    expect((await s.gql(TOKENS.developer, BUDGET, { id: old })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await s.gql(TOKENS.developer, BUDGET, { id: recent })).body.errors).toBeUndefined();
  });

  it('run(runId) still answers a dropped run, folded from its stream, with its trace; replay, export and verify work', async () => {
    const run = await s.gql<{ run: { runId: string; status: string; steps: Array<{ status: string; output: unknown }>; trace: Array<{ type: string }> } }>(TOKENS.developer, RUN, { id: old });
    expect(run.body.errors, JSON.stringify(run.body.errors)).toBeUndefined();
    expect(run.body.data!.run).toMatchObject({ runId: old, status: 'SUCCEEDED', steps: [{ status: 'SUCCEEDED' }] });
    expect(run.body.data!.run.steps[0]?.output).toBeTruthy();
    const events = (await s.app.store.readStream(`run-${old}`)).map((e) => e.type);
    expect(run.body.data!.run.trace.map((t) => t.type)).toEqual(events);
    const replay = await s.gql<{ runEvents: { edges: Array<{ node: { type: string } }> } }>(TOKENS.developer, EVENTS, { id: old });
    expect(replay.body.data!.runEvents.edges.map((e) => e.node.type)).toEqual(events);
    expect((await s.gql(TOKENS.developer, VERIFY, { id: old })).body.data).toEqual({ auditVerification: { ok: true, sealed: true, signaturesVerified: true } });
    const text = (await s.gql<{ auditExport: string }>(TOKENS.developer, EXPORT, { id: old })).body.data!.auditExport;
    const key = (await s.gql<{ auditPublicKey: string }>(TOKENS.developer, '{ auditPublicKey }')).body.data!.auditPublicKey;
    expect(verifyExport(text, { publicKeys: [key] })).toMatchObject({ ok: true, sealed: true });
    // A run that never existed is still NOT_FOUND.
    expect((await s.gql(TOKENS.developer, RUN, { id: 'never-was' })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a rebuild replays the dropped run and applies retention again', async () => {
    await s.app.services.projections.rebuild();
    const ids = await listed();
    expect(ids).not.toContain(old);
    expect(ids).toEqual(expect.arrayContaining([recent, failed]));
  });
});

/** Waits until `condition` holds (checked every 50 ms, up to 10 s). */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('retention.finishedRunsDays: a bad value', () => {
  it('is refused with an error naming the key; the server does not start and writes nothing', async () => {
    for (const bad of [0, -3, 'ten', 100_000]) {
      expect(() => parseConfig({ retention: { finishedRunsDays: bad } })).toThrow(ConfigError);
    }
    expect(() => parseConfig({ retention: { finishedRunsDays: -3 } })).toThrow(/retention\.finishedRunsDays: must be a positive number of days/);
    expect(() => parseConfig({ retention: { keepDays: 3 } })).toThrow(/retention/);
    expect(parseConfig({ retention: { finishedRunsDays: 30 } }).retention).toEqual({ finishedRunsDays: 30 });
    const tmp = tempDir('gatehouse-retention-bad-');
    try {
      const configPath = join(tmp.dir, 'gatehouse.yaml');
      writeFileSync(configPath, 'retention:\n  finishedRunsDays: -1\n');
      const dataDir = join(tmp.dir, 'data');
      const silent = { info: () => {}, warn: () => {}, error: () => {} };
      await expect(startGatehouse({ env: { port: 0, host: '127.0.0.1', dataDir, configPath, logLevel: 'silent', shutdownGraceMs: 1_000 }, log: silent })).rejects.toThrow(
        /retention\.finishedRunsDays/,
      );
      expect(existsSync(join(dataDir, 'gatehouse.sqlite'))).toBe(false);
    } finally {
      tmp.remove();
    }
  });
});
