import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHarness, startServer } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

/** A raw HTTP request: fetch normalizes `..` and encodings, an attacker's client does not. */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const PAGE = '<!doctype html><div id="root"></div>';

describe('console over HTTP, as an attacker sees it', () => {
  let server: ServerHarness;
  let port: number;
  const temp = tempDir('gatehouse-console-http-');

  beforeAll(async () => {
    // A built console of our own: its page and one hashed asset, beside a file outside it.
    const dir = join(temp.dir, 'console');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), PAGE);
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
    writeFileSync(join(temp.dir, 'secret.txt'), 'outside-the-console');
    server = await startServer({ env: { consoleDir: dir } });
    port = server.app.server.port;
  });
  afterAll(async () => {
    await server?.close();
    temp.remove();
  });

  it('GET /graphql asking for HTML does not serve Apollo\'s landing page (it loads scripts from Apollo\'s CDN); introspection still answers', async () => {
    const res = await raw(port, 'GET', '/graphql', { accept: 'text/html' });
    expect(res.body).not.toMatch(/apollographql\.com|<script/i);
    const intro = await server.gql(server.admin, '{ __schema { queryType { name } } }');
    expect(intro.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('every console answer carries the CSP and no-framing headers: the page, an asset, a missing asset, the SPA fallback, HEAD', async () => {
    const cases: Array<[string, string, string, number]> = [
      ['GET', '/', 'text/html', 200],
      ['GET', '/index.html', 'text/html', 200],
      ['GET', '/approvals/x', 'text/html', 200],
      ['GET', '/approvals/x', '*/*', 200],
      ['HEAD', '/runs/r-1', 'text/html', 200],
      ['GET', '/assets/app-abc123.js', '*/*', 200],
      ['GET', '/assets/missing.js', 'text/html', 404],
      ['GET', '/approvals/x', 'application/json', 404],
    ];
    for (const [method, path, accept, status] of cases) {
      const res = await raw(port, method, path, { accept });
      expect([method, path, accept, res.status]).toEqual([method, path, accept, status]);
      expect(res.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(res.headers['content-security-policy'], path).toContain("script-src 'self'");
      expect(res.headers['x-frame-options'], path).toBe('DENY');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
    }
  });

  it('no path reaches a file outside the console folder, plain or encoded; odd paths get the page or a 404, never an error page', async () => {
    const paths = ['/assets/../../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/../secret.txt',
      '/assets/..%5c..%5csecret.txt', '/assets/%252e%252e/secret.txt', '/%E0%A4%A', `/${'a'.repeat(8_000)}`, '/approvals/%3Cscript%3Ealert(1)%3C%2Fscript%3E', '/.env', '/assets/'];
    for (const path of paths) for (const accept of ['text/html', '*/*', 'application/json']) {
      const res = await raw(port, 'GET', path, { accept });
      expect(res.body, path).not.toContain('outside-the-console');
      expect([200, 404], path).toContain(res.status);
      expect(res.body, path).not.toMatch(/at .*\.js:\d+|<script/); // no stack, no reflected markup
      if (res.status === 200) expect(res.body, path).toBe(PAGE);
    }
  });

  it('other methods on a console address never get the page', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await raw(port, method, '/approvals/x', { accept: 'text/html' });
      expect(res.status, method).toBe(404);
      expect(res.body, method).not.toContain('id="root"');
    }
  });
});
