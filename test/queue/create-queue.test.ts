/**
 * createQueue as an app meets it: the tables created on first use (on SQLite and MySQL/MariaDB), `migrate: false`
 * for teams that run the migrations themselves, and a SQLite path whose folder does not exist refused by name.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createQueue, type Queue } from '../../src/queue/queue.ts';
import type { QueueOptions } from '../../src/config.ts';
import { UsageError } from '../../src/errors.ts';
import { DIALECTS, freshDatabase, type Dialect } from '../helpers/databases.ts';
import { closeAfterTest, databaseUrl } from '../helpers/queue.ts';


/** A queue on a new, empty database: no table yet. */
async function newQueue(dialect: Dialect, options: QueueOptions = {}): Promise<Queue<any>> {
  return closeAfterTest(await createQueue({ backoffBaseMs: 0, ...options, db: await freshDatabase(dialect) }));
}

const hasItemsTable = (q: Queue<any>) => q.knex.schema.hasTable('signalq_items');
const appliedMigrations = async (q: Queue<any>) => (await q.knex('signalq_migrations').select('name')).map((r: { name: string }) => r.name);

describe.each(DIALECTS)('first use on %s', (dialect) => {
  it('createQueue writes nothing; the first enqueue creates the tables, and the item is written', async () => {
    const q = await newQueue(dialect);
    expect(await hasItemsTable(q)).toBe(false);
    const { id, created } = await q.enqueue('mail.send', { to: 'ada@example.com' });
    expect(created).toBe(true);
    expect(await hasItemsTable(q)).toBe(true);
    expect(await q.admin.get(id)).toMatchObject({ status: 'pending', payload: { to: 'ada@example.com' } });
  });

  it('first calls made at once (enqueue, enqueueMany, reads, a batch) all succeed and migrate once', async () => {
    const q = await newQueue(dialect);
    q.connect({ name: 'h', types: '*', handle: () => {} });
    const results = await Promise.all([
      q.enqueue('t', { n: 1 }),
      q.enqueueMany([{ type: 't', payload: { n: 2 } }, { type: 't', payload: { n: 3 } }]),
      q.admin.stats(),
      q.admin.list(),
      q.admin.workers(),
      q.process(),
    ]);
    expect(results[0]).toMatchObject({ created: true });
    expect(results[1]).toEqual({ inserted: 2, skipped: 0 });
    const names = await appliedMigrations(q);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length); // each applied once
    expect(await q.migrate()).toEqual([]);
  });

  it('work() on a new database creates the tables before it registers and claims', async () => {
    const q = await newQueue(dialect);
    const seen: unknown[] = [];
    q.connect({ name: 'h', types: ['t'], handle: (item) => void seen.push(item.payload) });
    const totals = await q.work({ untilEmpty: true });
    expect(totals.claimed).toBe(0);
    expect(await hasItemsTable(q)).toBe(true);
    await q.enqueue('t', { n: 1 });
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    expect(seen).toEqual([{ n: 1 }]);
  });

  it('migrate() applies the migrations and returns their names (createQueue has not applied them); again, none', async () => {
    const q = await newQueue(dialect);
    const applied = await q.migrate();
    expect(applied.length).toBeGreaterThan(0);
    expect(await appliedMigrations(q)).toEqual(applied);
    expect(await q.migrate()).toEqual([]);
    expect((await q.enqueue('t', {})).created).toBe(true);
  });

  it('migrate: false refuses to work on a database without the tables, naming the table and what to run; then works once they exist', async () => {
    const q = await newQueue(dialect, { migrate: false });
    const calls: [string, () => Promise<unknown>][] = [
      ['enqueue', () => q.enqueue('t', {})],
      ['enqueueMany', () => q.enqueueMany([{ type: 't', payload: {} }])],
      ['stats', () => q.admin.stats()],
      ['get', () => q.admin.get(1)],
      ['process', () => q.process()],
      ['work', () => q.work({ untilEmpty: true })],
    ];
    for (const [name, call] of calls) {
      const err = await call().then(() => null, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(UsageError);
      expect(String((err as Error).message), name).toMatch(/^the table signalq_items does not exist in .* and the queue was created with migrate: false; run the migrations \(npx signalq migrate, or await queue\.migrate\(\)\)/);
    }
    expect(await hasItemsTable(q)).toBe(false);
    // The deploy's migration runs (here through another queue); the refusal was not kept.
    const deploy = await createQueue({ db: databaseUrl(q) });
    closeAfterTest(deploy);
    await deploy.migrate();
    expect((await q.enqueue('t', {})).created).toBe(true);
    expect(await q.migrate()).toEqual([]);
  });

  it('an enqueue in the app\'s transaction on a new database: created on MySQL; refused on SQLite, saying what to do', async () => {
    const q = await newQueue(dialect);
    const inTransaction = () => q.knex.transaction((trx) => q.enqueue('t', { n: 1 }, { trx }));
    if (dialect === 'mysql') {
      expect((await inTransaction()).created).toBe(true);
    } else {
      // The transaction holds SQLite's only connection: a migration would wait for it for ever.
      await expect(inTransaction()).rejects.toThrow(/^the table signalq_items does not exist yet in sqlite:.*; call await queue\.migrate\(\) once before the first enqueue in a transaction$/);
      await q.migrate();
      expect((await inTransaction()).created).toBe(true);
    }
    expect((await q.admin.stats()).total).toBe(1);
  });

  it('once the tables exist, the first enqueue in a transaction needs no migration (SQLite reads the table through it)', async () => {
    const q = await newQueue(dialect);
    await q.migrate();
    const other = await createQueue({ db: databaseUrl(q) });
    closeAfterTest(other);
    expect((await other.knex.transaction((trx) => other.enqueue('t', {}, { trx }))).created).toBe(true);
    expect((await other.admin.stats()).total).toBe(1);
  });
});

describe('createQueue options and paths', () => {
  it('refuses a migrate option that is not a boolean, naming it', async () => {
    await expect(createQueue({ db: 'sqlite::memory:', migrate: 'no' as unknown as boolean })).rejects.toThrow('option migrate="no" must be true or false');
  });

  it('refuses a SQLite path whose folder does not exist, naming it and what to do, and creates nothing', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'signalq-path-')), 'no', 'such', 'dir');
    const url = `sqlite:${missing}/x.sqlite`;
    const err = await createQueue({ db: url }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(`the folder of the SQLite database ${url} does not exist (${missing}); create it (mkdir -p ${missing}) or correct the path in --db / SIGNALQ_DB`);
    expect(existsSync(join(missing, '..', '..'))).toBe(false);
  });

  it('creates the default var/ folder (SIGNALQ_DB unset) in the working directory, and takes a relative path whose folder exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signalq-default-'));
    const cwd = process.cwd();
    const saved = process.env.SIGNALQ_DB;
    delete process.env.SIGNALQ_DB;
    process.chdir(dir);
    try {
      const q = await createQueue();
      closeAfterTest(q);
      expect(q.target.display).toBe('sqlite:var/signalq.sqlite');
      expect((await q.enqueue('t', {})).created).toBe(true);
      expect(existsSync(join(dir, 'var', 'signalq.sqlite'))).toBe(true);
      const here = await createQueue({ db: 'sqlite:here.sqlite' });
      closeAfterTest(here);
      expect((await here.enqueue('t', {})).created).toBe(true);
      expect(existsSync(join(dir, 'here.sqlite'))).toBe(true);
    } finally {
      process.chdir(cwd);
      if (saved !== undefined) process.env.SIGNALQ_DB = saved;
    }
  });
});
