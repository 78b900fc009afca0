import type { Knex } from 'knex';

/**
 * The shapes every part of signalq shares: items, handlers and their context.
 * Nothing here does work; see `queue/` for the steps an item goes through.
 */

/**
 * Where an item stands.
 * - `pending`: waiting to be claimed (new, or handed back at shutdown).
 * - `in_progress`: claimed by a processor that holds its lease.
 * - `need_retry`: at least one handler failed; runs again after its backoff.
 * - `done`: every connected handler succeeded (final).
 * - `error`: a handler failed permanently or the item ran out of trials (final until `signalq retry`).
 * - `canceled`: reserved for long-running jobs (final).
 */
export type ItemStatus = 'pending' | 'in_progress' | 'need_retry' | 'done' | 'error' | 'canceled';

export const ITEM_STATUSES: readonly ItemStatus[] = ['pending', 'in_progress', 'need_retry', 'done', 'error', 'canceled'];

/** Statuses an item never leaves on its own. */
export const FINAL_STATUSES: readonly ItemStatus[] = ['done', 'error', 'canceled'];

/** One handler's last outcome on an item, kept in the item's `results` map under the handler's name. */
export interface HandlerResult {
  /** True once the handler succeeded; a succeeded handler never runs again for this item. */
  ok: boolean;
  /** The handler's last error message, when it failed. */
  error?: string;
  /** When the outcome was recorded (ISO 8601). */
  at: string;
  /** How many times this handler ran on this item. */
  runs: number;
}

/** One handler's outcome in one trial, as the dispatcher receives it from the handler's run. */
export interface HandlerOutcome {
  name: string;
  ok: boolean;
  error?: string;
  /** The handler threw `PermanentError`: no further trials. */
  permanent?: boolean;
  /** The handler threw `RetryLaterError`: the next trial no sooner than this many ms from now. */
  retryAfterMs?: number;
}

/** Handler name -> its last outcome. */
export type Results = Record<string, HandlerResult>;

/**
 * A queue item as app code, handlers and the CLI's `--json` see it. `P` is its payload type and `K` its type name;
 * see `ItemOf` for the items of an item map.
 */
export interface Item<P = unknown, K extends string = string> {
  id: number;
  /** 1-50 characters of letters, digits, `_ . : -`. */
  type: K;
  payload: P;
  status: ItemStatus;
  /** How many times the item has been tried. */
  trials: number;
  /** The item goes to `error` after this many failed trials. */
  maxTrials: number;
  /** Lower runs first. */
  priority: number;
  /** Earliest time the item may run (next run after a backoff). */
  runAt: Date;
  results: Results;
  /** The dedupe key it was enqueued with, if any. */
  key: string | null;
  /** `host:pid` of the processor holding the item, while `in_progress`. */
  owner: string | null;
  /** When the holder's claim runs out unless renewed. */
  leaseUntil: Date | null;
  createdAt: Date;
  lastTryAt: Date | null;
  finishedAt: Date | null;
}

/** Maps item type names to their payload types, so a wrong payload is a compile error. */
export type TypeMap = Record<string, unknown>;

/**
 * The items of the map `T` whose type is one of `K` (default: every type of the map), as a union discriminated by
 * `type`: checking `item.type` narrows `item.payload`. On an untyped queue (`Record<string, unknown>`) it is
 * `Item<unknown>`.
 */
export type ItemOf<T extends TypeMap, K extends keyof T & string = keyof T & string> = { [N in K]: Item<T[N], N> }[K];

/** What a handler receives besides the item. */
export interface HandlerContext {
  /** This run's number for this handler on this item (1 on the first run). */
  attempt: number;
  /**
   * `"<item id>:<handler name>"`: stable across retries and reclaims, so a handler can make its side effect
   * idempotent (an idempotency key for an HTTP API, a unique key in a table).
   */
  idempotencyKey: string;
  /** Aborted when the handler's timeout passes; pass it to fetch() and friends. */
  signal: AbortSignal;
  /** The queue's knex instance, for handlers that write to the app's own tables in the same database. */
  knex: Knex;
}

/**
 * A handler as `queue.handle(types, handler)` and `defineHandlers<Items>()` take it: its item types come from the
 * first argument, so `handle` receives the item map's items of those types (`I`).
 */
export interface TypedHandler<I extends Item<any> = Item> {
  /** Its key in each item's `results`; unique among connected handlers. */
  name: string;
  /** Returning means success; throwing means failure (throw `PermanentError` to skip the remaining trials). */
  handle(item: I, ctx: HandlerContext): Promise<unknown> | unknown;
  /** Milliseconds before a run counts as failed. Default: the queue's `handlerTimeoutMs` (5 minutes). */
  timeoutMs?: number;
}

/**
 * A handler: connected to the `processItem` signal, it runs for every item whose type it takes, until it succeeds.
 * Returning means success; throwing means failure (throw `PermanentError` to skip the remaining trials).
 */
export interface Handler<P = any> {
  /** Its key in each item's `results`; unique among connected handlers. */
  name: string;
  /** The item types it takes, or `'*'` for every type. */
  types: readonly string[] | '*';
  handle(item: Item<P>, ctx: HandlerContext): Promise<unknown> | unknown;
  /** Milliseconds before a run counts as failed. Default: the queue's `handlerTimeoutMs` (5 minutes). */
  timeoutMs?: number;
}
