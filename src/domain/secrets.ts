/**
 * Keys whose values never reach the log: matched as part of a key, ignoring case, compatibility
 * forms (full-width letters), invisible characters and separators (`privateKey`, `private-key`,
 * `PRIVATE.KEY` and `private_key` are one key).
 */
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
  'passphrase',
  'access_key',
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

  /**
   * Whether member `k` of `object` holds a secret: its key is sensitive, or it is the value of a
   * name/value pair whose name is (`{ name: "Authorization", value }`, `{ key: "DB_PASSWORD", value }`).
   */
  holdsSecret(object: Readonly<Record<string, unknown>>, k: string): boolean {
    if (this.matches(k)) return true;
    return PAIR_VALUES.has(k.toLowerCase()) && PAIR_NAMES.some((n) => typeof object[n] === 'string' && this.matches(object[n] as string));
  }
}

const PAIR_NAMES = ['name', 'key', 'header'];
const PAIR_VALUES = new Set(['value', 'values']);

function isRegexLiteral(p: string): boolean {
  return p.length > 2 && p.startsWith('/') && p.lastIndexOf('/') > 0;
}

function normalize(key: string): string {
  // Format characters (zero-width space, soft hyphen) are invisible: a key written with one reads as the key without it.
  return key.normalize('NFKC').toLowerCase().replace(/[\p{Cf}\s_.-]/gu, '');
}

/** `scheme://user:password@`: the password of credentials written into a URL. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:)([^\s/?#@]+)@/gi;

/** Whether a string holds a URL with a password in it. */
function hasUrlPassword(text: string): boolean {
  URL_PASSWORD.lastIndex = 0;
  return URL_PASSWORD.test(text);
}

/**
 * Free text a tool answers or fails with: an Authorization header, a bearer token, `key=value` or
 * `"key": "value"` where the key is sensitive. Only for outputs and errors, whose text nothing runs
 * on (a run's input is refused instead, so a tool never receives a scrubbed value).
 */
function scrubFreeText(text: string, keys: SensitiveKeys): string {
  return text
    .replace(/\b((?:proxy-)?authorization"?\s*[:=]\s*"?)(?:[A-Za-z]+\s+)?[^\s",;&]+/gi, `$1${REDACTED}`)
    .replace(/\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`)
    .replace(/([\w.-]+)("?\s*[=:]\s*"?)([^\s&;,"'}\]]+)/g, (all, k: string, sep: string, v: string) => (v !== REDACTED && keys.matches(k) ? `${k}${sep}${REDACTED}` : all));
}

/**
 * A copy of `value` in which every leaf under a sensitive key (at any depth below it, in objects
 * and lists) is replaced by `[REDACTED]`, and every occurrence of a known secret value inside any
 * string is too. Secret references stay as they are: they name a secret, they do not hold it.
 */
export function redact(value: unknown, keys: SensitiveKeys, knownSecrets: readonly string[] = [], options: { freeText?: boolean } = {}): unknown {
  const secrets = knownSecrets.filter((s) => s.length >= 4);
  const text = (t: string): string => {
    let out = secrets.length > 0 ? scrub(t, secrets) : t;
    if (hasUrlPassword(out)) out = out.replace(URL_PASSWORD, `$1${REDACTED}@`);
    return options.freeText ? scrubFreeText(out, keys) : out;
  };
  const walk = (v: unknown, sensitive: boolean): unknown => {
    if (v === null || v === undefined) return v; // nothing is held there
    if (Array.isArray(v)) return v.map((x) => walk(x, sensitive));
    if (typeof v === 'object') {
      if (isSecretRef(v)) return v;
      const out: Record<string, unknown> = {};
      // Below a sensitive key the shape is kept but no leaf survives: `{credentials: {user, pass}}`
      // and `{token: {value}}` hold secrets whatever their inner keys are called.
      for (const [k, inner] of Object.entries(v)) out[k] = walk(inner, sensitive || keys.holdsSecret(v as Record<string, unknown>, k));
      return out;
    }
    if (sensitive) return REDACTED;
    return typeof v === 'string' ? text(v) : v;
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
  if (typeof value !== 'object') return sensitive || (typeof value === 'string' && hasUrlPassword(value)) ? [path] : [];
  return Object.entries(value).flatMap(([k, v]) => literalSecretPaths(v, keys, path ? `${path}.${k}` : k, sensitive || keys.holdsSecret(value as Record<string, unknown>, k)));
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
