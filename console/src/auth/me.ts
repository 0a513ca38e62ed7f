import { graphqlUrls } from '../graphql/client';

/** The signed-in principal, as `me` answers it. */
export interface Me {
  readonly id: string;
  readonly role: string;
  readonly isAdmin: boolean;
  readonly operations: readonly string[];
}

/** What checking a token gave: the principal, or why not. */
export type TokenCheck = { ok: true; me: Me } | { ok: false; refused: boolean; message: string };

export const ME_QUERY = /* GraphQL */ `query Me { me { id role isAdmin operations } }`;

/**
 * Asks the server who `token` is. A 401 or UNAUTHENTICATED is a refusal ("the server refused this
 * token"); anything else (server down, 5xx) is not the token's fault and says so.
 */
export async function checkToken(token: string, fetchImpl: typeof fetch = fetch): Promise<TokenCheck> {
  let response: Response;
  try {
    response = await fetchImpl(graphqlUrls().http, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: ME_QUERY }),
    });
  } catch {
    return { ok: false, refused: false, message: 'The server cannot be reached. Check that Gatehouse is running, then try again.' };
  }
  const body = (await response.json().catch(() => ({}))) as { data?: { me?: Me }; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  const code = body.errors?.[0]?.extensions?.code;
  if (response.status === 401 || code === 'UNAUTHENTICATED') {
    return { ok: false, refused: true, message: 'The server refused this token. Check it and try again, or ask an admin for a new one.' };
  }
  if (body.data?.me) return { ok: true, me: body.data.me };
  return { ok: false, refused: false, message: `The server could not answer (${body.errors?.[0]?.message ?? `HTTP ${response.status}`}).` };
}
