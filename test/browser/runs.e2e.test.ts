import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSuite, closeConsole, type ConsoleServer, newPerson, openConsole, PEOPLE, screenshot, signIn } from './harness.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { id approvalId } } }`;
const APPROVE = `mutation($id: ID!) { approve(input: { approvalId: $id, justification: "release train" }) { approval { status } } }`;
const EVENTS = `query($id: ID!, $after: String) { runEvents(runId: $id, after: $after, first: 100) { edges { node { id revision type } } pageInfo { endCursor hasNextPage } } }`;


describe.skipIf(browserSuite === 'skip')('console: runs (real Chromium against the built server)', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => void ({ server, browser, origin } = await openConsole({ restartable: true })), 90_000);
  afterAll(() => closeConsole({ server, browser }));

  /** alice releases to staging: a medium-risk gate that bob (tech lead) may decide. */
  async function gatedRun(version: string): Promise<{ runId: string; approvalId: string }> {
    const r = await server.gql<{ startRun: { runId: string; steps: Array<{ id: string; approvalId: string | null }> } }>(PEOPLE.alice.token, START, {
      input: { goal: `ship ${version}`, profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version } }] },
    });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const run = r.data!.startRun;
    return { runId: run.runId, approvalId: run.steps[0]!.approvalId as string };
  }
  /** Every event of the run as the API lists them (ids in stream order). */
  async function apiEventIds(runId: string): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const r = await server.gql<{ runEvents: { edges: Array<{ node: { id: string } }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } } }>(PEOPLE.alice.token, EVENTS, { id: runId, after });
      ids.push(...r.data!.runEvents.edges.map((e) => e.node.id));
      if (!r.data!.runEvents.pageInfo.hasNextPage) return ids;
      after = r.data!.runEvents.pageInfo.endCursor ?? undefined;
    }
  }
  const pageEventIds = (page: Page) => page.locator('ol.trace > li').evaluateAll((items) => items.map((li) => li.getAttribute('data-event-id')));
  const traceTypes = (page: Page) => page.locator('ol.trace .trace-type').allTextContents();

  it('a run waiting for approval: bob approves, and the open run page shows the trace live to RunCompleted', async () => {
    const { runId, approvalId } = await gatedRun('1.4');
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.alice.token, `/runs/${runId}`);
    await expect.poll(() => traceTypes(page), { timeout: 20_000 }).toContain('ApprovalRequested');
    await expect.poll(() => page.getByTestId('run-status').textContent()).toBe('RUNNING');
    expect(await page.locator('.dag-node[data-step-id="ship"]').getAttribute('class')).toContain('step-awaiting_approval');
    // the approval links to its card in the inbox (its id holds slashes: one encoded segment)
    expect(await page.locator(`a[href="/approvals/${encodeURIComponent(approvalId)}"]`).count()).toBeGreaterThan(0);
    expect(await page.locator('[data-gate-entry="requested"]').textContent()).toMatch(/requested by alice \(developer\)/);

    const approved = await server.gql(PEOPLE.bob.token, APPROVE, { id: approvalId });
    expect(approved.errors, JSON.stringify(approved.errors)).toBeUndefined();
    await expect.poll(() => traceTypes(page), { timeout: 20_000 }).toContain('RunCompleted');
    await expect.poll(() => page.getByTestId('run-status').textContent()).toBe('SUCCEEDED');
    // who decided what and when
    const granted = page.locator('[data-gate-entry="granted"]');
    expect(await granted.textContent()).toMatch(/granted by bob \(tech_lead\).*release train/);
    await expect.poll(() => page.getByTestId('audit-status').textContent(), { timeout: 10_000 }).toMatch(/Chain intact: \d+ events, 2 signatures valid, sealed/);
    expect(await pageEventIds(page)).toEqual(await apiEventIds(runId));
    expect(await page.getByText('Trace: live').count()).toBe(1);

    // the export downloads as a file with the CLI's format
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON Lines export' }).click()]);
    expect(download.suggestedFilename()).toBe(`gatehouse-audit-${runId}.jsonl`);
    await screenshot(page, 'run-page');
    await context.close();
  }, 90_000);

  it('the run page survives a server restart mid-trace: it says reconnecting, then shows every event exactly once', async () => {
    const { runId, approvalId } = await gatedRun('1.5');
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.bob.token, `/runs/${runId}`);
    await expect.poll(() => traceTypes(page), { timeout: 20_000 }).toContain('ApprovalRequested');
    await expect.poll(() => page.getByTestId('feed-status').textContent()).toBe('Trace: live');
    const before = await pageEventIds(page);

    await server.servers.stop();
    await expect.poll(() => page.getByTestId('feed-status').textContent(), { timeout: 20_000 }).toBe('Trace: reconnecting…');
    await screenshot(page, 'run-page-reconnecting');
    await server.servers.start();
    await expect.poll(() => page.getByTestId('feed-status').textContent(), { timeout: 60_000 }).toBe('Trace: live');

    // the next events arrive on the resumed subscription
    const approved = await server.gql(PEOPLE.bob.token, APPROVE, { id: approvalId });
    expect(approved.errors, JSON.stringify(approved.errors)).toBeUndefined();
    await expect.poll(() => traceTypes(page), { timeout: 30_000 }).toContain('RunCompleted');
    const after = await pageEventIds(page);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(new Set(after).size).toBe(after.length);
    expect(after).toEqual(await apiEventIds(runId));
    await screenshot(page, 'run-page-after-restart');
    await context.close();
  }, 150_000);

  it('the runs list filters by status, kept in the URL (a reload shows the same list); a running row turns SUCCEEDED live; the requester resumes a failed run', async () => {
    // one run that fails at once (no such file), one that waits at its gate, and the finished ones above
    const failed = await server.gql<{ startRun: { runId: string } }>(PEOPLE.alice.token, START, {
      input: { goal: 'read a missing file', profile: 'enterprise', errorStrategy: 'FAIL_FAST', steps: [{ id: 'look', tool: 'file.read', domain: 'files', input: { path: 'no-such-file.md' } }] },
    });
    expect(failed.errors, JSON.stringify(failed.errors)).toBeUndefined();
    const failedId = failed.data!.startRun.runId;
    const waiting = await gatedRun('1.6');
    const RUNS = `query($status: RunStatus) { runs(filter: { status: $status }, first: 100) { edges { node { runId } } } }`;
    const idsWith = async (status: string) => ((await server.gql<{ runs: { edges: Array<{ node: { runId: string } }> } }>(PEOPLE.alice.token, RUNS, { status })).data!.runs.edges.map((e) => e.node.runId));
    await expect.poll(() => idsWith('FAILED'), { timeout: 20_000 }).toContain(failedId);

    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.carol.token, '/runs');
    const rows = () => page.locator('table.runs-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run-id')));
    await expect.poll(rows, { timeout: 20_000 }).toContain(waiting.runId);

    await page.getByLabel('Status').selectOption('FAILED');
    await expect.poll(() => page.url()).toBe(`${origin}/runs?status=FAILED`);
    await expect.poll(rows).toEqual(await idsWith('FAILED'));
    expect(await rows()).toContain(failedId);
    expect(await rows()).not.toContain(waiting.runId);
    await screenshot(page, 'runs-list-failed');

    await page.getByLabel('Status').selectOption('RUNNING');
    await expect.poll(rows).toEqual(await idsWith('RUNNING'));
    expect(await rows()).toContain(waiting.runId);
    await page.reload();
    await page.getByTestId('who').waitFor();
    await expect.poll(rows).toEqual(await idsWith('RUNNING'));
    expect(await page.getByLabel('Status').inputValue()).toBe('RUNNING');
    // live status: the open list shows the run finishing, without a reload
    await page.getByLabel('Status').selectOption('');
    const status = () => page.locator(`tr[data-run-id="${waiting.runId}"] [data-testid="run-status"]`).textContent();
    await expect.poll(status).toBe('RUNNING');
    expect((await server.gql(PEOPLE.bob.token, APPROVE, { id: waiting.approvalId })).errors).toBeUndefined();
    await expect.poll(status, { timeout: 20_000 }).toBe('SUCCEEDED');
    // the row links to the run page
    await page.locator(`tr[data-run-id="${waiting.runId}"] a`).click();
    await expect.poll(() => page.url()).toBe(`${origin}/runs/${waiting.runId}`);
    await context.close();

    // the requester resumes her failed run from its page: it runs the failed step again (and fails again: the file is still missing)
    const alice = await newPerson(browser);
    await signIn(alice.page, origin, PEOPLE.alice.token, `/runs/${failedId}`);
    await expect.poll(() => alice.page.getByTestId('run-status').textContent(), { timeout: 20_000 }).toBe('FAILED');
    expect(await alice.page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await alice.page.getByRole('button', { name: 'Resume run' }).click();
    await expect.poll(() => traceTypes(alice.page), { timeout: 20_000 }).toContain('RunResumed');
    await expect.poll(async () => (await traceTypes(alice.page)).filter((t) => t === 'RunFailed').length, { timeout: 20_000 }).toBe(2);
    expect(await pageEventIds(alice.page)).toEqual(await apiEventIds(failedId));
    await alice.context.close();
  }, 90_000);

  it('cancel: refused in place for a developer on someone else\'s run; the requester cancels her own; a viewer sees the trace without payloads or buttons', async () => {
    const carols = await server.gql<{ startRun: { runId: string } }>(PEOPLE.carol.token, START, {
      input: { goal: 'carol ships', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '2.0' } }] },
    });
    const carolsRun = carols.data!.startRun.runId;
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.alice.token, `/runs/${carolsRun}`);
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 20_000 }).toBe('RUNNING');
    const eventsBefore = (await apiEventIds(carolsRun)).length;
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/\S/);
    expect(await page.getByRole('alert').textContent()).toBe(`only the requester of run ${carolsRun}, a tech lead, a devops engineer or an admin may do this`);
    await screenshot(page, 'run-page-cancel-refused');
    expect(await page.getByTestId('run-status').textContent()).toBe('RUNNING');
    expect((await apiEventIds(carolsRun)).length).toBe(eventsBefore);

    const own = await gatedRun('2.1');
    await page.goto(`${origin}/runs/${own.runId}`);
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 20_000 }).toBe('RUNNING');
    await page.getByLabel('Reason').fill('wrong version');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 20_000 }).toBe('CANCELLED');
    await expect.poll(() => traceTypes(page), { timeout: 20_000 }).toContain('RunCancelled');
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await context.close();

    const viewer = await newPerson(browser);
    await signIn(viewer.page, origin, PEOPLE.vera.token, `/runs/${own.runId}`);
    await expect.poll(() => traceTypes(viewer.page), { timeout: 20_000 }).toContain('RunCancelled');
    expect(await pageEventIds(viewer.page)).toEqual(await apiEventIds(own.runId));
    expect(await viewer.page.getByRole('button', { name: 'Download JSON Lines export' }).count()).toBe(0);
    expect(await viewer.page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    expect(await viewer.page.locator('.run-page .error').count()).toBe(0);
    await viewer.context.close();
  }, 90_000);
});
