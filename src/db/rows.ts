/**
 * The tables and their rows: names, columns, and the conversion between the items table's rows and the `Item`
 * objects the rest of signalq uses.
 */
import type { Item, ItemStatus, Progress, Results } from '../types.ts';
import { MAX_RUN_AT_MS } from '../queue/validate.ts';

export const ITEMS = 'signalq_items';
export const WORKERS = 'signalq_workers';
export const HISTORY = 'signalq_history';
/** Who asked for an item and in which scope, for the items that have either (see migrations/20261125000000_item_access.ts). */
export const ITEM_ACCESS = 'signalq_item_access';

/** The columns of `signalq_items` that an `Item` is made from. */
export const ITEM_COLUMNS = [
  'id', 'type', 'payload', 'status', 'trials', 'max_trials', 'priority', 'run_at', 'results', 'dedupe_key', 'owner',
  'lease_until', 'created_at', 'last_try_at', 'finished_at', 'started_at', 'invoker', 'scope', 'summary', 'progress_done',
  'progress_total', 'progress_message', 'cancel_requested',
] as const;

/** `ITEM_COLUMNS` as the column list of a written-out SELECT or RETURNING. */
export const ITEM_COLUMNS_SQL = ITEM_COLUMNS.join(', ');

/**
 * The columns a claim reads: those of `ITEM_COLUMNS` whose value the claimer does not already know. The claim itself
 * sets the status, owner, lease and try time and clears `started_at`; a claimable item has no `finished_at`; a
 * summary concerns operators, not the handlers about to run. `claimedRow` fills those in. Every column read costs
 * on every claimed item. `cancel_requested` is read: an item whose run failed just as its cancel was requested is
 * settled `need_retry` with the request still on it, and its next claim must end it without running it.
 */
export const CLAIM_COLUMNS = ITEM_COLUMNS.filter((c) => !['status', 'owner', 'lease_until', 'last_try_at', 'finished_at', 'started_at', 'summary'].includes(c));

/** `CLAIM_COLUMNS` as the column list of a written-out SELECT or RETURNING. */
export const CLAIM_COLUMNS_SQL = CLAIM_COLUMNS.join(', ');

/** A row read with `CLAIM_COLUMNS`, completed in place with what its claim stamped (`owner`, lease, try time). */
export function claimedRow(row: ItemRow, owner: string, leaseUntil: number, now: number): ItemRow {
  row.status = 'in_progress';
  row.owner = owner;
  row.lease_until = leaseUntil;
  row.last_try_at = now;
  row.finished_at = null;
  return row;
}

export interface ItemRow {
  id: number;
  type: string;
  payload: string;
  status: ItemStatus;
  trials: number;
  max_trials: number;
  priority: number;
  run_at: number;
  results: string;
  dedupe_key: string | null;
  owner: string | null;
  lease_until: number | null;
  created_at: number;
  last_try_at: number | null;
  finished_at: number | null;
  started_at?: number | null;
  invoker?: string | null;
  scope?: string | null;
  summary?: string | null;
  progress_done?: number | null;
  progress_total?: number | null;
  progress_message?: string | null;
  cancel_requested?: number | boolean;
}

/** A row of `signalq_workers`: a running worker. */
export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  wake_port: number | null;
  handlers: string;
  started_at: number;
  seen_at: number;
}

/**
 * An epoch-ms column as a Date. A time beyond what a Date holds (±MAX_RUN_AT_MS: a row of an older version, which let
 * a delay reach that far, or of another program) reads as the nearest instant a Date holds, which changes nothing that
 * matters (such an item is not due for 270,000 years either way), where an out-of-range Date would be an Invalid Date
 * that breaks `show` and prints as null in JSON. Text that is not a number (SQLite would store it) stays an Invalid Date.
 */
function dateOf(ms: number | string): Date {
  return new Date(Math.max(-MAX_RUN_AT_MS, Math.min(MAX_RUN_AT_MS, Number(ms))));
}

const dateOrNull = (ms: number | null) => (ms == null ? null : dateOf(ms));

/**
 * A stored row as an `Item` (payload and results decoded). A payload that is not JSON (written by something other
 * than signalq) throws, unless `lenient`, which keeps it as the raw text so operators can still look at the item.
 * A time beyond what a Date holds reads as the nearest one it holds (see `dateOf`).
 */
export function itemFromRow<P = unknown>(row: ItemRow, lenient = false): Item<P> {
  return {
    id: Number(row.id),
    type: row.type,
    payload: decodePayload(row.payload, lenient) as P,
    status: row.status,
    trials: Number(row.trials),
    maxTrials: Number(row.max_trials),
    priority: Number(row.priority),
    runAt: dateOf(row.run_at),
    results: parseResults(row.results),
    key: row.dedupe_key,
    owner: row.owner,
    leaseUntil: dateOrNull(row.lease_until),
    createdAt: dateOf(row.created_at),
    lastTryAt: dateOrNull(row.last_try_at),
    startedAt: dateOrNull(row.started_at ?? null),
    finishedAt: dateOrNull(row.finished_at),
    invoker: row.invoker ?? null,
    scope: row.scope ?? null,
    progress: progressOf(row),
    summary: row.summary ?? null,
    cancelRequested: Number(row.cancel_requested ?? 0) === 1,
  };
}

/** The progress columns as a `Progress`, or null when the job reported none. */
function progressOf(row: ItemRow): Progress | null {
  if (row.progress_done == null) return null;
  const done = Number(row.progress_done);
  const size = row.progress_total == null ? null : Number(row.progress_total);
  return { done, size, percent: progressPercent(done, size), message: row.progress_message ?? null };
}

/** `done` of `size` as a whole percentage from 0 to 100 (null when the size is unknown or not positive). */
export function progressPercent(done: number, size: number | null): number | null {
  if (size == null || !(size > 0)) return null;
  return Math.max(0, Math.min(100, Math.floor((done / size) * 100)));
}

/** A stored payload's value; `lenient`: the text itself when it is not JSON (written by something else). */
export function decodePayload(text: string, lenient: boolean): unknown {
  if (!lenient) return JSON.parse(text);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Decodes a stored results map; an empty or damaged one reads as "no handler has run". */
export function parseResults(text: string | null): Results {
  if (!text) return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Results) : {};
  } catch {
    return {};
  }
}
