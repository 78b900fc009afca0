/**
 * The pipelined loop of batches, the next claimed while the last one's outcomes are being written: the
 * long-running form (`signalq work`), which polls cheaply when idle (an enqueue on the same host wakes it), and
 * the cron-run form (`signalq process --until-empty`), which stops once nothing is runnable. It lives through database outages:
 * every failure is reported, waited out with backoff, and retried; outcomes already reached are kept and written
 * once the database is back.
 */
import type { Knex } from 'knex';
import { hasRunnableItem } from '../db/sql/hasRunnableItem.ts';
import { isConnectionError } from '../db/connect.ts';
import type { Signals } from '../signals.ts';
import type { ServerClock } from '../queue/clock.ts';
import type { HandlerRegistry } from '../queue/handlers.ts';
import type { Processor } from '../queue/processor.ts';
import { addTally, emptyTally, type BatchSummary, type Tally } from '../queue/batch.ts';
import { WorkerPresence } from './presence.ts';
import { recordOf } from '../jobs/declarations.ts';

/** Totals over a worker's life. */
export interface WorkTotals extends Tally {
  batches: number;
  claimed: number;
}

export interface WorkLoopDeps {
  knex: Knex;
  signals: Signals;
  processor: Processor;
  registry: HandlerRegistry;
  clock: ServerClock;
  batchSize: number;
  pollIntervalMs: number;
  leaseMs: number;
  /** Stop once nothing is runnable and every outcome is written (the cron-run form), instead of polling. */
  untilEmpty?: boolean;
}

const MAX_BACKOFF_MS = 10_000;
/** Claiming waits while this many batches' worth of outcomes are unwritten: a slow database slows claiming. */
const MAX_UNWRITTEN_BATCHES = 3;
/** Wake datagrams cut an idle sleep short at most once per this many ms (a flood costs at most 500 probes/s). */
const MIN_HINT_GAP_MS = 2;

export class WorkLoop {
  /** Ends the current sleep early; set while the loop sleeps. */
  private wake: (() => void) | null = null;
  /** Ends the current idle poll's sleep early (a wake datagram); set only while the loop polls for work. */
  private hintWake: (() => void) | null = null;
  /** When a wake datagram last cut an idle sleep short (performance.now()). */
  private lastHintAt = -Infinity;
  /** Something may be runnable now (a wake arrived, possibly while the loop was not sleeping). */
  private woken = false;
  private readonly inflight = new Set<Promise<BatchSummary | null>>();
  readonly totals: WorkTotals = { batches: 0, claimed: 0, ...emptyTally() };

  /** What an enqueue in this process does to the loop (kept to be removed when the loop ends). */
  private readonly onEnqueued = () => this.poke();

  constructor(private readonly d: WorkLoopDeps) {}

  /**
   * Runs until `processor.stop()`; then finishes running handlers, hands unstarted items back, writes all.
   * Meanwhile the worker is registered (host, PID, handlers) and woken by enqueues on the same host.
   */
  async run(): Promise<WorkTotals> {
    // Listening only while running: a queue that works again (work() after work()) does not pile up listeners.
    this.d.signals.on('itemEnqueued', this.onEnqueued);
    this.d.signals.on('itemsEnqueued', this.onEnqueued);
    try {
      const presence = new WorkerPresence(this.d.knex, this.d.signals, () => this.d.clock.now(), () => this.d.registry.handlers.map(recordOf));
      await presence.start(() => this.hint());
      try {
        return await this.loop();
      } finally {
        await presence.stop();
      }
    } finally {
      this.d.signals.off('itemEnqueued', this.onEnqueued);
      this.d.signals.off('itemsEnqueued', this.onEnqueued);
    }
  }

  private async loop(): Promise<WorkTotals> {
    const { processor, signals } = this.d;
    let backoff = 100;
    let lastExpiry = 0;
    while (!processor.isStopping) {
      try {
        await this.d.clock.syncIfStale();
        if (Date.now() - lastExpiry > this.d.leaseMs / 2) {
          await processor.leases.expire();
          lastExpiry = Date.now();
        }
        // Claim more once every claimed item has started (items wait in memory for a slot, under lease, so keep
        // that queue short), and while at most a few batches' worth of outcomes are unwritten (counted in
        // outcomes, not batches: three batches that each hold one slow item must not stop claiming), so that a
        // slow database slows claiming rather than growing memory.
        await processor.whenAllStarted();
        await processor.writer.whenBelow(MAX_UNWRITTEN_BATCHES * this.d.batchSize);
        const batch = await processor.claimAndDispatch(this.d.batchSize);
        backoff = 100;
        if (!batch && this.d.untilEmpty) {
          // Nothing runnable: once the outcomes in flight are written (a retry may be due at once), look again.
          if (this.inflight.size === 0) break;
          await Promise.all(this.inflight);
          lastExpiry = 0;
          continue;
        }
        if (batch) {
          const p = batch.written
            .then((s) => this.count(s))
            .catch((error) => {
              // Never an unhandled rejection (which ends the process): report it and carry on.
              signals.emit('databaseError', { error: error as Error, during: 'finishing a batch', retryInMs: 0 });
              return null;
            })
            .finally(() => this.inflight.delete(p));
          this.inflight.add(p);
        } else {
          await this.idle();
        }
      } catch (error) {
        signals.emit('databaseError', {
          error: error as Error,
          during: isConnectionError(error) ? 'reaching the database' : 'claiming items',
          retryInMs: backoff,
        });
        await this.sleep(backoff);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
    await Promise.all(this.inflight);
    await processor.writer.drain();
    return this.totals;
  }

  /** Wakes an idle loop at once to claim (an enqueue in this process, or shutdown). */
  poke(): void {
    this.woken = true;
    this.wake?.();
  }

  /**
   * A wake datagram (an enqueue in another process on this host): cuts an idle poll's sleep short, so the loop
   * looks (one index probe) at once instead of at its next poll. Anything on the host can send one, so a datagram
   * never costs more than that probe, at most one per `MIN_HINT_GAP_MS`, and never cuts short a backoff.
   */
  hint(): void {
    const now = performance.now();
    if (!this.hintWake || now - this.lastHintAt < MIN_HINT_GAP_MS) return;
    this.lastHintAt = now;
    this.hintWake();
  }

  private count(s: BatchSummary): BatchSummary {
    this.totals.batches++;
    this.totals.claimed += s.claimed;
    addTally(this.totals, s);
    return s;
  }

  /**
   * Waits until something is runnable: polls with one index probe per interval, or is woken. Returns after half a
   * lease at the latest, so the loop takes back expired leases even when nothing else happens.
   */
  private async idle(): Promise<void> {
    const { knex, clock, registry, processor } = this.d;
    const until = Date.now() + this.d.leaseMs / 2;
    while (!processor.isStopping && Date.now() < until) {
      if (this.woken) {
        this.woken = false;
        return;
      }
      await this.sleep(this.d.pollIntervalMs, true);
      if (processor.isStopping || this.woken) continue;
      if (await hasRunnableItem(knex, clock.now(), registry.claimableTypes())) return;
    }
  }


  /** Sleeps `ms`; `poke` ends it early, and `hint` too when `hintable` (an idle poll's sleep). */
  private sleep(ms: number, hintable = false): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = null;
        this.hintWake = null;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = finish;
      if (hintable) this.hintWake = finish;
    });
  }
}
