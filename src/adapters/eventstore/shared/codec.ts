import { randomUUID } from 'node:crypto';
import { CorruptEventError, ValidationError } from '../../../domain/errors.js';
import { type EventCatalog, eventCatalog, formatIssues } from '../../../domain/events/index.js';
import { canonicalEventHashes } from '../../../domain/audit/chain.js';
import { canonicalJson } from '../../../domain/audit/canonical-json.js';
import { EventMetadata } from '../../../domain/events/metadata.js';
import type { ChainSigner, EventToAppend, ExpectedRevision, RecordedEvent } from '../../../domain/ports/event-store.js';
import { ReadValidator } from './read-validator.js';

/** Options every adapter shares for what it accepts. */
export interface CodecOptions {
  /** Event types and schemas accepted; defaults to every Gatehouse stream category's events. */
  readonly catalog?: EventCatalog;
  /** Largest serialized event (data + metadata, UTF-8 bytes). Default 1 MiB. */
  readonly maxEventBytes?: number;
}

/** An event that passed validation, with its JSON ready to store. */
export interface PreparedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly dataJson: string;
  readonly metadataJson: string;
}

export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
export const MAX_STREAM_ID_LENGTH = 256;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// No control characters or white space anywhere; `$` first is reserved for system streams.
const STREAM_ID = /^[^$\s\p{Cc}][^\s\p{Cc}]*$/u;

/** Compiled quick checks per catalog, shared by every store in the process (compiling costs milliseconds per type). */
const quickChecks = new WeakMap<EventCatalog, ReadValidator>();

/**
 * Validation on the way in and parsing on the way out, the same for every adapter, so that
 * "what is accepted" and "what a stored event must look like" cannot drift between stores.
 */
export class EventCodec {
  readonly catalog: EventCatalog;
  readonly maxEventBytes: number;

  private readonly quick: ReadValidator;

  constructor(options: CodecOptions = {}) {
    this.catalog = options.catalog ?? eventCatalog;
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    let quick = quickChecks.get(this.catalog);
    if (!quick) quickChecks.set(this.catalog, (quick = new ReadValidator(this.catalog)));
    this.quick = quick;
  }

  /** Checks everything an append needs before any I/O; throws ValidationError, writes nothing. */
  prepareAppend(streamId: string, events: readonly EventToAppend[], expected: ExpectedRevision, chain?: { previousHash: string; sign?: ChainSigner }): PreparedEvent[] {
    validateStreamId(streamId);
    validateExpectedRevision(expected);
    if (!Array.isArray(events) || events.length === 0) {
      throw new ValidationError(`append to ${streamId}: at least one event is needed`);
    }
    if (chain && (typeof expected !== 'number' && expected !== 'no_stream')) {
      throw new ValidationError(`append to ${streamId}: a chained append needs an exact expectedRevision, not ${expected}`);
    }
    if (chain && !/^[0-9a-f]{64}$/.test(chain.previousHash)) throw new ValidationError(`append to ${streamId}: previousHash must be 64 hex digits`);
    let previous = chain?.previousHash;
    const first = expected === 'no_stream' ? 0 : typeof expected === 'number' ? expected + 1 : 0;
    const sign = chain?.sign;
    const prepared: PreparedEvent[] = new Array(events.length);
    for (let index = 0; index < events.length; index++) {
      const one = this.prepareOne(streamId, events[index] as EventToAppend, index, previous, sign, first + index);
      previous = one.metadata.hash;
      prepared[index] = one;
    }
    return prepared;
  }

  private prepareOne(streamId: string, event: EventToAppend, index: number, previousHash: string | undefined, sign: ChainSigner | undefined, revision: number): PreparedEvent {
    const where = `append to ${streamId}, event #${index}`;
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
      throw new ValidationError(`${where}: an event needs a string type`);
    }
    const definition = this.catalog.definition(event.type);
    const id = event.id ?? randomUUID();
    if (typeof id !== 'string' || !UUID.test(id)) {
      throw new ValidationError(`${where}: event id must be a UUID`, { id });
    }
    // A chained event is stored in its canonical form: the text the hash covers is the text stored,
    // written once (the key order of stored data carries no meaning; readers get the same values).
    const write = previousHash !== undefined ? canonicalJson : JSON.stringify;
    let data: unknown = event.data;
    let dataJson = tryWrite(write, data);
    // What the domain produced is nearly always already what zod would return (see ReadValidator):
    // then the Ajv check stands in for zod's copy; anything else goes through zod as before (and
    // zod names what is wrong before a failed write does). A "__proto__" key, which zod drops, goes
    // to zod, and so does anything that is not plain objects, arrays and primitives (a Map or a Date
    // passes Ajv's "object" where zod refuses it).
    if (dataJson === undefined || dataJson.includes('__proto__') || !plainData(data) || !this.quick.dataOk(event.type, data)) {
      data = this.catalog.validate(event.type, data, where);
      dataJson = serialize(write, data, where);
    }
    const candidate = { schemaVersion: definition.version, ...event.metadata };
    let metadata: EventMetadata;
    if (this.quick.metadataOk(candidate)) {
      metadata = candidate as EventMetadata;
    } else {
      const parsedMeta = EventMetadata.safeParse(candidate);
      if (!parsedMeta.success) {
        throw new ValidationError(`${where}: metadata is invalid: ${formatIssues(parsedMeta.error)}`);
      }
      metadata = parsedMeta.data;
    }
    if (metadata.schemaVersion !== definition.version) {
      throw new ValidationError(
        `${where}: ${event.type} is written with schemaVersion ${definition.version}, not ${metadata.schemaVersion}`,
      );
    }
    // The chain covers exactly what is stored: the parsed data (defaults applied) and metadata. A
    // signature is made here, where the previous hash is known, and is itself covered by the hash.
    let storedHash: string | undefined;
    if (previousHash !== undefined) {
      const signed = sign?.({ previousHash, revision, index, type: event.type, data, metadata, canonicalData: dataJson });
      if (signed?.signature !== undefined || signed?.seal !== undefined) {
        metadata = { ...metadata, ...(signed.signature !== undefined ? { signature: signed.signature } : {}), ...(signed.seal !== undefined ? { seal: signed.seal } : {}) };
      }
      const hashes = canonicalEventHashes(previousHash, event.type, dataJson, metadata);
      metadata = { ...metadata, hash: hashes.hex };
      storedHash = hashes.base64url;
    }
    const metadataJson = JSON.stringify(storedMetadata(streamId, metadata, storedHash));
    // UTF-16 length bounds the UTF-8 size within a factor of 3: count bytes only when it matters.
    const roughMax = (dataJson.length + metadataJson.length) * 3;
    if (roughMax > this.maxEventBytes) {
      const bytes = Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson);
      if (bytes > this.maxEventBytes) {
        throw new ValidationError(`${where}: event is ${bytes} bytes, over the limit of ${this.maxEventBytes}`, {
          bytes,
          limit: this.maxEventBytes,
        });
      }
    }
    return { id, type: event.type, data, metadata, dataJson, metadataJson };
  }

  /** Turns a stored row into a RecordedEvent, upcasting and parsing; CorruptEventError names it. */
  decode(row: StoredRow): RecordedEvent {
    return this.decodeFields(row.id, row.streamId, row.revision, row.position, row.type, row.data, row.metadata, row.recordedAt);
  }

  /** The same as `decode`, for hot read paths that should not build an intermediate row. */
  decodeFields(
    id: string,
    streamId: string,
    revision: number,
    position: string,
    type: string,
    data: unknown,
    metadata: unknown,
    recordedAt: Date,
  ): RecordedEvent {
    const rawMeta = typeof metadata === 'string' ? withStoredDefaults(streamId, parseJson(metadata, streamId, revision, 'metadata')) : metadata;
    const rawData = typeof data === 'string' ? parseJson(data, streamId, revision, 'data') : data;
    const quick = this.quick;
    if (
      typeof data === 'string' &&
      typeof metadata === 'string' &&
      plainKeys(data) &&
      plainKeys(metadata) &&
      quick.metadataOk(rawMeta) &&
      quick.currentDataOk(type, (rawMeta as EventMetadata).schemaVersion, rawData)
    ) {
      // What zod would return unchanged (see ReadValidator): no need to copy it through zod.
      return { id, streamId, revision, position, type, data: rawData, metadata: rawMeta as EventMetadata, recordedAt };
    }
    const meta = EventMetadata.safeParse(rawMeta);
    if (!meta.success) {
      throw new CorruptEventError(streamId, revision, `metadata fails its schema: ${formatIssues(meta.error)}`);
    }
    return {
      id,
      streamId,
      revision,
      position,
      type,
      data: this.catalog.decode(type, rawData, meta.data.schemaVersion, streamId, revision),
      metadata: meta.data,
      recordedAt,
    };
  }
}

/** A row as an adapter read it; data and metadata as JSON text or already-parsed values. */
export interface StoredRow {
  readonly id: string;
  readonly streamId: string;
  readonly revision: number;
  readonly position: string;
  readonly type: string;
  readonly data: string | unknown;
  readonly metadata: string | unknown;
  readonly recordedAt: Date;
}

/**
 * Whether the JSON text surely has no "__proto__" key, which zod drops and JSON.parse keeps as an
 * own property: text with that word or with any \u escape (which could spell it) goes to zod.
 * JSON.stringify writes \u only for control characters and lone surrogates, so this is rare.
 */
function plainKeys(text: string): boolean {
  return !text.includes('__proto__') && !text.includes('\\u');
}

/**
 * The actor left out of stored metadata: the engine's own (most of a run's events), so a row that
 * has no actor was written by the engine. The value of the orchestrator's ENGINE_ACTOR; a row
 * written with it stays readable if that constant ever changes, because the row then carries it.
 */
const STORED_DEFAULT_ACTOR = 'system:engine';
/**
 * 43 base64url characters whose last one leaves its 2 spare bits at zero (A E I M … 0 4 8: values
 * divisible by 4): exactly the texts that are the one canonical encoding of 32 bytes, checked
 * without decoding and encoding again (that round trip was most of the stored-hash check's cost).
 */
const BASE64URL_HASH = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * The metadata as stored as text: what every event of a stream repeats is left out, and put back on
 * read (withStoredDefaults) before anything checks or hashes it. `correlationId` when it is the
 * stream's id after its category (a run's events: `run-<id>` → `<id>`), `schemaVersion` when it is 1,
 * `actor` when it is the engine's. The chain's `hash` is written as base64url (43 characters for its
 * 32 bytes instead of 64 hex digits) and read back as hex. Rows written before this carry every
 * field and a hex hash, and are read as they are.
 */
function storedMetadata(streamId: string, metadata: EventMetadata, storedHash: string | undefined): Record<string, unknown> {
  const own = streamOwner(streamId);
  const out: Record<string, unknown> = {};
  for (const k in metadata) {
    const v = metadata[k as keyof EventMetadata];
    if ((k === 'correlationId' && v === own) || (k === 'schemaVersion' && v === 1) || (k === 'actor' && v === STORED_DEFAULT_ACTOR)) continue;
    out[k] = k === 'hash' ? (storedHash ?? v) : v;
  }
  return out;
}

/** Parsed stored metadata with what storedMetadata left out put back (absent keys only) and the hash as hex. */
function withStoredDefaults(streamId: string, raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const meta = raw as Record<string, unknown>;
  const hash = meta.hash;
  const shortHash = typeof hash === 'string' && hash.length === 43;
  const hasCorrelation = Object.hasOwn(meta, 'correlationId');
  const hasVersion = Object.hasOwn(meta, 'schemaVersion');
  const hasActor = Object.hasOwn(meta, 'actor');
  if (hasCorrelation && hasVersion && hasActor && !shortHash) return meta;
  const own = streamOwner(streamId);
  // The usual row (a run's event at version 1): one literal with one spread, which V8 copies fast
  // and with the same key order as below; the general form with conditional spreads cost about
  // 5 % of a rebuild's self time.
  const out: Record<string, unknown> =
    own !== undefined && !hasCorrelation && !hasVersion
      ? hasActor
        ? { correlationId: own, schemaVersion: 1, ...meta }
        : { correlationId: own, schemaVersion: 1, actor: STORED_DEFAULT_ACTOR, ...meta }
      : {
          ...(own !== undefined && !hasCorrelation ? { correlationId: own } : {}),
          ...(hasVersion ? {} : { schemaVersion: 1 }),
          ...(hasActor ? {} : { actor: STORED_DEFAULT_ACTOR }),
          ...meta,
        };
  if (shortHash) out.hash = hexOfStoredHash(hash);
  return out;
}

/**
 * The hex form of a base64url hash, only if the text is the one canonical encoding of its bytes
 * (base64url's last character has spare bits: a rewritten text with the same bytes is left as it
 * is, and the metadata schema then refuses it as corrupt rather than repairing it silently).
 */
function hexOfStoredHash(text: string): string {
  return BASE64URL_HASH.test(text) ? Buffer.from(text, 'base64url').toString('hex') : text;
}

/** The id after a stream's category (`run-r1` → `r1`), if it has one. */
function streamOwner(streamId: string): string | undefined {
  const dash = streamId.indexOf('-');
  return dash > 0 && dash < streamId.length - 1 ? streamId.slice(dash + 1) : undefined;
}

/** JSON text of an event's data; what cannot be written (a cycle, a BigInt) is a ValidationError. */
function serialize(write: (value: unknown) => string | undefined, data: unknown, where: string): string {
  try {
    return write(data) ?? 'null';
  } catch (error) {
    // canonicalJson recurses, so a cycle overflows its stack: JSON.stringify's message names the cycle.
    let reason = (error as Error).message;
    try {
      JSON.stringify(data);
    } catch (plain) {
      reason = (plain as Error).message;
    }
    throw new ValidationError(`${where}: data is not JSON-serializable: ${reason}`);
  }
}

/** Whether a value is made of plain objects, arrays and primitives only (what JSON.parse makes). */
function plainData(value: unknown): boolean {
  if (typeof value === 'function') return false;
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    if ((value as { toJSON?: unknown }).toJSON !== undefined) return false; // an array with its own toJSON is not what JSON.parse makes
    for (const v of value) if (!plainData(v)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const k of Object.keys(value)) if (!plainData((value as Record<string, unknown>)[k])) return false;
  return true;
}

/** The JSON text, or undefined where none can be written (zod then says what is wrong). */
function tryWrite(write: (value: unknown) => string | undefined, data: unknown): string | undefined {
  try {
    return write(data);
  } catch {
    return undefined;
  }
}

function parseJson(text: string, streamId: string, revision: number, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CorruptEventError(streamId, revision, `${what} is not JSON: ${(error as Error).message}`);
  }
}

/** Stream names: 1 to 256 characters, no white space or control characters, not starting with `$`. */
export function validateStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new ValidationError('stream id must be a non-empty string');
  }
  if (streamId.length > MAX_STREAM_ID_LENGTH) {
    throw new ValidationError(`stream id is ${streamId.length} characters, over the limit of ${MAX_STREAM_ID_LENGTH}`);
  }
  if (!STREAM_ID.test(streamId)) {
    throw new ValidationError(
      `stream id "${streamId}" may not start with "$" or contain white space or control characters`,
    );
  }
}

function validateExpectedRevision(expected: ExpectedRevision): void {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return;
  throw new ValidationError(`expectedRevision must be any, no_stream, stream_exists or a revision >= 0`, {
    expected,
  });
}
