/**
 * Step 4 of an item's way: writing outcomes. Outcomes of many items are grouped into one statement, flushed when
 * a batch's worth is waiting or a few milliseconds after the first one arrived: one transaction (and one disk
 * flush) for hundreds of items instead of one each, which is what lets the queue pass a few thousand items/s.
 *
 * An item counts as done only once this write has committed. When the database is down, outcomes stay here and
 * the write is retried with backoff; the claim token fences it, so an outcome whose claim was lost meanwhile
 * is dropped by the database rather than overwriting the newer claim.
 */
import type { Knex } from 'knex';
import { readResults } from '../db/sql/readResults.ts';
import { settleItems, type Settlement } from '../db/sql/settleItems.ts';
import { writeResults } from '../db/sql/writeResults.ts';
import type { Signals } from '../signals.ts';
import type { Item, ItemStatus, Results } from '../types.ts';
import { isTransientLockError } from '../db/dialect.ts';
import { messageOf } from '../errors.ts';
import type { Decision } from './decide.ts';
import type { OutcomeKind } from './batch.ts';

/** What a written outcome counts as in its batch's tally, and the event that announces it, by status (else `error`). */
const SETTLED = {
  done: { kind: 'done', event: 'itemDone' },
  need_retry: { kind: 'retry', event: 'itemRetry' },
  canceled: { kind: 'canceled', event: 'itemCanceled' },
  error: { kind: 'error', event: 'itemError' },
} as const;
const settledAs = (status: ItemStatus) => SETTLED[status as keyof typeof SETTLED] ?? SETTLED.error;

/** What the writer needs of the database: the fenced writes, a read-back to tell lost claims, and a ping. */
export interface OutcomeStore {
  /** Writes outcomes, each fenced by its claim token; returns how many rows were written. */
  settle(group: Settlement[], now: number): Promise<number>;
  /** Writes results of items still in progress, fenced likewise. */
  writeResults(entries: { id: number; token: string; results: string }[]): Promise<number>;
  /** The stored results text of these items. */
  readResults(ids: number[]): Promise<Map<number, string>>;
  /** Resolves when the database answers at all. */
  ping(): Promise<void>;
}

/** The outcome store on a knex instance. */
export function knexOutcomeStore(knex: Knex): OutcomeStore {
  return {
    settle: (group, now) => settleItems(knex, group, now),
    writeResults: (entries) => writeResults(knex, entries),
    readResults: (ids) => readResults(knex, ids),
    ping: async () => void (await knex.raw('SELECT 1')),
  };
}

/** One item's outcome waiting to be written. */
export interface PendingSettlement extends Settlement {
  item: Item;
  decision: Decision;
}

/**
 * Results of an item still in progress, built only if still wanted when the flush comes: when the item settles
 * first (the usual case for fast handlers), its final outcome replaces this one and nothing is built or written.
 */
export interface PartialResults {
  id: number;
  token: string;
  results: () => string;
}

/** What became of one outcome: written as its status says, or `lost` (its claim had been taken over). */
export interface WrittenOutcome {
  settlement: PendingSettlement;
  kind: Exclude<OutcomeKind, 'handedBack'>;
}

const MAX_RETRY_DELAY_MS = 5_000;
/**
 * Results text per settle statement: well under MySQL's max_allowed_packet (16 MiB on MariaDB 10.11, 4 MiB on
 * older servers). 500 items of 8 handlers with long error messages would pass it, and the server answers a
 * statement over the limit by closing the connection, which looks like an outage.
 */
const SETTLE_CHUNK_CHARS = 2 * 1024 * 1024;

/** One claim of one item: the same item may be held here under a claim that was lost and under its next one. */
const partialKey = (e: { id: number; token: string }) => `${e.id}:${e.token}`;

export class SettleWriter {
  private waiting: PendingSettlement[] = [];
  /** Partial results by `id:token`: an item may be held under an old and a new claim at once (see `add`). */
  private partials = new Map<string, PartialResults>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Outcomes written (or given up) while isolating a refused one, so a retry of their group leaves them out. */
  private readonly written = new WeakSet<PendingSettlement>();
  /** Told of every outcome once it is written (or dropped as lost), in groups (River's completer does this). */
  private readonly subscribers: ((written: WrittenOutcome[]) => void)[] = [];
  /** Outcomes added and not yet written or dropped. */
  private unwritten = 0;
  private belowWaiters: { limit: number; resolve: () => void }[] = [];

  constructor(
    private readonly store: OutcomeStore,
    private readonly signals: Signals,
    private readonly now: () => number,
    private readonly flushSize: number,
    private readonly delayMs: number,
  ) {}

  /** Calls `listener` with the outcomes of each written group. */
  subscribe(listener: (written: WrittenOutcome[]) => void): void {
    this.subscribers.push(listener);
  }

  /** Outcomes added and not yet written (the work loop's back-pressure). */
  get backlog(): number {
    return this.unwritten;
  }

  /** Resolves once fewer than `limit` outcomes are unwritten. */
  whenBelow(limit: number): Promise<void> {
    if (this.unwritten < limit) return Promise.resolve();
    return new Promise((resolve) => this.belowWaiters.push({ limit, resolve }));
  }

  /**
   * Writes these outcomes now, in one go (lease expiry: the items must be claimable again before the next
   * claim), through the same fenced path, refusal handling and events as queued ones. Throws when the database
   * is away; nothing of the group is kept then.
   */
  async writeNow(group: PendingSettlement[]): Promise<void> {
    this.unwritten += group.length;
    try {
      await this.writeGroup(group);
    } finally {
      const left = group.filter((s) => !this.written.has(s)).length;
      this.unwritten -= left; // dropped: they stay expired and are read again next time
    }
  }

  /** Queues one outcome; it is written within `delayMs`, or at once when `flushSize` are waiting. */
  add(s: PendingSettlement): void {
    this.partials.delete(partialKey(s)); // the final outcome carries every result of its claim
    this.unwritten++;
    this.waiting.push(s);
    if (this.waiting.length >= this.flushSize) this.kick();
    else this.schedule();
  }

  /** Queues the results of an item whose other handlers still run; replaces an earlier one for the same item. */
  addPartial(p: PartialResults): void {
    this.partials.set(partialKey(p), p);
    this.schedule();
  }

  private schedule(): void {
    if (!this.timer && !this.flushing) this.timer = setTimeout(() => this.kick(), this.delayMs);
  }

  /** Resolves once everything added so far is written (retrying through database outages). */
  drain(): Promise<void> {
    if (!this.hasWork && !this.flushing) return Promise.resolve();
    this.kick();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing || !this.hasWork) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
      if (this.hasWork) this.kick();
      else this.idleWaiters.splice(0).forEach((r) => r());
    });
  }

  private get hasWork(): boolean {
    return this.waiting.length > 0 || this.partials.size > 0;
  }

  private async flushLoop(): Promise<void> {
    let delay = 50;
    while (this.hasWork) {
      const partials = [...this.partials.values()];
      this.partials.clear();
      const group = this.takeGroup();
      try {
        await this.writePartials(partials);
        await this.writeGroup(group);
        delay = 50;
      } catch (error) {
        // The database is away (or busy): keep the outcomes and try again. The claim still holds until its lease
        // runs out, and the fence makes a late write harmless. A partial is kept only if nothing newer for its
        // item arrived meanwhile; outcomes already written while isolating a refused one are not kept.
        this.waiting.unshift(...group.filter((s) => !this.written.has(s)));
        const settling = new Set(this.waiting.map(partialKey));
        for (const p of partials) if (!this.partials.has(partialKey(p)) && !settling.has(partialKey(p))) this.partials.set(partialKey(p), p);
        this.signals.emit('databaseError', { error: error as Error, during: 'writing outcomes', retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
      }
    }
  }

  /** The next statement's worth of outcomes: up to `flushSize` items and about `SETTLE_CHUNK_CHARS` of results. */
  private takeGroup(): PendingSettlement[] {
    let n = 0;
    let chars = 0;
    while (n < this.waiting.length && n < this.flushSize && (n === 0 || chars + this.waiting[n].results.length <= SETTLE_CHUNK_CHARS)) {
      chars += this.waiting[n].results.length;
      n++;
    }
    return this.waiting.splice(0, n);
  }

  /** Partial results are a head start, not an outcome: when the database refuses them, they are dropped. */
  private async writePartials(partials: PartialResults[]): Promise<void> {
    try {
      await this.store.writeResults(partials.map((p) => ({ id: p.id, token: p.token, results: p.results() })));
    } catch (error) {
      if (!(await this.refusedWhileUp(error))) throw error;
      this.signals.emit('databaseError', { error: error as Error, during: 'writing partial results (dropped; the final outcome carries them)', retryInMs: 0 });
    }
  }

  /**
   * Writes a group of outcomes. When the database is up but refuses the statement, the fault is in the group
   * (a value it cannot store, a statement over its packet limit): the group is split until the item at fault is
   * alone, and that item is settled as failed with the reason. Retrying such a statement would never succeed,
   * and its items would stay `in_progress` with their leases renewed for ever.
   */
  private async writeGroup(group: PendingSettlement[]): Promise<void> {
    if (group.length === 0) return;
    try {
      const written = await this.store.settle(group, this.now());
      this.report(group, await this.lostOf(group, written));
    } catch (error) {
      if (!(await this.refusedWhileUp(error))) throw error;
      if (group.length > 1) {
        const half = Math.ceil(group.length / 2);
        await this.writeGroup(group.slice(0, half));
        await this.writeGroup(group.slice(half));
        return;
      }
      await this.settleRefused(group[0], error);
    }
  }

  /**
   * One item whose outcome the database refuses while it answers everything else: tried again twice (a refusal
   * that a blip of the connection caused does not repeat), then settled as `error` with its earlier results and
   * the reason under `signalq`. If even that is refused, it is given up here: its lease runs out and the item is
   * taken back like any other.
   */
  private async settleRefused(s: PendingSettlement, reason: unknown): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        this.report([s], await this.lostOf([s], await this.store.settle([s], this.now())));
        return;
      } catch (error) {
        if (!(await this.refusedWhileUp(error))) throw error;
        reason = error;
      }
    }
    const results: Results = {
      ...s.item.results,
      signalq: { ok: false, error: `the database refused this trial's outcome (${messageOf(reason).slice(0, 500)}); retry the item once the cause is fixed`, at: new Date(this.now()).toISOString(), runs: 1 },
    };
    const decision: Decision = { status: 'error', results, runAt: s.item.runAt.getTime() };
    const failed: PendingSettlement = { ...s, status: 'error', runAt: decision.runAt, results: JSON.stringify(results), decision };
    try {
      this.report([failed], await this.lostOf([failed], await this.store.settle([failed], this.now())));
      this.written.add(s);
    } catch (error) {
      if (!(await this.refusedWhileUp(error))) throw error;
      this.signals.emit('databaseError', { error: error as Error, during: `writing item ${s.id}'s outcome (given up: its lease will run out and it will be tried again)`, retryInMs: 0 });
      this.report([s], new Set([s.id]));
    }
  }

  /**
   * True when a failed write was refused by a database that is up (it answers `SELECT 1` right after): the write
   * itself is at fault and trying it again will not help. Lock conflicts are the database being busy, not a refusal.
   */
  private async refusedWhileUp(error: unknown): Promise<boolean> {
    if (isTransientLockError(error)) return false;
    try {
      await this.store.ping();
      return true;
    } catch {
      return false;
    }
  }

  /** Announces what was written; `lost` holds the ids whose claim had been taken over. */
  private report(group: PendingSettlement[], lost: Set<number>): void {
    const written: WrittenOutcome[] = [];
    for (const s of group) {
      this.written.add(s);
      const kind = lost.has(s.id) ? 'lost' : settledAs(s.status).kind;
      written.push({ settlement: s, kind });
      if (kind !== 'lost') this.emitOutcome(s);
    }
    this.unwritten -= group.length;
    if (lost.size > 0) this.signals.emit('claimLost', { count: lost.size });
    for (const listener of this.subscribers) listener(written);
    if (this.belowWaiters.length > 0) {
      const still = this.belowWaiters.filter((w) => this.unwritten >= w.limit);
      for (const w of this.belowWaiters) if (this.unwritten < w.limit) w.resolve();
      this.belowWaiters = still;
    }
  }

  /**
   * Which of a group's items were not written (their lease ran out and another processor took them). Only asked
   * when the write changed fewer rows than it was given: an item is ours when it holds exactly the results we
   * wrote (they carry our timestamps).
   */
  private async lostOf(group: PendingSettlement[], written: number): Promise<Set<number>> {
    if (written === group.length) return new Set();
    const stored = await this.store.readResults(group.map((s) => s.id));
    return new Set(group.filter((s) => stored.get(s.id) !== s.results).map((s) => s.id));
  }

  private emitOutcome(s: PendingSettlement): void {
    const { event } = settledAs(s.status);
    if (!this.signals.has(event)) return; // most workers listen to none of these: build nothing
    const { decision } = s;
    // The item as it now stands in the database.
    const final = s.status !== 'need_retry';
    const item: Item = {
      ...s.item,
      status: decision.status,
      trials: s.item.trials + 1,
      runAt: new Date(decision.runAt),
      results: decision.results,
      owner: null,
      leaseUntil: null,
      finishedAt: final ? new Date(this.now()) : null,
      startedAt: s.startedAt != null ? new Date(s.startedAt) : s.item.startedAt,
    };
    this.signals.emit(event, { item });
  }
}
