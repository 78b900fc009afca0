/**
 * The job writer's last word on an item: a job's final progress and summary are written before its outcome, even
 * when a timed flush had already taken them and was still writing them as the run ended. (On MariaDB the flush's
 * UPDATE and the settle travel on different connections: had the settle gone first, it would have cleared the claim
 * the flush is fenced by, and the fence would have dropped the job's last progress. SQLite runs a statement
 * synchronously, so no run can end while one is under way; the test needs a statement that waits.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createQueue, type Queue } from '../../src/queue/queue.ts';
import { JobStateWriter } from '../../src/jobs/job-writer.ts';
import { Signals } from '../../src/signals.ts';
import { freshDatabase } from '../helpers/databases.ts';

const opened: Queue[] = [];
afterEach(async () => {
  for (const q of opened.splice(0)) await q.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('job writer on mysql', () => {
  it('an item whose progress a flush under way is still writing stays pending until that write is done', async () => {
    const q = await createQueue({ db: await freshDatabase('mysql') });
    opened.push(q);
    const { id } = await q.enqueue('t', {});
    await q.knex('signalq_items').update({ status: 'in_progress', claim_token: 'tok', owner: 'test', lease_until: Date.now() + 60_000 }).where({ id });
    const writer = new JobStateWriter(q.knex, new Signals(), () => Date.now(), 60_000, 60_000);
    // Another transaction holds the item's row: the flush's UPDATE waits for it.
    const blocker = await q.knex.transaction();
    try {
      await blocker('signalq_items').select('id').where({ id }).forUpdate();
      writer.progress(id, 'tok', 100, 100, 'all rows');
      writer.summary(id, 'tok', 'imported 100 rows');
      expect(writer.hasPending(id)).toBe(true);
      const flushing = writer.flushNow();
      await sleep(300);
      // The flush took the entry and is blocked writing it: the run's outcome must still wait.
      expect(writer.hasPending(id)).toBe(true);
      let waited = false;
      const second = writer.flushNow().then(() => (waited = true));
      await sleep(100);
      expect(waited).toBe(false); // what the processor awaits before settling ends only after the write
      await blocker.commit();
      await Promise.all([flushing, second]);
    } finally {
      if (!blocker.isCompleted()) await blocker.rollback();
    }
    expect(writer.hasPending(id)).toBe(false);
    const row = await q.knex('signalq_items').where({ id }).first();
    expect([Number(row.progress_done), Number(row.progress_total), row.progress_message, row.summary]).toEqual([100, 100, 'all rows', 'imported 100 rows']);
    await writer.close();
  });
});
