import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedCollectionTable } from '../../src/adapters/readmodels/sqlite-collections.js';
import type { DocumentQuery } from '../../src/projections/documents.js';
import { runsProjection } from '../../src/projections/index.js';
import { tempDir } from '../support/temp.js';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'];
const PROFILES = ['technical', 'smb', 'enterprise'];
const REQUESTERS = ['alice', 'dana', 'carol', undefined];
const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (i: number) => new Date(T0 + i * 60_000).toISOString();

/** The runs table as the server declares it (the runs projection's own spec), on a file. */
function runsTable(path: string): { db: Database.Database; table: IndexedCollectionTable } {
  const db = new Database(path);
  const table = new IndexedCollectionTable(db, { projection: 'runs', collection: 'runs', spec: runsProjection.initialState().runs.spec });
  return { db, table };
}

/** Writes run `i` with its column values in the runs spec's order (status, profile, requester, startedAt, retireAt). */
function write(table: IndexedCollectionTable, i: number, status: string, startedAt = iso(i)): void {
  const settled = status === 'SUCCEEDED' || status === 'PARTIAL';
  table.write(`r${i}`, '{}', [status, PROFILES[i % 3], REQUESTERS[i % 4], startedAt, settled ? startedAt : undefined]);
}

/** Every filter `runs(...)` offers, alone and combined, as the read model builds its query. */
function filters(): DocumentQuery[] {
  const out: DocumentQuery[] = [];
  for (const status of [undefined, 'FAILED'])
    for (const profile of [undefined, 'smb'])
      for (const requester of [undefined, 'dana'])
        for (const [after, before] of [[undefined, undefined], [iso(500), undefined], [undefined, iso(900)], [iso(500), iso(900)]]) {
          const equals: Record<string, string> = {};
          if (status) equals.status = status;
          if (profile) equals.profile = profile;
          if (requester) equals.requester = requester;
          out.push({ equals, atLeast: after ? { startedAt: after } : undefined, below: before ? { startedAt: before } : undefined });
        }
  return out;
}

describe('the runs table: query plans and counts', () => {
  const tmp = tempDir('gatehouse-plans-');
  afterAll(() => tmp.remove());

  it('every runs(...) page is read through an index, newest first without a sort, on the first page and after a cursor', () => {
    const { db, table } = runsTable(join(tmp.dir, 'plans.sqlite'));
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) write(table, i, STATUSES[i % 5] as string);
    })();
    db.exec('ANALYZE');
    for (const q of filters()) {
      for (const page of [{ ...q, orderBy: ['startedAt', 'id'], descending: true, limit: 21 }, { ...q, orderBy: ['startedAt', 'id'], descending: true, limit: 21, after: [iso(800), 'r800'] }]) {
        const plan = table.plan(page, 'find');
        expect(plan.join(' | '), JSON.stringify(page)).not.toMatch(/TEMP B-TREE/);
        expect(plan.join(' | '), JSON.stringify(page)).toMatch(/USING INDEX/);
        expect(plan.join(' | ')).not.toMatch(/SCAN rm_runs_runs( |$)(?!USING)/);
      }
    }
    db.close();
  });

  it('a count filtered only by status, profile and requester reads the counts per combination, not the runs', () => {
    const { db, table } = runsTable(join(tmp.dir, 'count-plans.sqlite'));
    for (const q of filters().filter((f) => !f.atLeast && !f.below)) {
      const plan = table.plan(q, 'count');
      expect(plan.join(' | '), JSON.stringify(q)).toMatch(/rm_runs_runs__count_/);
      expect(plan.join(' | '), JSON.stringify(q)).not.toMatch(/rm_runs_runs( |$)/);
    }
    // With a time range it counts the index entries in that range.
    expect(table.plan({ equals: { profile: 'smb' }, atLeast: { startedAt: iso(5) } }, 'count').join(' | ')).toMatch(/COVERING INDEX rm_runs_runs__profile_startedAt_id/);
    db.close();
  });

  it('the counts equal count(*) over the rows through inserts, status changes, deletes, retention, a clear and a reopen', () => {
    const path = join(tmp.dir, 'counts.sqlite');
    let { db, table } = runsTable(path);
    const check = (what: string) => {
      for (const q of filters()) {
        const where = [
          ...Object.entries(q.equals ?? {}).map(([k, v]) => `"c_${k}" = '${v}'`),
          ...(q.atLeast ? [`c_startedAt >= '${q.atLeast.startedAt}'`] : []),
          ...(q.below ? [`c_startedAt < '${q.below.startedAt}'`] : []),
        ];
        const want = db.prepare<[], number>(`SELECT count(*) FROM rm_runs_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`).pluck().get();
        expect(table.count(q), `${what}: ${JSON.stringify(q)}`).toBe(want);
      }
    };
    // One transaction per step, as the store saves (and a file commit per row would take seconds).
    const step = (what: string, change: () => void) => {
      db.transaction(change)();
      check(what);
    };
    step('inserted', () => {
      for (let i = 0; i < 1_000; i++) write(table, i, 'RUNNING');
    });
    step('updated', () => {
      for (let i = 0; i < 1_000; i += 2) write(table, i, STATUSES[(i >> 1) % 5] as string);
      for (let i = 1; i < 1_000; i += 3) write(table, i, 'RUNNING'); // written again, unchanged
    });
    step('deleted', () => {
      for (let i = 0; i < 1_000; i += 7) table.deleteId(`r${i}`);
      table.write('r1', null, undefined);
    });
    const expired = table.expire(iso(400));
    expect(expired.length).toBeGreaterThan(0);
    check('expired');
    db.close();
    // Reopened: the counts are kept, not recounted, and still right.
    ({ db, table } = runsTable(path));
    check('reopened');
    db.transaction(() => {
      for (let i = 1_000; i < 1_100; i++) write(table, i, 'FAILED');
    })();
    check('grown after reopening');
    db.exec('DELETE FROM rm_runs_runs__count_status_profile_requester');
    db.close();
    // Counts that went missing or wrong (a trigger dropped, say) are not trusted: dropped triggers make them recount.
    const raw = new Database(path);
    raw.exec('DROP TRIGGER rm_runs_runs__count_status_profile_requester__update');
    raw.close();
    ({ db, table } = runsTable(path));
    check('recounted');
    table.clear();
    check('cleared');
    db.transaction(() => {
      for (let i = 0; i < 50; i++) write(table, i, 'SUCCEEDED');
    })();
    check('refilled');
    db.close();
    // A declaration without `counted` drops the counts and their triggers (they would drift beside
    // REPLACE); declared again, they are counted afresh.
    const plain = new Database(path);
    const spec = runsProjection.initialState().runs.spec;
    const uncounted = new IndexedCollectionTable(plain, { projection: 'runs', collection: 'runs', spec: { ...spec, counted: undefined } });
    expect(plain.prepare<[], string>("SELECT name FROM sqlite_master WHERE name LIKE '%\\_\\_count\\_%' ESCAPE '\\'").pluck().all()).toEqual([]);
    uncounted.write('r1', '{}', ['FAILED', 'smb', 'dana', iso(1), undefined]);
    plain.close();
    ({ db, table } = runsTable(path));
    check('counted again');
    db.close();
  });

  it('counts a release before them drifted with INSERT OR REPLACE (no delete trigger fires) are found at the next declaration and recounted', () => {
    const path = join(tmp.dir, 'replaced.sqlite');
    let { db, table } = runsTable(path);
    db.transaction(() => {
      for (let i = 0; i < 300; i++) write(table, i, 'RUNNING');
    })();
    db.close();
    // An earlier Gatehouse on the same file: its document writes are REPLACEs; the insert trigger
    // counts the new row, nothing uncounts the one it deleted.
    const old = new Database(path);
    const replace = old.prepare("INSERT OR REPLACE INTO rm_runs_runs (id, doc, c_status, c_profile, c_requester, c_startedAt, c_retireAt) VALUES (?, '{}', ?, ?, ?, ?, ?)");
    old.transaction(() => {
      for (let i = 0; i < 300; i += 3) replace.run(`r${i}`, 'SUCCEEDED', PROFILES[i % 3], REQUESTERS[i % 4] ?? null, iso(i), iso(i));
      for (let i = 1; i < 300; i += 3) replace.run(`r${i}`, 'RUNNING', PROFILES[i % 3], REQUESTERS[i % 4] ?? null, iso(i), null);
      replace.run('r1000', 'FAILED', 'smb', 'dana', iso(1000), null);
    })();
    old.close();
    ({ db, table } = runsTable(path));
    const want = (status: string) => db.prepare<[string], number>('SELECT count(*) FROM rm_runs_runs WHERE c_status = ?').pluck().get(status);
    for (const status of ['RUNNING', 'SUCCEEDED', 'FAILED']) expect(table.count({ equals: { status } }), status).toBe(want(status));
    expect(table.count({})).toBe(301);
    expect(table.count({ equals: { profile: 'smb', requester: 'dana' } })).toBe(db.prepare<[], number>("SELECT count(*) FROM rm_runs_runs WHERE c_profile = 'smb' AND c_requester = 'dana'").pluck().get());
    db.close();
  });
});
