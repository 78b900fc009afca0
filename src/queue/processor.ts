/**
 * Steps 2 and 3 of an item's way: claim a batch, then send `processItem` for each claimed item and decide its
 * outcome, which goes to the settle writer. Also renews the leases of claimed items and hands unstarted items
 * back on shutdown.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import pLimit, { type LimitFunction } from 'p-limit';
import { claimItems, expireLeases, releaseItems, renewLeases } from '../db/items.ts';
import { itemFromRow, type ItemRow } from '../db/rows.ts';
import type { ResolvedOptions } from '../config.ts';
import type { ProcessItemSignal, Signals } from '../signals.ts';
import type { Item } from '../types.ts';
import { messageOf } from '../errors.ts';
import type { ServerClock } from './clock.ts';
import { decideAfterTrial, type HandlerOutcome } from './decide.ts';
import type { HandlerRegistry } from './handlers.ts';
import { SettleWriter } from './settle-writer.ts';

/** What one batch did. */
export interface BatchSummary {
  claimed: number;
  done: number;
  retry: number;
  error: number;
  /** Claimed but handed back unstarted (shutdown), or of a type no connected handler takes. */
  released: number;
  /** Outcomes dropped because the claim was lost (lease ran out and another processor took the item). */
  lost: number;
  ms: number;
}

/** A batch that has been claimed; its items run as slots free up, and their outcomes follow. */
export interface DispatchedBatch {
  token: string;
  claimed: number;
  /** Resolves once every outcome of the batch is written (and unstarted items are handed back). */
  written: Promise<BatchSummary>;
}

export class Processor {
  readonly writer: SettleWriter;
  /** Claim token -> outcomes not yet written; a token is renewed while it has any. */
  private readonly live = new Map<string, { left: number; done: () => void }>();
  private renewTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /**
   * One limit on running items for all batches: a slow item holds one slot, not its whole batch, and the work
   * loop claims the next batch as soon as every claimed item has started.
   */
  private readonly slots: LimitFunction;
  private queued = 0;
  private allStartedWaiters: (() => void)[] = [];

  constructor(
    private readonly knex: Knex,
    private readonly signals: Signals,
    private readonly registry: HandlerRegistry,
    private readonly clock: ServerClock,
    private readonly opts: ResolvedOptions,
  ) {
    this.writer = new SettleWriter(knex, signals, () => clock.now(), opts.batchSize, opts.settleDelayMs, (token, n) => this.settled(token, n));
    this.slots = pLimit(opts.concurrency);
  }

  /** Resolves once every claimed item has started (or been skipped); at once when none is waiting. */
  whenAllStarted(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.allStartedWaiters.push(resolve));
  }

  /** Stop starting items: the rest of each claimed batch is handed back to `pending` without a trial. */
  stop(): void {
    this.stopping = true;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Takes back items whose lease ran out, so they can be claimed again. Returns how many. */
  async expireLeases(): Promise<number> {
    const n = await expireLeases(this.knex, this.clock.now());
    if (n > 0) this.signals.emit('leasesExpired', { count: n });
    return n;
  }

  /**
   * Claims up to `limit` items and queues them to run as slots free up. Returns once claimed; the batch's
   * `written` resolves when every outcome is in the database. Returns null when nothing was runnable.
   */
  async claimAndDispatch(limit: number): Promise<DispatchedBatch | null> {
    if (this.stopping) return null;
    const token = randomUUID();
    const now = this.clock.now();
    const rows = await claimItems(this.knex, {
      token,
      owner: this.opts.owner,
      now,
      leaseUntil: now + this.opts.leaseMs,
      limit,
      types: this.registry.claimableTypes(),
    });
    if (rows.length === 0) return null;
    const startedAt = Date.now();
    let resolveWritten!: () => void;
    const allWritten = new Promise<void>((r) => (resolveWritten = r));
    this.live.set(token, { left: rows.length, done: resolveWritten });
    this.ensureRenewing();
    this.signals.emit('batchStart', { token, claimed: rows.length });

    const dispatched = this.dispatchAll(rows, token);
    const written = Promise.all([dispatched, allWritten]).then(([released]) => {
      const c = this.writer.counts.get(token) ?? { done: 0, retry: 0, error: 0, lost: 0 };
      this.writer.counts.delete(token);
      const summary: BatchSummary = { claimed: rows.length, ...c, released, ms: Date.now() - startedAt };
      this.signals.emit('batchEnd', { token, claimed: summary.claimed, done: c.done, retry: c.retry, error: c.error, released, ms: summary.ms });
      return summary;
    });
    return { token, claimed: rows.length, written };
  }

  /** Runs each claimed item when a slot is free; hands back those not started when stopping. Returns how many. */
  private async dispatchAll(rows: ItemRow[], token: string): Promise<number> {
    const unstarted: number[] = [];
    this.queued += rows.length;
    await Promise.all(
      rows.map((row) =>
        this.slots(async () => {
          this.started();
          if (this.stopping) unstarted.push(row.id);
          else if (!(await this.dispatchSafely(row, token))) unstarted.push(row.id);
        }),
      ),
    );
    if (unstarted.length > 0) await this.release(token, unstarted);
    return unstarted.length;
  }

  /**
   * `dispatch`, with whatever it throws turned into the item's failure: an item whose dispatch fails must still be
   * settled, or its batch would never end and its lease would be renewed for ever.
   */
  private async dispatchSafely(row: ItemRow, token: string): Promise<boolean> {
    try {
      return await this.dispatch(row, token);
    } catch (err) {
      try {
        this.decide(itemFromRow(row, true), [{ name: 'signalq', ok: false, error: `running the item failed: ${messageOf(err)}` }], token);
      } catch {
        this.settled(token, 1); // cannot even decide: leave it to its lease, which is no longer renewed for it
      }
      return true;
    }
  }

  private started(): void {
    if (--this.queued === 0) this.allStartedWaiters.splice(0).forEach((r) => r());
  }

  /**
   * Sends `processItem` for one item and hands its outcome to the writer. Returns false when no connected
   * handler takes the item's type (it goes back to `pending` untouched).
   */
  private async dispatch(row: ItemRow, token: string): Promise<boolean> {
    let item: Item;
    try {
      item = itemFromRow(row);
    } catch (err) {
      // A payload that is not JSON was written by something other than signalq; no handler can use it.
      item = itemFromRow(row, true);
      this.decide(item, [{ name: 'signalq', ok: false, permanent: true, error: `payload is not valid JSON (${messageOf(err)})` }], token);
      return true;
    }
    const signal: ProcessItemSignal = { item, results: item.results, runs: [] };
    this.signals.emit('processItem', signal);
    if (signal.runs.length === 0 && this.registry.handlersFor(item.type).length === 0) return false;
    const outcomes = await this.awaitRuns(item, signal.runs, token);
    for (const o of outcomes) if (!o.ok) this.signals.emit('handlerFailed', { item, handler: o.name, error: o.error ?? 'failed' });
    this.decide(item, outcomes, token);
    return true;
  }

  /**
   * Waits for the handlers' runs. When one succeeds while others of the same item still run, its success is
   * queued for writing at once, so a crash before the item settles does not run it again.
   */
  private awaitRuns(item: Item, runs: Promise<HandlerOutcome>[], token: string): Promise<HandlerOutcome[]> {
    if (runs.length < 2) return Promise.all(runs);
    let left = runs.length;
    const succeeded: string[] = [];
    const results = () => {
      const at = new Date(this.clock.now()).toISOString();
      const merged = { ...item.results };
      for (const name of succeeded) merged[name] = { ok: true, at, runs: (item.results[name]?.runs ?? 0) + 1 };
      return JSON.stringify(merged);
    };
    return Promise.all(
      runs.map((run) =>
        run.then((o) => {
          left--;
          if (o.ok && left > 0) {
            succeeded.push(o.name);
            this.writer.addPartial({ id: item.id, token, results });
          }
          return o;
        }),
      ),
    );
  }

  private decide(item: Item, outcomes: HandlerOutcome[], token: string): void {
    const decision = decideAfterTrial(
      { trials: item.trials, maxTrials: item.maxTrials, runAt: item.runAt.getTime(), results: item.results },
      outcomes,
      this.clock.now(),
      { baseMs: this.opts.backoffBaseMs, maxMs: this.opts.backoffMaxMs },
    );
    this.writer.add({ id: item.id, token, status: decision.status, runAt: decision.runAt, results: JSON.stringify(decision.results), item, decision });
  }

  private async release(token: string, ids: number[]): Promise<void> {
    for (let delay = 50; ; delay = Math.min(5000, delay * 2)) {
      try {
        await releaseItems(this.knex, token, ids);
        break;
      } catch (error) {
        // Not handing them back is safe (their lease runs out) but slower; try a few times while shutting down.
        this.signals.emit('databaseError', { error: error as Error, during: 'handing back unstarted items', retryInMs: delay });
        if (delay >= 5000) break;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    this.settled(token, ids.length);
  }

  private settled(token: string, n: number): void {
    const entry = this.live.get(token);
    if (!entry) return;
    entry.left -= n;
    if (entry.left <= 0) {
      this.live.delete(token);
      entry.done();
      if (this.live.size === 0 && this.renewTimer) {
        clearInterval(this.renewTimer);
        this.renewTimer = null;
      }
    }
  }

  private ensureRenewing(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      const tokens = [...this.live.keys()];
      renewLeases(this.knex, tokens, this.clock.now() + this.opts.leaseMs).catch((error) =>
        this.signals.emit('databaseError', { error, during: 'renewing leases', retryInMs: Math.round(this.opts.leaseMs / 3) }),
      );
    }, Math.max(250, Math.floor(this.opts.leaseMs / 3)));
    this.renewTimer.unref();
  }
}
