import { z } from 'zod';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { keyIdOf } from '../domain/audit/chain.js';
import { type ChainEvent, type VerifyReport, verifyStream } from '../domain/audit/verify.js';
import { runStreamId } from '../domain/run/state.js';

export const EXPORT_FORMAT = 'gatehouse-audit/1';

const Header = z.object({
  format: z.literal(EXPORT_FORMAT),
  runId: z.string(),
  streamId: z.string(),
  events: z.number().int().nonnegative(),
  exportedAt: z.string(),
  publicKey: z.string().nullable(),
});
const Line = z.object({
  revision: z.number().int().nonnegative(),
  position: z.string(),
  type: z.string(),
  recordedAt: z.string(),
  data: z.unknown(),
  metadata: z.record(z.string(), z.unknown()),
});

/** A run's stream as JSON Lines: a header (with the audit public key, as a hint), then one event a line. */
export async function exportRun(store: EventStore, runId: string, options: { publicKeyPem?: string; now?: Date } = {}): Promise<string> {
  const events = await store.readStream(runStreamId(runId));
  if (events.length === 0) throw new NotFoundError(`no run ${runId} to export`);
  const header = { format: EXPORT_FORMAT, runId, streamId: runStreamId(runId), events: events.length, exportedAt: (options.now ?? new Date()).toISOString(), publicKey: options.publicKeyPem ?? null };
  const lines = events.map((e) => JSON.stringify({ revision: e.revision, position: e.position, type: e.type, recordedAt: e.recordedAt.toISOString(), data: e.data, metadata: e.metadata }));
  return `${[JSON.stringify(header), ...lines].join('\n')}\n`;
}

/** Reads an export back; a line that is not what an export writes is an error naming the line. */
export function parseExport(text: string): { header: z.infer<typeof Header>; events: ChainEvent[] } {
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const parse = <T>(schema: z.ZodType<T>, line: string | undefined, n: number): T => {
    let value: unknown;
    try {
      value = JSON.parse(line ?? '');
    } catch {
      throw new ValidationError(`line ${n}: not JSON`);
    }
    const result = schema.safeParse(value);
    if (!result.success) throw new ValidationError(`line ${n}: not a ${n === 1 ? 'Gatehouse audit header' : 'Gatehouse audit event'} (${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message})`);
    return result.data;
  };
  const header = parse(Header, lines[0], 1);
  const events = lines.slice(1).map((l, i) => parse(Line, l, i + 2));
  return { header, events };
}

/** What an offline verification trusts: keys and fingerprints given by the verifier, never the file. */
export interface ExportTrust {
  /** Pinned public keys (PEM). */
  readonly publicKeys?: readonly string[];
  /** Pinned key ids (SHA-256 of the public key's DER): the header's key is used only if it has one of them. */
  readonly fingerprints?: readonly string[];
  /** Accept an export that does not end in a seal (an unfinished run). */
  readonly allowUnsealed?: boolean;
}

/**
 * Verifies an export offline: its chain, its grants, its seal, and its signatures with the pinned
 * keys. The key in the header is a hint, used only when its fingerprint is pinned: a file re-signed
 * by someone else carries their key, so trusting it would prove nothing.
 */
export function verifyExport(text: string, trust: ExportTrust = {}): VerifyReport & { runId: string; declaredEvents: number } {
  const { header, events } = parseExport(text);
  const fingerprints = new Set((trust.fingerprints ?? []).map((f) => f.trim().toLowerCase().replace(/^sha256:/, '')).filter((f) => f.length > 0));
  const headerKeyId = header.publicKey ? safeKeyId(header.publicKey) : undefined;
  const headerKey = header.publicKey && headerKeyId !== undefined && fingerprints.has(headerKeyId) ? [header.publicKey] : [];
  // The header is not trusted either: the run it names must be the one the events (and signatures) are of.
  const report = verifyStream(events, { publicKeys: [...(trust.publicKeys ?? []), ...headerKey], allowUnsealed: trust.allowUnsealed, runId: header.runId });
  if (report.ok && header.streamId !== runStreamId(header.runId)) {
    return { ...report, ok: false, runId: header.runId, declaredEvents: header.events, finding: { revision: 0, kind: 'misplaced', reason: `the header names stream ${header.streamId} for run ${header.runId}` } };
  }
  if (report.ok && header.events !== events.length) {
    return { ...report, ok: false, runId: header.runId, declaredEvents: header.events, finding: { revision: events.length, kind: 'removed', reason: `the header declares ${header.events} events, the file has ${events.length}` } };
  }
  return { ...report, runId: header.runId, declaredEvents: header.events };
}

/** The header key's id, or undefined when it is not a key (an unreadable header key matches no pin). */
function safeKeyId(pem: string): string | undefined {
  try {
    return keyIdOf(pem);
  } catch {
    return undefined;
  }
}

/**
 * Verifies a run's stream as stored, with the given keys (a server passes its own): what the
 * console's audit panel shows. An unfinished run may be unsealed (the report says so); a finished
 * one must end in a seal. A run with no events is a NotFoundError naming it (NOT_FOUND, as the API answers for a missing run).
 */
export async function verifyStoredRun(store: EventStore, runId: string, publicKeys: readonly string[]): Promise<VerifyReport> {
  const events = await store.readStream(runStreamId(runId));
  if (events.length === 0) throw new NotFoundError(`no run ${runId} to verify`);
  const chain = events.map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> }));
  return verifyStream(chain, { publicKeys, allowUnsealed: true, runId });
}
