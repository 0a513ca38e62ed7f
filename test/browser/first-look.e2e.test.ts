import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSuite, closeConsole, type ConsoleServer, newPerson, openConsole, PEOPLE, screenshot, signIn } from './harness.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { id approvalId } } }`;
const APPROVE = `mutation($id: ID!) { approve(input: { approvalId: $id, justification: "release train" }) { approval { status } } }`;
const SCREENS = ['/approvals', '/runs', '/budgets', '/signals'] as const;

/** Errors the page logs or throws: a newcomer's first look should have none. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  return errors;
}

/** How far the page reaches past the window's right edge (0: no sideways scrolling). */
const sideways = (page: Page) => page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as Promise<number>;

/**
 * The console as a new user meets it: an empty data folder, a run that does not exist, a window
 * 800 px wide, and the run page's tables read beside the other screens (one CSS bundle for all).
 */
describe.skipIf(browserSuite === 'skip')('console: a first look (real Chromium against the built server)', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => void ({ server, browser, origin } = await openConsole()), 90_000);
  afterAll(() => closeConsole({ server, browser }));

  it('the browser tests drive the bundle users get: React\'s production build, as npm start builds it', async () => {
    const page = await (await fetch(`${origin}/`, { headers: { accept: 'text/html' } })).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    const code = await (await fetch(`${origin}${script}`)).text();
    // React's development build carries its warnings; vitest sets NODE_ENV=test, which Vite obeyed
    expect(code.length).toBeGreaterThan(0);
    expect(code.includes('unique "key" prop'), 'the served script is React\'s development build').toBe(false);
  });

  it('on an empty data folder every screen opens with an empty state and no browser error; /runs says there are none yet', async () => {
    const { context, page } = await newPerson(browser);
    const errors = collectErrors(page);
    await signIn(page, origin, PEOPLE.admin.token, '/approvals');
    await expect.poll(() => page.getByTestId('inbox-count').textContent()).toMatch(/No approvals/);
    await page.getByRole('link', { name: 'Runs' }).click();
    await expect.poll(() => page.locator('.runs-page').textContent()).toMatch(/No runs yet/);
    expect(await page.locator('.runs-page').textContent()).not.toMatch(/match these filters/);
    await screenshot(page, 'first-look-runs-empty');
    // a filter that matches nothing still says so
    await page.goto(`${origin}/runs?status=FAILED`);
    await expect.poll(() => page.locator('.runs-page').textContent()).toMatch(/No runs match these filters/);
    await page.goto(`${origin}/budgets`);
    await expect.poll(() => page.locator('.budgets').textContent()).toMatch(/No runs under this profile yet/);
    await page.goto(`${origin}/signals`);
    await expect.poll(() => page.locator('.signals').textContent()).toMatch(/Nothing recorded for overall yet/);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a run that does not exist says so once, without empty panels or buttons that cannot work', async () => {
    const { context, page } = await newPerson(browser);
    const errors = collectErrors(page);
    await signIn(page, origin, PEOPLE.admin.token, '/runs/no-such-run');
    await expect.poll(() => page.getByRole('alert').allTextContents()).toEqual([expect.stringMatching(/No run no-such-run/)]);
    expect(await page.getByRole('heading', { name: 'Lifecycle' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Audit' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Download JSON Lines/ }).count()).toBe(0);
    expect(await page.getByRole('link', { name: /Runs/ }).count()).toBeGreaterThan(0);
    await screenshot(page, 'first-look-run-not-found');
    expect(errors).toEqual([]);
    await context.close();
  });

  it("the run page's budget table keeps its columns under their headings; the focused title has no box", async () => {
    const r = await server.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string | null }> } }>(PEOPLE.alice.token, START, {
      input: { goal: 'ship 2.0', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '2.0' } }] },
    });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.alice.token, '/runs');
    // opened as a link is (a new load, no click before it), not through the form
    await page.goto(`${origin}/runs/${r.data!.startRun.runId}`);
    const table = page.locator('table', { has: page.getByRole('columnheader', { name: 'On exceeding' }) });
    await table.locator('tbody tr').first().waitFor();
    const layout = await table.evaluate((t) => ({
      // the root tsconfig has no DOM library: the page's own window gives the computed style
      display: (t.ownerDocument.defaultView as unknown as { getComputedStyle(e: unknown): { display: string } }).getComputedStyle(t).display,
      headers: [...t.querySelectorAll('thead th')].map((th) => Math.round(th.getBoundingClientRect().left)),
      rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => Math.round(td.getBoundingClientRect().left))),
    }));
    expect(layout.display).toBe('table');
    for (const row of layout.rows) expect(row).toEqual(layout.headers);
    // opened by a link, the page focuses its heading (a screen reader starts there) without
    // drawing the keyboard-focus box around the title, which read as a selection
    const heading = await page.evaluate('[document.activeElement?.tagName, getComputedStyle(document.activeElement).outlineStyle]');
    expect(heading).toEqual(['H1', 'none']);
    await context.close();
  });

  it('at 800 px wide no screen scrolls sideways (a run with its trace, the runs list, an open card)', async () => {
    const open = await server.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string | null }> } }>(PEOPLE.alice.token, START, {
      input: { goal: 'ship 2.1 to staging, with a long goal that a narrow window must wrap', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '2.1' } }] },
    });
    const done = await server.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string | null }> } }>(PEOPLE.alice.token, START, {
      input: { goal: 'ship 2.2', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '2.2' } }] },
    });
    expect(await server.gql(PEOPLE.bob.token, APPROVE, { id: done.data!.startRun.steps[0]!.approvalId })).not.toHaveProperty('errors');
    const { context, page } = await newPerson(browser);
    await page.setViewportSize({ width: 800, height: 900 });
    await signIn(page, origin, PEOPLE.bob.token, '/approvals');
    await page.locator('article').first().waitFor();
    const widths: Record<string, number> = { '/approvals': await sideways(page) };
    for (const path of [...SCREENS.slice(1), `/runs/${done.data!.startRun.runId}`, `/approvals/${encodeURIComponent(open.data!.startRun.steps[0]!.approvalId!)}`]) {
      await page.goto(`${origin}${path}`);
      await page.getByTestId('who').waitFor();
      if (path.startsWith('/runs/')) await page.getByTestId('run-status').filter({ hasText: 'SUCCEEDED' }).waitFor();
      if (path === '/runs') await page.locator('.runs-table tbody tr').first().waitFor();
      if (path.startsWith('/approvals/')) await page.locator('article').first().waitFor();
      if (path === '/runs') await screenshot(page, 'first-look-runs-800');
      if (path.startsWith('/runs/')) await screenshot(page, 'first-look-run-800');
      widths[path.replace(/\/(runs|approvals)\/.+/, '/$1/<id>')] = await sideways(page);
    }
    expect(widths).toEqual({ '/approvals': 0, '/runs': 0, '/budgets': 0, '/signals': 0, '/runs/<id>': 0, '/approvals/<id>': 0 });
    await context.close();
  });

  it("an admin's empty inbox says how many open requests wait for other roles, live, and links to the runs", async () => {
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.admin.token, '/approvals');
    await expect.poll(() => page.getByTestId('inbox-count').textContent()).toMatch(/No approvals wait for you/);
    const before = (await server.gql<{ pendingApprovals: { totalCount: number } }>(PEOPLE.admin.token, 'query { pendingApprovals(scope: ALL, first: 1) { totalCount } }')).data!.pendingApprovals.totalCount;
    const r = await server.gql<{ startRun: { steps: Array<{ approvalId: string | null }> } }>(PEOPLE.alice.token, START, {
      input: { goal: 'ship 3.0', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '3.0' } }] },
    });
    const others = page.getByTestId('inbox-others');
    await expect.poll(() => others.textContent()).toMatch(new RegExp(`^${before + 1} more open requests? wait`));
    expect(await others.getByRole('link').getAttribute('href')).toBe('/runs?status=RUNNING');
    await screenshot(page, 'first-look-admin-inbox');
    expect(await server.gql(PEOPLE.bob.token, APPROVE, { id: r.data!.startRun.steps[0]!.approvalId })).not.toHaveProperty('errors');
    if (before === 0) await expect.poll(() => others.count()).toBe(0);
    else await expect.poll(() => others.textContent()).toMatch(new RegExp(`^${before} more`));
    // a tech lead, who may decide these, is not shown the count (the server keeps scope ALL for admins and viewers)
    const bob = await newPerson(browser);
    await signIn(bob.page, origin, PEOPLE.bob.token, '/approvals');
    await bob.page.getByTestId('inbox-count').waitFor();
    expect(await bob.page.getByTestId('inbox-others').count()).toBe(0);
    await bob.context.close();
    await context.close();
  });
});
