import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatehouseApp, startGatehouse } from '../../src/server/app.js';
import { readEnv } from '../../src/server/env.js';
import { tempDir } from '../support/temp.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
let stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
});

async function start(env: Record<string, string>): Promise<GatehouseApp> {
  const tmp = tempDir('gatehouse-http-');
  const app = await startGatehouse({ env: readEnv({ PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: join(tmp.dir, 'data'), LOG_LEVEL: 'silent', ...env }), log: silent, demoTools: false });
  stops.push(tmp.remove, app.stop);
  return app;
}

/** One GET over a fresh keep-alive connection: the Keep-Alive header the server answers with. */
function keepAliveHeader(port: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', headers: { connection: 'keep-alive' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers['keep-alive'] as string | undefined));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP keep-alive and header timeouts', () => {
  it('default to 65 s and 66 s: above the 60 s idle timeout of common proxies and load balancers', async () => {
    expect(readEnv({})).toMatchObject({ keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000 });
    const app = await start({});
    expect(await keepAliveHeader(app.server.port)).toBe('timeout=65');
    expect(app.server.httpServer.keepAliveTimeout).toBe(65_000);
    expect(app.server.httpServer.headersTimeout).toBe(66_000);
  });

  it('are configurable by environment; the headers timeout follows the keep-alive one unless given', async () => {
    expect(readEnv({ GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS: '120000' })).toMatchObject({ keepAliveTimeoutMs: 120_000, headersTimeoutMs: 121_000 });
    const app = await start({ GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS: '90000', GATEHOUSE_HTTP_HEADERS_TIMEOUT_MS: '95000' });
    expect(await keepAliveHeader(app.server.port)).toBe('timeout=90');
    expect(app.server.httpServer.headersTimeout).toBe(95_000);
  });

  it('refuses a headers timeout not above the keep-alive timeout, and values that are not durations', () => {
    // Node drops a request whose headers arrive after headersTimeout on a reused socket: it must
    // outlast the keep-alive window, or a client reusing a socket late in it is cut off.
    expect(() => readEnv({ GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS: '65000', GATEHOUSE_HTTP_HEADERS_TIMEOUT_MS: '65000' })).toThrow(/GATEHOUSE_HTTP_HEADERS_TIMEOUT_MS: must be above GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS \(65000\)/);
    expect(() => readEnv({ GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS: 'soon' })).toThrow(/GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS/);
    expect(() => readEnv({ GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS: '-1' })).toThrow(/GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS/);
  });
});
