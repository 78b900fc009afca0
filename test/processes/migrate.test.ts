/**
 * First use of a fresh database by several processes at once: one migrates, the others wait and find nothing to
 * do, and knex's lock is left as it should be (one row, free).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createQueue, type Queue } from '../../src/queue/queue.ts';
import { DIALECTS, dropCreatedDatabases, freshDatabase, type Dialect } from '../helpers/databases.ts';
import { runCli } from './cli-helpers.ts';

afterAll(dropCreatedDatabases);

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  it('six processes starting on a fresh database at once all succeed, and leave one free lock row', async () => {
    for (let round = 0; round < 2; round++) {
      const db = await freshDatabase(dialect);
      const results = await Promise.all(Array.from({ length: 6 }, () => runCli(['--db', db, 'migrate', '--json'])));
      for (const r of results) expect(r.stderr, `exit ${r.code}`).toBe('');
      expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
      // Exactly one of them applied the migrations; the rest found nothing to do.
      expect(results.filter((r) => JSON.parse(r.stdout).applied.length > 0)).toHaveLength(1);
      const q = await createQueue({ db });
      try {
        expect(await q.knex('signalq_migrations_lock').select('is_locked')).toEqual([{ is_locked: 0 }]);
        expect((await q.enqueue('t', { round })).created).toBe(true);
      } finally {
        await q.close();
      }
    }
  });

  it('two lock rows left by racing first uses (an older version) do not block the next migration', async () => {
    const q = await lockTableWith(dialect, [{ is_locked: 0 }, { is_locked: 0 }]);
    expect((await q.migrate()).length).toBeGreaterThan(0);
    expect(await q.knex('signalq_migrations_lock').select('is_locked')).toEqual([{ is_locked: 0 }]);
  });

  it('a lock left set by a killed migration is freed on MySQL (no one else can be migrating); SQLite says what to do', async () => {
    const q = await lockTableWith(dialect, [{ is_locked: 1 }]);
    if (dialect === 'mysql') {
      expect((await q.migrate()).length).toBeGreaterThan(0);
      expect(await q.knex('signalq_migrations_lock').select('is_locked')).toEqual([{ is_locked: 0 }]);
    } else {
      // SQLite has no server-side lock to prove that no one else is migrating: it waits, then says what to do.
      await expect(q.migrate()).rejects.toThrow(/migrate:unlock/);
    }
  }, 30_000);
});

const opened: Queue[] = [];
afterEach(async () => {
  for (const q of opened.splice(0)) await q.close();
});

/** A queue on a fresh database whose knex lock table holds these rows (no migration applied yet). */
async function lockTableWith(dialect: Dialect, rows: { is_locked: number }[]): Promise<Queue> {
  const q = await createQueue({ db: await freshDatabase(dialect) });
  opened.push(q);
  await q.knex.schema.createTable('signalq_migrations_lock', (t) => {
    t.increments('index').primary();
    t.integer('is_locked');
  });
  await q.knex('signalq_migrations_lock').insert(rows);
  return q;
}
