import { canonicalJson } from '../domain/audit/canonical-json.js';
import { SavedIds } from './saved-ids.js';

/** How the documents of a collection are stored: text that is equal exactly when the documents are. */
export interface DocumentCodec<T> {
  encode(doc: T): string;
  decode(text: string): T;
}

/** Canonical JSON: the default codec, for documents that are plain JSON values. */
export const jsonCodec: DocumentCodec<never> = {
  encode: (doc) => canonicalJson(doc),
  decode: (text) => JSON.parse(text) as never,
};

/** A value the store keeps beside a document so list queries can filter and sort on it. */
export type ColumnValue = string | number | undefined;

/** An index column as a function of the document (a method type, so collections stay covariant). */
export type ColumnOf<T> = { column(doc: T): ColumnValue }['column'];

/** A change to persist: the document's new text (and its index columns), or null when it was deleted. */
export interface DocumentChange {
  readonly collection: string;
  readonly id: string;
  readonly doc: string | null;
  /** The index columns' values, in the order the collection declares them (indexed collections only). */
  readonly columns?: readonly ColumnValue[];
}

/**
 * How a collection is kept. Without `columns`/`indexes` it is a plain key-value collection; with
 * them the store keeps those values as real columns of its own table, with composite indexes,
 * written in the same transaction as the document, so list queries are SQL, not a scan in JS.
 */
export interface CollectionSpec<T> {
  readonly codec?: DocumentCodec<T>;
  /** Index columns as functions of the document (`status: (r) => r.status`); `id` is always there. */
  readonly columns?: Readonly<Record<string, ColumnOf<T>>>;
  /** Composite indexes, each a list of column names (`id` may end one to make it unique). */
  readonly indexes?: ReadonlyArray<readonly string[]>;
  /**
   * Kept whole in memory (loaded at start, never paged out): only for collections bounded by open
   * work or by configuration (open approvals, profiles, window buckets), never by history.
   */
  readonly resident?: boolean;
  /** Its ids are run ids: retention drops the document with its run. */
  readonly perRun?: boolean;
  /** A column holding the time (ISO) after which retention may drop the document; empty: never. */
  readonly expiresAt?: string;
  /**
   * Index columns whose combinations of values the store keeps counted as documents are written
   * and deleted: a count whose only filters are equalities on them sums those few combinations
   * instead of walking every matching index entry (which grows with history).
   */
  readonly counted?: readonly string[];
}

/** A keyset list query over a collection's index columns (the store turns it into SQL). */
export interface DocumentQuery {
  /** Column = value. */
  readonly equals?: Readonly<Record<string, string | number>>;
  /** Column >= value. */
  readonly atLeast?: Readonly<Record<string, string | number>>;
  /** Column < value. */
  readonly below?: Readonly<Record<string, string | number>>;
  /** Sort columns (`id` last makes the order total), all ascending or all descending. */
  readonly orderBy?: readonly string[];
  readonly descending?: boolean;
  /** The sort key of the previous page's last row: only rows after it. */
  readonly after?: ReadonlyArray<string | number>;
  readonly limit?: number;
}

/** Where a paged-out collection reads what is not in memory (the read-model store, synchronously). */
export interface DocumentSource {
  get(id: string): string | undefined;
  find(query: DocumentQuery): Array<{ id: string; doc: string }>;
  count(query: DocumentQuery): number;
  /** Every stored document, sorted by id (dumps and tests only). */
  all(): Array<[string, string]>;
}

/** What a collection backed by the store is attached with. */
export interface Backing {
  readonly source: DocumentSource;
  /** Writes the unsaved changes of every projection (so a query in SQL sees them: read-your-writes). */
  readonly flush: () => void;
  /** Most clean decoded documents kept in memory (dirty ones are kept until saved). */
  readonly cacheSize: number;
  /**
   * The collection's stored documents were just dropped (a rebuild): what it has not saved since
   * is known to be absent, so a miss reads the store only for ids it may have saved.
   */
  readonly emptyAtStart?: boolean;
}

/** Default bound of a paged-out collection's cache of decoded documents. */
export const DEFAULT_CACHE_SIZE = 2_000;

/**
 * Documents of one kind keyed by id, with the ids changed since the last save. Evolve functions
 * update documents in place and call `set`/`touch`, so a batch of events costs one write per
 * changed document, not one per event.
 *
 * Unattached (pure folds, tests) or `resident`, every document is in memory. Attached to the
 * read-model store, memory holds only the unsaved documents and a bounded cache of decoded ones
 * (least recently written first out); `get` on a miss reads the row synchronously.
 */
export class Collection<T> {
  readonly codec: DocumentCodec<T>;
  readonly spec: CollectionSpec<T>;
  private readonly docs = new Map<string, T>();
  /** Changed since the last save; an id here but not in `docs` was deleted. */
  private readonly dirty = new Set<string>();
  /** Ids created since the last save (so not stored): deleting one again needs no write. */
  private readonly fresh = new Set<string>();
  private backing: Backing | undefined;
  /** The last id the store did not have: `set` right after a missed `get` needs no second read. */
  private lastMiss: string | undefined;
  /** Attached with `emptyAtStart`: the ids saved since, the only ones worth a read on a miss. */
  private saved: SavedIds | undefined;

  constructor(spec: DocumentCodec<T> | CollectionSpec<T> = {}) {
    this.spec = 'encode' in spec ? { codec: spec } : spec;
    this.codec = this.spec.codec ?? (jsonCodec as DocumentCodec<T>);
  }

  /** Pages this collection out to the store (not for resident ones). */
  attach(backing: Backing): void {
    this.backing = backing;
    this.saved = backing.emptyAtStart ? new SavedIds() : undefined;
  }

  /** Whether misses are filtered by the ids saved since a rebuild emptied the table (until `forgetSaved`). */
  get filtersMisses(): boolean {
    return this.saved !== undefined;
  }

  /**
   * Drops the filter of saved ids (1 MiB) once the rebuild that emptied the table is over: then
   * most ids are saved, so it would answer "maybe" and cost memory for the process's life.
   */
  forgetSaved(): void {
    this.saved = undefined;
  }

  /** Whether the collection reads the store for what it does not hold. */
  get pagedOut(): boolean {
    return this.backing !== undefined;
  }

  get(id: string): T | undefined {
    const doc = this.docs.get(id);
    if (doc !== undefined || this.backing === undefined || this.dirty.has(id)) return doc;
    const text = this.saved && !this.saved.mayHave(id) ? undefined : this.backing.source.get(id);
    if (text === undefined) {
      this.lastMiss = id;
      return undefined;
    }
    const read = this.codec.decode(text);
    this.docs.set(id, read);
    this.trimSoon();
    return read;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** How many documents there are (paged out: saves first, then counts the stored rows). */
  get size(): number {
    if (!this.backing) return this.docs.size;
    this.backing.flush();
    return this.backing.source.count({});
  }

  /** Documents in memory now (cached and unsaved); what the cache bound limits. */
  get resident(): number {
    return this.docs.size;
  }

  /** Stores `doc` under `id` (new or replaced). */
  set(id: string, doc: T): T {
    if (this.dirty.has(id)) {
      // Already written since the last save: it keeps its place (dirty ones are never evicted).
      this.docs.set(id, doc);
      return doc;
    }
    if (!this.docs.has(id) && this.absentFromStore(id)) this.fresh.add(id);
    if (this.backing) this.docs.delete(id); // first written since the last save last: evicted last
    this.docs.set(id, doc);
    this.dirty.add(id);
    return doc;
  }

  /** Marks a document changed in place. */
  touch(id: string): void {
    if (this.dirty.has(id)) return; // moved to the end when it was first written since the save
    const doc = this.docs.get(id);
    if (doc === undefined) return;
    this.dirty.add(id);
    if (this.backing) {
      this.docs.delete(id);
      this.docs.set(id, doc);
    }
  }

  delete(id: string): void {
    const had = this.docs.delete(id);
    if (this.fresh.delete(id)) {
      this.dirty.delete(id);
      return;
    }
    // Paged out, a document not in memory may still be stored: a tombstone deletes it at the save.
    if (had || (this.backing && !this.dirty.has(id))) this.dirty.add(id);
  }

  /** Every document (in memory only: a paged-out collection is listed with `find`). */
  values(): IterableIterator<T> {
    this.assertInMemory('values');
    return this.docs.values();
  }

  entries(): IterableIterator<[string, T]> {
    this.assertInMemory('entries');
    return this.docs.entries();
  }

  /** A keyset page of documents in index order (paged out: saved first, then one SQL query). */
  find(query: DocumentQuery): T[] {
    const backing = this.backing;
    if (!backing) return this.scan(query).slice(0, query.limit ?? Number.POSITIVE_INFINITY).map(([, doc]) => doc);
    backing.flush();
    return backing.source.find(query).map(({ id, doc }) => this.docs.get(id) ?? this.codec.decode(doc));
  }

  /** How many documents match (paged out: one SQL count). */
  count(query: DocumentQuery): number {
    const backing = this.backing;
    if (!backing) return this.scan(query).length;
    backing.flush();
    return backing.source.count(query);
  }

  /** The index column values of a document, in declared order. */
  columnsOf(doc: T): ColumnValue[] | undefined {
    const columns = this.spec.columns;
    return columns ? Object.values(columns).map((f) => f(doc)) : undefined;
  }

  /** Whether something changed since the last `takeChanges`. */
  get changed(): boolean {
    return this.dirty.size > 0;
  }

  /** The encoded changes since the last call, and forgets them. */
  takeChanges(collection: string, into: DocumentChange[]): void {
    const indexed = this.spec.columns !== undefined;
    const saved = this.saved;
    for (const id of this.dirty) {
      const doc = this.docs.get(id);
      saved?.add(id);
      if (doc === undefined) into.push({ collection, id, doc: null });
      else if (indexed) into.push({ collection, id, doc: this.codec.encode(doc), columns: this.columnsOf(doc) });
      else into.push({ collection, id, doc: this.codec.encode(doc) });
    }
    this.clearChanges();
    this.trim();
  }

  /** Forgets pending changes (after they were saved elsewhere or thrown away). */
  clearChanges(): void {
    this.dirty.clear();
    this.fresh.clear();
    this.lastMiss = undefined;
  }

  /** Drops these ids from memory after the store deleted them (retention); they must be saved. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) if (!this.dirty.has(id)) this.docs.delete(id);
    this.lastMiss = undefined;
  }

  /** Puts a stored document back without marking it changed. */
  restore(id: string, text: string): void {
    this.docs.set(id, this.codec.decode(text));
  }

  /** Every document encoded, sorted by id: what "byte for byte equal" compares. */
  dump(): Array<[string, string]> {
    const texts = new Map<string, string>(this.backing ? this.backing.source.all() : []);
    if (this.backing) {
      for (const id of this.dirty) {
        const doc = this.docs.get(id);
        if (doc === undefined) texts.delete(id);
        else texts.set(id, this.codec.encode(doc));
      }
    } else for (const [id, doc] of this.docs) texts.set(id, this.codec.encode(doc));
    return [...texts.keys()].sort().map((id) => [id, texts.get(id) as string]);
  }

  private absentFromStore(id: string): boolean {
    if (!this.backing) return true;
    if (this.lastMiss === id) return true;
    if (this.saved && !this.saved.mayHave(id)) return true;
    return this.backing.source.get(id) === undefined;
  }

  /** After a read: keeps the clean documents within the bound (the least recently written leave). */
  private trimSoon(): void {
    const b = this.backing;
    if (b && this.docs.size - this.dirty.size > b.cacheSize) this.trim();
  }

  /** Evicts the least recently written clean documents (by their first write since a save) until the cache is within its bound. */
  private trim(): void {
    const b = this.backing;
    if (!b) return;
    let over = this.docs.size - this.dirty.size - b.cacheSize;
    if (over <= 0) return;
    for (const id of this.docs.keys()) {
      if (over <= 0) break;
      if (this.dirty.has(id)) continue;
      this.docs.delete(id);
      over--;
    }
  }

  private assertInMemory(what: string): void {
    if (this.backing) throw new Error(`${what}() on a paged-out collection: list it with find()`);
  }

  /** `find` over the documents in memory (pure folds, tests): the same meaning as the store's SQL. */
  private scan(query: DocumentQuery): Array<[ColumnValue[], T]> {
    const names = ['id', ...Object.keys(this.spec.columns ?? {})];
    const col = (name: string): number => {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`no index column ${name}`);
      return i;
    };
    const rows: Array<[ColumnValue[], T]> = [];
    for (const [id, doc] of this.docs) rows.push([[id, ...(this.columnsOf(doc) ?? [])], doc]);
    const tests: Array<(r: ColumnValue[]) => boolean> = [];
    for (const [k, v] of Object.entries(query.equals ?? {})) tests.push((r) => r[col(k)] === v);
    for (const [k, v] of Object.entries(query.atLeast ?? {})) tests.push((r) => r[col(k)] !== undefined && (r[col(k)] as string | number) >= v);
    for (const [k, v] of Object.entries(query.below ?? {})) tests.push((r) => r[col(k)] !== undefined && (r[col(k)] as string | number) < v);
    const order = (query.orderBy ?? ['id']).map(col);
    const sign = query.descending ? -1 : 1;
    const compare = (a: readonly ColumnValue[], b: readonly ColumnValue[]): number => {
      for (let i = 0; i < order.length; i++) {
        const x = a[order[i] as number];
        const y = b[order[i] as number];
        if (x !== y) return (x === undefined ? -1 : y === undefined ? 1 : x < y ? -1 : 1) * sign;
      }
      return 0;
    };
    const after = query.after;
    if (after) {
      const key: ColumnValue[] = [];
      order.forEach((c, i) => (key[c] = after[i]));
      tests.push((r) => compare(r, key) > 0);
    }
    return rows.filter(([r]) => tests.every((t) => t(r))).sort(([a], [b]) => compare(a, b));
  }
}

/** A projection's state: named collections of documents (a projection may keep more in them). */
export type ReadModelState = { readonly [collection: string]: Collection<unknown> };

/** Every document of a state, `collection/id<TAB>text` per line, sorted: one string to compare. */
export function dumpState(state: ReadModelState): string {
  const lines: string[] = [];
  for (const name of Object.keys(state).sort()) {
    for (const [id, text] of (state[name] as Collection<unknown>).dump()) lines.push(`${name}/${id}\t${text}`);
  }
  return lines.join('\n');
}

/** Collects and clears the pending changes of every collection of a state. */
export function takeStateChanges(state: ReadModelState): DocumentChange[] {
  const changes: DocumentChange[] = [];
  for (const name of Object.keys(state).sort()) {
    const collection = state[name] as Collection<unknown>;
    if (collection.changed) collection.takeChanges(name, changes);
  }
  return changes;
}
