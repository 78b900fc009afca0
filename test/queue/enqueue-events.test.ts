/**
 * When `itemEnqueued` and `itemsEnqueued` fire, on SQLite and MySQL/MariaDB: at once without a transaction, once the
 * app's transaction commits with one, never when it rolls back.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';

describe.each(DIALECTS)('enqueue events on %s', (dialect) => {
  it('fire at once without a transaction; enqueueMany that writes nothing says nothing', async () => {
    const q = await freshQueue(dialect);
    const seen: unknown[] = [];
    q.on('itemEnqueued', (e) => seen.push(['one', e.type, e.created]));
    q.on('itemsEnqueued', (e) => seen.push(['many', e.count, e.types]));
    await q.enqueue('a', {}, { key: 'k' });
    expect(seen).toEqual([['one', 'a', true]]);
    await q.enqueue('a', {}, { key: 'k' });
    expect(seen).toEqual([['one', 'a', true], ['one', 'a', false]]);
    await q.enqueueMany([q.item('b', {}), q.item('c', {}), q.item('b', {})]);
    expect(seen.at(-1)).toEqual(['many', 3, ['b', 'c']]);
    await q.enqueueMany([q.item('b', {}, { key: 'k' })]); // the key is held: nothing written
    expect(seen).toHaveLength(3);
  });

  it('fire once the transaction commits, with what the calls wrote, and never when it rolls back', async () => {
    const q = await freshQueue(dialect);
    await q.migrate(); // on SQLite an enqueue in a transaction cannot create the tables
    const seen: unknown[] = [];
    q.on('itemEnqueued', (e) => seen.push(['one', e.type]));
    q.on('itemsEnqueued', (e) => seen.push(['many', e.count, e.types]));
    await q.knex.transaction(async (trx) => {
      await q.enqueue('a', {}, { trx });
      await q.enqueueMany([q.item('b', {}), q.item('c', {})], { trx });
      await q.enqueueMany([q.item('d', {})], { trx, label: (i) => `line ${i + 1}` });
      expect(seen).toEqual([]);
    });
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([['one', 'a'], ['many', 2, ['b', 'c']], ['many', 1, ['d']]]);

    seen.length = 0;
    await expect(q.knex.transaction(async (trx) => {
      await q.enqueue('e', {}, { trx });
      await q.enqueueMany([q.item('f', {})], { trx });
      throw new Error('the app rolls back');
    })).rejects.toThrow('the app rolls back');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([]);
    expect((await q.admin.stats()).total).toBe(4);
  });
});
