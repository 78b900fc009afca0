/**
 * Who asked for an item and in which scope are indexed in `signalq_item_access`, a row per item that has either:
 * listings by invoker and scope read it, every way of enqueueing writes it (bulk with RETURNING, and one row at a
 * time where the server has no RETURNING, as on MySQL 8), deleting and purging take it away, and a database
 * migrated before the table existed gets the rows of its items when it is migrated.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createQueue, type Queue } from '../../src/queue/queue.ts';
import { migrationSource } from '../../src/db/migrate.ts';
import { dialectOf } from '../../src/db/dialect.ts';
import { DIALECTS, freshDatabase } from '../helpers/databases.ts';

const opened: Queue[] = [];
afterEach(async () => {
  for (const q of opened.splice(0)) await q.close();
});

async function open(db: string, migrate = true): Promise<Queue> {
  const q = await createQueue({ db, migrate, pollIntervalMs: 50 });
  opened.push(q);
  return q;
}

async function accessRows(q: Queue) {
  return (await q.knex('signalq_item_access').select('item_id', 'invoker', 'scope').orderBy('item_id')).map((r) => ({ ...r, item_id: Number(r.item_id) }));
}

/** Who asked, for row i of the mixed batches below: every third row an invoker, every fifth a scope. */
const who = (i: number) => ({ invoker: i % 3 === 0 ? `user-${i % 2}` : undefined, scope: i % 5 === 0 ? 'acme' : undefined });

describe('invoker and scope index on a latin1 MariaDB database', () => {
  it('keeps and finds any text exactly: accents, another script, emoji, and case', async () => {
    const q = await open(await freshDatabase('mysql', { charset: 'latin1' }));
    const names = ['Zoë', 'zoë', 'ユーザー', 'ops 🚀'];
    await q.enqueueMany(names.map((invoker) => q.item('t', {}, { invoker, scope: `${invoker}-scope` })));
    for (const invoker of names) {
      const found = await q.admin.list({ invoker });
      expect(found.map((i) => [i.invoker, i.scope])).toEqual([[invoker, `${invoker}-scope`]]);
      expect((await q.admin.list({ scope: `${invoker}-scope` })).map((i) => i.invoker)).toEqual([invoker]);
    }
  });
});

describe.each(DIALECTS)('invoker and scope index on %s', (dialect) => {
  for (const returning of [true, false]) {
    it(`bulk enqueue ${returning ? 'with RETURNING' : 'one row at a time (a server without RETURNING)'} indexes exactly the rows with an invoker or scope`, async () => {
      const q = await open(await freshDatabase(dialect));
      const d = dialectOf(q.knex) as { insertsReturn: (db: unknown) => boolean };
      const original = d.insertsReturn;
      if (!returning) d.insertsReturn = () => false;
      try {
        await q.enqueue('t', { held: true }, { key: 'held-key' });
        // 1,200 rows over three statements; one keyed row is skipped (its key is held), one repeats a key of the call.
        const items = Array.from({ length: 1200 }, (_, i) => q.item('t', { i }, { ...who(i), ...(i === 7 ? { key: 'held-key' } : i === 8 || i === 9 ? { key: 'twice' } : {}) }));
        const r = await q.enqueueMany(items);
        expect(r.inserted).toBe(1198);
      } finally {
        d.insertsReturn = original;
      }
      const all = await q.admin.list({ limit: 2000 });
      const expected = all.filter((i) => i.invoker !== null || i.scope !== null).map((i) => ({ item_id: i.id, invoker: i.invoker, scope: i.scope }));
      expect(expected.length).toBeGreaterThan(400);
      expect(await accessRows(q)).toEqual(expected.sort((a, b) => a.item_id - b.item_id));
      // Enqueue order is kept: ids follow the rows' order, so payloads ascend with ids.
      const byId = all.filter((i) => (i.payload as { i?: number }).i !== undefined).sort((a, b) => a.id - b.id).map((i) => (i.payload as { i: number }).i);
      expect(byId).toEqual([...byId].sort((a, b) => a - b));
      // Listings read the index: newest first, paged by id.
      const ada = all.filter((i) => i.invoker === 'user-0').map((i) => i.id);
      const page1 = await q.admin.list({ invoker: 'user-0', limit: 50 });
      expect(page1.map((i) => i.id)).toEqual(ada.slice(0, 50));
      const page2 = await q.admin.list({ invoker: 'user-0', limit: 50, beforeId: page1.at(-1)!.id });
      expect(page2.map((i) => i.id)).toEqual(ada.slice(50, 100));
      const both = all.filter((i) => i.invoker === 'user-0' && i.scope === 'acme').map((i) => i.id);
      expect((await q.admin.list({ invoker: 'user-0', scope: 'acme', limit: 2000 })).map((i) => i.id)).toEqual(both);
      expect((await q.admin.list({ scope: 'acme', limit: 2000 })).map((i) => i.id)).toEqual(all.filter((i) => i.scope === 'acme').map((i) => i.id));
      expect(await q.admin.list({ invoker: 'nobody', limit: 10 })).toEqual([]);
      // An empty or overlong filter names no invoker anyone could have: refused, as enqueue refuses it.
      await expect(q.admin.list({ invoker: '' })).rejects.toThrow('list: invoker "" is invalid; use a string of 1-191 characters');
      await expect(q.admin.list({ scope: 'x'.repeat(192) })).rejects.toThrow(/^list: scope "x{192}" is invalid; use a string of 1-191 characters$/);
    });
  }

  it('a single enqueue writes its access row with the item, in the app transaction too, and a rollback takes both', async () => {
    const q = await open(await freshDatabase(dialect));
    const { id } = await q.enqueue('t', {}, { invoker: 'ada' });
    const { id: plain } = await q.enqueue('t', {});
    await q.knex.transaction(async (trx) => {
      await q.enqueue('t', {}, { invoker: 'bob', scope: 's1', trx });
    });
    await expect(
      q.knex.transaction(async (trx) => {
        await q.enqueue('t', {}, { invoker: 'carol', trx });
        throw new Error('the app changed its mind');
      }),
    ).rejects.toThrow('changed its mind');
    const rows = await accessRows(q);
    expect(rows.map((r) => r.invoker)).toEqual(['ada', 'bob']);
    expect(rows[0]).toEqual({ item_id: id, invoker: 'ada', scope: null });
    expect(rows.some((r) => r.item_id === plain)).toBe(false);
    expect((await q.admin.list({ invoker: 'carol' })).length).toBe(0);
  });

  it('deleting an item takes its access row and history; purging done items takes theirs', async () => {
    const q = await open(await freshDatabase(dialect));
    q.handle('t', { name: 'h', handle: (_item, ctx) => void ctx.history({ comment: 'did it' }) });
    await q.enqueueMany([q.item('t', { n: 1 }, { invoker: 'ada' }), q.item('t', { n: 2 }, { invoker: 'ada' }), q.item('t', { n: 3 }, { invoker: 'ada' })]);
    await q.work({ untilEmpty: true });
    const [a, b, c] = (await q.admin.list({ invoker: 'ada' })).map((i) => i.id);
    expect(await q.knex('signalq_history').count({ n: '*' })).toEqual([{ n: 3 }]);
    await q.admin.delete(a);
    expect((await accessRows(q)).map((r) => r.item_id)).toEqual([c, b]);
    expect((await q.knex('signalq_history').select('item_id')).map((r) => Number(r.item_id)).sort()).toEqual([b, c].sort());
    expect(await q.admin.purgeDone(0)).toBe(2);
    expect(await accessRows(q)).toEqual([]);
    expect(await q.knex('signalq_history').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('a database migrated before the access table gets the rows of its items, and its listings keep working', async () => {
    const db = await freshDatabase(dialect);
    const q = await open(db, false);
    const all = await migrationSource.getMigrations([]);
    const before = all.filter((f) => f < '20261125000000');
    expect(before.length).toBe(all.length - 1);
    await q.knex.migrate.latest({ migrationSource: { ...migrationSource, getMigrations: async () => before }, tableName: 'signalq_migrations' });
    // Items as the earlier schema held them: who asked only in the items' own columns.
    await q.knex('signalq_items').insert([
      { type: 't', payload: '{}', status: 'pending', trials: 0, max_trials: 5, priority: 0, run_at: 1, results: '{}', created_at: 1, invoker: 'ada', scope: 'acme' },
      { type: 't', payload: '{}', status: 'pending', trials: 0, max_trials: 5, priority: 0, run_at: 1, results: '{}', created_at: 1 },
      { type: 't', payload: '{}', status: 'done', trials: 1, max_trials: 5, priority: 0, run_at: 1, results: '{}', created_at: 1, scope: 'acme' },
    ]);
    expect((await q.migrate()).map((n) => n.slice(0, 14))).toEqual(['20261125000000']);
    const ids = (await q.knex('signalq_items').select('id').orderBy('id')).map((r) => Number(r.id));
    expect(await accessRows(q)).toEqual([
      { item_id: ids[0], invoker: 'ada', scope: 'acme' },
      { item_id: ids[2], invoker: null, scope: 'acme' },
    ]);
    expect((await q.admin.list({ scope: 'acme' })).map((i) => i.id)).toEqual([ids[2], ids[0]]);
    expect((await q.admin.list({ invoker: 'ada' })).map((i) => i.id)).toEqual([ids[0]]);
  });
});
