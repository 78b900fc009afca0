/**
 * migrateToLatest on MySQL, where a named lock (GET_LOCK) lets one process migrate at a time: what a process does
 * before it holds that lock must not touch knex's tables, which the holder may be half-way through setting up.
 */
import { describe, expect, it } from 'vitest';
import { dialectOf } from '../../src/db/dialect.ts';
import { MIGRATIONS_TABLE, migrateToLatest } from '../../src/db/migrate.ts';
import { createQueue } from '../../src/queue/queue.ts';
import { freshDatabase } from '../helpers/databases.ts';

const LOCK_TABLE = `${MIGRATIONS_TABLE}_lock`;

describe('migrateToLatest on mysql', () => {
  it("writes nothing before it holds the named lock: a migration between creating knex's lock table and its row keeps one row", async () => {
    const q = await createQueue({ db: await freshDatabase('mysql'), migrate: false });
    const { knex } = q;
    let release: (() => void) | undefined;
    let migrating: Promise<string[]> | undefined;
    try {
      // Where the process holding the named lock stands: knex has created its two tables, not yet the lock row.
      await knex.schema.createTable(MIGRATIONS_TABLE, (t) => {
        t.increments();
        t.string('name');
        t.integer('batch');
        t.timestamp('migration_time');
      });
      await knex.schema.createTable(LOCK_TABLE, (t) => {
        t.increments('index').primary();
        t.integer('is_locked');
      });
      const lock = dialectOf(knex).migrationLock!;
      const released = new Promise<void>((r) => (release = r));
      let held!: () => void;
      const holding = new Promise<void>((r) => (held = r));
      const holder = knex.transaction(async (trx) => {
        expect(await lock.take(trx, 0)).toBe(true);
        held();
        await released;
        await lock.release(trx);
      });
      await holding;

      migrating = migrateToLatest(knex);
      await expect
        .poll(async () => {
          const [rows] = await knex.raw("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = DATABASE() AND info LIKE 'SELECT GET_LOCK%'");
          return Number(rows[0].n);
        }, { timeout: 10_000 })
        .toBe(1);
      // Waiting for the lock, it has read only: a row inserted now would be a second one once the holder inserts
      // its own, and knex refuses a lock whose update changes two rows ("Migration table is already locked").
      expect(await knex(LOCK_TABLE).select('is_locked')).toEqual([]);

      await knex(LOCK_TABLE).insert({ is_locked: 0 }); // the holder's row
      release!();
      await holder;
      expect((await migrating).length).toBeGreaterThan(0);
      expect(await knex(LOCK_TABLE).select('is_locked')).toEqual([{ is_locked: 0 }]);
    } finally {
      release?.();
      await migrating?.catch(() => {});
      await q.close();
    }
  });
});
