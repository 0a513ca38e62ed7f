import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UnauthorizedError } from '../../src/domain/errors.js';
import { ConfigError, parseConfig } from '../../src/orchestrator/config.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import { demoTools } from '../../src/server/demo-tools.js';
import { alice, bob, type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { tempDir } from '../support/temp.js';

/**
 * Attack family: one tool, many risks. When risk is judged per tool, a harmless-looking tool is
 * a path around the gate for its dangerous calls (`db.execute` runs SELECT and DELETE alike; a
 * payment tool moves 5 or 50,000). Risk is judged per call, from the input.
 */
const tmp = tempDir();
const noop = (name: string, category: string, operation: string, extra: Record<string, unknown> = {}) =>
  defineTool({ name, description: name, input: z.record(z.string(), z.unknown()), domain: 'ops', idempotent: true, timeoutMs: 1_000, action: { category, operation }, handler: () => ({ ok: true }), ...extra });

let h: EngineHarness;
afterEach(async () => { expect(h.errors).toEqual([]); await h.close(); });

async function gateOf(runId: string, tool: string, input: Record<string, unknown>) {
  const state = await h.api.startRun({ runId, goal: runId, profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 's', tool, input, domain: 'ops' }] }, alice);
  return state.steps[0]?.gate;
}

describe('db.execute is judged by its statement', () => {
  it('DELETE is critical (two devops engineers), SELECT low, and a DELETE hidden after a SELECT is still critical', async () => {
    h = await engineHarness(demoTools(tmp.dir, 0), { approvalPolicy: defaultApprovalPolicy });
    await h.engine.start();
    const del = await gateOf('del', 'db.execute', { database: 'main', statement: 'DELETE FROM users' });
    expect(del?.request).toMatchObject({ rule: 'db-delete', risk: { level: 'critical' }, requiredApprovals: 2, eligibleRoles: ['devops_engineer'], justificationRequired: true });
    const sel = await gateOf('sel', 'db.execute', { database: 'main', statement: 'select * from users' });
    expect(sel?.request).toMatchObject({ rule: 'db-select', risk: { level: 'low' } });
    const hidden = await gateOf('hidden', 'db.execute', { database: 'main', statement: 'SELECT 1; delete from users' });
    expect(hidden?.request).toMatchObject({ rule: 'db-delete', risk: { level: 'critical' } });
    const odd = await gateOf('odd', 'db.execute', { database: 'main', statement: 'VACUUM' });
    expect(odd?.request).toMatchObject({ rule: 'db-other', risk: { level: 'high' } });
  });

  it("a tool's own declared approvers cannot widen a critical gate: the tech lead the tool names may not approve a DELETE", async () => {
    h = await engineHarness(demoTools(tmp.dir, 0), { approvalPolicy: defaultApprovalPolicy });
    await h.engine.start();
    const gate = await gateOf('narrow', 'db.execute', { database: 'main', statement: 'DELETE FROM users' });
    const before = (await h.store.readAll()).length;
    await expect(h.api.grantApproval({ approvalId: gate!.approvalId, justification: 'fine' }, bob)).rejects.toBeInstanceOf(UnauthorizedError);
    expect((await h.store.readAll()).length).toBe(before);
  });
});

describe('rules on input fields, and a tool\'s declared minimum', () => {
  const config = parseConfig({
    approvals: {
      rules: [
        { name: 'big-payment', match: { category: 'payments', input: { amount: { gt: 1000 } } }, level: 'high', factor: 'amount over 1000' },
        { name: 'payment', match: { category: 'payments' }, level: 'low' },
        { name: 'push-main', match: { category: 'git', input: { 'target.branch': { pattern: '^(main|master)$' } } }, level: 'high' },
        { name: 'forced', match: { category: 'git', inputHasAny: ['force', 'noVerify'] }, level: 'critical' },
        { name: 'push', match: { category: 'git' }, level: 'low' },
        { name: 'read', match: { operation: 'read' }, level: 'low' },
      ],
    },
  });
  const tools = [noop('pay', 'payments', 'transfer'), noop('git.push', 'git', 'push'), noop('vault.read', 'files', 'read', { minRisk: 'high' })];

  it('amount > 1000 is high, a push to main high, any forcing flag critical, and a declared minimum is honoured', async () => {
    h = await engineHarness(tools, { approvalPolicy: config.approvals });
    await h.engine.start();
    expect((await gateOf('p1', 'pay', { amount: 50 }))?.request).toMatchObject({ rule: 'payment', risk: { level: 'low' }, reviewLevel: 'AUTO' });
    expect((await gateOf('p2', 'pay', { amount: 50_000 }))?.request).toMatchObject({ rule: 'big-payment', risk: { level: 'high' }, justificationRequired: true });
    expect((await gateOf('g1', 'git.push', { target: { branch: 'main' } }))?.request).toMatchObject({ rule: 'push-main', risk: { level: 'high' } });
    expect((await gateOf('g2', 'git.push', { target: { branch: 'feature/x' } }))?.request).toMatchObject({ rule: 'push', risk: { level: 'low' } });
    expect((await gateOf('g3', 'git.push', { target: { branch: 'feature/x' }, force: true }))?.request).toMatchObject({ rule: 'forced', risk: { level: 'critical' } });
    expect((await gateOf('v1', 'vault.read', {}))?.request).toMatchObject({ rule: 'read', risk: { level: 'high', factors: expect.arrayContaining(['tool declares at least high']) } });
  });
});

describe('policy config errors name their path', () => {
  const invalid = (raw: unknown) => {
    try {
      parseConfig(raw, 'gatehouse.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('the config was accepted');
  };

  it('a role name nobody can hold is a config error, not a gate nobody can open', () => {
    const levels = { ...defaultApprovalPolicy.levels, critical: { ...defaultApprovalPolicy.levels.critical, eligibleRoles: ['devops'] } };
    expect(invalid({ approvals: { levels } })).toMatch(/approvals\.levels\.critical\.eligibleRoles\.0: unknown role "devops"/);
    expect(invalid({ approvals: { roles: { tech_lead: { escalateTo: ['devop_engineer'], maxPending: 3 } } } })).toMatch(/approvals\.roles\.tech_lead\.escalateTo\.0: unknown role "devop_engineer"/);
  });

  it('a pattern that is not a regular expression, or an input condition with nothing in it', () => {
    expect(invalid({ approvals: { rules: [{ name: 'x', match: { input: { branch: { pattern: '(' } } }, level: 'high' }] } })).toMatch(/approvals\.rules\.0\.match\.input\.branch\.pattern: is not a valid regular expression/);
    expect(invalid({ approvals: { rules: [{ name: 'x', match: { input: { branch: {} } }, level: 'high' }] } })).toMatch(/approvals\.rules\.0\.match\.input\.branch: give at least one condition/);
  });
});
