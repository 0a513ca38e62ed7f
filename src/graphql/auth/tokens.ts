import { createHash } from 'node:crypto';
import { TokenEntry } from '../../domain/roles.js';
import type { AuthPrincipal } from '../context.js';

/** Maps bearer tokens to principals; tokens are kept only as hashes. */
export class TokenDirectory {
  private readonly byHash = new Map<string, AuthPrincipal>();

  constructor(entries: readonly TokenEntry[]) {
    for (const raw of entries) {
      const entry = TokenEntry.parse(raw);
      const hash = entry.sha256 ?? sha256(entry.token as string);
      if (this.byHash.has(hash)) throw new Error(`token of ${entry.id} is configured twice`);
      this.byHash.set(hash, { id: entry.id, role: entry.role, isAdmin: entry.role === 'admin', ...(entry.mcpProfile ? { mcpProfile: entry.mcpProfile } : {}) });
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The principal of a token, or undefined when the token is unknown. */
  resolve(token: string): AuthPrincipal | undefined {
    if (token.length === 0 || token.length > 512) return undefined;
    return this.byHash.get(sha256(token));
  }
}

/** `Bearer <token>` → the token; anything else → undefined. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
