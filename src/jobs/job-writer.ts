/**
 * A running job's live state, coalesced: when its handlers started, its progress, its summary line and its
 * history records. A job that reports every record must not become a write per record, so reports are kept in
 * memory and written every `flushMs` (one statement for all start marks, one per item with progress, one
 * transaction for history records), fenced by the claim like every write to a claimed item. When an item's run
 * ends, what it reported is written before its outcome (`flushItem`).
 */
import type { Knex } from 'knex';
import { appendHistoryFenced, type NewHistoryRecord } from '../db/sql/appendHistory.ts';
import { countHistory } from '../db/sql/readHistory.ts';
import { writeJobState, type JobStateEntry } from '../db/sql/writeJobState.ts';
import type { Signals } from '../signals.ts';
import { retryWithBackoff } from '../retry.ts';

/** History records kept per item; past it, one record says so and the rest are dropped. */
export const MAX_HISTORY_PER_ITEM = 10_000;
/** Longest progress message, summary line, subject, status and comment kept (characters). */
const MAX_MESSAGE = 255;
const MAX_SUMMARY = 1000;
const MAX_SUBJECT = 255;
const MAX_STATUS = 50;
const MAX_COMMENT = 4000;

interface PendingState extends JobStateEntry {}

/** Per item: how many history records it has (read once from the database, then counted here). */
interface HistoryCount {
  /** Records the item had before this process wrote any (read at its first write). */
  stored: Promise<number> | null;
  /** Records this process wrote or dropped for it since. */
  written: number;
  /** Records queued in this process (a bound on memory too). */
  queued: number;
  capped: boolean;
}

export class JobStateWriter {
  private readonly states = new Map<number, PendingState>();
  private history: (NewHistoryRecord & { token: string })[] = [];
  /**
   * Items with reports not yet written, and how many: history records queued or in a flush under way, and progress
   * or summaries a flush under way took. `hasPending` is asked once per finished item, and an item whose reports are
   * still being written must wait for them (settling first would clear the claim the writes are fenced by, and the
   * fence would drop them).
   */
  private readonly unwritten = new Map<number, number>();
  private readonly counts = new Map<number, HistoryCount>();
  /** When each running item's handlers started, and whether that is written yet (one entry per running item). */
  private readonly startTimes = new Map<number, { at: number; token: string; written: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly knex: Knex,
    private readonly signals: Signals,
    private readonly now: () => number,
    /** How often reports are written. */
    private readonly flushMs = 250,
    /** How long an item's last reports are retried through an outage before they are given up (its lease). */
    private readonly giveUpAfterMs = 60_000,
  ) {}

  /** The item's handlers start now. */
  markStarted(id: number, token: string, at = this.now()): void {
    this.startTimes.set(id, { at, token, written: false });
    this.schedule();
  }

  /**
   * Takes an item's start time, and its start mark if not yet written: the item's outcome carries it instead (most
   * items finish before the next flush, and then cost no write of their own).
   */
  takeStart(id: number): number | undefined {
    const start = this.startTimes.get(id);
    this.startTimes.delete(id);
    return start?.at;
  }

  progress(id: number, token: string, done: number, size: number | null, message: string | null): void {
    this.entry(id, token).progress = { done, size, message: message === null ? null : message.slice(0, MAX_MESSAGE) };
  }

  summary(id: number, token: string, line: string): void {
    this.entry(id, token).summary = line.slice(0, MAX_SUMMARY);
  }

  /** Queues a history record; past `MAX_HISTORY_PER_ITEM` records for the item, one notice, then nothing. */
  addHistory(id: number, token: string, handler: string, r: { comment: string; subject?: string | number | null; status?: string | null }): void {
    let c = this.counts.get(id);
    if (!c) this.counts.set(id, (c = { stored: null, written: 0, queued: 0, capped: false }));
    if (c.capped) return;
    if (c.queued >= MAX_HISTORY_PER_ITEM) {
      c.capped = true;
      r = { comment: `history limit of ${MAX_HISTORY_PER_ITEM} records reached; later records of this run are not kept`, status: 'signalq' };
    }
    c.queued++;
    this.countUnwritten(id, 1);
    this.history.push({
      token,
      itemId: id,
      handler,
      at: this.now(),
      subject: r.subject == null ? null : String(r.subject).slice(0, MAX_SUBJECT),
      status: r.status == null ? null : String(r.status).slice(0, MAX_STATUS),
      comment: String(r.comment).slice(0, MAX_COMMENT),
    });
    this.schedule();
  }

  /** True when the item has reports not yet written (besides a start mark its outcome can carry). */
  hasPending(id: number): boolean {
    const e = this.states.get(id);
    return (e !== undefined && (e.progress !== undefined || e.summary !== undefined)) || this.unwritten.has(id);
  }

  /**
   * Writes everything pending now (an item's run ended: its reports go before its outcome). Retries through an
   * outage for up to `giveUpAfterMs`; reports of an item whose claim was lost are dropped by the fence.
   */
  async flushNow(): Promise<void> {
    await retryWithBackoff(() => this.flush(), {
      firstMs: 100,
      maxMs: 5_000,
      giveUpAfterMs: this.giveUpAfterMs,
      onError: (error, retryInMs) => this.signals.emit('databaseError', { error: error as Error, during: 'writing job progress and history', retryInMs }),
    }).catch(() => {});
  }

  /** Forgets what is known of an item (its outcome is written). */
  forget(id: number): void {
    this.states.delete(id);
    this.unwritten.delete(id);
    this.startTimes.delete(id);
    this.counts.delete(id);
  }

  /** Stops the timer; pending reports are written first. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushNow();
  }

  private entry(id: number, token: string): PendingState {
    let e = this.states.get(id);
    if (!e || e.token !== token) this.states.set(id, (e = { id, token }));
    this.schedule();
    return e;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch((error) => {
        this.signals.emit('databaseError', { error: error as Error, during: 'writing job progress and history', retryInMs: this.flushMs });
        this.schedule();
      });
    }, this.flushMs);
    this.timer.unref();
  }

  /** One flush at a time; what a failed flush took is put back for the next. */
  private flush(): Promise<void> {
    const run = this.flushing.then(async () => {
      const states = [...this.states.values()];
      this.states.clear();
      // Start marks of items still running (those that finished carry theirs in their outcome).
      const marked: { written: boolean }[] = [];
      const byId = new Map(states.map((x) => [x.id, x]));
      for (const [id, start] of this.startTimes) {
        if (start.written) continue;
        const e = byId.get(id)?.token === start.token ? byId.get(id) : undefined;
        if (e) e.startedAt = start.at;
        else states.push({ id, token: start.token, startedAt: start.at });
        start.written = true;
        marked.push(start);
      }
      const history = this.history;
      this.history = [];
      const reported = states.filter((x) => x.progress !== undefined || x.summary !== undefined).map((x) => x.id);
      for (const id of reported) this.countUnwritten(id, 1);
      try {
        if (states.length > 0) await writeJobState(this.knex, states);
      } catch (err) {
        for (const m of marked) m.written = false;
        for (const s of states) if (!this.states.has(s.id) && (s.progress !== undefined || s.summary !== undefined)) this.states.set(s.id, s);
        this.putBackHistory(history);
        throw err;
      } finally {
        for (const id of reported) this.countUnwritten(id, -1);
      }
      try {
        await this.writeHistory(history);
      } catch (err) {
        this.putBackHistory(history);
        throw err;
      }
      for (const r of history) this.countUnwritten(r.itemId, -1);
    });
    this.flushing = run.catch(() => {});
    return run;
  }

  /** Adds `by` to the item's count of unwritten reports (an item at 0, or forgotten meanwhile, has no entry). */
  private countUnwritten(id: number, by: number): void {
    const n = (this.unwritten.get(id) ?? 0) + by;
    if (n > 0) this.unwritten.set(id, n);
    else this.unwritten.delete(id);
  }

  /** Puts records a failed flush took back in front of those queued since, for the next flush (still counted). */
  private putBackHistory(records: (NewHistoryRecord & { token: string })[]): void {
    this.history = records.concat(this.history);
  }

  /** Writes history records by claim, each item's first read of its stored count capping what is kept. */
  private async writeHistory(records: (NewHistoryRecord & { token: string })[]): Promise<void> {
    if (records.length === 0) return;
    const kept: (NewHistoryRecord & { token: string })[] = [];
    for (const r of records) {
      let c = this.counts.get(r.itemId);
      if (!c) this.counts.set(r.itemId, (c = { stored: null, written: 0, queued: 0, capped: false }));
      const counted = c;
      const stored = await (c.stored ??= countHistory(this.knex, r.itemId).catch((err) => {
        counted.stored = null; // read again at the next flush
        throw err;
      }));
      // The limit's own notice is the one record past it.
      if (stored + c.written < MAX_HISTORY_PER_ITEM || (r.status === 'signalq' && stored + c.written === MAX_HISTORY_PER_ITEM)) kept.push(r);
      c.written++;
    }
    const byToken = new Map<string, NewHistoryRecord[]>();
    for (const r of kept) {
      const list = byToken.get(r.token) ?? [];
      list.push(r);
      byToken.set(r.token, list);
    }
    for (const [token, list] of byToken) await appendHistoryFenced(this.knex, token, list);
  }
}
