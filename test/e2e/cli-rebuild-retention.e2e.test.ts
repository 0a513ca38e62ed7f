import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built.js';
import { type CliResult, runBuiltCli } from '../support/cli.js';
import { startServer, TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`;
const DAY_MS = 86_400_000;

/** The built CLI as a child process (see test/support/cli.ts). */
function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runBuiltCli(args, { GATEHOUSE_EVENTSTORE: '', GATEHOUSE_TOKEN: '', ...env }, 60_000);
}

/**
 * `gatehouse projections rebuild` applies `retention.finishedRunsDays` of GATEHOUSE_CONFIG after
 * rebuilding, as the server does: a rebuild replays every run, the dropped ones included.
 */
describe('gatehouse projections rebuild with retention', () => {
  const tmp = tempDir('gatehouse-cli-rebuild-');
  const dataDir = join(tmp.dir, 'data');
  const fixture = readFileSync(join(repoRoot, 'test/fixtures/gatehouse.yaml'), 'utf8');
  const withRetention = join(tmp.dir, 'retention.yaml');
  const badRetention = join(tmp.dir, 'bad.yaml');
  const storePath = join(dataDir, 'gatehouse.sqlite');
  let old: string;
  let failed: string;
  let recent: string;

  /** The run ids in the runs read model's table, and the events in the log. */
  const inFolder = () => {
    const db = new Database(storePath, { readonly: true });
    try {
      return {
        runs: db.prepare<[], string>('SELECT id FROM rm_runs_runs ORDER BY id').pluck().all(),
        events: db.prepare<[], number>('SELECT count(*) FROM events').pluck().get(),
      };
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    writeFileSync(withRetention, `${fixture}\nretention:\n  finishedRunsDays: 1\n`);
    writeFileSync(badRetention, `${fixture}\nretention:\n  finishedRunsDays: -1\n`);
    // The runs are made by a server without retention, so its read models keep them all.
    const s = await startServer({ env: { dataDir } });
    const start = async (path: string) => {
      const r = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, { input: { goal: 'rebuild', profile: 'enterprise', steps: [{ id: 'look', tool: 'file.read', domain: 'files', input: { path } }] } });
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return r.body.data!.startRun.runId;
    };
    old = await start('release-notes.md');
    failed = await start('../etc/passwd');
    recent = await start('release-notes.md');
    for (const [runId, status] of [[old, 'SUCCEEDED'], [failed, 'FAILED'], [recent, 'SUCCEEDED']] as const) {
      const deadline = Date.now() + 10_000;
      while ((await s.app.services.orchestrator.getRun(runId)).status !== status) {
        if (Date.now() > deadline) throw new Error(`${runId} did not reach ${status}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await s.close();
    // Two runs happened three days ago: their events' times move back in the file.
    const db = new Database(storePath);
    try {
      db.prepare('UPDATE events SET recorded_at = recorded_at - ? WHERE stream_id IN (?, ?)').run(3 * DAY_MS, `run-${old}`, `run-${failed}`);
    } finally {
      db.close();
    }
  }, 60_000);

  afterAll(() => tmp.remove());

  it('a bad retention value stops the rebuild with the key named; the read models and the log are untouched', async () => {
    const before = inFolder();
    expect(before.runs).toEqual([old, failed, recent].sort());
    const r = await cli(['projections', 'rebuild'], { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_CONFIG: badRetention });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/retention\.finishedRunsDays/);
    expect(inFolder()).toEqual(before);
  });

  it('drops the finished run past retention after rebuilding; the recent and the FAILED run stay', async () => {
    const before = inFolder();
    const r = await cli(['--json', 'projections', 'rebuild'], { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_CONFIG: withRetention });
    expect(r.code, r.stderr).toBe(0);
    const after = inFolder();
    expect(after.runs).toEqual([failed, recent].sort());
    expect(after.events).toBe(before.events);
    expect(JSON.parse(r.stdout)).toMatchObject({ rebuilt: 'all', retentionDays: 1 });
  });
});
