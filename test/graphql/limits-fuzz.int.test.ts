import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

const code = (body: { errors?: Array<{ extensions?: { code?: string } }> }) => body.errors?.[0]?.extensions?.code;

/** A small deterministic PRNG, so a failing body can be reproduced from its index. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32; };
}

describe('limits and fuzzing over real HTTP', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer(); });
  afterAll(async () => { await s?.close(); });

  async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const res = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.developer}`, ...headers }, body });
    return { status: res.status, text: await res.text() };
  }

  it('refuses deep, aliased, costly, long and oversized operations with 4xx and JSON, and keeps serving', async () => {
    const deep = `{ runs { edges { node { steps { error { message } } routing { alternatives { worker } } } } } }`;
    expect((await s.gql(TOKENS.viewer, deep)).status).toBe(200);
    const frag = `fragment F on Run { steps { id } } query { runs { edges { node { ...F trace { position } routing { alternatives { worker } } } } } }`;
    expect((await s.gql(TOKENS.viewer, frag)).status).toBe(200);
    const aliases = `{ ${Array.from({ length: 30 }, (_, i) => `m${i}: me { id }`).join(' ')} }`;
    const a = await s.gql(TOKENS.viewer, aliases);
    expect([a.status, code(a.body)]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
    const cost = await s.gql(TOKENS.viewer, `{ runs(first: 100) { edges { node { trace { position } steps { id } } } } }`);
    expect([cost.status, code(cost.body)]).toEqual([400, 'QUERY_TOO_COMPLEX']);
    const costVars = await s.gql(TOKENS.viewer, `query($n: Int) { runs(first: $n) { edges { node { trace { position } } } } }`, { n: 100 });
    expect(code(costVars.body)).toBe('QUERY_TOO_COMPLEX');
    const tokens = await s.gql(TOKENS.viewer, `{ me { ${'id '.repeat(5_000)} } }`);
    expect([tokens.status, code(tokens.body)]).toEqual([400, 'GRAPHQL_PARSE_FAILED']);
    const big = await post(JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(400 * 1024) } }));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text)).toEqual({ errors: [{ message: 'the request body is too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    const malformed = await post('{"query": ');
    expect(malformed.status).toBe(400);
    expect(malformed.text).not.toMatch(/<html|at .*\.js/);
    expect((await s.gql(TOKENS.viewer, `{ me { id } }`)).status).toBe(200);
  });

  it('depth limit: a selection nested past the limit is refused; the standard introspection query is not', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    expect((await s.gql(TOKENS.viewer, getIntrospectionQuery())).status).toBe(200);
    let q = 'name';
    for (let i = 0; i < 20; i++) q = `ofType { ${q} }`;
    const r = await s.gql(TOKENS.viewer, `{ __type(name: "Run") { fields { type { ${q} } } } }`);
    expect([r.status, code(r.body)]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
    expect((await s.gql(TOKENS.viewer, `{ me { id } }`)).status).toBe(200);
  });

  it('1,000 random or malformed bodies and variables: no 5xx, no crash, nothing appended', async () => {
    const before = await s.eventCount();
    const random = prng(42);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const junk = () => Array.from({ length: Math.floor(random() * 60) }, () => String.fromCharCode(Math.floor(random() * 0x2fff))).join('');
    const queries = [
      `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`,
      `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`,
      `mutation($id: ID!) { cancelRun(runId: $id) { status } }`,
      `query($id: ID!, $a: String, $n: Int) { runEvents(runId: $id, after: $a, first: $n) { edges { cursor } } }`,
      `query($f: RunsFilter, $n: Int, $a: String) { runs(filter: $f, first: $n, after: $a) { totalCount } }`,
      `{ pendingApprovals(scope: ALL) { totalCount } }`,
      `{ me { id } }`,
    ];
    const values = (): unknown => pick([null, 0, -1, 1e308, 'x', junk(), [], {}, { goal: junk() }, { goal: 'g', profile: 'enterprise', steps: [{ id: junk(), tool: junk(), domain: 'd', input: { password: 'p' } }] }, true, 'missing/a/1', '../../etc/passwd', { status: 'NOPE' }]);
    const bodies = (i: number): string => {
      switch (i % 6) {
        case 0: return junk();
        case 1: return JSON.stringify({ query: pick(queries), variables: { input: values(), id: values(), a: values(), n: values(), f: values() } });
        case 2: return JSON.stringify({ query: pick(queries).slice(0, Math.floor(random() * 80)) });
        case 3: return JSON.stringify(pick([[], null, 1, 'q', { query: 1 }, { query: null }, { variables: [] }, { query: '{ me { id } }', variables: 'x' }, { query: '{ me { id } }', operationName: 7 }, { query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } }]));
        case 4: return JSON.stringify({ query: `{ ${junk()} }` });
        default: return JSON.stringify({ query: pick(queries), variables: values() });
      }
    };
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1_000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => post(bodies(i + j), (i + j) % 7 === 0 ? { authorization: `Bearer ${Buffer.from(junk()).toString('base64')}` } : {})));
      for (const [j, r] of batch.entries()) {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status >= 500) throw new Error(`body #${i + j} got ${r.status}: ${r.text.slice(0, 300)}`);
        expect(r.text).not.toMatch(/\n\s+at |<html/);
      }
    }
    expect((await s.gql(TOKENS.viewer, `{ me { id } }`)).status).toBe(200);
    expect(await s.eventCount()).toBe(before);
    expect([...statuses.keys()].every((k) => k < 500)).toBe(true);
  });
});
