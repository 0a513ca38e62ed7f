import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startGatehouse } from '../../src/server/app.js';
import { repoRoot } from '../support/built.js';
import { TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

/**
 * The per-operation access line is a `debug` line when the operation succeeded and an `info` line
 * when it answered errors. At the default `info` level every request wrote a JSON line to stdout:
 * ~4 % of the API server's CPU during approve-alone (pino's serialization and a write per line);
 * /metrics already counts every operation with its duration and error codes.
 */
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function serverLoggingAt(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } });
  const tmp = tempDir('gatehouse-oplog-');
  const app = await startGatehouse({ env: { port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data'), configPath: join(repoRoot, 'test/fixtures/gatehouse.yaml'), logLevel: level, shutdownGraceMs: 1_000 }, log: pino({ level }, sink), demoDelayMs: 20 });
  stops.push(async () => { await app.stop(); tmp.remove(); });
  const gql = (query: string, token: string = TOKENS.viewer) => fetch(`http://127.0.0.1:${app.server.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, operationName: /query (\w+)/.exec(query)?.[1] }) }).then((r) => r.json());
  const ops = () => lines.filter((l) => l.msg === 'graphql');
  const refusals = () => lines.filter((l) => l.msg === 'graphql refused');
  return { gql, ops, refusals };
}

describe('the GraphQL operation log', () => {
  it('at info: a successful operation writes no line, a failed one writes its line with the error codes', async () => {
    const s = await serverLoggingAt('info');
    await s.gql('query Ok { __typename }');
    await s.gql('query Bad { noSuchField }');
    expect(s.ops().map((l) => [l.operation, l.level, l.errorCodes])).toEqual([['anonymous', 30, ['GRAPHQL_VALIDATION_FAILED']]]);
  });

  it('at info: a request refused for its token (none, or one nobody holds) writes an info line, without the token', async () => {
    const s = await serverLoggingAt('info');
    await s.gql('query Ok { __typename }', '');
    await s.gql('query Ok { __typename }', 'not-a-token-anyone-holds');
    expect(s.refusals().map((l) => [l.level, l.reason])).toEqual([[30, 'no token'], [30, 'unknown token']]);
    expect(JSON.stringify(s.refusals())).not.toContain('not-a-token-anyone-holds');
  });

  it('at debug: every operation has its line', async () => {
    const s = await serverLoggingAt('debug');
    await s.gql('query Ok { __typename }');
    await s.gql('query Bad { noSuchField }');
    expect(s.ops().map((l) => [l.operation, l.level, l.principal])).toEqual([['Ok', 20, 'vera'], ['anonymous', 30, 'vera']]);
  });
});
