import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { initialRunState, type RunState, type StepState } from '../../src/domain/run/state.js';
import { listTools, toMcpTool } from '../../src/mcp/listing.js';
import { outcomeOf, stillWaiting } from '../../src/mcp/outcome.js';
import { defaultProfiles } from '../../src/orchestrator/profiles.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';

const base = { description: 'd', domain: 'x', idempotent: false, timeoutMs: 1_000, handler: () => ({}) } as const;
const read = defineTool({ ...base, name: 'files.read', input: z.object({ path: z.string() }), action: { category: 'file', operation: 'read' }, idempotent: true });
const drop = defineTool({ ...base, name: 'db.drop', input: z.object({ table: z.string() }), action: { category: 'db', operation: 'delete' } });

function run(status: RunState['status'], step: Partial<StepState>): RunState {
  return { ...initialRunState(), runId: 'r1', status, steps: [{ id: 'call', tool: 't', input: {}, domain: 'x', dependsOn: [], status: 'PENDING', attempts: 0, ...step }] };
}

describe('tools/list projection', () => {
  it('shows only what the profile allows, sorted, then gatehouse.run_status', () => {
    const profile = { ...defaultProfiles.technical!, allowedTools: ['files.*'] };
    expect(listTools([drop, read], profile).map((t) => t.name)).toEqual(['files.read', 'gatehouse.run_status']);
  });

  it('derives annotations from the action and the idempotent flag', () => {
    expect(toMcpTool(read).annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
    expect(toMcpTool(drop).annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
    expect(toMcpTool(drop).inputSchema).toMatchObject({ type: 'object', properties: { table: { type: 'string' } }, required: ['table'] });
  });
});

describe('a call\'s outcome, projected from the run', () => {
  it('says what an open gate waits for', () => {
    const gate = { approvalId: 'r1/call/1', status: 'OPEN', approvers: ['bob'], request: { requiredApprovals: 2, risk: { level: 'critical' } } } as unknown as StepState['gate'];
    expect(outcomeOf(run('RUNNING', { status: 'AWAITING_APPROVAL', gate }))).toEqual({ kind: 'open', approvalId: 'r1/call/1', message: 'waiting for approval r1/call/1: critical risk, 1 of 2 approvals' });
  });

  it('answers a success with the output, a failure with its mode, a denial with who and why', () => {
    expect(outcomeOf(run('SUCCEEDED', { status: 'SUCCEEDED', output: { ok: 1 } }))).toMatchObject({ kind: 'done', result: { content: [{ type: 'text', text: '{"ok":1}' }] } });
    const failed = outcomeOf(run('FAILED', { status: 'FAILED', failureMode: 'SYSTEM', error: { message: 'connection reset' } }));
    expect(failed).toMatchObject({ kind: 'done', result: { isError: true, content: [{ text: 'SYSTEM failure: connection reset (run r1 FAILED)' }] } });
    const gate = { approvalId: 'r1/call/1', status: 'DENIED' } as unknown as StepState['gate'];
    const denied = outcomeOf(run('FAILED', { status: 'FAILED', gate }), { approver: 'bob (tech_lead)' });
    expect(denied).toMatchObject({ result: { isError: true, content: [{ text: 'denied by bob (tech_lead) (no reason given) (run r1 FAILED)' }] } });
    expect(outcomeOf(run('CANCELLED', {}))).toMatchObject({ result: { isError: true, content: [{ text: 'cancelled (run r1 CANCELLED)' }] } });
  });

  it('tells a slow tool from an open gate when the wait limit passes', () => {
    expect(stillWaiting('r1', { kind: 'open', message: 'running' }).content[0]).toEqual({ type: 'text', text: 'still running (running); run r1: call gatehouse.run_status with {"runId":"r1"} later' });
  });
});
