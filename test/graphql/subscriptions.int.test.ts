import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHarness, collect, rawSocket, startServer, TOKENS, until } from '../support/server-harness.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }`;
const EVENTS = `subscription($id: ID!, $after: String) { runEvents(runId: $id, after: $after) { cursor revision type stage } }`;
type Ev = { runEvents: { cursor: string; revision: number; type: string } };

describe('subscriptions over real graphql-ws', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer({ demoDelayMs: 150 }); });
  afterAll(async () => { await s?.close(); });

  it('a subscriber that leaves mid-run and comes back with its last cursor gets every event exactly once', async () => {
    const started = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string | null }> } }>(TOKENS.developer, START, {
      input: { goal: 'resume', profile: 'enterprise', steps: [
        { id: 'a', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' } },
        { id: 'b', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '1' }, dependsOn: ['a'] },
      ] },
    });
    const runId = started.body.data!.startRun.runId;
    // A first subscription sends `after: null` (the argument is nullable): from the start.
    const first = collect<Ev>(s.ws(TOKENS.viewer), EVENTS, { id: runId, after: null }, (items) => items.filter((i) => i.runEvents.type === 'ApprovalRequested').length === 2);
    const part1 = await first.done;
    // While nobody listens, the run moves on: approved, deploy started and finished.
    // Step a (a file read) was auto-approved by the policy; step b's deploy waits for a human.
    const approvalId = (await s.app.store.readStream(`run-${runId}`)).find((e) => e.type === 'ApprovalRequested' && (e.data as { stepId: string }).stepId === 'b')!.data as { approvalId: string };
    const ok = await s.gql(TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: approvalId.approvalId });
    expect(ok.body.errors).toBeUndefined();
    const last = part1[part1.length - 1]!.runEvents.cursor;
    const second = collect<Ev>(s.ws(TOKENS.viewer), EVENTS, { id: runId, after: last }, (items) => items.some((i) => i.runEvents.type === 'RunCompleted'));
    const part2 = await second.done;
    const revisions = [...part1, ...part2].map((i) => i.runEvents.revision);
    const stored = (await s.app.store.readStream(`run-${runId}`)).map((e) => e.revision);
    expect(revisions).toEqual(stored);
    expect(new Set(revisions).size).toBe(revisions.length);
  });

  it('live events shared by many clients still show each role only what it may see', async () => {
    const started = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string }> } }>(TOKENS.developer, START, {
      input: { goal: 'shared', profile: 'enterprise', steps: [{ id: 'd', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '2' } }] },
    });
    const runId = started.body.data!.startRun.runId;
    const stream = await s.app.store.readStream(`run-${runId}`);
    const after = Buffer.from(`ev:${runId}:${stream.length - 1}`).toString('base64url');
    const Q = `subscription($id: ID!, $after: String) { runEvents(runId: $id, after: $after) { revision type data } }`;
    type WithData = { runEvents: { revision: number; type: string; data: unknown } };
    const done = (items: WithData[]) => items.some((i) => i.runEvents.type === 'RunCompleted');
    const devs = [TOKENS.developer, TOKENS.developer2, TOKENS.developer].map((t) => collect<WithData>(s.ws(t), Q, { id: runId, after }, done));
    const viewer = collect<WithData>(s.ws(TOKENS.viewer), Q, { id: runId, after }, () => false, 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const ok = await s.gql(TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: started.body.data!.startRun.steps[0]!.approvalId });
    expect(ok.body.errors).toBeUndefined();
    const seen = await Promise.all(devs.map((d) => d.done));
    const stored = (await s.app.store.readStream(`run-${runId}`)).slice(stream.length);
    for (const items of seen) {
      expect(items.map((i) => i.runEvents.revision)).toEqual(stored.map((e) => e.revision));
      expect(items.every((i) => i.runEvents.data !== null && typeof i.runEvents.data === 'object')).toBe(true);
    }
    await until(() => viewer.errors.length >= stored.length);
    viewer.stop();
    expect(viewer.items).toEqual([]); // no payload: a viewer may not read event data
    expect(JSON.stringify(viewer.errors)).toContain('UNAUTHORIZED');
  });

  it('runProgress follows the run; approvalsChanged shows each principal only what it may see', async () => {
    const forLead = collect<{ approvalsChanged: { kind: string; approvalId: string } }>(s.ws(TOKENS.tech_lead), `subscription { approvalsChanged { kind approvalId eventType approval { status risk { level } } } }`, {}, (i) => i.some((c) => c.approvalsChanged.kind === 'CLOSED'));
    const forRequester = collect<{ approvalsChanged: { kind: string } }>(s.ws(TOKENS.requester), `subscription { approvalsChanged { kind approvalId } }`, {}, () => false, 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const r = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string }> } }>(TOKENS.developer, START, { input: { goal: 'p', profile: 'enterprise', steps: [{ id: 'd', tool: 'db.execute', domain: 'databases', input: { database: 'main', statement: 'update t set x = 1' } }] } });
    const runId = r.body.data!.startRun.runId;
    const progress = collect<{ runProgress: { status: string; progress: { percent: number } } }>(s.ws(TOKENS.viewer), `subscription($id: ID!) { runProgress(runId: $id) { status progress { percent } } }`, { id: runId }, (i) => i.some((p) => p.runProgress.status === 'SUCCEEDED'));
    await new Promise((res) => setTimeout(res, 100));
    // An UPDATE is high risk (judged per statement): it needs a justification.
    await s.gql(TOKENS.devops_engineer, `mutation($id: ID!) { approve(input: { approvalId: $id, justification: "checked" }) { approval { status } } }`, { id: r.body.data!.startRun.steps[0]!.approvalId });
    const changes = await forLead.done;
    expect(changes.map((c) => c.approvalsChanged.kind)).toEqual(['REQUESTED', 'CLOSED']);
    const seen = await progress.done;
    expect(seen[seen.length - 1]!.runProgress.progress.percent).toBe(100);
    forRequester.stop();
    expect(forRequester.items).toEqual([]); // a requester's role may not decide it, and it is not theirs
  });

  it('runProgress sends the run\'s current state first: a run waiting for approval, then live; a finished run; a missing run', async () => {
    type Progress = { runProgress: { runId: string; status: string; steps: Array<{ id: string; status: string; approvalId: string | null }>; progress: { percent: number } } };
    const Q = `subscription($id: ID!) { runProgress(runId: $id) { runId status steps { id status approvalId } progress { percent } } }`;
    const r = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string }> } }>(TOKENS.developer, START, { input: { goal: 'waits', profile: 'enterprise', steps: [{ id: 'd', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '3' } }] } });
    const runId = r.body.data!.startRun.runId;
    const approvalId = r.body.data!.startRun.steps[0]!.approvalId;
    const before = await s.app.store.headPosition();
    // Nothing happens to the run while it waits: without a first payload this subscription would see nothing.
    const waiting = collect<Progress>(s.ws(TOKENS.viewer), Q, { id: runId }, (items) => items.some((i) => i.runProgress.status === 'SUCCEEDED'), 20_000);
    await until(() => waiting.items.length > 0 || waiting.errors.length > 0);
    expect(waiting.errors).toEqual([]);
    expect(await s.app.store.headPosition()).toBe(before);
    expect(waiting.items[0]!.runProgress).toMatchObject({ runId, status: 'RUNNING', steps: [{ id: 'd', status: 'AWAITING_APPROVAL', approvalId }] });
    // ... and then it is live.
    const ok = await s.gql(TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: approvalId });
    expect(ok.body.errors).toBeUndefined();
    const seen = await waiting.done;
    expect(seen[seen.length - 1]!.runProgress).toMatchObject({ status: 'SUCCEEDED', progress: { percent: 100 } });
    expect(seen.map((i) => i.runProgress.steps[0]!.status)).toContain('RUNNING');

    // A finished run: its final state at once.
    const finished = collect<Progress>(s.ws(TOKENS.requester), Q, { id: runId }, (items) => items.length >= 1);
    expect((await finished.done)[0]!.runProgress).toMatchObject({ runId, status: 'SUCCEEDED', steps: [{ id: 'd', status: 'SUCCEEDED' }], progress: { percent: 100 } });
    expect(finished.errors).toEqual([]);

    const missing = collect<Progress>(s.ws(TOKENS.viewer), Q, { id: 'no-such-run' }, (items) => items.length >= 1);
    expect(await missing.done).toEqual([]);
    expect(JSON.stringify(missing.errors)).toContain('NOT_FOUND');
  });

  it('graphql-ws auth: no token or a bad token closes with 4403; a viewer subscribes; errors are masked', async () => {
    for (const params of [{}, { authorization: 'Bearer nope-nope-nope-nope' }]) {
      const { closed } = await rawSocket(s.wsUrl, params);
      expect(await closed).toBe(4403);
    }
    const { ws, messages } = await rawSocket(s.wsUrl, { token: TOKENS.viewer });
    await until(() => messages.some((m) => m.type === 'connection_ack'));
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { runEvents(runId: "missing") { cursor } }' } }));
    ws.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: 'subscription { runEvents(runId: "bad id!") { cursor } }' } }));
    await until(() => messages.filter((m) => m.type === 'next' || m.type === 'error').length >= 2);
    const text = JSON.stringify(messages);
    expect(text).toContain('NOT_FOUND');
    expect(text).toContain('BAD_USER_INPUT');
    expect(text).not.toMatch(/stack|\.ts:|\.js:/);
    ws.close();
  });

  it('limits over WebSocket: subscriptions per connection, message size, depth; the server keeps serving', async () => {
    const { ws, messages, closed } = await rawSocket(s.wsUrl, { token: TOKENS.viewer });
    await until(() => messages.some((m) => m.type === 'connection_ack'));
    for (let i = 0; i < 30; i++) ws.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { approvalsChanged { kind } }' } }));
    await until(() => messages.some((m) => m.type === 'error'));
    const errors = messages.filter((m) => m.type === 'error');
    expect(errors).toHaveLength(5);
    expect(JSON.stringify(errors[0])).toContain('TOO_MANY_SUBSCRIPTIONS');
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: approvalsChanged { kind }`).join(' ');
    ws.send(JSON.stringify({ id: 's0', type: 'complete' }));
    await new Promise((r) => setTimeout(r, 50));
    ws.send(JSON.stringify({ id: 'wide', type: 'subscribe', payload: { query: `subscription { ${aliases} }` } }));
    await until(() => messages.some((m) => m.id === 'wide'));
    expect(JSON.stringify(messages.find((m) => m.id === 'wide'))).toContain('GRAPHQL_VALIDATION_FAILED');
    ws.send('x'.repeat(300 * 1024));
    expect(await closed).toBe(1009);
    const still = await s.gql(TOKENS.viewer, `{ me { id } }`);
    expect(still.status).toBe(200);
  });

  it('a subscription is released at once when its client leaves', async () => {
    const r = await s.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, { input: { goal: 'leave', profile: 'enterprise', steps: [{ id: 'd', tool: 'deploy.release', domain: 'deploys', input: { environment: 'dev', version: '1' } }] } });
    const runId = r.body.data!.startRun.runId;
    const { ws, messages } = await rawSocket(s.wsUrl, { token: TOKENS.viewer });
    await until(() => messages.some((m) => m.type === 'connection_ack'));
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: EVENTS, variables: { id: runId } } }));
    await until(() => messages.filter((m) => m.type === 'next').length >= 3);
    const before = s.app.server.connections();
    ws.terminate();
    await until(() => s.app.server.connections() === before - 1);
    // The store subscription is closed with it: the run still finishes and the server answers.
    expect((await s.gql(TOKENS.viewer, `{ me { id } }`)).status).toBe(200);
  });
});
