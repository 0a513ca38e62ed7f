import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSuite, closeConsole, type ConsoleServer, newPerson, openConsole, PEOPLE, screenshot, signIn } from './harness.js';

const START = /* GraphQL */ `mutation Start($input: StartRunInput!) { startRun(input: $input) { runId } }`;
const RUN = /* GraphQL */ `query Run($runId: ID!) { run(runId: $runId) { status steps { id status } } }`;

const read = (id: string, path = 'release-notes.md', dependsOn: string[] = []) => ({ id, tool: 'file.read', domain: 'files', input: { path }, dependsOn });

describe.skipIf(browserSuite === 'skip')('console: golden signals and budgets (real Chromium against the built server)', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let origin: string;

  /** Starts a run as alice and returns its id. */
  async function start(input: Record<string, unknown>): Promise<string> {
    const r = await server.gql<{ startRun: { runId: string } }>(PEOPLE.alice.token, START, { input: { goal: 'console signals', profile: 'technical', ...input } });
    expect(r.errors).toBeUndefined();
    return r.data!.startRun.runId;
  }
  /** Waits until the run's read model says what `done` wants. */
  async function waitFor(runId: string, done: (run: { status: string; steps: Array<{ id: string; status: string }> }) => boolean): Promise<void> {
    await expect.poll(async () => {
      const r = await server.gql<{ run: { status: string; steps: Array<{ id: string; status: string }> } }>(PEOPLE.alice.token, RUN, { runId });
      return r.data ? done(r.data.run) : false;
    }, { timeout: 20_000 }).toBe(true);
  }
  const finished = (run: { status: string }) => run.status !== 'RUNNING';

  beforeAll(async () => void ({ server, browser, origin } = await openConsole()), 90_000);
  afterAll(() => closeConsole({ server, browser }));

  it('after a few runs the signals page shows non-empty charts, and its numbers move live when another run finishes', async () => {
    // two calls that succeed and one that fails (no such file: a USER error)
    const runs = await Promise.all([start({ steps: [read('a')] }), start({ steps: [read('a')] }), start({ steps: [read('a', 'missing.md')] })]);
    for (const runId of runs) await waitFor(runId, finished);

    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.vera.token, '/signals');
    const calls = page.getByTestId('calls-LAST_5M');
    await expect.poll(() => calls.textContent(), { timeout: 15_000 }).toBe('3');
    const row = await page.getByTestId('signals-LAST_5M').textContent();
    expect(row).toContain('66.7 %'); // success
    expect(row).toContain('33.3 %'); // errors
    await expect.poll(() => page.getByText('USER').count()).toBeGreaterThan(0);
    // the charts are drawn (uPlot's canvas) and hold measured samples
    for (const chart of ['rates', 'latency', 'approvalWait']) {
      await expect.poll(async () => Number(await page.getByTestId(`chart-${chart}`).getAttribute('data-points'))).toBeGreaterThan(0);
      expect(await page.getByTestId(`chart-${chart}`).locator('canvas').count()).toBe(1);
    }
    const pointsBefore = Number(await page.getByTestId('chart-rates').getAttribute('data-points'));

    // another run finishes: a release bob approves (its call takes a moment after the approval, so
    // the page must keep sampling, not only react to the approval); the open page shows it without a reload
    const release = await start({ steps: [{ id: 'e', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '1.4' } }] });
    await waitFor(release, (run) => run.steps[0]?.status === 'AWAITING_APPROVAL');
    const approvalId = (await server.gql<{ run: { steps: Array<{ approvalId: string }> } }>(PEOPLE.bob.token, /* GraphQL */ `query A($runId: ID!) { run(runId: $runId) { steps { approvalId } } }`, { runId: release })).data!.run.steps[0]!.approvalId;
    const approved = await server.gql(PEOPLE.bob.token, /* GraphQL */ `mutation Approve($id: ID!) { approve(input: { approvalId: $id, justification: "release train" }) { approval { status } } }`, { id: approvalId });
    expect(approved.errors).toBeUndefined();
    await waitFor(release, finished);
    await expect.poll(() => calls.textContent(), { timeout: 15_000 }).toBe('4');
    expect(await page.getByTestId('signals-LAST_5M').textContent()).toContain('75.0 %');
    await expect.poll(async () => Number(await page.getByTestId('chart-rates').getAttribute('data-points'))).toBeGreaterThan(pointsBefore);
    await screenshot(page, 'signals');

    // the charts follow their container when the window changes (here: three columns become one)
    type Box = { getBoundingClientRect(): { width: number } };
    const widths = async () => ({
      canvas: Math.round(await page.getByTestId('chart-latency').locator('canvas').evaluate((c) => (c as unknown as Box).getBoundingClientRect().width)),
      container: Math.round(await page.getByTestId('chart-latency').locator('.uplot-chart').evaluate((c) => (c as unknown as Box).getBoundingClientRect().width)),
    });
    const before = await widths();
    await page.setViewportSize({ width: 700, height: 900 });
    await expect.poll(async () => {
      const now = await widths();
      return now.container !== before.container && Math.abs(now.canvas - now.container) <= 2;
    }).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });

    // a tool scope from the selector, kept in the address
    await page.getByLabel('Scope').selectOption('tool:file.read');
    await expect.poll(() => page.url()).toBe(`${origin}/signals?scope=tool%3Afile.read`);
    await expect.poll(() => calls.textContent()).toBe('3');
    await page.getByLabel('Scope').selectOption('tool:db.execute');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Nothing recorded for tool:db.execute yet' }).count()).toBe(1);
    // an error from the server is shown in place with its message
    await page.goto(`${origin}/signals?scope=${'x'.repeat(301)}`);
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/goldenSignals/);
    await context.close();
  });

  it('the budgets page shows a profile\'s usage with the 80 % warning, and a run\'s own budget', async () => {
    // four calls of a five-call budget, then a deploy that waits for approval: the run stays live at 80 %
    const runId = await start({
      profile: 'enterprise',
      budget: { totalCalls: 5 },
      steps: [read('a'), read('b', 'release-notes.md', ['a']), read('c', 'release-notes.md', ['b']), read('d', 'release-notes.md', ['c']),
        { id: 'e', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '1.4' }, dependsOn: ['d'] }],
    });
    await waitFor(runId, (run) => run.steps.find((s) => s.id === 'e')?.status === 'AWAITING_APPROVAL');

    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.bob.token, '/budgets');
    const enterprise = page.getByTestId('profile-enterprise');
    await expect.poll(() => enterprise.getByTestId('profile-enterprise-runs').textContent(), { timeout: 15_000 }).toBe('1 run, 1 live. Bars: what the live runs have used of their limits.');
    const total = enterprise.getByTestId('budget-total');
    expect(await total.getAttribute('data-state')).toBe('warning');
    expect(await total.textContent()).toContain('4 of 5 calls by live runs (80 %)');
    expect(await total.textContent()).toContain('warning: 80 % reached');
    expect(await total.getByRole('meter').getAttribute('aria-valuenow')).toBe('4');
    expect(await enterprise.textContent()).toContain('Per run: 100 calls in total; over the limit: block.');
    await expect.poll(() => page.getByTestId('profile-smb').textContent()).toContain('No runs under this profile yet.');
    await screenshot(page, 'budgets');

    // the run's own budget from its id (the form, then a deep link that survives a reload)
    await page.getByLabel('Run id').fill(runId);
    await page.getByRole('button', { name: "Show the run's budget" }).click();
    await expect.poll(() => page.url()).toBe(`${origin}/budgets?runId=${runId}`);
    await page.reload();
    await expect.poll(() => page.getByTestId('budget-total').textContent(), { timeout: 15_000 }).toContain('4 of 5 calls (80 %)');
    expect(await page.getByTestId('budget-tool:file.read').textContent()).toContain('4 calls, no limit');
    await screenshot(page, 'budgets-run');

    // a run id that does not exist: said in place
    await page.goto(`${origin}/budgets?runId=no-such-run`);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'No budget recorded for this run' }).count(), { timeout: 15_000 }).toBe(1);
    await context.close();
  });
});
