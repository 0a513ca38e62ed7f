import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { TokenEntry } from '../graphql/auth/tokens.js';

/**
 * The part of gatehouse.yaml the server reads itself: `auth.tokens`. The rest of the file
 * (approval policy, profiles, workers) belongs to the orchestrator's config loader; until that
 * lands, the parsed document is handed over untouched through `document`.
 */
export interface ServerConfig {
  readonly path?: string;
  readonly tokens: TokenEntry[];
  readonly document: unknown;
}

const AuthSection = z.object({ auth: z.object({ tokens: z.array(TokenEntry).default([]) }).default({ tokens: [] }) }).loose();

/** Reads gatehouse.yaml (no path: the defaults, no tokens). */
export function loadServerConfig(path: string | undefined): ServerConfig {
  if (!path) return { tokens: [], document: {} };
  if (!existsSync(path)) throw new Error(`GATEHOUSE_CONFIG: no file ${path}`);
  const document = (parse(readFileSync(path, 'utf8')) as unknown) ?? {};
  const result = AuthSection.safeParse(document);
  if (!result.success) throw new Error(`${path}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { path, tokens: result.data.auth.tokens as TokenEntry[], document };
}
