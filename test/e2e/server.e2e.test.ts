import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built.js';
import { spawnFixture } from '../support/processes.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir('gatehouse-e2e-');
const env = { PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: join(tmp.dir, 'data'), LOG_LEVEL: 'info', GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/gatehouse.yaml') };

async function start(dataDir = env.GATEHOUSE_DATA_DIR) {
  const child = spawnFixture('src/server/main.ts', [], { ...env, GATEHOUSE_DATA_DIR: dataDir });
  const ready = await child.waitForLine(/gatehouse ready on/);
  const port = Number(/:(\d+)\/graphql/.exec(ready)?.[1]);
  return { child, url: `http://127.0.0.1:${port}` };
}

describe('npm start: the built server as a process', () => {
  afterAll(() => tmp.remove());

  it('says where the operator console is, and serves it there', async () => {
    // its own data folder: the admin-token test below needs the first start of its own
    const { child, url } = await start(join(tmp.dir, 'console-data'));
    const line = child.lines.find((l) => l.startsWith('the operator console: '));
    expect(line).toBe(`the operator console: ${url}/`);
    const page = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    child.process.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
  });

  it('prints a generated admin token once, keeps it 0600, serves, and stops gracefully on SIGTERM', async () => {
    const first = await start();
    const tokenLine = first.child.lines.findIndex((l) => l.startsWith('Admin token'));
    expect(tokenLine).toBeGreaterThanOrEqual(0);
    const token = first.child.lines[tokenLine + 2]?.trim() as string;
    expect(token).toMatch(/^gh_/);
    expect(statSync(join(env.GATEHOUSE_DATA_DIR, 'admin-token')).mode & 0o777).toBe(0o600);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    const me = await fetch(`${first.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ me { id role isAdmin } }' }) });
    expect(await me.json()).toEqual({ data: { me: { id: 'admin', role: 'admin', isAdmin: true } } });
    first.child.process.kill('SIGTERM');
    expect(await first.child.exited).toEqual({ code: 0, signal: null });

    const second = await start();
    expect(second.child.lines.some((l) => l.includes(token))).toBe(false); // printed once only
    const again = await fetch(`${second.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(again.status).toBe(200);
    second.child.process.kill('SIGTERM');
    expect((await second.child.exited).code).toBe(0);
  });
});
