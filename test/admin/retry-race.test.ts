/**
 * `retry` of an error item racing an enqueue of the same dedupe key: exactly one of them holds the key after, and
 * the loser is told so in words (never a raw duplicate-key error), on SQLite and MariaDB.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError, UsageError } from '../../src/errors.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue, sameDatabase } from '../helpers/queue.ts';

describe.each(DIALECTS)('retry racing a same-key enqueue on %s', (dialect) => {
  it('one of them takes the key; the other is refused with the holder named, or returns the holder', async () => {
    const q = await freshQueue(dialect);
    const other = await sameDatabase(q);
    q.connect({ name: 'perm', types: ['p'], handle: () => { throw new PermanentError('no'); } });
    for (let round = 0; round < 15; round++) {
      const key = `k-${round}`;
      const { id } = await q.enqueue('p', { round }, { key });
      await q.process();
      expect((await q.admin.get(id))?.status).toBe('error');
      const [retried, enqueued] = await Promise.allSettled([q.admin.retry(id), other.enqueue('p', { round, again: true }, { key })]);
      if (retried.status === 'rejected') {
        expect(retried.reason, String(retried.reason)).toBeInstanceOf(UsageError);
        expect(String(retried.reason)).toMatch(/dedupe key is held by unfinished item \d+/);
      }
      expect(enqueued.status, String((enqueued as PromiseRejectedResult).reason)).toBe('fulfilled');
      const holders = await q.knex('signalq_items').select('id').where('active_key', key);
      expect(holders).toHaveLength(1);
      const e = (enqueued as PromiseFulfilledResult<{ id: number; created: boolean }>).value;
      // Whoever won, the enqueue names the item that holds the key.
      expect(e.id).toBe(Number(holders[0].id));
      expect(e.created).toBe(retried.status === 'rejected');
      await q.knex('signalq_items').where('active_key', key).update({ status: 'done', active_key: null });
    }
  });
});
