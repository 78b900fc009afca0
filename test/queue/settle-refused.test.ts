/**
 * Outcomes the database refuses while it is up never wedge a batch: a statement over the packet limit is split,
 * and an item whose outcome cannot be stored is settled as failed with the reason, on SQLite and MariaDB.
 */
import { describe, expect, it } from 'vitest';
import { RetryLaterError } from '../../src/errors.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';

/** Fails the test instead of hanging when `p` does not settle in time (a wedged batch never does). */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe.each(DIALECTS)('refused outcomes on %s', (dialect) => {
  it('500 items of 8 handlers with long error messages settle (the statement is split under the packet limit)', async () => {
    const q = await freshQueue(dialect, { concurrency: 100 });
    // Control characters take six bytes each in JSON: 8 x 2,000 of them is ~96 KB of results per item, ~48 MB a batch.
    const message = '\u0001'.repeat(2000);
    for (let h = 0; h < 8; h++) q.connect({ name: `h${h}`, types: '*', handle: () => { throw new Error(message); } });
    await q.enqueueMany(Array.from({ length: 500 }, (_, i) => ({ type: 't', payload: { i } })));
    const s = await within(45_000, q.process(), 'the batch');
    expect(s).toMatchObject({ claimed: 500, retry: 500, lost: 0 });
    const stats = await q.admin.stats();
    expect(stats.counts).toMatchObject({ need_retry: 500, in_progress: 0 });
    const [item] = await q.admin.list({ limit: 1 });
    expect(item.results.h7.error).toBe(message);
  }, 60_000);

  it('a handler asking to retry after 1e19 ms does not keep the items settled with it in progress', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: '*', handle: (item) => { if ((item.payload as { i: number }).i === 1) throw new RetryLaterError('much later', 1e19); } });
    await q.enqueueMany([0, 1, 2].map((i) => ({ type: 't', payload: { i } })));
    expect(await within(10_000, q.process(), 'the batch')).toMatchObject({ claimed: 3, done: 2, retry: 1 });
    const retried = (await q.admin.list({ status: 'need_retry' }))[0];
    expect(retried.runAt.getTime()).toBeGreaterThan(Date.now() + 1e12);
    expect(Number.isNaN(retried.runAt.getTime())).toBe(false);
  });

  it('an outcome the database refuses is settled as failed with the reason; the rest of the batch is written', async () => {
    const q = await freshQueue(dialect);
    q.connect({ name: 'h', types: '*', handle: () => {} });
    await q.enqueueMany([0, 1, 2, 3].map((i) => ({ type: 't', payload: { i } })));
    const victim = (await q.admin.list({ limit: 10 })).find((i) => (i.payload as { i: number }).i === 2)!.id;
    // A trigger stands for whatever the database may refuse of one row (a value it cannot store, a constraint).
    if (dialect === 'sqlite') {
      await q.knex.raw(`CREATE TRIGGER refuse_done BEFORE UPDATE ON signalq_items WHEN NEW.id = ${victim} AND NEW.status = 'done' BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END`);
    } else {
      await q.knex.raw(`CREATE TRIGGER refuse_done BEFORE UPDATE ON signalq_items FOR EACH ROW BEGIN IF NEW.id = ${victim} AND NEW.status = 'done' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test trigger'; END IF; END`);
    }
    const errors: number[] = [];
    q.on('itemError', (e) => void errors.push(e.item.id));
    expect(await within(20_000, q.process(), 'the batch')).toMatchObject({ claimed: 4, done: 3, error: 1, lost: 0 });
    const item = await q.admin.get(victim);
    expect(item).toMatchObject({ status: 'error', trials: 1 });
    expect(item?.results.signalq.error).toMatch(/refused this trial's outcome \(.*refused by the test trigger/);
    expect(errors).toEqual([victim]);
    expect((await q.admin.stats()).counts).toMatchObject({ done: 3, error: 1, in_progress: 0 });
  });
});
