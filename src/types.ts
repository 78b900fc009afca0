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
  /**
   * What the handler returned on its successful run (JSON), its result. Operators' reads show it only once the item
   * is finished (`done`, `error` or `canceled`).
   */
  value?: unknown;
  /** The last warning the handler reported with `ctx.warn` on its last run (the run still succeeded). */
  warning?: string;
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
  /** The run ended because the item was canceled: the item becomes `canceled`, not retried. */
  canceled?: boolean;
  /** What a successful run returned. */
  value?: unknown;
  /** The last warning the run reported (`ctx.warn`). */
  warning?: string;
}

/** A job's progress, in the units the job chose (records, bytes). */
export interface Progress {
  done: number;
  /** The total, when the job knows it. */
  size: number | null;
  /** `done / size` as a whole percentage from 0 to 100, when the size is known. */
  percent: number | null;
  message: string | null;
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
  /** When the item was last claimed: while `in_progress`, it is assigned to `owner` since then. */
  lastTryAt: Date | null;
  /** When its handlers started on this (or the last) trial; null while claimed but waiting for a free slot. */
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Who asked for the item (a user id, say), as given to `enqueue`. */
  invoker: string | null;
  /** The scope it belongs to (a tenant, say), as given to `enqueue`. */
  scope: string | null;
  /** The progress its job reported (`ctx.progress`), or null when it reported none. */
  progress: Progress | null;
  /** The summary line its job finished with (`ctx.summary`). */
  summary: string | null;
  /** An operator asked to cancel it while it ran; its handlers' `ctx.signal` fires. */
  cancelRequested: boolean;
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
  /**
   * Aborted when the handler's timeout passes or the item is canceled (within two seconds of the request, on
   * whichever host runs it); pass it to fetch() and friends, and check it between records in a long job.
   */
  signal: AbortSignal;
  /** The queue's knex instance, for handlers that write to the app's own tables in the same database. */
  knex: Knex;
  /**
   * Reports progress in units of the job's choosing: `done` of `size` (when known), with an optional message.
   * Cheap to call per record: writes are coalesced (at most a few per second per item) and fenced by the claim.
   */
  progress(done: number, size?: number | null, message?: string): void;
  /**
   * Appends a history record to the item (what an operator reads instead of output): a comment, optionally about
   * a subject (a person, a file, a row id) and with a status of the job's choosing (`rejected`, `imported`, ...).
   * Written in order, coalesced, at most `MAX_HISTORY_PER_ITEM` (10,000) records per item.
   */
  history(record: { comment: string; subject?: string | number; status?: string }): void;
  /** Reports a warning: the run still succeeds, and the warning is kept in the handler's result. */
  warn(message: string): void;
  /** Sets the summary line the job finishes with (`signalq show` prints it). */
  summary(line: string): void;
}

/**
 * What a handler may declare about the items it takes, for the people who start them (COmanage Registry's job
 * parameters): `signalq types` and the dashboard list it, and `enqueue` checks payloads against `params`.
 */
export interface JobDeclaration {
  /** What the job does, in a line or two (`signalq types`). */
  help?: string;
  /**
   * The payload's format as a JSON Schema object: declare it with TypeBox (`Type.Object({ file: Type.String({
   * description: 'CSV file to import' }) })`), whose declarations are JSON Schema, so the payload's TypeScript type
   * follows (`defineJob`) and the dashboard renders a form from it. Enqueueing a payload that does not match is
   * refused, every bad or missing field named, nothing written. Default values (`default`) are filled in.
   */
  params?: Record<string, unknown>;
  /**
   * Run in a child process of the worker, so that a run that ignores its cancel or timeout is ended for real: the
   * process is killed `killAfterMs` after the request and the worker goes on. Needs the handler's module file
   * (handlers loaded from a folder have it; for others give `module`). Costs a process start per run.
   */
  isolated?: boolean;
  /** With `isolated`: the module (path or file: URL) that exports this handler by default. */
  module?: string;
  /** With `isolated`: grace period between the cancel or timeout and the kill. Default 3000 ms. */
  killAfterMs?: number;
}

/**
 * A handler as `queue.handle(types, handler)` and `defineHandlers<Items>()` take it: its item types come from the
 * first argument, so `handle` receives the item map's items of those types (`I`).
 */
export interface TypedHandler<I extends Item<any> = Item> extends JobDeclaration {
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
export interface Handler<P = any> extends JobDeclaration {
  /** Its key in each item's `results`; unique among connected handlers. */
  name: string;
  /** The item types it takes, or `'*'` for every type. */
  types: readonly string[] | '*';
  handle(item: Item<P>, ctx: HandlerContext): Promise<unknown> | unknown;
  /** Milliseconds before a run counts as failed. Default: the queue's `handlerTimeoutMs` (5 minutes). */
  timeoutMs?: number;
}
