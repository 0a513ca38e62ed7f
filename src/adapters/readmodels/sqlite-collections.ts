import type Database from 'better-sqlite3';
import type { ColumnValue, DocumentQuery, DocumentSource } from '../../projections/documents.js';
import type { CollectionDeclaration } from '../../projections/read-model-store.js';

type Value = string | number | null;

/**
 * One indexed collection in a table of its own: `id`, the document, one real column per declared
 * index column (`c_<name>`) and one composite index per declared index. List queries are keyset
 * SQL over those indexes; a page costs the same with 1,000 or 1,000,000 rows.
 */
export class IndexedCollectionTable implements DocumentSource {
  readonly table: string;
  private readonly columns: readonly string[];
  private readonly expires: string | undefined;
  private readonly getStmt: Database.Statement<[string], string>;
  private readonly upsertStmt: Database.Statement<Value[]>;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly queries = new Map<string, Database.Statement<Value[]>>();
  /** The declared secondary indexes, as `CREATE INDEX IF NOT EXISTS` statements. */
  private readonly indexSql: string[] = [];
  /** The counted columns' names and their table of counts per combination of values (`counted`). */
  private readonly counted: readonly string[];
  private readonly counts: CountTable | undefined;

  /** Creates the table and its indexes if missing; `replaced` says whether an old layout was dropped. */
  readonly replaced: boolean;

  constructor(
    private readonly db: Database.Database,
    declaration: CollectionDeclaration,
  ) {
    const { projection, collection, spec } = declaration;
    this.table = `rm_${`${projection}_${collection}`.replace(/[^A-Za-z0-9]/g, '_')}`;
    this.columns = Object.keys(spec.columns ?? {});
    for (const c of this.columns) if (!/^[A-Za-z][A-Za-z0-9]*$/.test(c) || c === 'id') throw new Error(`bad index column name "${c}"`);
    this.expires = spec.expiresAt;
    if (this.expires !== undefined) this.column(this.expires);
    const wanted = ['id', 'doc', ...this.columns.map((c) => `c_${c}`)];
    const existing = db.prepare<[], string>(`SELECT name FROM pragma_table_info('${this.table}')`).pluck().all();
    this.replaced = existing.length > 0 && existing.join(',') !== wanted.join(',');
    if (this.replaced) db.exec(`DROP TABLE "${this.table}"`);
    db.exec(`CREATE TABLE IF NOT EXISTS "${this.table}" (id TEXT PRIMARY KEY, doc TEXT NOT NULL${this.columns.map((c) => `, "c_${c}"`).join('')})`);
    const indexNames = new Set<string>();
    for (const index of spec.indexes ?? []) {
      const cols = index.map((c) => this.column(c));
      const name = `${this.table}__${index.join('_')}`;
      indexNames.add(name);
      this.indexSql.push(`CREATE INDEX IF NOT EXISTS "${name}" ON "${this.table}" (${cols.join(', ')})`);
    }
    this.createIndexes();
    // Indexes an older declaration made and this one no longer wants: they only cost writes.
    const old = db.prepare<[string], string>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").pluck().all(this.table);
    for (const name of old) if (!indexNames.has(name)) db.exec(`DROP INDEX "${name}"`);
    this.counted = spec.counted ?? [];
    this.counts = this.counted.length > 0 ? new CountTable(db, this.table, this.counted.map((c) => this.column(c)), this.replaced) : undefined;
    // Counts a former declaration kept: their triggers would go on firing (and, next to REPLACE, drift).
    if (!this.counts) dropCountsExcept(db, this.table, new Set());
    this.getStmt = db.prepare<[string], string>(`SELECT doc FROM "${this.table}" WHERE id = ?`).pluck();
    const placeholders = wanted.map(() => '?').join(', ');
    // With counts, an upsert: REPLACE would delete the old row without firing the delete trigger.
    this.upsertStmt = db.prepare<Value[]>(
      this.counts
        ? `INSERT INTO "${this.table}" (${wanted.map((c) => `"${c}"`).join(', ')}) VALUES (${placeholders}) ON CONFLICT(id) DO UPDATE SET ${wanted.slice(1).map((c) => `"${c}" = excluded."${c}"`).join(', ')}`
        : `INSERT OR REPLACE INTO "${this.table}" (${wanted.map((c) => `"${c}"`).join(', ')}) VALUES (${placeholders})`,
    );
    this.deleteStmt = db.prepare<[string]>(`DELETE FROM "${this.table}" WHERE id = ?`);
  }

  get(id: string): string | undefined {
    return this.getStmt.get(id);
  }

  /** Writes a document with its column values (in declared order), or deletes it (`doc` null). */
  write(id: string, doc: string | null, columns: readonly ColumnValue[] | undefined): void {
    if (doc === null) {
      this.deleteStmt.run(id);
      return;
    }
    const values: Value[] = [id, doc];
    for (let i = 0; i < this.columns.length; i++) values.push(columns?.[i] ?? null);
    this.upsertStmt.run(...values);
  }

  deleteId(id: string): void {
    this.deleteStmt.run(id);
  }

  find(query: DocumentQuery): Array<{ id: string; doc: string }> {
    const { sql, params } = this.sql(query, 'id, doc');
    return this.statement(sql).all(...params) as Array<{ id: string; doc: string }>;
  }

  count(query: DocumentQuery): number {
    const { sql, params } = this.countSql(query);
    return (this.statement(sql).get(...params) as { n: number }).n;
  }

  /** EXPLAIN QUERY PLAN of a page query or a count, one line per step (tests and diagnosis). */
  plan(query: DocumentQuery, what: 'find' | 'count'): string[] {
    const { sql, params } = what === 'find' ? this.sql(query, 'id, doc') : this.countSql(query);
    return this.db.prepare<Value[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => r.detail);
  }

  /**
   * A count as SQL: a sum over the counted combinations when its only filters are equalities on
   * counted columns (a few rows, whatever the history), else a count over the best index.
   */
  private countSql(query: DocumentQuery): { sql: string; params: Value[] } {
    const equals = Object.entries(query.equals ?? {});
    const ranged = Object.keys(query.atLeast ?? {}).length > 0 || Object.keys(query.below ?? {}).length > 0 || query.after !== undefined;
    if (this.counts && !ranged && equals.every(([k]) => this.counted.includes(k))) {
      const where = equals.map(([k]) => `${this.column(k)} = ?`);
      return { sql: `SELECT coalesce(sum(n), 0) AS n FROM "${this.counts.table}"${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`, params: equals.map(([, v]) => v) };
    }
    return this.sql({ ...query, orderBy: undefined, limit: undefined, after: undefined }, 'count(*) AS n');
  }

  all(): Array<[string, string]> {
    return this.db.prepare<[], [string, string]>(`SELECT id, doc FROM "${this.table}" ORDER BY id`).raw().all();
  }

  /** Deletes the rows whose expiry column is before `before`; returns their ids. */
  expire(before: string): string[] {
    if (this.expires === undefined) return [];
    const col = this.column(this.expires);
    const ids = this.db.prepare<[string], string>(`SELECT id FROM "${this.table}" WHERE ${col} < ?`).pluck().all(before);
    this.db.prepare<[string]>(`DELETE FROM "${this.table}" WHERE ${col} < ?`).run(before);
    return ids;
  }

  clear(): void {
    // Without its delete trigger the DELETE stays SQLite's truncate (pages dropped whole): a
    // table with a trigger is deleted from row by row.
    this.counts?.suspend();
    this.db.exec(`DELETE FROM "${this.table}"`);
    this.counts?.resume();
  }

  /**
   * Drops the secondary indexes (a rebuild refills the table: one CREATE INDEX over the filled
   * table is far cheaper than keeping every index up to date row by row). Queries stay correct
   * without them, only slower; `createIndexes` puts them back, and so does declaring the table.
   */
  dropIndexes(): void {
    const names = this.db.prepare<[string], string>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").pluck().all(this.table);
    for (const name of names) this.db.exec(`DROP INDEX "${name}"`);
  }

  /** Creates the declared indexes that are missing. */
  createIndexes(): void {
    for (const sql of this.indexSql) this.db.exec(sql);
  }

  private column(name: string): string {
    if (name === 'id') return 'id';
    if (!this.columns.includes(name)) throw new Error(`${this.table} has no index column "${name}"`);
    return `"c_${name}"`;
  }

  private statement(sql: string): Database.Statement<Value[]> {
    let stmt = this.queries.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<Value[]>(sql);
      this.queries.set(sql, stmt);
    }
    return stmt;
  }

  /** The query as SQL: column names checked against the declaration, values bound. */
  private sql(query: DocumentQuery, select: string): { sql: string; params: Value[] } {
    const where: string[] = [];
    const params: Value[] = [];
    for (const [k, v] of Object.entries(query.equals ?? {})) {
      where.push(`${this.column(k)} = ?`);
      params.push(v);
    }
    for (const [k, v] of Object.entries(query.atLeast ?? {})) {
      where.push(`${this.column(k)} >= ?`);
      params.push(v);
    }
    for (const [k, v] of Object.entries(query.below ?? {})) {
      where.push(`${this.column(k)} < ?`);
      params.push(v);
    }
    const order = (query.orderBy ?? ['id']).map((c) => this.column(c));
    const dir = query.descending ? 'DESC' : 'ASC';
    const op = query.descending ? '<' : '>';
    if (query.after) {
      if (query.after.length !== order.length) throw new Error('a keyset cursor has one value per sort column');
      // The bound on the first sort column alone lets SQLite seek its index; the row value is exact.
      where.push(`${order[0]} ${op}= ?`, `(${order.join(', ')}) ${op} (${order.map(() => '?').join(', ')})`);
      params.push(query.after[0] as Value, ...(query.after as Value[]));
    }
    let sql = `SELECT ${select} FROM "${this.table}"${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
    if (query.orderBy) sql += ` ORDER BY ${order.map((c) => `${c} ${dir}`).join(', ')}`;
    if (query.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(query.limit);
    }
    return { sql, params };
  }
}

/**
 * How many rows of a table have each combination of values of some columns, kept by triggers in
 * the same transaction as every insert, update and delete of the table (whichever code path
 * writes it: documents, retention, rebuilds). One row per combination ever seen; `k` is the
 * combination as a JSON array (a primary key, which a NULL in a plain composite key would not be).
 */
class CountTable {
  readonly table: string;
  private readonly deleteTrigger: string;
  private readonly deleteTriggerSql: string;

  constructor(
    private readonly db: Database.Database,
    source: string,
    columns: readonly string[],
    sourceReplaced: boolean,
  ) {
    const suffix = columns.map((c) => c.replace(/^"c_|"$/g, '')).join('_');
    this.table = `${source}__count_${suffix}`;
    const key = (row: 'new' | 'old') => `json_array(${columns.map((c) => `${row}.${c}`).join(', ')})`;
    const add = (row: 'new' | 'old') => `INSERT INTO "${this.table}" (k, ${columns.join(', ')}, n) VALUES (${key(row)}, ${columns.map((c) => `${row}.${c}`).join(', ')}, 1) ON CONFLICT(k) DO UPDATE SET n = n + 1;`;
    const sub = (row: 'new' | 'old') => `UPDATE "${this.table}" SET n = n - 1 WHERE k = ${key(row)};`;
    this.deleteTrigger = `${this.table}__delete`;
    this.deleteTriggerSql = `CREATE TRIGGER IF NOT EXISTS "${this.deleteTrigger}" AFTER DELETE ON "${source}" BEGIN ${sub('old')} END`;
    const triggers = {
      [`${this.table}__insert`]: `CREATE TRIGGER IF NOT EXISTS "${this.table}__insert" AFTER INSERT ON "${source}" BEGIN ${add('new')} END`,
      [this.deleteTrigger]: this.deleteTriggerSql,
      [`${this.table}__update`]: `CREATE TRIGGER IF NOT EXISTS "${this.table}__update" AFTER UPDATE OF ${columns.join(', ')} ON "${source}" WHEN ${columns.map((c) => `old.${c} IS NOT new.${c}`).join(' OR ')} BEGIN ${sub('old')} ${add('new')} END`,
    };
    // Counts and triggers of an older declaration (other columns) only cost writes.
    const mine = new Set([this.table, ...Object.keys(triggers)]);
    const present = dropCountsExcept(db, source, mine);
    // Counted again from the table unless the counts and all their triggers were already there
    // and still add up to the rows. The totals are the marker of an earlier release's writes: its
    // INSERT OR REPLACE deletes the old row without the delete trigger, so each one it made leaves
    // the counts' sum one above count(*). Two index-only aggregates at start, not a GROUP BY.
    const fresh = sourceReplaced || [...mine].some((name) => !present.has(name)) || !this.addsUp(source);
    if (fresh) {
      for (const name of Object.keys(triggers)) db.exec(`DROP TRIGGER IF EXISTS "${name}"`);
      db.exec(`DROP TABLE IF EXISTS "${this.table}"`);
      db.exec(`CREATE TABLE "${this.table}" (k TEXT PRIMARY KEY, ${columns.join(', ')}, n INTEGER NOT NULL)`);
      db.exec(`INSERT INTO "${this.table}" (k, ${columns.join(', ')}, n) SELECT json_array(${columns.join(', ')}), ${columns.join(', ')}, count(*) FROM "${source}" GROUP BY ${columns.join(', ')}`);
    }
    for (const sql of Object.values(triggers)) db.exec(sql);
  }

  private addsUp(source: string): boolean {
    const rows = this.db.prepare<[], number>(`SELECT count(*) FROM "${source}"`).pluck().get();
    const counted = this.db.prepare<[], number>(`SELECT coalesce(sum(n), 0) FROM "${this.table}"`).pluck().get();
    return rows === counted;
  }

  /** Before the source table is emptied: no per-row trigger, and no counts. */
  suspend(): void {
    this.db.exec(`DROP TRIGGER IF EXISTS "${this.deleteTrigger}"`);
    this.db.exec(`DELETE FROM "${this.table}"`);
  }

  /** After it was emptied. */
  resume(): void {
    this.db.exec(this.deleteTriggerSql);
  }
}

/** Drops the count tables and triggers of `source` not in `keep`; returns the names that were there. */
function dropCountsExcept(db: Database.Database, source: string, keep: ReadonlySet<string>): Set<string> {
  const prefix = `${source}__count_`;
  const objects = db.prepare<[], { name: string; type: string }>("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'trigger')").all().filter((o) => o.name.startsWith(prefix));
  for (const o of objects) if (!keep.has(o.name)) db.exec(`DROP ${o.type === 'table' ? 'TABLE' : 'TRIGGER'} IF EXISTS "${o.name}"`);
  return new Set(objects.map((o) => o.name));
}
