import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

/** Polls an async condition until it holds (waits on a condition, never asserts a time). */
async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}
import { startGatehouse } from '../../src/server/app.js';
import { readEnv } from '../../src/server/env.js';
import { exportRun, verifyExport } from '../../src/orchestrator/audit-export.js';
import { repoRoot } from '../support/built.js';
import { tempDir } from '../support/temp.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`;
const EVENTS = `query($runId: ID!) { runEvents(runId: $runId, first: 100) { edges { node { type instance } } } }`;
const readInput = { goal: 'read', profile: 'enterprise', steps: [{ id: 'r', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' } }] };
const silent = { info: () => {}, warn: () => {}, error: () => {} };

const open: ServerHarness[] = [];
afterEach(async () => { for (const s of open.splice(0)) await s.close(); });

async function server(env: Parameters<typeof startServer>[0] = {}): Promise<ServerHarness> {
  const s = await startServer(env);
  open.push(s);
  return s;
}

describe('instance identity (GATEHOUSE_INSTANCE_ID)', () => {
  it('records the configured instance id on every event its engine appends, visible in the audit replay', async () => {
    const s = await server({ env: { instanceId: 'gh-a' } });
    const started = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, { input: readInput });
    const runId = started.body.data!.startRun.runId;
    await until(async () => (await s.app.services.orchestrator.getRun(runId)).status === 'SUCCEEDED');
    const events = await s.gql<{ runEvents: { edges: Array<{ node: { type: string; instance: string | null } }> } }>(TOKENS.developer, EVENTS, { runId });
    const nodes = events.body.data!.runEvents.edges.map((e) => e.node);
    expect(nodes.length).toBeGreaterThan(3);
    expect(nodes.every((n) => n.instance === 'gh-a')).toBe(true);
    // The instance is inside what the chain hashes and the seal signs: the run still verifies.
    const exported = await exportRun(s.app.store, runId, { publicKeyPem: s.app.auditPublicKey });
    expect(verifyExport(exported, { publicKeys: [s.app.auditPublicKey] })).toMatchObject({ ok: true, sealed: true, signaturesVerified: true });
  });

  it('generates an id when none is configured, stores it in the data folder, and keeps it across restarts', async () => {
    const tmp = tempDir('gatehouse-instance-');
    try {
      const env = readEnv({ PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: join(tmp.dir, 'data'), GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/gatehouse.yaml'), LOG_LEVEL: 'silent' });
      const first = await startGatehouse({ env, log: silent, demoDelayMs: 1 });
      const id = first.instanceId;
      await first.stop();
      expect(id).toMatch(/^[A-Za-z0-9._-]{8,64}$/);
      expect(readFileSync(join(env.dataDir, 'instance-id'), 'utf8').trim()).toBe(id);
      const second = await startGatehouse({ env, log: silent, demoDelayMs: 1 });
      expect(second.instanceId).toBe(id);
      await second.stop();
    } finally {
      tmp.remove();
    }
  });

  it('refuses a bad GATEHOUSE_INSTANCE_ID with a message naming the variable', () => {
    expect(() => readEnv({ GATEHOUSE_INSTANCE_ID: 'has spaces/and slashes' })).toThrow(/GATEHOUSE_INSTANCE_ID/);
    expect(readEnv({ GATEHOUSE_INSTANCE_ID: 'eu-west.1_a' }).instanceId).toBe('eu-west.1_a');
  });
});

describe('one instance per data folder', () => {
  it('refuses a second start on a data folder in use, naming the folder, and appends nothing', async () => {
    const tmp = tempDir('gatehouse-instance-');
    try {
      const env = readEnv({ PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: join(tmp.dir, 'data'), GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/gatehouse.yaml'), LOG_LEVEL: 'silent' });
      const first = await startGatehouse({ env, log: silent });
      const before = (await first.store.readAll({})).length;
      await expect(startGatehouse({ env, log: silent })).rejects.toThrow(/data folder .*data is in use by another Gatehouse instance/);
      expect((await first.store.readAll({})).length).toBe(before);
      // The first instance still serves.
      const me = await fetch(`http://127.0.0.1:${first.server.port}/healthz`);
      expect(me.status).toBe(200);
      await first.stop();
    } finally {
      tmp.remove();
    }
  });

  it('releases the folder at stop, so the next instance starts at once', async () => {
    const tmp = tempDir('gatehouse-instance-');
    try {
      const env = readEnv({ PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: join(tmp.dir, 'data'), GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/gatehouse.yaml'), LOG_LEVEL: 'silent' });
      const first = await startGatehouse({ env, log: silent });
      expect(existsSync(join(env.dataDir, 'instance.lock'))).toBe(true);
      await first.stop();
      const second = await startGatehouse({ env, log: silent });
      await second.stop();
    } finally {
      tmp.remove();
    }
  });
});

describe('what several instances must share', () => {
  it('warns at start, on a shared store, when the audit key or the admin token would be this data folder\'s own', async () => {
    const tmp = tempDir('gatehouse-instance-');
    try {
      const warnings: string[] = [];
      const log = { info: () => {}, error: () => {}, warn: (_o: object, m?: string) => warnings.push(m ?? '') };
      const base = { PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: join(tmp.dir, 'data'), LOG_LEVEL: 'silent', GATEHOUSE_EVENTSTORE: `sqlite://${join(tmp.dir, 'events.sqlite')}` };
      const app = await startGatehouse({ env: readEnv(base), log });
      await app.stop();
      expect(warnings).toEqual([
        expect.stringContaining('give every instance on the store the same GATEHOUSE_AUDIT_KEY'),
        expect.stringContaining('the generated one works on this instance only'),
      ]);
      // Configured tokens with an admin and a shared key: nothing to say.
      warnings.length = 0;
      const shared = await startGatehouse({ env: { ...readEnv(base), auditKey: join(tmp.dir, 'data', 'audit-ed25519.pem') }, log, tokens: [{ token: 'admin-token-000000000001', id: 'root', role: 'admin' }] });
      await shared.stop();
      expect(warnings).toEqual([]);
    } finally {
      tmp.remove();
    }
  });
});
