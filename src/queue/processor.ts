/**
 * Steps 2 and 3 of an item's way: claim a batch, then send `processItem` for each claimed item and decide its
 * outcome, which goes to the settle writer. Also renews the leases of claimed items and hands unstarted items
 * back on shutdown.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import pLimit from 'p-limit';
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

/** A batch that has been claimed and dispatched; its outcomes may still be on their way to the database. */
export interface DispatchedBatch {
  token: string;
  claimed: number;
  released: number;
  startedAt: number;
  /** Resolves once every outcome of the batch is written. */
  written: Promise<BatchSummary>;
}

export class Processor {
  readonly writer: SettleWriter;
  /** Claim token -> outcomes not yet written; a token is renewed while it has any. */
  private readonly live = new Map<string, { left: number; done: () => void }>();
  private renewTimer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    private readonly knex: Knex,
    private readonly signals: Signals,
    private readonly registry: HandlerRegistry,
    private readonly clock: ServerClock,
    private readonly opts: ResolvedOptions,
  ) {
    this.writer = new SettleWriter(knex, signals, () => clock.now(), opts.batchSize, opts.settleDelayMs, (token, n) => this.settled(token, n));
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
   * Claims up to `limit` items and runs their handlers. Returns once every item has been dispatched (or
   * handed back); the returned batch's `written` resolves when their outcomes are in the database.
   * Returns null when nothing was runnable.
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

    const unstarted: number[] = [];
    const limitConcurrency = pLimit(this.opts.concurrency);
    await Promise.all(
      rows.map((row) =>
        limitConcurrency(async () => {
          if (this.stopping) unstarted.push(row.id);
          else if (!(await this.dispatch(row, token))) unstarted.push(row.id);
        }),
      ),
    );
    if (unstarted.length > 0) await this.release(token, unstarted);

    const written = allWritten.then(() => {
      const c = this.writer.counts.get(token) ?? { done: 0, retry: 0, error: 0, lost: 0 };
      this.writer.counts.delete(token);
      const summary: BatchSummary = { claimed: rows.length, ...c, released: unstarted.length, ms: Date.now() - startedAt };
      this.signals.emit('batchEnd', { token, claimed: summary.claimed, done: c.done, retry: c.retry, error: c.error, released: summary.released, ms: summary.ms });
      return summary;
    });
    return { token, claimed: rows.length, released: unstarted.length, startedAt, written };
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
      item = { ...itemFromRow({ ...row, payload: 'null' }), payload: row.payload };
      this.decide(item, [{ name: 'signalq', ok: false, permanent: true, error: `payload is not valid JSON (${messageOf(err)})` }], token);
      return true;
    }
    const signal: ProcessItemSignal = { item, results: item.results, runs: [] };
    this.signals.emit('processItem', signal);
    if (signal.runs.length === 0 && this.registry.handlersFor(item.type).length === 0) return false;
    const outcomes = await Promise.all(signal.runs);
    for (const o of outcomes) if (!o.ok) this.signals.emit('handlerFailed', { item, handler: o.name, error: o.error ?? 'failed' });
    this.decide(item, outcomes, token);
    return true;
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
