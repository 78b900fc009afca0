/**
 * The signal bus (mitt): the `processItem` signal that fans an item out to every connected handler, and the
 * lifecycle events app code can listen to.
 */
import mittModule, { type Emitter } from 'mitt';
import type { Item, Results } from './types.ts';
import type { HandlerOutcome } from './queue/decide.ts';

/** The `processItem` signal's argument: each connected handler that takes the item adds its run to `runs`. */
export interface ProcessItemSignal {
  item: Item;
  /** Results from earlier trials; a handler whose entry is `ok` does not run again. */
  results: Results;
  /** Filled in by the handlers' listeners as the signal goes out; awaited by the dispatcher. */
  runs: Promise<HandlerOutcome>[];
}

/** Every event signalq emits, with what it carries. */
export type SignalqEvents = {
  /** The fan-out signal, sent once per claimed item (IDF_Queue's `processItem`). */
  processItem: ProcessItemSignal;
  /** An item was written by `enqueue` (`created: false` when its dedupe key matched an unfinished item). */
  itemEnqueued: { id: number; type: string; created: boolean };
  /** `enqueueMany` wrote items. */
  itemsEnqueued: { count: number; types: string[] };
  /** Every handler succeeded; the outcome is durably written. */
  itemDone: { item: Item; results: Results };
  /** A handler failed; the item will run again at `runAt` (only the failed handlers). */
  itemRetry: { item: Item; results: Results; runAt: Date };
  /** The item failed for good (permanent error or out of trials). */
  itemError: { item: Item; results: Results };
  /** One handler's run failed (thrown error or timeout). */
  handlerFailed: { item: Item; handler: string; error: string };
  /** A batch of items was claimed. */
  batchStart: { token: string; claimed: number };
  /** A batch finished and its outcomes are written. */
  batchEnd: { token: string; claimed: number; done: number; retry: number; error: number; released: number; ms: number };
  /** Outcomes could not be written because the claim was lost (lease ran out, item taken by another processor). */
  claimLost: { count: number };
  /** Items whose lease ran out were taken back for another trial. */
  leasesExpired: { count: number };
  /** The database failed; the worker keeps what it has and retries after `retryInMs`. */
  databaseError: { error: Error; during: string; retryInMs: number };
  /** A listener of another event threw; the work it listened to went on regardless. */
  listenerError: { event: string; error: unknown };
};

export type EventName = keyof SignalqEvents;

// mitt's typings describe a CommonJS default export while Node loads its ES module: accept either shape.
const mitt = ((mittModule as any).default ?? mittModule) as typeof mittModule.default;

/**
 * A mitt bus whose listeners cannot break the queue: a listener that throws (or rejects) is reported as
 * `listenerError` and the emitter carries on with the next listener.
 */
export class Signals {
  private readonly bus: Emitter<SignalqEvents> = mitt<SignalqEvents>();
  private readonly wrapped = new Map<Function, Function>();

  on<K extends EventName>(type: K, listener: (event: SignalqEvents[K]) => unknown): void {
    const safe = (event: SignalqEvents[K]) => {
      try {
        const r = listener(event);
        if (r && typeof (r as Promise<unknown>).catch === 'function') (r as Promise<unknown>).catch((error) => this.report(type, error));
      } catch (error) {
        this.report(type, error);
      }
    };
    this.wrapped.set(listener, safe);
    this.bus.on(type, safe);
  }

  off<K extends EventName>(type: K, listener: (event: SignalqEvents[K]) => unknown): void {
    const safe = this.wrapped.get(listener);
    if (safe) this.bus.off(type, safe as any);
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
