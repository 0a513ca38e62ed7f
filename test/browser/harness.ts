import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { repoRoot } from '../support/built.js';
import { ServerGenerations } from '../support/server-generations.js';
import { tempDir } from '../support/temp.js';

/**
 * Browser tests: the built server on a temporary data folder, and Debian's Chromium driven by
 * playwright-core (never a downloaded browser). `.ci/run` installs Chromium; on a machine without
 * it the suites are skipped with a message, except under CI, where a missing browser fails.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) process.stderr.write(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)\n`);
/** Run the suite, unless there is no browser on a developer's machine. */
export const browserSuite = haveChromium || process.env.CI ? 'run' : 'skip';

/** One principal per role, and a second devops engineer for two-person rules. */
export const PEOPLE = {
  vera: { id: 'vera', role: 'viewer', token: 'console-vera-token-0001' },
  alice: { id: 'alice', role: 'developer', token: 'console-alice-token-001' },
  bob: { id: 'bob', role: 'tech_lead', token: 'console-bob-token-00001' },
  carol: { id: 'carol', role: 'devops_engineer', token: 'console-carol-token-001' },
  dave: { id: 'dave', role: 'devops_engineer', token: 'console-dave-token-0001' },
  admin: { id: 'root', role: 'admin', token: 'console-admin-token-001' },
} as const;

/** Where screenshots go (a CI artifact; not committed). */
export const ARTIFACTS = join(repoRoot, 'test-artifacts', 'browser');

/** A built Gatehouse server (restartable on its data folder) with the console at its root. */
export interface ConsoleServer {
  readonly servers: ServerGenerations;
  readonly dataDir: string;
  /** http://127.0.0.1:<port> of the live generation. */
  origin(): Promise<string>;
  /** A GraphQL call as `token`, over HTTP. */
  gql<T = Record<string, unknown>>(token: string, query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> }>;
  stop(): Promise<void>;
}

/** A free TCP port, so a restarted server comes back where an open page's socket reconnects. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What a browser suite opens once: the server (restartable on a fixed port if asked), a browser, its origin. */
export interface OpenConsole {
  readonly server: ConsoleServer;
  readonly browser: Browser;
  readonly origin: string;
}

/** Starts the server and the browser together (a suite's beforeAll). */
export async function openConsole(options: { restartable?: boolean; extraConfig?: string } = {}): Promise<OpenConsole> {
  const env = options.restartable ? { PORT: String(await freePort()) } : {};
  const [server, browser] = await Promise.all([startConsoleServer({ env, ...(options.extraConfig ? { extraConfig: options.extraConfig } : {}) }), launchBrowser()]);
  return { server, browser, origin: await server.origin() };
}

/** Closes what openConsole opened, whatever of it started (a suite's afterAll). */
export async function closeConsole(opened: Partial<OpenConsole>): Promise<void> {
  await opened.browser?.close();
  await opened.server?.stop();
}

/** Starts `node dist/src/server/main.js` with the people above and any extra gatehouse.yaml text. */
export async function startConsoleServer(options: { extraConfig?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ConsoleServer> {
  const temp = tempDir('gatehouse-console-');
  const dataDir = join(temp.dir, 'data');
  const config = join(temp.dir, 'gatehouse.yaml');
  const tokens = Object.values(PEOPLE).map((p) => `    - { id: ${p.id}, role: ${p.role}, token: ${p.token} }`).join('\n');
  writeFileSync(config, `auth:\n  tokens:\n${tokens}\n${options.extraConfig ?? ''}`);
  const servers = new ServerGenerations('src/server/main.ts', [], {
    PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_CONFIG: config, LOG_LEVEL: 'warn', ...options.env,
  });
  await servers.start();
  const origin = async () => (await servers.ready()).url.replace(/\/graphql$/, '');
  return {
    servers,
    dataDir,
    origin,
    gql: async (token, query, variables) => {
      const response = await fetch(`${await origin()}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as never;
    },
    stop: async () => {
      if (servers.current && !servers.current.dead) await servers.stop();
      servers.killAll();
      temp.remove();
    },
  };
}

/** Headless Chromium with nothing that reaches for the network by itself (STACK.md). */
export async function launchBrowser(): Promise<Browser> {
  if (!haveChromium) throw new Error(`no Chromium at ${CHROMIUM}: .ci/run installs it (apt-get install -y chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A fresh browser context (its own sessionStorage: one signed-in person per context). */
export async function newPerson(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => process.stderr.write(`[browser] page error: ${error.message}\n`));
  return { context, page };
}

/** Opens `path` and signs in with `token` on the sign-in form; resolves when the header shows who. */
export async function signIn(page: Page, origin: string, token: string, path = '/'): Promise<void> {
  await page.goto(`${origin}${path}`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
}

/** Saves a full-page screenshot as a test artifact; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
