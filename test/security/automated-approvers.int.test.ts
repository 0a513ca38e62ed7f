import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRulesApprover } from '../../src/adapters/approvers/rules-approver.js';
import { createWebhookApprover } from '../../src/adapters/approvers/webhook-approver.js';
import { ApprovalPolicyConfig, defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import type { Approver } from '../../src/domain/ports/approver.js';
import type { RunState } from '../../src/domain/run/state.js';
import { ConfigError, parseConfig } from '../../src/orchestrator/config.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { startGatehouse } from '../../src/server/app.js';
import { alice, bob, type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { tempDir } from '../support/temp.js';

/**
 * Attack family: the automated approver as a way around the humans. One "approve" from a bot used
 * to clear a critical two-person gate without a justification; a bot could approve its owner's
 * requests; a webhook's requests were unsigned and could go over plain http anywhere.
 */
const ran: string[] = [];
const tool = (name: string, category: string, operation: string) =>
  defineTool({ name, description: name, input: z.record(z.string(), z.unknown()), domain: 'ops', idempotent: false, timeoutMs: 1_000, action: { category, operation, environment: (i) => (typeof i.env === 'string' ? i.env : undefined) }, handler: () => { ran.push(name); return { ok: true }; } });
const tools = [tool('db.delete', 'db', 'delete'), tool('deploy', 'deploy', 'release'), tool('files.write', 'files', 'write')];
const approveAll = (limits: Parameters<typeof createRulesApprover>[2] = {}, name = 'yes-bot'): Approver => createRulesApprover(name, [{ name: 'all', when: {}, decision: 'approve', reason: 'looks fine to me' }], limits);
const open = (s: RunState) => s.steps[0]?.gate?.consulted === true;
const terminal = (s: RunState) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

let h: EngineHarness | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  ran.length = 0;
  if (h) { expect(h.errors).toEqual([]); await h.close(); h = undefined; }
});

async function engine(approvers: Approver[], policy = defaultApprovalPolicy) {
  h = await engineHarness(tools, { approvalPolicy: policy, approvers });
  await h.engine.start();
  return h;
}

async function gated(e: EngineHarness, runId: string, toolName: string, input: Record<string, unknown> = {}, by = alice) {
  const state = await e.api.startRun({ runId, goal: runId, profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 's', tool: toolName, input, domain: 'ops' }] }, by);
  return state.steps[0]?.gate?.approvalId as string;
}

async function handedOver(e: EngineHarness, runId: string) {
  const state = await e.engine.waitFor(runId, open);
  expect(state.steps[0]).toMatchObject({ status: 'AWAITING_APPROVAL', gate: { status: 'OPEN' } });
  const events = await e.store.readStream(`run-${runId}`);
  expect(events.map((x) => x.type)).not.toContain('ApprovalAutoApproved');
  return events.find((x) => x.type === 'ApprovalEscalated')?.data as { reason: string };
}

describe('an automated approver has a ceiling', () => {
  it('one automated approve does not clear a critical two-person gate, whatever its configured ceiling', async () => {
    const e = await engine([approveAll({ maxRisk: 'critical' })]);
    const approvalId = await gated(e, 'crit', 'db.delete');
    expect((await handedOver(e, 'crit')).reason).toBe('handed over to humans: yes-bot answered approve, but no automated approver may approve critical risk');
    expect(ran).toEqual([]);
    // The humans' quorum is untouched: two distinct devops engineers, with justifications.
    await e.api.grantApproval({ approvalId, justification: 'checked' }, { id: 'dave', role: 'devops_engineer' });
    await e.api.grantApproval({ approvalId, justification: 'checked too' }, { id: 'erin', role: 'devops_engineer' });
    expect((await e.engine.waitFor('crit', terminal)).status).toBe('SUCCEEDED');
  });

  it('above its ceiling (default medium) an approve is a hand-over; a deny still denies', async () => {
    const e = await engine([approveAll()]);
    await gated(e, 'prod', 'deploy', { env: 'production' });
    expect((await handedOver(e, 'prod')).reason).toMatch(/yes-bot answered approve, but it may approve up to medium risk and this is high/);
    await gated(e, 'staging', 'deploy', { env: 'staging' });
    expect((await e.engine.waitFor('staging', terminal)).status).toBe('SUCCEEDED');
    await e.close();
    const denier = await engine([createRulesApprover('no-bot', [{ name: 'no', when: {}, decision: 'deny', reason: 'change freeze' }])]);
    await gated(denier, 'frozen', 'deploy', { env: 'production' });
    expect((await denier.engine.waitFor('frozen', terminal)).status).toBe('FAILED');
  });

  it('an automated approval counts as one vote: a two-approval gate still needs a human', async () => {
    const twoForHigh = ApprovalPolicyConfig.parse({ ...defaultApprovalPolicy, levels: { ...defaultApprovalPolicy.levels, high: { ...defaultApprovalPolicy.levels.high, approvals: 2 } } });
    const e = await engine([approveAll({ maxRisk: 'high' })], twoForHigh);
    const approvalId = await gated(e, 'two', 'deploy', { env: 'production' });
    const state = await e.engine.waitFor('two', open);
    expect(state.steps[0]).toMatchObject({ status: 'AWAITING_APPROVAL', gate: { status: 'OPEN', approvers: ['approver:yes-bot'] } });
    expect(ran).toEqual([]);
    await e.api.grantApproval({ approvalId, justification: 'release 2.0' }, bob);
    expect((await e.engine.waitFor('two', terminal)).status).toBe('SUCCEEDED');
  });
});

describe('self-approval through an automated approver', () => {
  it('a bot acting for the requester, or bearing the requester\'s identity, cannot approve its request', async () => {
    const e = await engine([approveAll({ actsFor: ['alice'] })]);
    await gated(e, 'own', 'files.write');
    expect((await handedOver(e, 'own')).reason).toMatch(/it acts for the requester alice, who may not approve their own request/);
    await gated(e, 'other', 'files.write', {}, { id: 'dana', role: 'developer' });
    expect((await e.engine.waitFor('other', terminal)).status).toBe('SUCCEEDED');
    await gated(e, 'same-id', 'files.write', {}, { id: 'approver:yes-bot', role: 'developer' });
    expect((await handedOver(e, 'same-id')).reason).toMatch(/acts for the requester approver:yes-bot/);
  });

  it('a rules approver may not approve because of who asked: a config error naming the rule', () => {
    expect(() => parseConfig({ automatedApprovers: [{ type: 'rules', name: 'friends', rules: [{ name: 'mine', when: { requester: ['alice'] }, decision: 'approve' }] }] }))
      .toThrow(/automatedApprovers\.0\.rules\.0\.when\.requester: a rule may not approve because of who asked/);
    // Denying or handing over because of who asked is fine.
    expect(() => parseConfig({ automatedApprovers: [{ type: 'rules', name: 'strangers', rules: [{ name: 'x', when: { requester: ['mallory'] }, decision: 'deny' }] }] })).not.toThrow();
  });
});

/** A local approval service that checks the HMAC like a real receiver would. */
async function approvalService(secret: string, names = { sig: 'x-gatehouse-signature', ts: 'x-gatehouse-timestamp' }) {
  const seen: Array<{ verified: boolean; headers: IncomingMessage['headers']; body: string }> = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const ts = String(req.headers[names.ts] ?? '');
      const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
      const given = Buffer.from(String(req.headers[names.sig] ?? ''));
      const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
      const verified = fresh && given.length === expected.length && timingSafeEqual(given, expected);
      seen.push({ verified, headers: req.headers, body });
      if (!verified) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ decision: 'approve', reason: 'signed request, policy ok' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/decide`, seen };
}

describe('webhook approvers sign their requests', () => {
  it('HMAC-SHA256 over timestamp and body, with configured header names and a header from a secret; a wrong key is handed over', async () => {
    const svc = await approvalService('s3cret', { sig: 'x-sig', ts: 'x-ts' });
    const good = createWebhookApprover({ name: 'policy', url: svc.url, secret: async () => 's3cret', signatureHeader: 'x-sig', timestampHeader: 'x-ts', headers: { authorization: async () => 'Bearer from-a-secret', 'x-team': 'payments' } });
    const e = await engine([good]);
    await gated(e, 'signed', 'files.write');
    expect((await e.engine.waitFor('signed', terminal)).status).toBe('SUCCEEDED');
    expect(svc.seen[0]).toMatchObject({ verified: true, headers: { authorization: 'Bearer from-a-secret', 'x-team': 'payments' } });
    expect(JSON.parse(svc.seen[0]?.body ?? '{}')).toMatchObject({ runId: 'signed', tool: 'files.write', risk: { level: 'medium' } });
    await e.close();
    h = undefined;

    const wrong = createWebhookApprover({ name: 'policy', url: svc.url, secret: async () => 'guessed', signatureHeader: 'x-sig', timestampHeader: 'x-ts' });
    const e2 = await engine([wrong]);
    await gated(e2, 'forged', 'files.write');
    expect((await handedOver(e2, 'forged')).reason).toBe('handed over to humans: policy answered 401');
    const missing = createWebhookApprover({ name: 'nokey', url: svc.url, secret: async () => undefined });
    expect(await missing.decide({ runId: 'x', request: {} as never }, new AbortController().signal)).toEqual({ decision: 'handover', reason: 'nokey: its signing secret is not configured' });
  });

  it('from gatehouse.yaml: the secret by $secret reference, signed end to end through the server', async () => {
    const svc = await approvalService('from-env-secret');
    const tmp = tempDir();
    const configPath = join(tmp.dir, 'gatehouse.yaml');
    writeFileSync(configPath, `automatedApprovers:\n  - { type: webhook, name: policy, url: "${svc.url}", secret: { $secret: H4_APPROVER_KEY } }\n`);
    process.env.GATEHOUSE_SECRET_H4_APPROVER_KEY = 'from-env-secret';
    const app = await startGatehouse({
      env: { port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data'), configPath, logLevel: 'silent', shutdownGraceMs: 500 },
      log: { info: () => {}, warn: () => {}, error: () => {} },
      tools,
      demoDelayMs: 0,
    });
    cleanups.push(async () => { await app.stop(); delete process.env.GATEHOUSE_SECRET_H4_APPROVER_KEY; tmp.remove(); });
    const res = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.adminToken?.token}` },
      body: JSON.stringify({ query: 'mutation($i: StartRunInput!) { startRun(input: $i) { runId } }', variables: { i: { goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'files.write', domain: 'ops', input: {} }] } } }),
    });
    const runId = ((await res.json()) as { data: { startRun: { runId: string } } }).data.startRun.runId;
    for (let i = 0; i < 200 && !ran.includes('files.write'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(svc.seen.map((s) => s.verified)).toEqual([true]);
    expect((await app.store.readStream(`run-${runId}`)).map((e) => e.type)).toContain('ApprovalAutoApproved');
  });
});

describe('webhook approver config errors name their path', () => {
  const hook = (extra: Record<string, unknown>) => ({ automatedApprovers: [{ type: 'webhook', name: 'w', url: 'https://policy.example.com/decide', secret: { $secret: 'K' }, ...extra }] });
  const error = (raw: unknown) => { try { parseConfig(raw, 'gatehouse.yaml'); } catch (e) { expect(e).toBeInstanceOf(ConfigError); return (e as Error).message; } throw new Error('accepted'); };

  it('plain http to another host, a critical ceiling (refused, not clamped), no secret, a literal secret', () => {
    expect(error(hook({ url: 'http://policy.example.com/decide' }))).toMatch(/automatedApprovers\.0\.url: must be https \(plain http only to localhost/);
    expect(error(hook({ maxRisk: 'critical' }))).toMatch(/automatedApprovers\.0\.maxRisk: no automated approver may approve critical risk/);
    expect(error(hook({ secret: undefined }))).toMatch(/automatedApprovers\.0\.secret/);
    expect(error(hook({ secret: 'in-the-file' }))).toMatch(/automatedApprovers\.0\.secret/);
    expect(error({ automatedApprovers: [{ type: 'rules', name: 'r', rules: [], maxRisk: 'critical' }] })).toMatch(/automatedApprovers\.0\.maxRisk/);
  });

  it('https anywhere and http to loopback are accepted; the ceiling defaults to medium', () => {
    const ok = parseConfig(hook({}));
    expect(ok.automatedApprovers[0]).toMatchObject({ maxRisk: 'medium', signatureHeader: 'x-gatehouse-signature', timestampHeader: 'x-gatehouse-timestamp' });
    for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://[::1]:8080/x']) expect(() => parseConfig(hook({ url }))).not.toThrow();
    expect(() => createWebhookApprover({ name: 'x', url: 'http://10.0.0.1/x', secret: async () => 'k' })).toThrow(/must be https/);
  });
});
