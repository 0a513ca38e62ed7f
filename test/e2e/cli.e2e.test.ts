import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built.js';
import { type CliResult, runBuiltCli } from '../support/cli.js';
import { type Child, spawnFixture } from '../support/processes.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir('gatehouse-cli-');
const dataDir = join(tmp.dir, 'data');
const serverEnv = { PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/gatehouse.yaml') };
const TOKENS = { alice: 'alice-token-0000000001', bob: 'bob-token-000000000001', carol: 'carol-token-00000000001' };
let server: Child;
let url: string;

/** The built CLI against this file's server and data folder (see test/support/cli.ts). */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runBuiltCli(args, { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_URL: url, GATEHOUSE_TOKEN: '', ...env });
}

async function startRun(environment: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.alice}` },
    body: JSON.stringify({ query: 'mutation($i: StartRunInput!) { startRun(input: $i) { runId } }', variables: { i: { goal: `ship to ${environment}`, profile: 'technical', playbook: { name: 'release', params: { environment, version: '1.4' } } } } }),
  });
  return ((await res.json()) as { data: { startRun: { runId: string } } }).data.startRun.runId;
}

async function waitForPending(token: string, count: number) {
  for (let i = 0; i < 100; i++) {
    const r = await cli(['--json', 'approvals', 'list'], { GATEHOUSE_TOKEN: token });
    const list = JSON.parse(r.stdout || '[]') as Array<{ approvalId: string; runId: string }>;
    if (list.length >= count) return list;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('approvals did not appear');
}

beforeAll(async () => {
  server = spawnFixture('src/server/main.ts', [], serverEnv);
  const ready = await server.waitForLine(/gatehouse ready on/);
  url = `http://127.0.0.1:${/:(\d+)\/graphql/.exec(ready)?.[1]}/graphql`;
}, 60_000);
afterAll(async () => {
  server?.process.kill('SIGTERM');
  await server?.exited;
  tmp.remove();
});

describe('the gatehouse CLI against a running server', () => {
  it('lists, approves and denies; refuses self-approval; replays and verifies offline', async () => {
    const shipped = await startRun('staging');
    const stopped = await startRun('production');
    const pending = await waitForPending(TOKENS.bob, 2);
    const toShip = pending.find((p) => p.runId === shipped)?.approvalId as string;
    const toStop = pending.find((p) => p.runId === stopped)?.approvalId as string;

    const list = await cli(['approvals', 'list'], { GATEHOUSE_TOKEN: TOKENS.bob });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/APPROVAL\s+RISK/);
    expect(list.stdout).toContain(toShip);

    const own = await cli(['approvals', 'approve', toShip], { GATEHOUSE_TOKEN: TOKENS.alice });
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/UNAUTHORIZED/);

    const ok = await cli(['approvals', 'approve', toShip, '-j', 'staging is fine'], { GATEHOUSE_TOKEN: TOKENS.bob });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`approved ${toShip.replace(/[/]/g, '\\/')}: gate GRANTED`));
    const no = await cli(['approvals', 'deny', toStop, '-j', 'not on a Friday'], { GATEHOUSE_TOKEN: TOKENS.carol });
    expect(no.code).toBe(0);
    expect(no.stdout).toMatch(/denied .*: gate DENIED/);

    const runs = await cli(['--json', 'runs', 'show', shipped], { GATEHOUSE_TOKEN: TOKENS.bob });
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout)).toMatchObject({ runId: shipped, steps: [{ id: 'notes' }, { id: 'deploy' }] });
    const listed = await cli(['runs', 'list', '--status', 'FAILED'], { GATEHOUSE_TOKEN: TOKENS.bob });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(stopped);
    expect(listed.stdout).not.toContain(shipped);

    // Straight from the store the server is using.
    let replay = await cli(['replay', shipped]);
    for (let i = 0; i < 50 && !replay.stdout.includes('RunCompleted'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      replay = await cli(['replay', shipped]);
    }
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/ApprovalGranted\s+deploy: granted by bob \(tech_lead\): staging is fine/);
    expect(replay.stdout).toMatch(/COMPLETE\s+system:engine\s+RunCompleted\s+SUCCEEDED/);
    // Without a pinned key the chain is checked but that proves nothing: exit 1, said plainly.
    const verify = await cli(['audit', 'verify', shipped]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/^signatures not verified: .*the chain of \d+ events is intact, sealed/);
    const file = join(tmp.dir, 'export.jsonl');
    expect((await cli(['audit', 'export', stopped, '-o', file])).code).toBe(0);
    expect((await cli(['--json', 'audit', 'verify', file])).stdout).toMatch(/"signaturesVerified": false/);
    // The key that signs decisions is published over GraphQL; an auditor verifies with it alone.
    const keyRes = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.bob}` }, body: JSON.stringify({ query: '{ auditPublicKey }' }) });
    const pem = ((await keyRes.json()) as { data: { auditPublicKey: string } }).data.auditPublicKey;
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const keyFile = join(tmp.dir, 'audit.pub.pem');
    writeFileSync(keyFile, pem);
    const shippedFile = join(tmp.dir, 'shipped.jsonl');
    expect((await cli(['audit', 'export', shipped, '-o', shippedFile])).code).toBe(0);
    const signed = await cli(['audit', 'verify', shippedFile, '--public-key', keyFile]);
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(/chain intact, [1-9]\d* signatures valid/);
  });

  it('says clearly what is wrong: usage (2), a bad token (1), an unreachable server (1)', async () => {
    expect((await cli(['approvals', 'frobnicate'])).code).toBe(2);
    expect((await cli(['audit', 'verify'])).code).toBe(2);
    expect((await cli(['approvals', 'list'])).code).toBe(2); // no token at all
    const bad = await cli(['approvals', 'list'], { GATEHOUSE_TOKEN: 'not-a-real-token-xxxxxx' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/refused the token/);
    const gone = await cli(['runs', 'list'], { GATEHOUSE_TOKEN: TOKENS.bob, GATEHOUSE_URL: 'http://127.0.0.1:1/graphql' });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/cannot reach Gatehouse at http:\/\/127\.0\.0\.1:1\/graphql/);
    const missing = await cli(['replay', 'no-such-run']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no run no-such-run/);
  });
});
