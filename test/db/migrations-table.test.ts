/**
 * signalq keeps its migration records in tables of its own: an app's knex migrations in the same database and
 * signalq's never see each other's names, and a database migrated by signalq 0.1 (its records in knex's default
 * table) is adopted as it is, on SQLite and MariaDB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createQueue, type Queue } from '../../src/queue/queue.ts';
import { migrationSource } from '../../src/db/migrate.ts';
import { DIALECTS, freshDatabase } from '../helpers/databases.ts';

const opened: Queue[] = [];
afterEach(async () => {
  for (const q of opened.splice(0)) await q.close();
});

/** An app's own knex migration, in memory: one table of the app's. */
const appMigrations: import('knex').Knex.MigrationSource<string> = {
  getMigrations: async () => ['20200101000000_app_users'],
  getMigrationName: (m) => m,
  getMigration: async () => ({
    up: (knex: import('knex').Knex) => knex.schema.createTable('app_users', (t) => t.increments('id')),
    down: (knex: import('knex').Knex) => knex.schema.dropTable('app_users'),
  }),
};

describe.each(DIALECTS)('migration records on %s', (dialect) => {
  it("an app's own knex migrations and signalq's live in one database without tripping over each other", async () => {
    const q = await createQueue({ db: await freshDatabase(dialect), migrate: false });
    opened.push(q);
    await q.knex.migrate.latest({ migrationSource: appMigrations }); // the app's, in knex_migrations
    expect((await q.migrate()).length).toBeGreaterThan(0);
    // The app migrates again (knex checks that every recorded name is still among its migrations): no complaint.
    await q.knex.migrate.latest({ migrationSource: appMigrations });
    expect((await q.knex('knex_migrations').select('name')).map((r) => r.name)).toEqual(['20200101000000_app_users']);
    expect(await q.migrate()).toEqual([]);
    expect((await q.enqueue('t', {})).created).toBe(true);
  });

  it('a database migrated by signalq 0.1 (records in knex_migrations) is adopted: nothing re-runs, the app keeps its own', async () => {
    const q = await createQueue({ db: await freshDatabase(dialect), migrate: false });
    opened.push(q);
    // What 0.1 did: signalq's first migrations recorded in knex's default table, beside an app migration.
    const first = (await migrationSource.getMigrations([])).slice(0, 2);
    await q.knex.migrate.latest({ migrationSource: { ...migrationSource, getMigrations: async () => first } });
    await q.knex('knex_migrations').insert({ name: '20200101000000_app_users', batch: 9, migration_time: new Date() });
    const applied = await q.migrate();
    expect(applied.map((n) => n.slice(0, 14))).toEqual((await migrationSource.getMigrations([])).slice(2).map((f) => f.slice(0, 14)));
    expect((await q.knex('knex_migrations').select('name')).map((r) => r.name)).toEqual(['20200101000000_app_users']);
    expect((await q.knex('signalq_migrations').select('name')).length).toBe((await migrationSource.getMigrations([])).length);
    expect((await q.enqueue('t', { after: 'adoption' })).created).toBe(true);
  });
});
