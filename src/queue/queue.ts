/**
 * The queue's front object: each public method validates its input and hands off to the step that does the work.
 */
import { hostname } from 'node:os';
import type { Knex } from 'knex';
import { parseDatabaseUrl, resolveOptions, type DatabaseTarget, type QueueOptions, type ResolvedOptions } from '../config.ts';
import { openDatabase } from '../db/connect.ts';
import { insertItem, insertItems } from '../db/sql/insertItems.ts';
import { Signals, type EventName, type QueueEvents, type SignalqEvents } from '../signals.ts';
import type { Handler, Item, ItemOf, TypeMap, TypedHandler } from '../types.ts';
import { UsageError } from '../errors.ts';
import { ServerClock } from './clock.ts';
import { buildRow, withDeclaredParams, type EnqueueManyItem, type EnqueueManyResult, type EnqueueOptions, type EnqueueResult, type TypedEnqueueItem } from './enqueue.ts';
import { HandlerRegistry } from './handlers.ts';
import { Tables } from './tables.ts';
import { toHandler, type HandlerTypes } from './typed-handlers.ts';
import { Processor } from './processor.ts';
import { emptyTally, type BatchSummary } from './batch.ts';
import { WorkLoop, type WorkTotals } from '../worker/work-loop.ts';
import { Admin } from '../admin/admin.ts';
import { WakeNotifier } from '../worker/wake.ts';
import { Declarations } from '../jobs/declarations.ts';
import { emitWhenWritten } from './enqueue-events.ts';
import { stopOnSignals, type StopOnSignalsOptions } from './stop-on-signals.ts';
import type { CancelResult } from '../jobs/cancel.ts';
import { CrontabAdmin } from '../schedules/admin.ts';
import { CrontabRunner, type CrontabRunnerOptions } from '../schedules/scheduler.ts';

export type { EnqueueResult, EnqueueManyResult, TypedEnqueueItem } from './enqueue.ts';

/**
 * Opens a queue on the database `options.db` (default: `SIGNALQ_DB`, else `sqlite:var/signalq.sqlite`).
 * `T` maps item types to payload types, so a misspelt type or a wrong payload is a compile error.
 * The tables are created or updated before the queue's first read or write (`migrate: false` turns that off).
 */
export async function createQueue<T extends TypeMap = Record<string, unknown>>(options: QueueOptions = {}): Promise<Queue<T>> {
  const target = parseDatabaseUrl(options.db);
  const opts = resolveOptions(options, `${hostname()}:${process.pid}`);
  const knex = await openDatabase(target);
  const queue = new Queue<T>(knex, target, opts);
  await queue.clock.sync();
  return queue;
}

export class Queue<T extends TypeMap = Record<string, unknown>> {
  /** The signal bus, untyped by the item map (`on` is its typed face). */
  readonly signals = new Signals();
  readonly clock: ServerClock;
  readonly registry: HandlerRegistry;
  /** Operators' reads and actions: counts, listings, one item, retry, purge, workers (the CLI's and the dashboard's). */
  readonly admin: Admin;
  /** Job types and their declared parameters, which enqueue checks payloads against. */
  private readonly declarations: Declarations;
  private readonly notifier: WakeNotifier;
  private processor: Processor | null = null;
  private loop: WorkLoop | null = null;
  /** What `work()` returned, while it runs (what a shutdown waits for). */
  private working: Promise<WorkTotals> | null = null;
  private readonly tables: Tables;
  private closing: Promise<void> | null = null;
  private crontabAdmin: CrontabAdmin | null = null;
  private crontabRunner: CrontabRunner | null = null;
  private crontabStopping: Promise<void> = Promise.resolve();

  constructor(
    /** The knex instance the queue uses; app code may share it for its own transactions. */
    readonly knex: Knex,
    readonly target: DatabaseTarget,
    readonly options: ResolvedOptions,
  ) {
    this.clock = new ServerClock(knex);
    this.registry = new HandlerRegistry(this.signals, knex, options.handlerTimeoutMs);
    this.tables = new Tables(knex, target, options.migrate);
    this.declarations = new Declarations(() => this.registry.handlers, () => this.clock.now());
    this.admin = new Admin(knex, this.clock, () => this.tables.ensure(), this.declarations);
    // Once an enqueue has committed, wake the workers on this host (a worker in this process is woken directly).
    this.notifier = new WakeNotifier(knex, hostname(), () => this.clock.now());
    this.signals.on('itemEnqueued', (e) => e.created && this.notifier.notify());
    this.signals.on('itemsEnqueued', (e) => e.count > 0 && this.notifier.notify());
  }

  /**
   * Applies pending migrations and returns their names (the ones `npx knex migrate:latest` applies). The queue
   * does this itself before its first read or write unless created with `migrate: false`; call it to have the
   * tables before anything else happens (at start-up, say).
   */
  migrate(): Promise<string[]> {
    return this.tables.migrateNow();
  }

  /**
   * Adds one item. With `{ trx }` it is written in the app's transaction and commits or rolls back with it.
   * Refuses (with a `UsageError`, writing nothing) a bad type name, a payload JSON cannot carry or one over
   * `maxPayloadBytes`, and bad options.
   */
  async enqueue<K extends keyof T & string>(type: K, payload: T[K], options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const row = buildRow(type, payload, options, this.clock.now(), this.options);
    if (!this.tables.ready) await (options.trx ? this.tables.ensureIn(options.trx) : this.tables.ensure());
    const db = options.trx ?? this.knex;
    const [checked] = await withDeclaredParams([row], [{ type, payload, ...options }], (t) => this.declarations.schemasFor(t, db), this.options);
    const result = await insertItem(db, checked);
    emitWhenWritten(this.signals, options.trx, 'itemEnqueued', { id: result.id, type, created: result.created });
    return result;
  }

  /**
   * One item for `enqueueMany`, typed by the map: `queue.enqueueMany(rows.map((r) => queue.item('audit', r)))`.
   * Writes nothing; checks nothing until `enqueueMany` (which names the item's index in a refusal).
   */
  item<K extends keyof T & string>(type: K, payload: T[K], options: Omit<EnqueueOptions, 'trx'> = {}): EnqueueManyItem<K, T[K]> {
    return { ...options, type, payload };
  }

  /**
   * Adds many items in batched statements (up to 500 rows or 2 MiB of payloads each), all or nothing: one bad
   * item refuses the whole call, naming its index. With `{ trx }` they are written in the app's transaction.
   * On a typed queue build the items with `queue.item(type, payload)` (or write them inline in the call): an
   * object literal kept in a variable first has its `type` widened to `string`, which the map cannot check.
   */
  async enqueueMany(
    items: TypedEnqueueItem<T>[],
    options: {
      trx?: Knex.Transaction;
      /** How a refusal names an item. Default: `item <index>`. */
      label?: (index: number) => string;
    } = {},
  ): Promise<EnqueueManyResult> {
    if (!Array.isArray(items)) throw new UsageError(`enqueueMany takes an array of { type, payload } items, not ${typeof items}`);
    const now = this.clock.now();
    let rows = items.map((it, i) => {
      const label = options.label?.(i) ?? `item ${i}`;
      if (!it || typeof it !== 'object') throw new UsageError(`${label} is ${it === null ? 'null' : typeof it}; pass { type, payload }`);
      const { type, payload, ...o } = it as EnqueueManyItem;
      return buildRow(type, payload, o, now, this.options, label);
    });
    if (!this.tables.ready && rows.length) await (options.trx ? this.tables.ensureIn(options.trx) : this.tables.ensure());
    const db = options.trx ?? this.knex;
    rows = await withDeclaredParams(rows, items as EnqueueManyItem[], (t) => this.declarations.schemasFor(t, db), this.options, options.label ?? ((i) => `item ${i}`));
    const inserted = rows.length ? await insertItems(options.trx ?? this.knex, rows) : 0;
    if (options.trx || inserted > 0) emitWhenWritten(this.signals, options.trx, 'itemsEnqueued', { count: inserted, types: [...new Set(rows.map((r) => r.type))] });
    return { inserted, skipped: rows.length - inserted };
  }

  /**
   * Cancels an item: a queued one becomes `canceled` at once and never runs; a running one's handlers see
   * `ctx.signal` fire within two seconds, wherever it runs, and it ends `canceled` (not retried). Refuses (a
   * `UsageError`) a finished item. `by` is recorded in the item's history (who asked).
   */
  cancel(id: number, by?: string): Promise<CancelResult> {
    return this.admin.cancel(id, by);
  }

  /**
   * One job for the person who started it: undefined when there is none with this id or it is another invoker's
   * (`{ asAdmin: true }` sees every job). Its handlers' results show once it is finished.
   */
  job(id: number, who: { invoker?: string; asAdmin?: boolean }): Promise<Item | undefined> {
    return this.admin.job(id, who);
  }

  /** Names of the handlers connected to this queue, in the order they were connected. */
  handlerNames(): string[] {
    return this.registry.handlers.map((h) => h.name);
  }

  /**
   * Connects a handler for item types of the map: `queue.handle('mail.send', { name: 'mailer', handle(item, ctx)
   * {} })`, where `item.payload` has the map's payload type; with several types (`['a', 'b']`) the item is a union
   * that `item.type` narrows; `'*'` takes every type (its items are `Item<unknown>`). A type outside the map or a
   * `handle` expecting another payload is a compile error. Refuses (a `UsageError`) a name already connected.
   */
  handle<K extends keyof T & string>(types: HandlerTypes<K>, handler: TypedHandler<ItemOf<T, K>>): this;
  handle(types: '*', handler: TypedHandler<Item>): this;
  handle(types: HandlerTypes<string> | '*', handler: TypedHandler<any>): this {
    return this.connect(toHandler(types, handler));
  }

  /**
   * Connects a handler `{ name, types, handle }` to the `processItem` signal, as handler modules export them. Its
   * types and payload are not checked against the item map: on a typed queue prefer `handle`. Refuses a name
   * already connected.
   */
  connect(handler: Handler): this {
    this.registry.connect(handler);
    return this;
  }

  /**
   * Listens to a lifecycle event; see `SignalqEvents`. On a typed queue the items events carry are the map's
   * (`QueueEvents`): `queue.on('itemDone', ({ item }) => item.type === 'mail.send' && item.payload.to)`.
   * A listener that throws is reported as `listenerError`, never fatal.
   */
  on<K extends EventName>(type: K, listener: (event: QueueEvents<T>[K]) => unknown): this {
    this.signals.on(type, listener as (event: unknown) => unknown);
    return this;
  }

  /** Removes a listener added with `on`. */
  off<K extends EventName>(type: K, listener: (event: QueueEvents<T>[K]) => unknown): this {
    this.signals.off(type, listener as (event: unknown) => unknown);
    return this;
  }

  /**
   * Runs one batch: takes back expired leases, claims up to `limit` runnable items (default `batchSize`, 500),
   * runs their handlers and writes their outcomes. Resolves once every outcome is durably written.
   */
  async process({ limit = this.options.batchSize }: { limit?: number } = {}): Promise<BatchSummary> {
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`limit ${limit} is invalid; use a whole number of at least 1`);
    const p = this.getProcessor();
    await this.tables.ensure();
    await this.clock.syncIfStale();
    await p.leases.expire();
    const batch = await p.claimAndDispatch(limit);
    if (!batch) return { claimed: 0, ...emptyTally(), ms: 0 };
    return batch.written;
  }

  /**
   * Runs item `id` now in this process, whatever its due time, as a batch of one: claimed, fenced, recorded and
   * settled exactly like a claimed item (`signalq run`). Resolves with the item once its outcome is written.
   * Refuses (a `UsageError`) an item that is not queued (`pending` or `need_retry`).
   */
  async runNow(id: number): Promise<Item> {
    const p = this.getProcessor();
    await this.tables.ensure();
    await this.clock.syncIfStale();
    const batch = await p.claimAndDispatchById(id);
    if (!batch) throw new UsageError(`item ${id} is not queued (it is running, finished or gone); only a pending or need_retry item can be run now`);
    await batch.written;
    return (await this.admin.get(id))!;
  }

  /**
   * Works until `stop()`: batches in a loop, the next claimed while the last one's outcomes are written, polling
   * every `pollIntervalMs` when idle (an enqueue on this host wakes it at once). Survives database outages,
   * retrying with backoff. With `{ untilEmpty: true }` it stops instead once nothing is runnable and every outcome
   * is written (the cron-run form, as fast as the long-running one). After `stop()`, once the previous `work()` has
   * resolved, `work()` starts again.
   */
  work({ untilEmpty = false }: { untilEmpty?: boolean } = {}): Promise<WorkTotals> {
    if (this.loop) throw new UsageError('this queue is already working; call work() once');
    if (this.closing) throw new UsageError('this queue is closed; create a new queue to work again');
    const p = this.getProcessor();
    p.resume();
    const loop = (this.loop = new WorkLoop({
      knex: this.knex, signals: this.signals, processor: p, registry: this.registry, clock: this.clock,
      batchSize: this.options.batchSize, pollIntervalMs: this.options.pollIntervalMs, leaseMs: this.options.leaseMs, untilEmpty,
    }));
    this.working = this.tables.ensure()
      .then(() => loop.run())
      .finally(() => {
        this.loop = null;
        this.working = null;
      });
    return this.working;
  }

  /**
   * The crontab's reads and actions (list, logs, add, remove, enable, disable, on/off, export, import), for the
   * CLI and the dashboard; see `CrontabAdmin`. Running it is `startCrontab()`.
   */
  get crontab(): CrontabAdmin {
    return (this.crontabAdmin ??= new CrontabAdmin(
      this.knex, () => this.clock.now(), { ...this.options.crontab, maxPayloadBytes: this.options.maxPayloadBytes },
      () => this.tables.ensure(), () => this.admin.liveHandlersByType(),
    ));
  }

  /**
   * Runs the crontab in this process, beside `work()` (which runs the items it enqueues): loads it from the
   * database, runs what was missed while no worker ran (each cron's missed-run policy), then enqueues one item per
   * tick however many processes run it, and applies changes made elsewhere within `reloadMs` (default 2 s).
   * `stop()` stops it too. Resolves once the crontab is loaded.
   */
  async startCrontab(options: CrontabRunnerOptions = {}): Promise<CrontabRunner> {
    if (this.crontabRunner) throw new UsageError('the crontab already runs in this queue; call startCrontab() once');
    const runner = (this.crontabRunner = new CrontabRunner({
      knex: this.knex, signals: this.signals, now: () => this.clock.now(), tablesReady: () => this.tables.ensure(),
      maxTrials: this.options.maxTrials, logsKept: this.options.crontab.logsKept,
      takesType: (type) => this.registry.handlers.length === 0 || this.registry.handlers.some((h) => h.types === '*' || h.types.includes(type)),
    }, options));
    try {
      await runner.start();
    } catch (err) {
      this.crontabRunner = null;
      throw err;
    }
    return runner;
  }

  /**
   * Graceful stop: running handlers finish, claimed items not yet started go back to `pending` with no trial
   * counted, and outcomes are written. `work()` resolves once all that is done; then call `close()`.
   */
  stop(): void {
    const runner = this.crontabRunner;
    this.crontabRunner = null;
    this.crontabStopping = runner?.stop() ?? this.crontabStopping;
    this.processor?.stop();
    this.loop?.poke();
  }

  /**
   * Closes the database connections, once every outcome is written. Call it after `work()` resolved (after
   * `stop()`); calling it again returns the same promise.
   */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await (this.crontabRunner?.stop() ?? this.crontabStopping);
      if (this.processor) {
        await this.processor.writer.drain();
        await this.processor.jobs.close();
      }
      await this.notifier.flush();
      this.notifier.close();
      await this.knex.destroy();
    })());
  }

  /**
   * Graceful shutdown for app code: on the first SIGINT or SIGTERM, `stop()`, wait for `work()` to resolve (running
   * handlers finish, claimed items not yet started go back to `pending`, outcomes are written), then `close()` and
   * remove these listeners, so the process ends once nothing else keeps it alive (close your own servers in
   * `onStopped`). A second signal meanwhile exits at once with code 130: items still in progress come back after
   * their lease. A failed close sets `process.exitCode` to 1. Returns a function that removes the listeners.
   */
  stopOnSignals(options: StopOnSignalsOptions = {}): () => void {
    return stopOnSignals({ stop: () => this.stop(), working: () => this.working, close: () => this.close() }, options);
  }

  private getProcessor(): Processor {
    return (this.processor ??= new Processor(this.knex, this.signals, this.registry, this.clock, this.options));
  }
}
