import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { formatIssues } from '../domain/events/index.js';

/** Page sizes: 1..100, 20 when omitted. */
export const First = z.number().int().min(1).max(100).default(20);
export const Cursor = z.string().min(1).max(500);
export const Text = (max: number) => z.string().min(1).max(max);
export const ApprovalId = z.string().min(5).max(200);
export const RunIdArg = z.string().min(1).max(100).regex(/^[A-Za-z0-9_-]+$/, 'run ids use letters, digits, "_" and "-"');

/** Parses resolver arguments with zod; a refusal is BAD_USER_INPUT naming the field. */
export function parseArgs<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  // A nullable scalar argument sent as null means omitted, as a null field of an input object does.
  const result = schema.safeParse(value === null ? undefined : withoutNulls(value));
  if (!result.success) throw new ValidationError(`${what}: ${formatIssues(result.error)}`);
  return result.data;
}

/** Keys whose values are JSON payloads: kept exactly as sent (null included). */
const PAYLOAD_KEYS = new Set(['input', 'editedInput', 'params', 'budget']);

/**
 * GraphQL sends an omitted nullable field as null; zod's optional wants undefined. Drops null
 * fields of input objects (not inside JSON payloads) so one schema serves both.
 */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    out[k] = PAYLOAD_KEYS.has(k) ? v : withoutNulls(v);
  }
  return out as T;
}
