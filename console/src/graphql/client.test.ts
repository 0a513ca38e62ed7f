import { describe, expect, it } from 'vitest';
import { isTokenRefusal } from './client';

describe('a refused token, as the client recognizes it', () => {
  it('is the socket close 4403, an HTTP 401, or an UNAUTHENTICATED error', () => {
    expect(isTokenRefusal({ code: 4403, reason: 'Forbidden' })).toBe(true);
    expect(isTokenRefusal({ response: { status: 401 } })).toBe(true);
    expect(isTokenRefusal({ graphQLErrors: [{ extensions: { code: 'UNAUTHENTICATED' } }] })).toBe(true);
  });

  it('is not a restart, a network drop or a refused operation (those are retried or shown in place)', () => {
    for (const event of [{ code: 1001 }, { code: 1006 }, { code: 4500 }, { response: { status: 503 } }, { graphQLErrors: [{ extensions: { code: 'UNAUTHORIZED' } }] }, undefined, null, 'x']) {
      expect(isTokenRefusal(event), JSON.stringify(event)).toBe(false);
    }
  });
});
