import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AUDIT_PUBLIC_KEY_FILE, loadOrCreateAuditSigner } from '../../src/adapters/audit/ed25519-keys.js';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { forgeExport } from '../support/audit-forger.js';
import { builtFile } from '../support/built.js';
import { alice, bob } from '../support/engine-harness.js';
import { tempDir } from '../support/temp.js';

// Attack family: verifying without a pinned key. The built CLI is the auditor's tool: a chain
// anyone can recompute, checked with a key found next to the data, proves nothing; it must say so.

const tmp = tempDir('gh-sec-cli-');
const dataDir = join(tmp.dir, 'data');
const exportFile = join(tmp.dir, 'run.jsonl');
const pubFile = join(dataDir, AUDIT_PUBLIC_KEY_FILE);

function cli(args: string[], env: Record<string, string> = {}) {
  const { GATEHOUSE_AUDIT_PUBLIC_KEY: _pinned, GATEHOUSE_AUDIT_KEY: _key, ...clean } = process.env;
  const r = spawnSync(process.execPath, [builtFile('src/cli/main.ts'), ...args], { encoding: 'utf8', env: { ...clean, GATEHOUSE_DATA_DIR: dataDir, ...env }, timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  // A real data folder as the server leaves it: the SQLite store and the audit key pair beside it.
  mkdirSync(dataDir, { recursive: true });
  const store = createSqliteEventStore({ path: join(dataDir, 'gatehouse.sqlite') });
  const tools = new ToolRegistry([
    defineTool({ name: 'ops.change', description: 'x', input: z.record(z.string(), z.unknown()), domain: 'ops', action: { category: 'ops', operation: 'write' }, idempotent: true, timeoutMs: 2_000, approval: { eligibleRoles: ['tech_lead'] }, handler: () => ({ ok: true }) }),
  ]);
  const engine = new RunEngine({ store, tools, signer: loadOrCreateAuditSigner({ dataDir }), onError: (e) => { throw e; } });
  const api = new Orchestrator({ engine, tools });
  await api.startRun({ runId: 'audited', goal: 'x', profile: 'technical', steps: [{ id: 'change', tool: 'ops.change', input: {}, domain: 'ops' }] }, alice);
  const gate = (await engine.waitFor('audited', (s) => s.steps[0]?.status === 'AWAITING_APPROVAL')).steps[0]?.gate;
  await api.grantApproval({ approvalId: gate?.approvalId as string }, bob);
  await engine.waitFor('audited', (s) => s.status === 'SUCCEEDED');
  await engine.close();
  await store.close();
  expect(cli(['audit', 'export', 'audited', '-o', exportFile]).code).toBe(0);
});
afterAll(() => tmp.remove());

describe('gatehouse audit verify trusts only a pinned key', () => {
  it('without a pinned key: exit 1 and "signatures not verified", for a file and for the local store alike', () => {
    const file = cli(['audit', 'verify', exportFile]);
    expect(file.code).toBe(1);
    expect(file.out).toMatch(/^signatures not verified: no pinned public key/);
    // The data folder's own public key file is not a pin: whoever rewrote the store could rewrite it.
    const local = cli(['audit', 'verify', 'audited']);
    expect(local.code).toBe(1);
    expect(local.out).toContain('signatures not verified');
  });

  it('pinned by --public-key, GATEHOUSE_AUDIT_PUBLIC_KEY or the key id: exit 0, signatures and seal checked', () => {
    const pem = readFileSync(pubFile, 'utf8');
    for (const r of [cli(['audit', 'verify', exportFile, '--public-key', pubFile]), cli(['audit', 'verify', exportFile], { GATEHOUSE_AUDIT_PUBLIC_KEY: pem }), cli(['audit', 'verify', 'audited', '--public-key', pem])]) {
      expect(r.out).toMatch(/^ok: \d+ events, chain intact, 2 signatures valid, sealed/);
      expect(r.code).toBe(0);
    }
    const keyId = cli(['audit', 'key-id', pubFile]).out.trim();
    expect(keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(cli(['audit', 'verify', exportFile, '--fingerprint', keyId]).code).toBe(0);
  });

  it('a forged export carrying the forger key in its header: refused when pinned, never reported ok without a pin', () => {
    const forged = join(tmp.dir, 'forged.jsonl');
    const attacker = loadOrCreateAuditSigner({ dataDir: join(tmp.dir, 'attacker') });
    writeFileSync(forged, forgeExport(readFileSync(exportFile, 'utf8'), attacker));
    const pinned = cli(['audit', 'verify', forged, '--public-key', pubFile]);
    expect(pinned.code).toBe(1);
    expect(pinned.out).toMatch(/^BROKEN at revision \d+: unknown_key/);
    const unpinned = cli(['audit', 'verify', forged]);
    expect(unpinned.code).toBe(1);
    expect(unpinned.out).toContain('signatures not verified');
  });

  it('a truncated export is refused: it ends without a seal', () => {
    const cut = join(tmp.dir, 'cut.jsonl');
    writeFileSync(cut, `${readFileSync(exportFile, 'utf8').trim().split('\n').slice(0, -2).join('\n')}\n`);
    const r = cli(['audit', 'verify', cut, '--public-key', pubFile]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/unsealed/);
  });

  it('--allow-unsealed accepts an unfinished stream and says how many events no signature covers', () => {
    // The run as it stood before its tool call finished: the header matches, the seal is not there yet.
    const [header, ...events] = readFileSync(exportFile, 'utf8').trim().split('\n');
    const kept = events.slice(0, -2);
    const running = join(tmp.dir, 'running.jsonl');
    writeFileSync(running, `${[JSON.stringify({ ...(JSON.parse(header as string) as object), events: kept.length }), ...kept].join('\n')}\n`);
    const lastSigned = kept.map((l) => JSON.parse(l) as { metadata: { signature?: string } }).findLastIndex((e) => e.metadata.signature !== undefined);
    expect(cli(['audit', 'verify', running, '--public-key', pubFile]).code).toBe(1);
    const r = cli(['audit', 'verify', running, '--public-key', pubFile, '--allow-unsealed']);
    expect(r.out).toContain(`NOT sealed (completeness not proven; no signature covers the last ${kept.length - 1 - lastSigned} event(s))`);
    expect(r.code).toBe(0);
  });

  it('a bad pin is a usage error (2), not a silent fallback', () => {
    expect(cli(['audit', 'verify', exportFile, '--public-key', join(tmp.dir, 'nope.pem')]).code).toBe(2);
    expect(cli(['audit', 'verify', exportFile, '--public-key', join(dataDir, 'audit-ed25519.pem')]).out).toMatch(/private key/);
  });
});
