/** Keys whose values never reach the log (matched case-insensitively, as whole key or part of it). */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'password',
  'passwd',
  'token',
  'secret',
  'api_key',
  'apikey',
  'authorization',
  'private_key',
  'credential',
  'cookie',
];

export const REDACTED = '[REDACTED]';

/** A reference to a secret, resolved at execution time: `{ "$secret": "NAME" }`. */
export interface SecretRef {
  readonly $secret: string;
}

export function isSecretRef(value: unknown): value is SecretRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { $secret?: unknown }).$secret === 'string'
  );
}

/** Decides which keys are sensitive: the defaults plus configured patterns (substring or /regex/). */
export class SensitiveKeys {
  private readonly substrings: string[];
  private readonly patterns: RegExp[];

  constructor(extra: readonly string[] = [], base: readonly string[] = DEFAULT_SENSITIVE_KEYS) {
    const all = [...base, ...extra];
    this.substrings = all.filter((p) => !isRegexLiteral(p)).map((p) => normalize(p));
    this.patterns = all.filter(isRegexLiteral).map((p) => new RegExp(p.slice(1, p.lastIndexOf('/')), p.slice(p.lastIndexOf('/') + 1) || 'i'));
  }

  matches(key: string): boolean {
    const k = normalize(key);
    return this.substrings.some((s) => k.includes(s)) || this.patterns.some((re) => re.test(key));
  }
}

function isRegexLiteral(p: string): boolean {
  return p.length > 2 && p.startsWith('/') && p.lastIndexOf('/') > 0;
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[-\s]/g, '_');
}

/**
 * A copy of `value` in which every leaf under a sensitive key (at any depth below it, in objects
 * and lists) is replaced by `[REDACTED]`, and every occurrence of a known secret value inside any
 * string is too. Secret references stay as they are: they name a secret, they do not hold it.
 */
export function redact(value: unknown, keys: SensitiveKeys, knownSecrets: readonly string[] = []): unknown {
  const secrets = knownSecrets.filter((s) => s.length >= 4);
  const walk = (v: unknown, sensitive: boolean): unknown => {
    if (v === null || v === undefined) return v; // nothing is held there
    if (Array.isArray(v)) return v.map((x) => walk(x, sensitive));
    if (typeof v === 'object') {
      if (isSecretRef(v)) return v;
      const out: Record<string, unknown> = {};
      // Below a sensitive key the shape is kept but no leaf survives: `{credentials: {user, pass}}`
      // and `{token: {value}}` hold secrets whatever their inner keys are called.
      for (const [k, inner] of Object.entries(v)) out[k] = walk(inner, sensitive || keys.matches(k));
      return out;
    }
    if (sensitive) return REDACTED;
    return typeof v === 'string' && secrets.length > 0 ? scrub(v, secrets) : v;
  };
  return walk(value, false);
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** The paths of literal leaves at any depth under sensitive keys: what must be passed as `{ $secret }` instead. */
export function literalSecretPaths(value: unknown, keys: SensitiveKeys, path = '', sensitive = false): string[] {
  if (value === null || value === undefined || isSecretRef(value)) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => literalSecretPaths(v, keys, `${path}[${i}]`, sensitive));
  if (typeof value !== 'object') return sensitive ? [path] : [];
  return Object.entries(value).flatMap(([k, v]) => literalSecretPaths(v, keys, path ? `${path}.${k}` : k, sensitive || keys.matches(k)));
}

/** Names of every secret an input refers to. */
export function secretNames(value: unknown): string[] {
  if (isSecretRef(value)) return [value.$secret];
  if (Array.isArray(value)) return value.flatMap(secretNames);
  if (value && typeof value === 'object') return Object.values(value).flatMap(secretNames);
  return [];
}

/** The input with every secret reference replaced by its value (for the tool call only). */
export function resolveSecretRefs(value: unknown, lookup: (name: string) => string): unknown {
  if (isSecretRef(value)) return lookup(value.$secret);
  if (Array.isArray(value)) return value.map((v) => resolveSecretRefs(v, lookup));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecretRefs(v, lookup)]));
  return value;
}
