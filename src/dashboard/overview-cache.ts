/**
 * The overview's numbers (counts per status and type, throughput), read at most once per `maxAgeMs` however many
 * pages poll: counting every row groups the whole table, which on a million items takes a noticeable fraction of
 * a second (see the README's figures). A read older than `maxAgeMs` is answered at once while one fresh read runs
 * in the background (every poll after it gets the new numbers); one older than `staleLimitMs`, or the first one,
 * waits for a fresh read. The answer says when it was counted, which the page shows.
 */
import type { Admin, QueueStats } from '../admin/admin.ts';
import type { Throughput } from '../admin/throughput.ts';

/** The overview as the page and `/api/overview` show it. */
export interface Overview {
  stats: QueueStats;
  throughput: Throughput;
  /** When these numbers were read (this process's clock). */
  countedAt: Date;
}

export class OverviewCache {
  private last: Overview | null = null;
  private reading: Promise<Overview> | null = null;

  constructor(
    private readonly admin: Admin,
    /** Numbers younger than this are served as they are. 0: every request reads afresh. */
    private readonly maxAgeMs = 2_000,
    /** Numbers older than this are never served: the request waits for a fresh read. */
    private readonly staleLimitMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<Overview> {
    const last = this.last;
    if (this.maxAgeMs <= 0) return this.read();
    const age = last ? this.now() - last.countedAt.getTime() : Infinity;
    if (last && age < this.maxAgeMs) return last;
    const fresh = this.read();
    if (last && age < this.staleLimitMs) {
      fresh.catch(() => {}); // the next request sees the failure, if it lasts
      return last;
    }
    return fresh;
  }

  /** One read at a time: concurrent requests share it. */
  private read(): Promise<Overview> {
    this.reading ??= (async () => {
      try {
        const [stats, throughput] = [await this.admin.stats(), await this.admin.throughput()];
        this.last = { stats, throughput, countedAt: new Date(this.now()) };
        return this.last;
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }
}
