/**
 * What operators read and steer, for the CLI and the dashboard alike: counts, listings, one item, retry of a
 * failed item, deletion of one that is not running, purge of old ones, and the running workers. Which handlers
 * exist is what the live workers recorded in the workers table, not what this process has connected (a dashboard
 * connects none).
 */
import type { Knex } from 'knex';
import { countByTypeAndStatus } from '../db/sql/countByTypeAndStatus.ts';
import { erroredItemIds } from '../db/sql/erroredItemIds.ts';
import { getItemRow } from '../db/sql/getItemRow.ts';
import { listItemRows, ordersByFinish, type ListFilter } from '../db/sql/listItemRows.ts';
import { oldestRunnableDue } from '../db/sql/oldestRunnableDue.ts';
import { purgeDoneItems } from '../db/sql/purgeDoneItems.ts';
import { deleteItem } from '../db/sql/deleteItem.ts';
import { retryErroredItem } from '../db/sql/retryErroredItem.ts';
import { itemFromRow } from '../db/rows.ts';
import { FINAL_STATUSES, ITEM_STATUSES, type Item, type ItemStatus } from '../types.ts';
import { UsageError } from '../errors.ts';
import type { ServerClock } from '../queue/clock.ts';
import { listWorkers } from '../db/sql/listWorkers.ts';
import { WORKER_LIVE_MS } from '../worker/wake.ts';
import { readHistory } from '../db/sql/readHistory.ts';
import { checkWho } from '../queue/validate.ts';
import { cancelItem, type CancelResult } from '../jobs/cancel.ts';
import { Declarations, parseHandlerRecords, type JobType } from '../jobs/declarations.ts';
import { countFinishedByInterval } from '../db/sql/countFinishedByInterval.ts';
import { countHeldItems, type HeldItems } from '../db/sql/countHeldItems.ts';
import { THROUGHPUT_BUCKET_MS, THROUGHPUT_WINDOW_MS, fillIntervals, throughputWindow, type Throughput } from './throughput.ts';

/** Counts per status, overall and per type. */
export interface QueueStats {
  /** Every status, with 0 where there is none. */
  counts: Record<ItemStatus, number>;
  total: number;
  /**
   * When the longest-waiting runnable item became due (null: nothing is waiting). How far this lags behind now
   * is the number to alert on: the workers are not keeping up, or none is running.
   */
  oldestDueAt: Date | null;
  /**
   * Per type: counts per status, and the handlers of live workers that take it (empty, `noHandler`: no running
   * worker takes the type, so nothing will run its items until one does).
   */
  types: { type: string; counts: Partial<Record<ItemStatus, number>>; handlers: string[]; noHandler: boolean }[];
}

/** A worker as `signalq workers` shows it. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  handlers: string[];
  /** Per handler, the item types it takes (`'*'`: every type). */
  takes: Record<string, string[] | '*'>;
  startedAt: Date;
  seenAt: Date;
  /** Seen within the last 15 s (it heartbeats every 5 s). */
  alive: boolean;
}

/** A worker's recorded handlers as name -> the types it takes. */
function takesOf(text: string): Record<string, string[] | '*'> {
  return Object.fromEntries(parseHandlerRecords(text).map((h) => [h.name, h.types === '*' ? '*' : [...h.types]]));
}

/** How often `delete` reads again an item whose status changed between its read and its delete. */
const DELETE_ATTEMPTS = 5;

export class Admin {
  constructor(
    private readonly knex: Knex,
    private readonly clock: ServerClock,
    /** Resolves once the tables exist (the queue creates or checks them before its first read). */
    private readonly tablesReady: () => Promise<void> = async () => {},
    /** Job types and their parameters (this process's handlers and the live workers'). */
    private readonly declarations: Declarations = new Declarations(() => [], () => clock.now()),
  ) {}

  /**
   * A function naming, for an item type, the handlers of live workers that take it (sorted; empty: no live
   * worker takes the type). One read of the workers table.
   */
  async liveHandlersByType(): Promise<(type: string) => string[]> {
    const live = (await this.workers()).filter((w) => w.alive);
    return (type: string) =>
      [...new Set(live.flatMap((w) => Object.entries(w.takes).filter(([, t]) => t === '*' || t.includes(type)).map(([name]) => name)))].sort();
  }

  async stats(): Promise<QueueStats> {
    await this.tablesReady();
    const rows = await countByTypeAndStatus(this.knex);
    const counts = Object.fromEntries(ITEM_STATUSES.map((s) => [s, 0])) as Record<ItemStatus, number>;
    const byType = new Map<string, Partial<Record<ItemStatus, number>>>();
    for (const r of rows) {
      counts[r.status] = (counts[r.status] ?? 0) + r.count;
      const t = byType.get(r.type) ?? {};
      t[r.status] = r.count;
      byType.set(r.type, t);
    }
    const handlersOf = await this.liveHandlersByType();
    const types = [...byType.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, c]) => {
        const handlers = handlersOf(type);
        return { type, counts: c, handlers, noHandler: handlers.length === 0 };
      });
    const oldest = await oldestRunnableDue(this.knex, this.clock.now());
    return { counts, total: Object.values(counts).reduce((a, b) => a + b, 0), oldestDueAt: oldest == null ? null : new Date(oldest), types };
  }

  /**
   * Items, newest first (with a `status`: most recently finished first, then newest; see `ordersByFinish`):
   * `limit` (default 50, at most 100000) of one `status`, `type`, `invoker` and/or `scope`, after the item
   * `beforeId` when given (the next page: pass the last id of the previous one). With a status, a cursor item that
   * no longer exists is refused with a `UsageError`. Results are shown as `get` shows them.
   */
  async list(filter: { status?: string; type?: string; invoker?: string; scope?: string; limit?: number; beforeId?: number } = {}): Promise<Item[]> {
    const status = filter.status;
    if (status !== undefined && !ITEM_STATUSES.includes(status as ItemStatus)) {
      throw new UsageError(`status ${JSON.stringify(status)} is not one of ${ITEM_STATUSES.join(', ')}`);
    }
    const limit = filter.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError(`limit ${limit} is invalid; use a whole number from 1 to 100000`);
    if (filter.beforeId !== undefined) checkId(filter.beforeId, 'cursor');
    if (filter.invoker !== undefined) checkWho('invoker', filter.invoker, 'list');
    if (filter.scope !== undefined) checkWho('scope', filter.scope, 'list');
    await this.tablesReady();
    const f: ListFilter = { status: status as ItemStatus | undefined, type: filter.type, invoker: filter.invoker, scope: filter.scope, beforeId: filter.beforeId, limit };
    if (f.beforeId !== undefined && ordersByFinish(f)) {
      const cursor = await getItemRow(this.knex, f.beforeId);
      if (!cursor) throw new UsageError(`cursor item ${f.beforeId} no longer exists; start again from the first page`);
      f.beforeFinishedAt = cursor.finished_at == null ? null : Number(cursor.finished_at);
    }
    const rows = await listItemRows(this.knex, f);
    return rows.map((r) => withResultsWhenFinished(itemFromRow(r, true)));
  }

  /**
   * One item, or undefined when there is none with this id. What its handlers returned (`results[name].value`) is
   * shown only once it is finished (Koha: a job's results only when it completed).
   */
  async get(id: number): Promise<Item | undefined> {
    checkId(id);
    await this.tablesReady();
    const row = await getItemRow(this.knex, id);
    return row ? withResultsWhenFinished(itemFromRow(row, true)) : undefined;
  }

  /**
   * One job as its invoker sees it: undefined when there is no such item, or when it was enqueued by another
   * invoker (or by none) and the caller does not ask `asAdmin`: another user's job is not there for them.
   */
  async job(id: number, who: { invoker?: string; asAdmin?: boolean }): Promise<Item | undefined> {
    const item = await this.get(id);
    if (!item) return undefined;
    if (who.asAdmin) return item;
    if (who.invoker === undefined || item.invoker !== who.invoker) return undefined;
    return item;
  }

  /** An item's history records, in the order they were written (at most `limit`, after record `afterId`). */
  async history(id: number, page: { afterId?: number; limit?: number } = {}): Promise<HistoryRecord[]> {
    checkId(id);
    const limit = page.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError(`limit ${limit} is invalid; use a whole number from 1 to 100000`);
    await this.tablesReady();
    return (await readHistory(this.knex, id, { afterId: page.afterId, limit })).map((r) => ({
      id: Number(r.id), handler: r.handler, at: new Date(Number(r.at)), subject: r.subject, status: r.status, comment: r.comment,
    }));
  }

  /**
   * Cancels an item: a queued one (`pending`, `need_retry`) becomes `canceled` at once and never runs; a running one
   * is marked cancel-requested, and its worker fires its handlers' signal within two seconds and settles it as
   * `canceled`. A history record says who asked (`by`). Refuses (a `UsageError`) a finished item.
   */
  async cancel(id: number, by?: string): Promise<CancelResult> {
    checkId(id);
    await this.tablesReady();
    return cancelItem(this.knex, id, this.clock.now(), by);
  }

  /** Every item type this process's handlers or a live worker take, with its help text and parameters. */
  async types(): Promise<JobType[]> {
    await this.tablesReady();
    return this.declarations.types(this.knex);
  }

  /**
   * Puts an `error` item back to `pending` with fresh trials; its results are kept, so only the handlers that
   * failed run again. Throws a `UsageError` when there is no such item or it is not in `error`.
   */
  async retry(id: number): Promise<Item> {
    checkId(id);
    await this.tablesReady();
    const outcome = await retryErroredItem(this.knex, id, this.clock.now());
    if (outcome === 'retried') return (await this.get(id))!;
    if (outcome !== 'not-error') {
      throw new UsageError(`item ${id} cannot be retried: its dedupe key is held by unfinished item ${outcome.keyHeldBy}, which does the same work`);
    }
    const item = await this.get(id);
    if (!item) throw new UsageError(`no item with id ${id}`);
    throw new UsageError(`item ${id} is ${item.status}, not error; only items in error can be retried`);
  }

  /**
   * Deletes an item that is not running (pending, need_retry, done, error or canceled): one of a type no handler
   * will ever take, say. Returns the item as it was. Throws a `UsageError` when there is no such item, and when it
   * is `in_progress` (naming the processor that holds it and its lease): a running item's worker would write its
   * outcome to nothing, and its handlers' side effects would go unrecorded.
   */
  async delete(id: number): Promise<Item> {
    checkId(id);
    await this.tablesReady();
    for (let attempt = 0; attempt < DELETE_ATTEMPTS; attempt++) {
      const item = await this.get(id);
      if (!item) throw new UsageError(`no item with id ${id}`);
      if (item.status === 'in_progress') {
        const lease = item.leaseUntil && !Number.isNaN(item.leaseUntil.getTime()) ? ` with a lease until ${item.leaseUntil.toISOString()}` : '';
        throw new UsageError(
          `item ${id} is in_progress, held by ${item.owner ?? 'an unknown processor'}${lease}; wait until it is settled and delete it then (if that processor is gone, the item is taken back once its lease runs out)`,
        );
      }
      // Deleted only if still in the status just read: an item claimed meanwhile is read again and refused.
      if (await deleteItem(this.knex, id, item.status)) return item;
    }
    throw new UsageError(`item ${id} changed status ${DELETE_ATTEMPTS} times while being deleted; try again`);
  }

  /**
   * Registered workers, most recently started first. A worker that died without saying so stays listed, with
   * `alive: false` once unseen for 15 s, until the next worker that starts deletes rows unseen for ten minutes.
   */
  async workers(): Promise<WorkerInfo[]> {
    await this.tablesReady();
    const liveSince = this.clock.now() - WORKER_LIVE_MS;
    return (await listWorkers(this.knex)).map((w) => ({
      id: w.id,
      host: w.host,
      pid: Number(w.pid),
      handlers: Object.keys(takesOf(w.handlers)),
      takes: takesOf(w.handlers),
      startedAt: new Date(Number(w.started_at)),
      seenAt: new Date(Number(w.seen_at)),
      alive: Number(w.seen_at) >= liveSince,
    }));
  }

  /**
   * Retries every `error` item (of one type, when given), as `retry` does one by one. Items whose dedupe key an
   * unfinished item holds are left in `error` and counted in `skipped`.
   */
  async retryAll(type?: string): Promise<{ retried: number; skipped: number }> {
    await this.tablesReady();
    let retried = 0;
    let skipped = 0;
    for (let after = 0; ; ) {
      const ids = await erroredItemIds(this.knex, { type, afterId: after, limit: 1000 });
      if (ids.length === 0) return { retried, skipped };
      for (const id of ids) {
        if ((await retryErroredItem(this.knex, id, this.clock.now())) === 'retried') retried++;
        else skipped++;
      }
      after = ids[ids.length - 1];
    }
  }

  /**
   * Items that reached `done` or `error` per interval over the last `windowMs` (default 10 minutes) in intervals of
   * `bucketMs` (default 20 s), by the database server's clock. Items purged since are not counted.
   */
  async throughput({ windowMs = THROUGHPUT_WINDOW_MS, bucketMs = THROUGHPUT_BUCKET_MS } = {}): Promise<Throughput> {
    const { since, count } = throughputWindow(this.clock.now(), windowMs, bucketMs);
    await this.tablesReady();
    return fillIntervals(await countFinishedByInterval(this.knex, since, bucketMs), since, count, bucketMs);
  }

  /** Items in progress per owner (`host:pid` of the processor holding them): what each worker holds now. */
  async heldItems(): Promise<HeldItems[]> {
    await this.tablesReady();
    return countHeldItems(this.knex);
  }

  /** Deletes `done` items finished more than `olderThanMs` ago. Returns how many. */
  async purgeDone(olderThanMs: number): Promise<number> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw new UsageError(`age ${olderThanMs} ms is invalid; use a duration of at least 0`);
    await this.tablesReady();
    return purgeDoneItems(this.knex, this.clock.now() - olderThanMs);
  }
}

/** A job's history record. */
export interface HistoryRecord {
  id: number;
  /** The handler that wrote it (`signalq` for signalq's own, such as a cancel). */
  handler: string;
  at: Date;
  /** What it is about (a person, a file, a row id), if the job said. */
  subject: string | null;
  /** A status of the job's choosing (`rejected`, `imported`, ...). */
  status: string | null;
  comment: string;
}

/** The item with what its handlers returned shown only once it is finished. */
function withResultsWhenFinished(item: Item): Item {
  if (FINAL_STATUSES.includes(item.status)) return item;
  let hidden = false;
  const results = Object.fromEntries(Object.entries(item.results).map(([name, r]) => {
    if (r.value === undefined) return [name, r];
    hidden = true;
    const { value, ...rest } = r;
    return [name, rest];
  }));
  return hidden ? { ...item, results } : item;
}

/** Refuses an id no item can have, naming it (a NaN from a parsed route would otherwise match nothing silently). */
function checkId(id: number, what = 'item id'): void {
  if (!Number.isSafeInteger(id) || id < 1) throw new UsageError(`${what} ${JSON.stringify(id)} is invalid; use a whole number of at least 1`);
}
