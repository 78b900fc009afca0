/**
 * Items finished per interval over a recent window: what the dashboard's chart shows. The shape of the answer is
 * decided here, purely; the counting is `countFinishedByInterval`.
 */
import type { FinishedInInterval } from '../db/sql/countFinishedByInterval.ts';

/** Items finished per interval over the last minutes, oldest interval first. */
export interface Throughput {
  /** Start of the first interval. */
  since: Date;
  bucketMs: number;
  /** One entry per interval, every interval present (0 where none finished); the last one is still filling. */
  intervals: { at: Date; done: number; error: number }[];
}

/** Default window and interval of `admin.throughput()`: ten minutes in 20-second intervals. */
export const THROUGHPUT_WINDOW_MS = 10 * 60_000;
export const THROUGHPUT_BUCKET_MS = 20_000;

/**
 * The window ending at `now`, aligned to whole intervals so that successive reads keep the same intervals (the
 * chart shifts instead of wobbling): where it starts and how many intervals it has.
 */
export function throughputWindow(now: number, windowMs: number, bucketMs: number): { since: number; count: number } {
  if (!(bucketMs > 0) || !(windowMs >= bucketMs)) throw new RangeError(`window ${windowMs} ms and interval ${bucketMs} ms do not fit`);
  const count = Math.ceil(windowMs / bucketMs);
  const currentStart = Math.floor(now / bucketMs) * bucketMs;
  return { since: currentStart - (count - 1) * bucketMs, count };
}

/** Every interval of the window, counted ones filled in, the others 0 (rows outside the window are dropped). */
export function fillIntervals(rows: FinishedInInterval[], since: number, count: number, bucketMs: number): Throughput {
  const intervals = Array.from({ length: count }, (_, i) => ({ at: new Date(since + i * bucketMs), done: 0, error: 0 }));
  for (const r of rows) {
    const slot = intervals[r.bucket];
    if (!slot) continue;
    slot.done += r.done;
    slot.error += r.error;
  }
  return { since: new Date(since), bucketMs, intervals };
}
