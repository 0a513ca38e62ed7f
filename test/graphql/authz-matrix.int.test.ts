import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OPERATION_ROLES, operationsOf, QUERY_OPERATIONS } from '../../src/graphql/auth/operations.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { type GqlResponse, type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

/**
 * The authorization matrix: every operation of the schema (rows) for every kind of principal
 * (columns), run against the started server over HTTP and over graphql-ws. The expectations are
 * written out here, not derived from src/graphql/auth: a change of who may do what has to change
 * this table too.
 *
 * Each cell runs the operation with the input most favourable to that principal (its own request
 * or run where ownership matters, a gate its role is eligible for), so "allowed" means the call
 * succeeds, and a refusal is the answer to the principal, not to an unlucky input. Gates and
 * escalation targets come from the default approval policy (the fixture config sets none).
 */

const PRINCIPALS = ['anonymous', 'viewer', 'requester', 'developer', 'tech_lead', 'devops_engineer', 'admin'] as const;
type Who = (typeof PRINCIPALS)[number];
type Outcome = 'allowed' | 'UNAUTHENTICATED' | 'UNAUTHORIZED';
const A: Outcome = 'allowed';
const N: Outcome = 'UNAUTHENTICATED';
const U: Outcome = 'UNAUTHORIZED';

// prettier-ignore
const MATRIX: Record<string, readonly [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome]> = {
  //                                anonymous viewer requester developer tech_lead devops admin
  'query run':                      [N,       A,     A,        A,        A,        A,     A],
  'query runs':                     [N,       A,     A,        A,        A,        A,     A],
  'query runEvents':                [N,       A,     A,        A,        A,        A,     A],
  'query pendingApprovals':         [N,       A,     A,        A,        A,        A,     A],
  'query approval':                 [N,       A,     A,        A,        A,        A,     A],
  'query budget':                   [N,       A,     A,        A,        A,        A,     A],
  'query goldenSignals':            [N,       A,     A,        A,        A,        A,     A],
  'query tools':                    [N,       A,     A,        A,        A,        A,     A],
  'query workers':                  [N,       A,     A,        A,        A,        A,     A],
  'query profiles':                 [N,       A,     A,        A,        A,        A,     A],
  'query auditPublicKey':           [N,       A,     A,        A,        A,        A,     A],
  'query auditVerification':        [N,       A,     A,        A,        A,        A,     A],
  // The export holds the events' payloads: not for viewers.
  'query auditExport':              [N,       U,     A,        A,        A,        A,     A],
  'query me':                       [N,       A,     A,        A,        A,        A,     A],
  'mutation startRun':              [N,       U,     A,        A,        A,        A,     A],
  // admin: no default gate lists admin among its eligible roles; an admin administers (escalates,
  // cancels) but does not vote.
  'mutation approve':               [N,       U,     U,        A,        A,        A,     U],
  'mutation deny':                  [N,       U,     U,        A,        A,        A,     U],
  // The default policy lets tech leads and admins escalate (to devops engineers), nobody else.
  'mutation escalateApproval':      [N,       U,     U,        U,        A,        U,     A],
  // Each actor withdraws its own request; an admin anybody's.
  'mutation cancelApproval':        [N,       U,     A,        A,        A,        A,     A],
  // Requesters and developers act on their own runs; tech leads, devops engineers and admins on any.
  'mutation cancelRun':             [N,       U,     A,        A,        A,        A,     A],
  'mutation resumeRun':             [N,       U,     A,        A,        A,        A,     A],
  'subscription runEvents':         [N,       A,     A,        A,        A,        A,     A],
  'subscription runProgress':       [N,       A,     A,        A,        A,        A,     A],
  'subscription approvalsChanged':  [N,       A,     A,        A,        A,        A,     A],
};

const ID: Record<Exclude<Who, 'anonymous'>, string> = { viewer: 'vera', requester: 'rita', developer: 'alice', tech_lead: 'bob', devops_engineer: 'carol', admin: 'admin' };

// A read: low risk. With an amount over 1000 its confidence drops below AUTO: a QUICK gate that
// developers, tech leads and devops engineers may decide. Without one it is approved by rule.
const read = defineTool({
  name: 'test.read', description: 'reads', input: z.object({}).loose(), domain: 'test',
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 5_000,
  handler: () => ({ ok: true }),
});
const broken = defineTool({
  name: 'test.broken', description: 'always fails', input: z.object({}).loose(), domain: 'test',
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 5_000,
  handler: () => { throw new ToolError('USER', 'always fails'); },
});

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId status steps { id status approvalId } } }`;
const CANCEL_RUN = `mutation($id: ID!) { cancelRun(runId: $id) { status } }`;
const TERMINAL = new Set(['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED']);
const WAITING_OR_DONE = new Set(['AWAITING_APPROVAL', 'SUCCEEDED', 'FAILED', 'SKIPPED']);

type ErrorLike = { message?: string; extensions?: { code?: string } };
interface Result {
  status?: number;
  closeCode?: number;
  data: unknown[];
  errors: ErrorLike[];
}

interface Cell {
  readonly variables: Record<string, unknown>;
  /** Runs made for this cell: cancelled afterwards if still open, so the next cell starts quiet. */
  readonly runs: string[];
}

interface Row {
  readonly document: string;
  /** The input for `who` (fresh fixtures for mutations). */
  readonly prepare: (who: Who) => Promise<Cell>;
  /** More checks on an allowed cell's data. */
  readonly check?: (data: Record<string, unknown>, who: Who) => void;
  /** Subscriptions with no payload until something changes: makes a change (called until one arrives). */
  readonly trigger?: () => Promise<void>;
}

describe('authorization matrix: every operation × every principal, over HTTP and graphql-ws', () => {
  let s: ServerHarness;
  let base: { runId: string; approvalId: string };
  const settled = new Set<string>();

  const tokenOf = (who: Who): string | undefined =>
    who === 'anonymous' ? undefined : who === 'admin' ? s.admin : TOKENS[who];

  async function start(token: string, steps: unknown[], extra: Record<string, unknown> = {}): Promise<{ runId: string; approvalId: string }> {
    const r = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string | null }> } }>(token, START, { input: { goal: 'matrix', profile: 'enterprise', steps, ...extra } });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    const run = r.body.data!.startRun;
    await settle(run.runId);
    return { runId: run.runId, approvalId: run.steps[0]!.approvalId as string };
  }
  /** A low-risk QUICK gate: developers, tech leads and devops engineers may decide it. */
  const lowGate = (token: string) => start(token, [{ id: 'look', tool: 'test.read', domain: 'test', input: { amount: 5_000 } }]);
  /** A medium-risk gate (a staging deploy): tech leads and devops engineers may decide it. */
  const mediumGate = (token: string) => start(token, [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '1.0' } }]);
  const failedRun = async (token: string) => {
    const run = await start(token, [{ id: 'boom', tool: 'test.broken', domain: 'test', input: {} }], { errorStrategy: 'FAIL_FAST' });
    expect((await s.app.services.orchestrator.getRun(run.runId)).status).toBe('FAILED');
    return run;
  };

  /** Waits until a run does nothing by itself: finished, or waiting for a human. */
  async function settle(runId: string): Promise<void> {
    for (let i = 0; i < 1_000; i++) {
      const st = await s.app.services.orchestrator.getRun(runId);
      if (TERMINAL.has(st.status)) return void settled.add(runId);
      if (st.steps.some((x) => x.status === 'AWAITING_APPROVAL') && st.steps.every((x) => WAITING_OR_DONE.has(x.status))) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`run ${runId} never settled`);
  }
  /** Every run in the log settled: nothing appends while a refused cell is checked. */
  async function settleAll(): Promise<void> {
    const started = await s.app.store.readAll({ filter: { eventTypes: ['RunStarted'] } });
    for (const e of started) {
      const runId = e.metadata.correlationId;
      if (!settled.has(runId)) await settle(runId);
    }
  }
  async function cleanUp(cell: Cell): Promise<void> {
    for (const runId of cell.runs) settled.delete(runId); // a resumed run runs again
    await settleAll();
    for (const runId of cell.runs) {
      if ((await s.app.services.orchestrator.getRun(runId)).status === 'RUNNING') {
        // Settled and still running: it waits for a human, and nothing else can end it meanwhile.
        const r = await s.gql(s.admin, CANCEL_RUN, { id: runId });
        expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      }
    }
    await settleAll();
  }

  /** A fixture requested by the cell's principal when it may request, else by the requester. */
  const own = (who: Who) => (who === 'requester' || who === 'developer' || who === 'tech_lead' || who === 'devops_engineer' ? (tokenOf(who) as string) : TOKENS.requester);
  const fixed = (variables: Record<string, unknown> = {}) => async (): Promise<Cell> => ({ variables, runs: [] });

  const ROWS: Record<string, Row> = {
    'query run': { document: `query($id: ID!) { run(runId: $id) { runId status } }`, prepare: async () => ({ variables: { id: base.runId }, runs: [] }), check: (d) => expect(d.run).toMatchObject({ runId: base.runId }) },
    'query runs': { document: `{ runs(first: 5) { totalCount edges { node { runId } } } }`, prepare: fixed(), check: (d) => expect((d.runs as { totalCount: number }).totalCount).toBeGreaterThan(0) },
    'query runEvents': { document: `query($id: ID!) { runEvents(runId: $id, first: 5) { edges { node { type cursor } } } }`, prepare: async () => ({ variables: { id: base.runId }, runs: [] }), check: (d) => expect(JSON.stringify(d)).toContain('RunStarted') },
    'query pendingApprovals': { document: `{ pendingApprovals { totalCount edges { node { approvalId } } } }`, prepare: fixed() },
    'query approval': { document: `query($id: ID!) { approval(approvalId: $id) { approvalId status } }`, prepare: async () => ({ variables: { id: base.approvalId }, runs: [] }), check: (d) => expect(d.approval).toEqual({ approvalId: base.approvalId, status: 'OPEN' }) },
    'query budget': { document: `{ budget(scope: { profile: "enterprise" }) { profile runs } }`, prepare: fixed() },
    'query goldenSignals': { document: `{ goldenSignals(scope: "overall") { scope calls } }`, prepare: fixed() },
    'query tools': { document: `{ tools(first: 2) { totalCount edges { node { name } } } }`, prepare: fixed() },
    'query workers': { document: `{ workers { edges { node { name } } } }`, prepare: fixed() },
    'query profiles': { document: `{ profiles { totalCount } }`, prepare: fixed() },
    'query auditPublicKey': { document: `{ auditPublicKey }`, prepare: fixed(), check: (d) => expect(d.auditPublicKey).toContain('PUBLIC KEY') },
    'query auditVerification': { document: `query($id: ID!) { auditVerification(runId: $id) { runId ok } }`, prepare: async () => ({ variables: { id: base.runId }, runs: [] }), check: (d) => expect(d.auditVerification).toEqual({ runId: base.runId, ok: true }) },
    'query auditExport': { document: `query($id: ID!) { auditExport(runId: $id) }`, prepare: async () => ({ variables: { id: base.runId }, runs: [] }), check: (d) => expect(d.auditExport).toContain('gatehouse-audit/1') },
    'query me': { document: `{ me { id role isAdmin } }`, prepare: fixed(), check: (d, who) => expect(d.me).toMatchObject({ id: ID[who as Exclude<Who, 'anonymous'>], isAdmin: who === 'admin' }) },

    'mutation startRun': {
      document: START,
      prepare: fixed({ input: { goal: 'matrix start', profile: 'enterprise', steps: [{ id: 'look', tool: 'test.read', domain: 'test', input: {} }] } }),
      check: (d) => expect(d.startRun).toMatchObject({ steps: [{ id: 'look' }] }),
    },
    'mutation approve': {
      document: `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`,
      prepare: async () => { const g = await lowGate(TOKENS.developer2); return { variables: { id: g.approvalId }, runs: [g.runId] }; },
      check: (d) => expect(d.approve).toEqual({ approval: { status: 'GRANTED' } }),
    },
    'mutation deny': {
      document: `mutation($id: ID!) { deny(input: { approvalId: $id, justification: "no" }) { approval { status } } }`,
      prepare: async () => { const g = await lowGate(TOKENS.developer2); return { variables: { id: g.approvalId }, runs: [g.runId] }; },
      check: (d) => expect(d.deny).toEqual({ approval: { status: 'DENIED' } }),
    },
    'mutation escalateApproval': {
      document: `mutation($id: ID!) { escalateApproval(input: { approvalId: $id, reason: "needs ops" }) { approval { status eligibleRoles } } }`,
      prepare: async () => { const g = await mediumGate(TOKENS.developer2); return { variables: { id: g.approvalId }, runs: [g.runId] }; },
      check: (d) => expect(d.escalateApproval).toMatchObject({ approval: { status: 'OPEN' } }),
    },
    'mutation cancelApproval': {
      document: `mutation($id: ID!) { cancelApproval(input: { approvalId: $id, reason: "not needed" }) { approval { status } } }`,
      prepare: async (who) => { const g = await mediumGate(own(who)); return { variables: { id: g.approvalId }, runs: [g.runId] }; },
      check: (d) => expect(d.cancelApproval).toEqual({ approval: { status: 'CANCELLED' } }),
    },
    'mutation cancelRun': {
      document: CANCEL_RUN,
      // Requesters and developers cancel their own runs; the others somebody else's.
      prepare: async (who) => { const g = await mediumGate(who === 'requester' || who === 'developer' ? own(who) : TOKENS.requester); return { variables: { id: g.runId }, runs: [g.runId] }; },
      check: (d) => expect(d.cancelRun).toEqual({ status: 'CANCELLED' }),
    },
    'mutation resumeRun': {
      document: `mutation($id: ID!) { resumeRun(runId: $id, reason: "again") { runId } }`,
      prepare: async (who) => { const r = await failedRun(who === 'requester' || who === 'developer' ? own(who) : TOKENS.requester); return { variables: { id: r.runId }, runs: [r.runId] }; },
    },

    'subscription runEvents': { document: `subscription($id: ID!) { runEvents(runId: $id) { type cursor } }`, prepare: async () => ({ variables: { id: base.runId }, runs: [] }), check: (d) => expect(d.runEvents).toMatchObject({ type: 'RunStarted' }) },
    'subscription runProgress': { document: `subscription($id: ID!) { runProgress(runId: $id) { runId status } }`, prepare: async () => ({ variables: { id: base.runId }, runs: [] }), check: (d) => expect(d.runProgress).toEqual({ runId: base.runId, status: 'RUNNING' }) },
    'subscription approvalsChanged': {
      document: `subscription { approvalsChanged { kind approvalId } }`,
      prepare: fixed(),
      // A request every principal may see (a viewer or an admin sees all; the requester its own;
      // the others may decide it), withdrawn at once.
      trigger: async () => {
        const g = await lowGate(TOKENS.requester);
        const r = await s.gql(TOKENS.requester, CANCEL_RUN, { id: g.runId });
        expect(r.body.errors).toBeUndefined();
        await settle(g.runId);
      },
    },
  };

  beforeAll(async () => {
    s = await startServer({ tools: [read, broken] });
    // A gate that stays open for the whole matrix (requested by the requester), and a finished run
    // so that the golden signals have calls.
    base = await lowGate(TOKENS.requester);
    await start(TOKENS.developer, [{ id: 'look', tool: 'test.read', domain: 'test', input: {} }]);
    await settleAll();
  });
  afterAll(async () => { await s?.close(); });

  it('has one row per operation of the served schema, and `me` lists exactly those operations for an admin', async () => {
    const r = await s.gql<{ __schema: Record<'queryType' | 'mutationType' | 'subscriptionType', { fields: Array<{ name: string }> }> }>(TOKENS.viewer,
      `{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }`);
    const schema = r.body.data!.__schema;
    const served = [
      ...schema.queryType.fields.map((f) => `query ${f.name}`),
      ...schema.mutationType.fields.map((f) => `mutation ${f.name}`),
      ...schema.subscriptionType.fields.map((f) => `subscription ${f.name}`),
    ].sort();
    expect(Object.keys(MATRIX).sort()).toEqual(served);
    expect(Object.keys(ROWS).sort()).toEqual(served);
    // `me.operations` (src/graphql/auth/operations.ts) must name every operation too.
    const listed = [...QUERY_OPERATIONS, ...Object.keys(OPERATION_ROLES)].map((o) => (o.startsWith('subscription:') ? o.replace(':', ' ') : o)).sort();
    const expected = served.map((o) => (o.startsWith('subscription ') ? o : o.split(' ')[1]!)).sort();
    expect(listed).toEqual(expected);
    expect(operationsOf({ role: 'admin', isAdmin: true }).length).toBe(served.length);
  });

  async function overHttp(token: string | undefined, document: string, variables: Record<string, unknown>): Promise<Result> {
    const r: GqlResponse = await s.gql(token, document, variables);
    return { status: r.status, data: r.body.data ? [r.body.data] : [], errors: r.body.errors ?? [] };
  }

  /**
   * One operation over a fresh graphql-ws connection: its result, or a subscription's first payload.
   * `trigger` is called (not timed: again and again) until that payload arrives; it has finished
   * when this returns, so nothing it started still appends.
   */
  async function overWs(token: string | undefined, document: string, variables: Record<string, unknown>, trigger?: () => Promise<void>): Promise<Result> {
    const client = s.ws(token);
    const result: Result = { data: [], errors: [] };
    let done = false;
    const answered = new Promise<Result>((resolve, reject) => {
      let unsubscribe = () => {};
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(result);
      };
      const timer = setTimeout(() => { done = true; unsubscribe(); reject(new Error(`no answer over graphql-ws to ${document}`)); }, 20_000);
      unsubscribe = client.subscribe({ query: document, variables }, {
        next: (value) => {
          if (value.errors) result.errors.push(...(value.errors as ErrorLike[]));
          if (value.data) result.data.push(value.data);
          // A subscription's first payload (or its refusal) is the answer.
          if (document.startsWith('subscription')) finish();
        },
        error: (error) => {
          const code = (error as { code?: unknown }).code;
          if (typeof code === 'number') result.closeCode = code;
          else if (Array.isArray(error)) result.errors.push(...(error as ErrorLike[]));
          else result.errors.push({ message: String(error) });
          finish();
        },
        complete: finish,
      });
    });
    const triggering = (async () => {
      for (let i = 0; trigger && i < 50 && !done; i++) {
        await trigger();
        for (let j = 0; j < 20 && !done; j++) await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      return await answered;
    } finally {
      await triggering;
    }
  }

  function outcomeOf(r: Result): Outcome {
    const codes = r.errors.map((e) => e.extensions?.code);
    if (r.status === 401 || r.closeCode === 4403 || codes.includes('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
    if (codes.includes('UNAUTHORIZED')) return 'UNAUTHORIZED';
    return 'allowed';
  }

  const cases = Object.keys(MATRIX).flatMap((row) => (['http', 'graphql-ws'] as const).map((transport) => ({ row, transport })));

  it.each(cases)('$row over $transport', async ({ row, transport }) => {
    const def = ROWS[row]!;
    const subscription = row.startsWith('subscription');
    const actual: Record<string, Outcome> = {};
    const problems: string[] = [];
    for (const who of PRINCIPALS) {
      const expected = MATRIX[row]![PRINCIPALS.indexOf(who)]!;
      const cell = await def.prepare(who);
      await settleAll();
      const head = await s.app.store.headPosition();
      const token = tokenOf(who);
      const r = transport === 'http'
        ? await overHttp(token, def.document, cell.variables)
        : await overWs(token, def.document, cell.variables, expected === 'allowed' ? def.trigger : undefined);
      const where = `${who}: ${JSON.stringify(r)}`;

      if (transport === 'http' && subscription && who !== 'anonymous') {
        // Subscriptions are served over graphql-ws only: over HTTP an authenticated caller is told
        // so before anything runs, whatever its role (the matrix cell is checked over graphql-ws).
        if (r.status !== 400 || r.errors[0]?.extensions?.code !== 'BAD_REQUEST') problems.push(`${where}: expected a 400 BAD_REQUEST for a subscription over HTTP`);
        actual[who] = expected;
      } else {
        actual[who] = outcomeOf(r);
      }

      if (actual[who] === 'UNAUTHENTICATED' && transport === 'http' && r.status !== 401) problems.push(`${where}: UNAUTHENTICATED over HTTP must be a 401`);
      if (actual[who] !== 'allowed' || (transport === 'http' && subscription)) {
        // Refused: no data, and nothing appended to the log.
        if (r.data.some((d) => d !== null && Object.values(d as object).some((v) => v !== null))) problems.push(`${where}: a refusal carried data`);
        await settleAll();
        if ((await s.app.store.headPosition()) !== head) problems.push(`${who}: refused, yet the log moved`);
      } else {
        if (r.errors.length > 0 || r.data.length === 0) problems.push(`${where}: allowed, but did not succeed`);
        else def.check?.(r.data[0] as Record<string, unknown>, who);
      }
      await cleanUp(cell);
    }
    expect(problems).toEqual([]);
    expect(actual).toEqual(Object.fromEntries(PRINCIPALS.map((who, i) => [who, MATRIX[row]![i]])));
  });
});
