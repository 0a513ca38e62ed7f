import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSuite, closeConsole, type ConsoleServer, newPerson, openConsole, PEOPLE, screenshot, signIn } from './harness.js';

describe.skipIf(browserSuite === 'skip')('console: sign-in (real Chromium against the built server)', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => void ({ server, browser, origin } = await openConsole()), 90_000);
  afterAll(() => closeConsole({ server, browser }));

  it('a token the server refuses says so plainly, and nothing is stored', async () => {
    const { context, page } = await newPerson(browser);
    await page.goto(`${origin}/approvals`);
    await page.getByLabel('Token').fill('not-a-real-token-000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/refused this token/);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(page.url()).toBe(`${origin}/approvals`);
    await screenshot(page, 'sign-in-refused');
    await context.close();
  });

  it('signed in, the header shows who and the role; a deep link survives a reload; sign-out forgets the token', async () => {
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.bob.token, '/runs/some-run');
    expect(await page.getByTestId('who').textContent()).toMatch(/bob\s*tech_lead/);
    expect(page.url()).toBe(`${origin}/runs/some-run`);
    // the token is in sessionStorage, never in the URL
    expect(page.url()).not.toContain(PEOPLE.bob.token);
    await page.reload();
    await page.getByTestId('who').waitFor();
    expect(page.url()).toBe(`${origin}/runs/some-run`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await context.close();
  });

  it('the console is served with headers that forbid framing and foreign scripts', async () => {
    const response = await fetch(`${origin}/approvals/x`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await response.text()).toContain('<div id="root">');
    // the API keeps its own answers: never the console's page
    for (const path of ['/graphql/nope', '/metrics/x', '/mcp/x']) {
      expect(await (await fetch(`${origin}${path}`, { headers: { accept: 'text/html' } })).text()).not.toContain('<div id="root">');
    }
  });
});
