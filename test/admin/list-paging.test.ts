/**
 * Paging `admin.list` by keyset, on SQLite and MySQL/MariaDB: every item once, in order (newest first; with a
 * status, most recently finished first), and each page read from an index in order, with no sort (the plan).
 */
import { describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { PermanentError } from '../../src/errors.ts';
import { dialectOf } from '../../src/db/dialect.ts';
import { TYPE_WINDOW_IDS, listItemsQuery, type ListFilter } from '../../src/db/sql/listItemRows.ts';
import type { Item } from '../../src/types.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';

/** Every page of a listing, two items at a time. */
async function allPages(list: (beforeId?: number) => Promise<Item[]>): Promise<number[]> {
  const seen: number[] = [];
  for (let before: number | undefined; ; ) {
    const page = await list(before);
    seen.push(...page.map((i) => i.id));
    if (page.length < 2) return seen;
    before = page[page.length - 1].id;
  }
}

/** The plan of a listing: SQLite's EXPLAIN QUERY PLAN details, MySQL's key and Extra per table. */
async function planOf(knex: Knex, f: ListFilter): Promise<string> {
  const { sql, bindings } = listItemsQuery(knex, f).toSQL();
  const dialect = dialectOf(knex);
  if (dialect.name === 'sqlite') return ((await knex.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as any[])) as any[]).map((r) => r.detail).join('\n');
  return dialect.rowsOf<any>(await knex.raw(`EXPLAIN ${sql}`, bindings as any[])).map((r) => `key=${r.key} extra=${r.Extra ?? ''}`).join('\n');
}

describe.each(DIALECTS)('admin.list paging on %s', (dialect) => {
  it('pages every item once: newest first, and with a status most recently finished first', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: ['ok', 'bad'], handle: (item) => { if (item.type === 'bad') throw new PermanentError('no'); } });
    const ids: number[] = [];
    // Three batches, finished at three times; within a batch the items share their finish time (ties by id).
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 3; i++) ids.push((await q.enqueue(i === 2 ? 'bad' : 'ok', { batch, i })).id);
      await q.process();
      await new Promise((r) => setTimeout(r, 5)); // the next batch finishes at a later millisecond
    }
    for (let i = 0; i < 3; i++) ids.push((await q.enqueue('waiting', { i })).id);

    expect(await allPages((beforeId) => q.admin.list({ limit: 2, beforeId }))).toEqual([...ids].reverse());
    const done = (await q.admin.list({ status: 'done', limit: 100 })).sort((a, b) => b.finishedAt!.getTime() - a.finishedAt!.getTime() || b.id - a.id);
    expect(done).toHaveLength(6);
    expect(await allPages((beforeId) => q.admin.list({ status: 'done', limit: 2, beforeId }))).toEqual(done.map((i) => i.id));
    expect(await allPages((beforeId) => q.admin.list({ status: 'pending', limit: 2, beforeId }))).toEqual(ids.slice(-3).reverse());
    expect(await allPages((beforeId) => q.admin.list({ status: 'error', type: 'bad', limit: 2, beforeId }))).toEqual([ids[8], ids[5], ids[2]]);
    expect(await allPages((beforeId) => q.admin.list({ type: 'ok', limit: 2, beforeId }))).toEqual([ids[7], ids[6], ids[4], ids[3], ids[1], ids[0]]);

    await q.admin.delete(ids[0]);
    await expect(q.admin.list({ status: 'done', beforeId: ids[0] })).rejects.toThrow(`cursor item ${ids[0]} no longer exists; start again from the first page`);
    await expect(q.admin.list({ beforeId: 0 })).rejects.toThrow('cursor 0 is invalid; use a whole number of at least 1');
  });

  it('pages a type whose items all lie far back through the type index', async () => {
    const q = await freshQueue(dialect);
    const legacy: number[] = [];
    for (let i = 0; i < 3; i++) legacy.push((await q.enqueue('legacy', { i })).id);
    // Newer items far beyond the primary-key window (ids written out, as a big table's would be).
    const { claimable: _generated, ...row } = await q.knex('signalq_items').where('id', legacy[0]).first();
    const far = TYPE_WINDOW_IDS * 2;
    await q.knex('signalq_items').insert([far, far + 1, far + 2].map((id) => ({ ...row, id, type: 'recent' })));
    expect(await allPages((beforeId) => q.admin.list({ type: 'legacy', limit: 2, beforeId }))).toEqual([...legacy].reverse());
    expect(await allPages((beforeId) => q.admin.list({ type: 'recent', limit: 2, beforeId }))).toEqual([far + 2, far + 1, far]);
    expect(await q.admin.list({ type: 'nothing' })).toEqual([]);
  });

  it('reads each page in the order of an index, with no sort', async () => {
    const q = await freshQueue(dialect);
    await q.migrate();
    const filters: ListFilter[] = [
      { limit: 51 }, { limit: 51, beforeId: 1000 },
      { status: 'done', limit: 51 }, { status: 'done', limit: 51, beforeId: 1000, beforeFinishedAt: 5 },
      { status: 'pending', limit: 51, beforeId: 1000, beforeFinishedAt: null },
    ];
    for (const f of filters) {
      const plan = await planOf(q.knex, f);
      // Which index an empty table's plan takes says little (scripts/bench-dashboard.ts shows it at a million
      // rows); that the order needs no sort holds at any size.
      expect(plan, JSON.stringify(f)).not.toMatch(/TEMP B-TREE|filesort/i);
    }
  });
});
