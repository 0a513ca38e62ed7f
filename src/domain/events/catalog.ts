import { z } from 'zod';
import { CorruptEventError, ValidationError } from '../errors.js';

/** The lifecycle stages of a run; every event type belongs to exactly one. */
export const Stage = z.enum(['INITIALIZE', 'PLAN', 'ROUTE', 'APPROVE', 'EXECUTE', 'AGGREGATE', 'COMPLETE', 'FAILED']);
export type Stage = z.infer<typeof Stage>;

/** One event type: its stage, its current data schema and that schema's version. */
export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  readonly stage: Stage;
  readonly schema: S;
  readonly version: number;
}

/** Lifts stored data of `type` from `fromVersion` to `fromVersion + 1`. */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  readonly up: (data: unknown) => unknown;
}

/**
 * The event types a store accepts. Validates data on append and, on read, upcasts old schema
 * versions step by step before parsing with the current schema.
 */
export class EventCatalog {
  private readonly upcasters = new Map<string, Upcaster['up']>();

  constructor(
    private readonly definitions: Readonly<Record<string, EventDefinition>>,
    upcasters: readonly Upcaster[] = [],
  ) {
    for (const u of upcasters) {
      const def = definitions[u.type];
      if (!def) throw new Error(`upcaster for unknown event type ${u.type}`);
      if (u.fromVersion < 1 || u.fromVersion >= def.version) {
        throw new Error(`upcaster ${u.type} v${u.fromVersion} is outside 1..${def.version - 1}`);
      }
      const key = upcasterKey(u.type, u.fromVersion);
      if (this.upcasters.has(key)) throw new Error(`two upcasters for ${u.type} v${u.fromVersion}`);
      this.upcasters.set(key, u.up);
    }
  }

  /** The registered event type names. */
  types(): string[] {
    return Object.keys(this.definitions);
  }

  has(type: string): boolean {
    return Object.hasOwn(this.definitions, type);
  }

  /** The definition of `type`, or a ValidationError naming the unknown type. */
  definition(type: string): EventDefinition {
    const def = Object.hasOwn(this.definitions, type) ? this.definitions[type] : undefined;
    if (!def) throw new ValidationError(`unknown event type "${type}"`, { type });
    return def;
  }

  /** The schema version `type` is written with now; undefined for an unknown type. */
  currentVersion(type: string): number | undefined {
    return Object.hasOwn(this.definitions, type) ? this.definitions[type]?.version : undefined;
  }

  stageOf(type: string): Stage {
    return this.definition(type).stage;
  }

  /** Parses data written now with the current schema; throws ValidationError with the issues. */
  validate(type: string, data: unknown, where: string): unknown {
    const result = this.definition(type).schema.safeParse(data);
    if (!result.success) {
      throw new ValidationError(`${where}: ${type} data is invalid: ${formatIssues(result.error)}`, {
        type,
        issues: result.error.issues,
      });
    }
    return result.data;
  }

  /** Parses stored data written with `schemaVersion`, upcasting it first; CorruptEventError on failure. */
  decode(type: string, data: unknown, schemaVersion: number, streamId: string, revision: number): unknown {
    const def = Object.hasOwn(this.definitions, type) ? this.definitions[type] : undefined;
    if (!def) throw new CorruptEventError(streamId, revision, `unknown event type "${type}"`);
    if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > def.version) {
      throw new CorruptEventError(
        streamId,
        revision,
        `${type} schemaVersion ${schemaVersion} is not one this code reads (1..${def.version})`,
      );
    }
    let current = data;
    for (let v = schemaVersion; v < def.version; v++) {
      const up = this.upcasters.get(upcasterKey(type, v));
      if (!up) throw new CorruptEventError(streamId, revision, `no upcaster for ${type} v${v}`);
      current = up(current);
    }
    const result = def.schema.safeParse(current);
    if (!result.success) {
      throw new CorruptEventError(streamId, revision, `${type} data fails its schema: ${formatIssues(result.error)}`);
    }
    return result.data;
  }
}

function upcasterKey(type: string, fromVersion: number): string {
  return `${type}@${fromVersion}`;
}

/** One line per issue, with its path: what a person needs to fix the input. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
