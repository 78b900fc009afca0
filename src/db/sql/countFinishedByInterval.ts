import type { Knex } from 'knex';
import { ITEMS } from '../rows.ts';

/** How many items reached `done` and `error` in one interval. */
export interface FinishedInInterval {
  /** The interval's index: 0 is the one starting at `since`. */
  bucket: number;
  done: number;
  error: number;
}

/**
 * Items that finished (`done`, or `error`: failed for good) since `since`, counted per interval of `bucketMs`.
 * Reads the (status, finished_at) index over the window only, so its cost follows how many items finished in the
 * window, not the size of the table. Items purged since they finished are not counted. Intervals with none are
 * left out.
 */
export async function countFinishedByInterval(knex: Knex, since: number, bucketMs: number): Promise<FinishedInInterval[]> {
  const rows = await knex(ITEMS)
    .select('status', knex.raw('FLOOR((finished_at - ?) / ?) AS bucket', [since, bucketMs]))
    .count({ count: '*' })
    .whereIn('status', ['done', 'error'])
    .where('finished_at', '>=', since)
    .groupBy('status', 'bucket');
  const byBucket = new Map<number, FinishedInInterval>();
  for (const r of rows as any[]) {
    const bucket = Number(r.bucket);
    const entry = byBucket.get(bucket) ?? { bucket, done: 0, error: 0 };
    if (r.status === 'done') entry.done += Number(r.count);
    else entry.error += Number(r.count);
    byBucket.set(bucket, entry);
  }
  return [...byBucket.values()].sort((a, b) => a.bucket - b.bucket);
}
