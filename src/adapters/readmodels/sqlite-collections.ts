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
    this.getStmt = db.prepare<[string], string>(`SELECT doc FROM "${this.table}" WHERE id = ?`).pluck();
    const placeholders = wanted.map(() => '?').join(', ');
    this.upsertStmt = db.prepare<Value[]>(`INSERT OR REPLACE INTO "${this.table}" (${wanted.map((c) => `"${c}"`).join(', ')}) VALUES (${placeholders})`);
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
    const { sql, params } = this.sql({ ...query, orderBy: undefined, limit: undefined }, 'count(*) AS n');
    return (this.statement(sql).get(...params) as { n: number }).n;
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
    this.db.exec(`DELETE FROM "${this.table}"`);
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
