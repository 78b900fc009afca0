/**
 * The signal bus (mitt): the `processItem` signal that fans an item out to every connected handler, and the
 * lifecycle events app code can listen to.
 */
import mittModule, { type Emitter } from 'mitt';
import type { HandlerOutcome, Item, ItemOf, Results, TypeMap } from './types.ts';
import type { BatchSummary } from './queue/batch.ts';
import type { JobHooks } from './jobs/context.ts';
import type { CronRunStatus } from './schedules/log-status.ts';

/**
 * The `processItem` signal's argument. Each connected handler is a listener of `processItem` (`Queue.connect`):
 * when it takes the item's type and has not succeeded on the item yet, it starts its run and hands it to the
 * dispatcher with `run`; the dispatcher waits for every run handed to it, then decides the item's outcome.
 * App code may listen to `processItem` to observe items as they start (tracing, say); to take part in an item's
 * outcome, connect a handler instead.
 */
export interface ProcessItemSignal {
  item: Item;
  /** Results from earlier trials; a handler whose entry is `ok` does not run again. */
  results: Results;
  /** Hands one handler's run to the dispatcher, which waits for it and records its outcome under `handler`. */
  run(handler: string, outcome: Promise<HandlerOutcome>): void;
  /** The job context of one handler's run on this item (progress, history, cancel); absent outside a processor. */
  job?: (handler: string) => JobHooks;
}

/** Every event signalq emits, with what it carries. */
export type SignalqEvents = {
  /** The fan-out signal, sent once per claimed item (IDF_Queue's `processItem`). */
  processItem: ProcessItemSignal;
  /** An item was written by `enqueue` (`created: false` when its dedupe key matched an unfinished item). */
  itemEnqueued: { id: number; type: string; created: boolean };
  /** `enqueueMany` wrote items. */
  itemsEnqueued: { count: number; types: string[] };
  /** Every handler succeeded; the outcome is durably written. `item` is as it now stands in the database. */
  itemDone: { item: Item };
  /** A handler failed (or the item's lease ran out); it runs again at `item.runAt`, only the handlers that failed. */
  itemRetry: { item: Item };
  /**
   * The item failed for good: a permanent error, out of trials, or a trial that ended with no outcome (its lease
   * ran out, as when the item kills its worker) on its last trial. `item.results` says why.
   */
  itemError: { item: Item };
  /** The item was canceled while this worker held it (`signalq cancel`); the outcome is written. */
  itemCanceled: { item: Item };
  /** One handler's run failed (thrown error or timeout). */
  handlerFailed: { item: Item; handler: string; error: string };
  /** A batch of items was claimed. */
  batchStart: { token: string; claimed: number };
  /** A batch finished: every item's outcome is written, or it was handed back, or its claim was lost. */
  batchEnd: { token: string } & BatchSummary;
  /** Outcomes could not be written because the claim was lost (lease ran out, item taken by another processor). */
  claimLost: { count: number };
  /** Items whose lease ran out were taken back: each counted a trial (see `itemRetry` / `itemError`). */
  leasesExpired: { count: number };
  /** The database failed; the worker keeps what it has and retries after `retryInMs`. */
  databaseError: { error: Error; during: string; retryInMs: number };
  /** A cron's tick enqueued its item (sent by the one worker that handled the tick). */
  cronStarted: { name: string; type: string; scheduledAt: Date; itemId: number };
  /**
   * A cron's run is over: its item finished (`OK`, `WARN`, `FAILURE`, sent by the one worker that recorded it), or
   * a tick was not run (`NOTRUN`: missed while no worker ran, or skipped because the previous run had not finished).
   */
  cronFinished: { name: string; scheduledAt: Date; itemId: number | null; status: Exclude<CronRunStatus, 'RUNNING'>; message: string };
  /** A listener of another event threw; the work it listened to went on regardless. */
  listenerError: { event: string; error: unknown };
};

export type EventName = keyof SignalqEvents;

/**
 * The events as a queue typed with the item map `T` delivers them (`queue.on`): the items they carry are the map's
 * items (`ItemOf<T>`, narrowed by checking `item.type`), and enqueue events name the map's types. This holds when
 * the queue's handlers take only the map's types, as `queue.handle` ensures; a handler for `'*'` or one added with
 * `connect()` for types outside the map brings items the map does not describe. `processItem` carries `Item`.
 */
export type QueueEvents<T extends TypeMap> = {
  [E in EventName]: E extends 'itemEnqueued'
    ? Omit<SignalqEvents[E], 'type'> & { type: keyof T & string }
    : E extends 'itemsEnqueued'
      ? Omit<SignalqEvents[E], 'types'> & { types: (keyof T & string)[] }
      : E extends 'itemDone' | 'itemRetry' | 'itemError' | 'itemCanceled' | 'handlerFailed'
        ? Omit<SignalqEvents[E], 'item'> & { item: ItemOf<T> }
        : SignalqEvents[E];
};

// mitt's typings describe a CommonJS default export while Node loads its ES module: accept either shape.
const mitt = ((mittModule as any).default ?? mittModule) as typeof mittModule.default;

/**
 * A mitt bus whose listeners cannot break the queue: a listener that throws (or rejects) is reported as
 * `listenerError` and the emitter carries on with the next listener.
 */
export class Signals {
  private readonly bus: Emitter<SignalqEvents> = mitt<SignalqEvents>();
  /**
   * The wrapper `on` gave mitt, by event and then listener: one function may listen to several events (each with its
   * own wrapper), and `off` must remove the wrapper of the event it names. A list, as mitt allows the same listener twice.
   */
  private readonly wrapped = new Map<EventName, Map<Function, Function[]>>();

  on<K extends EventName>(type: K, listener: (event: SignalqEvents[K]) => unknown): void {
    const safe = (event: SignalqEvents[K]) => {
      try {
        const r = listener(event);
        if (r && typeof (r as Promise<unknown>).catch === 'function') (r as Promise<unknown>).catch((error) => this.report(type, error));
      } catch (error) {
        this.report(type, error);
      }
    };
    let byListener = this.wrapped.get(type);
    if (!byListener) this.wrapped.set(type, (byListener = new Map()));
    byListener.set(listener, [...(byListener.get(listener) ?? []), safe]);
    this.bus.on(type, safe);
  }

  /** Removes one registration of `listener` on `type` (its other events keep it). */
  off<K extends EventName>(type: K, listener: (event: SignalqEvents[K]) => unknown): void {
    const byListener = this.wrapped.get(type);
    const wrappers = byListener?.get(listener);
    if (!wrappers) return;
    this.bus.off(type, wrappers.shift() as any);
    if (wrappers.length === 0) byListener!.delete(listener);
  }

  /** How many listeners `type` has. */
  listenerCount(type: EventName): number {
    return this.bus.all.get(type)?.length ?? 0;
  }

  emit<K extends EventName>(type: K, event: SignalqEvents[K]): void {
    this.bus.emit(type, event);
  }

  /** True when anything listens to `type` (lets hot paths skip building events nobody reads). */
  has(type: EventName): boolean {
    return (this.bus.all.get(type)?.length ?? 0) > 0;
  }

  private report(event: string, error: unknown) {
    if (event === 'listenerError') return; // never loop on a broken error listener
    this.bus.emit('listenerError', { event, error });
  }
}
