/**
 * The overview's numbers (counts per status and type, throughput), read at most once per interval however many
 * pages poll. Counting every row groups the whole table: on a million items in MariaDB that takes 1.5-2.5 s on
 * a loaded two-core machine (see the README), so the page is served from the last count and the count runs in the
 * background, no more often than every `maxAgeMs` and than every five times its own duration (a dashboard left
 * open keeps the database counting at most a fifth of the time). The answer says when it was counted and how long
 * that took, which the page shows.
 *
 * A request finding numbers older than the interval gets them at once and starts one fresh count (every poll after
 * it gets the new numbers); only the first request, or one finding numbers older than `staleLimitMs`, waits, and
 * the overview page waits at most a moment (`getWithin`) before it is served with placeholders its script fills
 * in. `startDashboard` starts the first count as it starts listening.
 */
import type { Admin, QueueStats } from '../admin/admin.ts';
import type { Throughput } from '../admin/throughput.ts';

/** The overview as the page and `/api/overview` show it. */
export interface Overview {
  stats: QueueStats;
  throughput: Throughput;
  /** When these numbers were read (this process's clock). */
  countedAt: Date;
  /** How long reading them took, in ms. */
  readMs: number;
}

/**
 * How old the numbers may get before a request starts a fresh count: `minMs`, or five times the last count's
 * duration when that is longer.
 */
export function recountAfterMs(lastReadMs: number, minMs: number): number {
  return Math.max(minMs, 5 * lastReadMs);
}

export class OverviewCache {
  private last: Overview | null = null;
  private reading: Promise<Overview> | null = null;

  constructor(
    private readonly admin: Admin,
    /** Numbers younger than this are served as they are (default 2 s). 0: every request counts afresh. */
    private readonly maxAgeMs = 2_000,
    /** Numbers older than this are never served: the request waits for a fresh count (default 5 minutes). */
    private readonly staleLimitMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<Overview> {
    const last = this.last;
    if (this.maxAgeMs <= 0 || !last) return this.read();
    const age = this.now() - last.countedAt.getTime();
    if (age < recountAfterMs(last.readMs, this.maxAgeMs)) return last;
    const fresh = this.read();
    if (age < this.staleLimitMs) {
      fresh.catch(() => {}); // a failure that lasts reaches the request that waits for a count
      return last;
    }
    return fresh;
  }

  /**
   * `get()`, or null when its numbers are not ready within `waitMs`: the page is then served at once with
   * placeholders, and its script fills them in from `/api/overview` (which waits) once the count is done. A page
   * never hangs on a long count (2.5 s at a million rows in MariaDB, the first time or after five idle minutes).
   */
  async getWithin(waitMs: number): Promise<Overview | null> {
    const counting = this.get();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
    try {
      return await Promise.race([counting, late]);
    } finally {
      clearTimeout(timer);
      counting.catch(() => {}); // a count that fails after the page went out reaches the next request
    }
  }

  /** Starts the first count (for a dashboard that just started), ignoring a failure: the first request retries. */
  prime(): void {
    if (this.maxAgeMs > 0) this.read().catch(() => {});
  }

  /** One count at a time: concurrent requests share it. */
  private read(): Promise<Overview> {
    this.reading ??= (async () => {
      const started = this.now();
      try {
        const [stats, throughput] = [await this.admin.stats(), await this.admin.throughput()];
        this.last = { stats, throughput, countedAt: new Date(started), readMs: this.now() - started };
        return this.last;
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }
}
