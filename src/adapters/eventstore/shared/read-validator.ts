import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import type { EventCatalog } from '../../../domain/events/index.js';
import { EventMetadata } from '../../../domain/events/metadata.js';

/**
 * A quick "already valid?" check for stored events, compiled by Ajv from the JSON Schema that zod
 * derives from the same schemas (output side: what a parse produced, defaults filled in, no
 * unknown keys). Every stored event passed zod on its way in, so on the way out nearly all pass
 * this check and are used as parsed; whatever fails it (an older schema version, a row changed on
 * disk, anything the JSON Schema cannot say) goes through zod as before, which upcasts, or names
 * the fault. So it only ever answers "yes, zod would return this value unchanged" or "ask zod".
 *
 * One difference it cannot see: zod drops a "__proto__" key, JSON.parse keeps it as an own
 * property; the codec sends JSON text containing that word to zod (see `plainKeys` in codec.ts).
 * test/adapters/read-validator.unit.test.ts holds the two paths to the same results.
 *
 * Validators are compiled per type on first use. A schema zod cannot express as JSON Schema, or
 * Ajv cannot compile, has no quick check: its events always go through zod.
 */
export class ReadValidator {
  // Lengths in code points, as zod 4 counts them (Ajv's default); patterns without the 'u' flag,
  // as the schemas' own regex literals are written. NaN and Infinity are not numbers (as for zod):
  // JSON never holds them, but the append path checks values the domain built.
  private readonly ajv = new Ajv({ strict: false, strictNumbers: true, validateFormats: false, unicodeRegExp: false });
  /** Per type: its current schema version and the check (null: none), found with one lookup per event. */
  private readonly data = new Map<string, { readonly version: number | undefined; readonly check: ValidateFunction | null }>();
  private readonly metadata: ValidateFunction | null;

  constructor(private readonly catalog: EventCatalog) {
    this.metadata = this.compile(EventMetadata);
  }

  /** Whether `metadata` is valid metadata as zod would return it. */
  metadataOk(metadata: unknown): boolean {
    return this.metadata !== null && this.metadata(metadata);
  }

  /** Whether `data` is valid current-version data of `type`, exactly as zod would return it. */
  dataOk(type: string, data: unknown): boolean {
    const { check } = this.entry(type);
    return check !== null && check(data);
  }

  /** Whether `data` was written with the current schema version of `type` and is valid for it, as zod would return it. */
  currentDataOk(type: string, schemaVersion: unknown, data: unknown): boolean {
    const { version, check } = this.entry(type);
    return check !== null && schemaVersion === version && check(data);
  }

  private entry(type: string): { readonly version: number | undefined; readonly check: ValidateFunction | null } {
    let entry = this.data.get(type);
    if (entry === undefined) {
      const known = this.catalog.has(type);
      entry = { version: this.catalog.currentVersion(type), check: known ? this.compile(this.catalog.definition(type).schema) : null };
      this.data.set(type, entry);
    }
    return entry;
  }

  private compile(schema: z.ZodType): ValidateFunction | null {
    try {
      return this.ajv.compile(z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'throw' }));
    } catch {
      return null;
    }
  }
}
