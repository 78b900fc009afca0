/**
 * Cancel requests for items this processor holds: looked up every second while it holds any (one read of the
 * cancel_requested index, whose requested entries are only pending cancels), so a cancel reaches a running item within
 * two seconds on whichever host runs it.
 */
import type { Knex } from 'knex';
import { cancelRequestsFor } from '../db/sql/cancelItem.ts';
import type { Signals } from '../signals.ts';
import type { ItemRun } from './item-run.ts';

/** How often requests are looked up. */
export const CANCEL_POLL_MS = 1_000;

export class CancelWatcher {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly knex: Knex,
    private readonly signals: Signals,
    private readonly owner: string,
    /** The runs this processor holds, by item id. */
    private readonly runs: Map<number, ItemRun>,
    private readonly everyMs = CANCEL_POLL_MS,
  ) {}

  /** Looks every `everyMs` while runs are held (call after adding runs; it stops itself when none are left). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.runs.size === 0) return this.stop();
      void this.check();
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Cancels every held run whose item has a cancel request under the same claim. */
  async check(): Promise<void> {
    try {
      for (const r of await cancelRequestsFor(this.knex, this.owner)) {
        const run = this.runs.get(r.id);
        if (run && run.token === r.token) run.cancel();
      }
    } catch (error) {
      this.signals.emit('databaseError', { error: error as Error, during: 'looking for cancel requests', retryInMs: this.everyMs });
    }
  }
}
