/**
 * Steps 2 and 3 of an item's way: claim a batch, then send `processItem` for each claimed item (the fan-out to
 * every connected handler), wait for the runs the handlers hand back, and decide the item's outcome, which goes
 * to the settle writer. A batch's bookkeeping lives in its `Batch`; its leases in `Leases`.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import pLimit, { type LimitFunction } from 'p-limit';
import { claimItems } from '../db/sql/claimItems.ts';
import { claimItemById } from '../db/sql/claimItemById.ts';
import { itemFromRow, type ItemRow } from '../db/rows.ts';
import type { ResolvedOptions } from '../config.ts';
import type { Signals } from '../signals.ts';
import type { HandlerOutcome, Item } from '../types.ts';
import { messageOf } from '../errors.ts';
import { Batch } from './batch.ts';
import type { ServerClock } from './clock.ts';
import { SIGNALQ_VERDICT, decideAfterTrial, type Decision } from './decide.ts';
import type { HandlerRegistry } from './handlers.ts';
import { Leases, knexLeaseStore } from './leases.ts';
import { SettleWriter, knexOutcomeStore } from './settle-writer.ts';
import { JobStateWriter } from '../jobs/job-writer.ts';
import { ItemRun } from '../jobs/item-run.ts';
import { CancelWatcher } from '../jobs/cancel-watcher.ts';
import { isCancelRequested } from '../db/sql/cancelItem.ts';
import { ItemSignal } from './item-signal.ts';

export class Processor {
  readonly writer: SettleWriter;
  readonly leases: Leases;
  /** Running jobs' start marks, progress, summaries and history records, coalesced. */
  readonly jobs: JobStateWriter;
  /** Claimed items awaiting their outcome, by id: what a cancel request reaches. */
  private readonly runs = new Map<number, ItemRun>();
  private readonly cancels: CancelWatcher;
  /** Batches with items still awaiting an outcome, by claim token. */
  private readonly batches = new Map<string, Batch>();
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
    this.writer = new SettleWriter(knexOutcomeStore(knex), signals, () => clock.now(), opts.batchSize, opts.settleDelayMs);
    this.writer.subscribe((written) => {
      for (const w of written) {
        this.batches.get(w.settlement.token)?.record(w.kind);
        this.release(w.settlement.id, w.settlement.token);
      }
    });
    this.jobs = new JobStateWriter(knex, signals, () => clock.now(), opts.progressFlushMs, opts.leaseMs);
    this.cancels = new CancelWatcher(knex, signals, opts.owner, this.runs);
    this.leases = new Leases(knexLeaseStore(knex), signals, clock, opts, this.writer);
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

  /** Starts items again after `stop()` (a new `work()`). */
  resume(): void {
    this.stopping = false;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Claims up to `limit` items and queues them to run as slots free up. Returns once claimed; the batch's
   * `written` resolves when every item is accounted for. Returns null when nothing was runnable.
   */
  async claimAndDispatch(limit: number): Promise<Batch | null> {
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
    return this.dispatchClaimed(rows, token);
  }

  /**
   * Claims item `id` alone, whatever its due time, if it is queued (`pending` or `need_retry`), and runs it as a
   * batch of one, recorded and fenced exactly like a claimed batch (`signalq run`). Returns null when the item
   * was not queued.
   */
  async claimAndDispatchById(id: number): Promise<Batch | null> {
    if (this.stopping) return null;
    const token = randomUUID();
    const now = this.clock.now();
    const row = await claimItemById(this.knex, id, { token, owner: this.opts.owner, now, leaseUntil: now + this.opts.leaseMs });
    return row ? this.dispatchClaimed([row], token) : null;
  }

  /** Holds the leases of claimed rows and queues them to run; the batch's `written` resolves once all settle. */
  private dispatchClaimed(rows: ItemRow[], token: string): Batch {
    const batch = new Batch(token, rows.length);
    this.batches.set(token, batch);
    this.leases.hold(token);
    // Registered before anyone else can wait on `written`, so `batchEnd` is out before they resume.
    void batch.written.then((summary) => {
      this.batches.delete(token);
      this.leases.drop(token);
      this.signals.emit('batchEnd', { token, ...summary });
    });
    for (const row of rows) {
      const run = new ItemRun(Number(row.id), token);
      // A cancel requested while its last trial ended in a retry: it ends `canceled` without running again.
      if (Number(row.cancel_requested ?? 0) === 1) run.cancel();
      this.runs.set(run.id, run);
    }
    this.cancels.start();
    this.signals.emit('batchStart', { token, claimed: rows.length });
    void this.dispatchAll(rows, batch);
    return batch;
  }

  /** Runs each claimed item when a slot is free; hands back those not started when stopping. */
  private async dispatchAll(rows: ItemRow[], batch: Batch): Promise<void> {
    const unstarted: number[] = [];
    this.queued += rows.length;
    await Promise.all(
      rows.map((row) =>
        this.slots(async () => {
          this.started();
          if (this.stopping || !(await this.dispatchSafely(row, batch.token))) unstarted.push(row.id);
        }),
      ),
    );
    if (unstarted.length > 0) {
      for (const id of unstarted) this.release(id, batch.token);
      await this.leases.handBack(batch.token, unstarted);
      batch.record('handedBack', unstarted.length);
    }
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
        this.decide(itemFromRow(row, true), [{ name: SIGNALQ_VERDICT, ok: false, error: `running the item failed: ${messageOf(err)}` }], token);
      } catch {
        this.batches.get(token)?.record('lost'); // cannot even decide: its lease, no longer renewed, runs out
      }
      return true;
    }
  }

  private started(): void {
    if (--this.queued === 0) this.allStartedWaiters.splice(0).forEach((r) => r());
  }

  /**
   * Sends `processItem` for one item (each connected handler that takes it starts its run and hands it over with
   * `signal.run`), waits for the runs, and hands the outcome to the writer. Returns false when no connected
   * handler takes the item's type (it goes back to `pending` untouched).
   */
  private async dispatch(row: ItemRow, token: string): Promise<boolean> {
    let item: Item;
    try {
      item = itemFromRow(row);
    } catch (err) {
      // A payload that is not JSON was written by something other than signalq; no handler can use it.
      item = itemFromRow(row, true);
      this.decide(item, [{ name: SIGNALQ_VERDICT, ok: false, permanent: true, error: `payload is not valid JSON (${messageOf(err)})` }], token);
      return true;
    }
    const run = this.runs.get(item.id) ?? new ItemRun(item.id, token);
    if (run.canceled) {
      // Canceled while it waited for a slot: it never starts.
      await this.decideCanceled(item, [{ name: SIGNALQ_VERDICT, ok: false, canceled: true, error: 'canceled before it started' }], token);
      return true;
    }
    this.jobs.markStarted(item.id, token);
    const signal = new ItemSignal(item, token, run, this.jobs);
    this.signals.emit('processItem', signal);
    const runs = signal.runs;
    if (runs.length === 0 && this.registry.handlersFor(item.type).length === 0) {
      this.jobs.takeStart(item.id);
      return false;
    }
    const outcomes = await this.awaitRuns(item, runs, token);
    if (outcomes.some((o) => o.canceled)) {
      await this.decideCanceled(item, outcomes, token);
      return true;
    }
    for (const o of outcomes) if (!o.ok) this.signals.emit('handlerFailed', { item, handler: o.name, error: o.error ?? 'failed' });
    const decision = this.decision(item, outcomes);
    if (decision.status === 'need_retry' && (await this.cancelRequestedMeanwhile(item.id, token))) {
      // Its cancel was requested after the watcher last looked, and the trial failed on its own: no retry.
      await this.decideCanceled(item, [...outcomes, { name: SIGNALQ_VERDICT, ok: false, canceled: true, error: 'canceled at an operator\'s request; its trial had failed' }], token);
      return true;
    }
    // What the job reported goes before its outcome: progress and history of a finished item are complete.
    if (this.jobs.hasPending(item.id)) await this.jobs.flushNow();
    this.settle(item, decision, token);
    return true;
  }

  /**
   * Whether a cancel of this claimed item was requested since the cancel watcher last looked (read only for a trial
   * that would be retried). A failed read says no: the item's next claim still sees the request and ends it.
   */
  private async cancelRequestedMeanwhile(id: number, token: string): Promise<boolean> {
    try {
      return await isCancelRequested(this.knex, id, token);
    } catch {
      return false;
    }
  }

  /** Settles a canceled item, with a history record saying so. */
  private async decideCanceled(item: Item, outcomes: HandlerOutcome[], token: string): Promise<void> {
    this.jobs.addHistory(item.id, token, SIGNALQ_VERDICT, { status: 'canceled', comment: `canceled at an operator's request during trial ${item.trials + 1}` });
    await this.jobs.flushNow();
    this.decide(item, outcomes, token);
  }

  /** Forgets an item's run once its outcome is written or it was handed back. */
  private release(id: number, token: string): void {
    if (this.runs.get(id)?.token === token) this.runs.delete(id);
    this.jobs.forget(id);
  }

  /**
   * Waits for the handlers' runs. When one succeeds while others of the same item still run, its success is
   * queued for writing at once, so a crash before the item settles does not run it again.
   */
  private awaitRuns(item: Item, runs: Promise<HandlerOutcome>[], token: string): Promise<HandlerOutcome[]> {
    if (runs.length < 2) return Promise.all(runs);
    let left = runs.length;
    const succeeded: HandlerOutcome[] = [];
    // The results as they would stand if the item settled now: decided by the same function as the settlement.
    const results = () => JSON.stringify(this.decision(item, succeeded).results);
    return Promise.all(
      runs.map((run) =>
        run.then((o) => {
          left--;
          if (o.ok && left > 0) {
            succeeded.push(o);
            this.writer.addPartial({ id: item.id, token, results });
          }
          return o;
        }),
      ),
    );
  }

  private decision(item: Item, outcomes: HandlerOutcome[]) {
    return decideAfterTrial(
      { trials: item.trials, maxTrials: item.maxTrials, runAt: item.runAt.getTime(), results: item.results },
      outcomes,
      this.clock.now(),
      { baseMs: this.opts.backoffBaseMs, maxMs: this.opts.backoffMaxMs },
    );
  }

  private decide(item: Item, outcomes: HandlerOutcome[], token: string): void {
    this.settle(item, this.decision(item, outcomes), token);
  }

  /** Hands the item's decided outcome to the settle writer, with its start mark if not yet written. */
  private settle(item: Item, decision: Decision, token: string): void {
    const startedAt = this.jobs.takeStart(item.id);
    this.writer.add({ id: item.id, token, status: decision.status, runAt: decision.runAt, results: JSON.stringify(decision.results), startedAt, item, decision });
  }
}
