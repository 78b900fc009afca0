/**
 * A claim's lease, from first to last: renewed while its batch runs, handed back unstarted on shutdown, and taken
 * back when it ran out. Expiry decides each expired item with the same pure function as a normal trial (the
 * trial counts, the backoff applies, out of trials it is `error`, with signalq's verdict in its results), writes
 * it through the fenced settle path, and reports it with the same per-item events: an item that kills its worker
 * every time ends in `error` and is reported like any other failure.
 */
import type { Knex } from 'knex';
import { handBackItems } from '../db/sql/handBackItems.ts';
import { readExpiredItems } from '../db/sql/readExpiredItems.ts';
import { renewLeases } from '../db/sql/renewLeases.ts';
import { itemFromRow, type ItemRow } from '../db/rows.ts';
import type { ResolvedOptions } from '../config.ts';
import type { Signals } from '../signals.ts';
import { retryWithBackoff } from '../retry.ts';
import type { ServerClock } from './clock.ts';
import { decideAfterLostTrial } from './decide.ts';
import type { PendingSettlement, SettleWriter } from './settle-writer.ts';

/** What leases need of the database. */
export interface LeaseStore {
  /** Extends the leases of items held under these tokens. */
  renew(tokens: string[], leaseUntil: number): Promise<number>;
  /** Hands claimed, unstarted items back to `pending` with no trial counted. */
  handBack(token: string, ids: number[]): Promise<number>;
  /** Items whose lease ran out by `now`, with the token they were claimed under. */
  readExpired(now: number, limit: number): Promise<(ItemRow & { claim_token: string })[]>;
}

/** The lease store on a knex instance. */
export function knexLeaseStore(knex: Knex): LeaseStore {
  return {
    renew: (tokens, leaseUntil) => renewLeases(knex, tokens, leaseUntil),
    handBack: (token, ids) => handBackItems(knex, token, ids),
    readExpired: (now, limit) => readExpiredItems(knex, now, limit),
  };
}

/** Expired items taken back per statement. */
const EXPIRE_CHUNK = 500;

export class Leases {
  /** Claim tokens renewed while any of their items awaits an outcome. */
  private readonly held = new Set<string>();
  private renewTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: LeaseStore,
    private readonly signals: Signals,
    private readonly clock: Pick<ServerClock, 'now'>,
    private readonly opts: Pick<ResolvedOptions, 'leaseMs' | 'backoffBaseMs' | 'backoffMaxMs'>,
    private readonly writer: SettleWriter,
  ) {}

  /** Renews the lease of this claim every third of the lease, until `drop`. */
  hold(token: string): void {
    this.held.add(token);
    if (this.renewTimer) return;
    const every = Math.max(250, Math.floor(this.opts.leaseMs / 3));
    this.renewTimer = setInterval(() => {
      this.store.renew([...this.held], this.clock.now() + this.opts.leaseMs).catch((error) =>
        this.signals.emit('databaseError', { error, during: 'renewing leases', retryInMs: every }),
      );
    }, every);
    this.renewTimer.unref();
  }

  /** Stops renewing this claim (every item of its batch is accounted for). */
  drop(token: string): void {
    this.held.delete(token);
    if (this.held.size === 0 && this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = null;
    }
  }

  /**
   * Hands claimed items that never started back to `pending`, with no trial counted (graceful shutdown).
   * Not handing them back is safe (their lease runs out) but slower, so it is tried a few times, for about 10 s.
   */
  async handBack(token: string, ids: number[]): Promise<void> {
    await retryWithBackoff(() => this.store.handBack(token, ids), {
      firstMs: 50,
      maxMs: 5_000,
      giveUpAfterMs: 10_000,
      onError: (error, retryInMs) => this.signals.emit('databaseError', { error: error as Error, during: 'handing back unstarted items', retryInMs }),
    }).catch(() => {});
  }

  /** Takes back every item whose lease ran out, deciding each as a failed trial. Returns how many. */
  async expire(): Promise<number> {
    let total = 0;
    // Bounded: an item whose outcome the database refuses even as `error` stays expired, and is read again later.
    for (let round = 0; round < 20; round++) {
      const now = this.clock.now();
      const rows = await this.store.readExpired(now, EXPIRE_CHUNK);
      if (rows.length === 0) break;
      const group: PendingSettlement[] = rows.map((row) => {
        const item = itemFromRow(row, true);
        const reason = `its lease ran out during trial ${item.trials + 1}${row.owner ? ` (held by ${row.owner})` : ''}: the worker was killed, maybe by this item, or lost the database`;
        const decision = decideAfterLostTrial(
          { trials: item.trials, maxTrials: item.maxTrials, runAt: item.runAt.getTime(), results: item.results, cancelRequested: item.cancelRequested },
          reason,
          now,
          { baseMs: this.opts.backoffBaseMs, maxMs: this.opts.backoffMaxMs },
        );
        return { id: item.id, token: row.claim_token, status: decision.status, runAt: decision.runAt, results: JSON.stringify(decision.results), item, decision };
      });
      await this.writer.writeNow(group);
      total += rows.length;
      this.signals.emit('leasesExpired', { count: rows.length });
      if (rows.length < EXPIRE_CHUNK) break;
    }
    return total;
  }
}
