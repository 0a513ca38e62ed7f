import { canonicalJson } from '../domain/audit/canonical-json.js';

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

/** A change to persist: the document's new text, or null when it was deleted. */
export interface DocumentChange {
  readonly collection: string;
  readonly id: string;
  readonly doc: string | null;
}

/**
 * Documents of one kind keyed by id, with the ids changed since the last save. Evolve functions
 * update documents in place and call `set`/`touch`, so a batch of events costs one write per
 * changed document, not one per event.
 */
export class Collection<T> {
  private readonly docs = new Map<string, T>();
  private readonly dirty = new Set<string>();
  /** Ids created since the last save (so not stored): deleting one again needs no write. */
  private readonly fresh = new Set<string>();

  constructor(readonly codec: DocumentCodec<T> = jsonCodec as DocumentCodec<T>) {}

  get(id: string): T | undefined {
    return this.docs.get(id);
  }

  has(id: string): boolean {
    return this.docs.has(id);
  }

  get size(): number {
    return this.docs.size;
  }

  /** Stores `doc` under `id` (new or replaced). */
  set(id: string, doc: T): T {
    if (!this.docs.has(id) && !this.dirty.has(id)) this.fresh.add(id);
    this.docs.set(id, doc);
    this.dirty.add(id);
    return doc;
  }

  /** Marks a document changed in place. */
  touch(id: string): void {
    if (this.docs.has(id)) this.dirty.add(id);
  }

  delete(id: string): void {
    if (!this.docs.delete(id)) return;
    if (this.fresh.delete(id)) this.dirty.delete(id);
    else this.dirty.add(id);
  }

  values(): IterableIterator<T> {
    return this.docs.values();
  }

  entries(): IterableIterator<[string, T]> {
    return this.docs.entries();
  }

  /** Whether something changed since the last `takeChanges`. */
  get changed(): boolean {
    return this.dirty.size > 0;
  }

  /** The encoded changes since the last call, and forgets them. */
  takeChanges(collection: string, into: DocumentChange[]): void {
    for (const id of this.dirty) {
      const doc = this.docs.get(id);
      into.push({ collection, id, doc: doc === undefined ? null : this.codec.encode(doc) });
    }
    this.clearChanges();
  }

  /** Forgets pending changes (after they were saved elsewhere or thrown away). */
  clearChanges(): void {
    this.dirty.clear();
    this.fresh.clear();
  }

  /** Puts a stored document back without marking it changed. */
  restore(id: string, text: string): void {
    this.docs.set(id, this.codec.decode(text));
  }

  /** Every document encoded, sorted by id: what "byte for byte equal" compares. */
  dump(): Array<[string, string]> {
    return [...this.docs.keys()].sort().map((id) => [id, this.codec.encode(this.docs.get(id) as T)]);
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
