import { describe, expect, it } from 'vitest';
import { checkToken } from './me';

const answer = (status: number, body: unknown) => (async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })) as unknown as typeof fetch;

describe('checkToken', () => {
  it('a token the server refuses says so plainly, and is a refusal', async () => {
    const check = await checkToken('nope', answer(401, { errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] }));
    expect(check).toMatchObject({ ok: false, refused: true });
    expect(!check.ok && check.message).toMatch(/refused this token/);
  });
  it('a server that cannot be reached is not the token\'s fault', async () => {
    const check = await checkToken('t', (async () => { throw new TypeError('failed to fetch'); }) as unknown as typeof fetch);
    expect(check).toMatchObject({ ok: false, refused: false });
    expect(!check.ok && check.message).toMatch(/cannot be reached/);
  });
  it('a known token gives the principal', async () => {
    const me = { id: 'bob', role: 'tech_lead', isAdmin: false, operations: ['approve'] };
    expect(await checkToken('t', answer(200, { data: { me } }))).toEqual({ ok: true, me });
  });
});
