/**
 * Step 1 of an item's way: validate and serialize an item into its row. `Queue.enqueue` then inserts the row
 * (db's insert, in the app's transaction when given one); nothing is written unless every check passes.
 */
import type { Knex } from 'knex';
import type { NewItemRow } from '../db/sql/insertItems.ts';
import type { ResolvedOptions } from '../config.ts';
import type { TypeMap } from '../types.ts';
import { serializePayload, validateEnqueueOptions, validateTypeName } from './validate.ts';
import { checkPayload } from '../jobs/params.ts';
import { PayloadText, plainPayload } from './payload-text.ts';

/** Options of one enqueue. */
export interface EnqueueOptions {
  /** The app's own knex transaction: the item commits or rolls back with the app's writes. */
  trx?: Knex.Transaction;
  /** Dedupe key: while an unfinished item has it, enqueueing again returns that item and writes nothing. */
  key?: string;
  /** Milliseconds to wait before the item may run. Default 0. */
  delayMs?: number;
  /** Earliest time the item may run (instead of `delayMs`). */
  runAt?: Date;
  /** Lower runs first. Default 0. */
  priority?: number;
  /** Trials before the item goes to `error`. Default: the queue's `maxTrials` (10). */
  maxTrials?: number;
  /** Who asks for the item (a user id, say; up to 191 characters): `queue.job(id, { invoker })` shows it only to them. */
  invoker?: string;
  /** The scope it belongs to (a tenant, say; up to 191 characters), for `list --scope`. */
  scope?: string;
}

/** One item for `enqueueMany`. */
export interface EnqueueManyItem<T extends string = string, P = unknown> extends Omit<EnqueueOptions, 'trx'> {
  type: T;
  payload: P;
}

/** What `enqueue` did. */
export interface EnqueueResult {
  id: number;
  /** False when the dedupe key matched an unfinished item: `id` is that item's, and nothing was written. */
  created: boolean;
}

/** What `enqueueMany` did. */
export interface EnqueueManyResult {
  /** Items written. */
  inserted: number;
  /** Items skipped because their dedupe key matched an unfinished item. */
  skipped: number;
}

/**
 * A typed `enqueueMany` entry: `type` picks the payload type from the map. Build one with `queue.item(type,
 * payload)`, which keeps `type` a literal where an object literal in a variable would widen it to `string`.
 */
export type TypedEnqueueItem<T extends TypeMap> = { [K in keyof T & string]: EnqueueManyItem<K, T[K]> }[keyof T & string];

/** Validates one item and builds its row; throws a `UsageError` naming what is wrong. */
export function buildRow(
  type: string,
  payload: unknown,
  o: Omit<EnqueueOptions, 'trx'>,
  now: number,
  opts: Pick<ResolvedOptions, 'maxPayloadBytes' | 'maxTrials'>,
  where?: string,
): NewItemRow {
  validateTypeName(type, where ? `${where}: item type` : 'item type');
  validateEnqueueOptions(o, where, now);
  const what = where ? `${where}: payload` : 'payload';
  // Text the command line already parsed and checked is stored as written (see PayloadText).
  const json = payload instanceof PayloadText ? payload.serialize(opts.maxPayloadBytes, what) : serializePayload(payload, opts.maxPayloadBytes, what);
  const runAt = o.runAt ? o.runAt.getTime() : now + (o.delayMs ?? 0);
  return {
    type,
    payload: json,
    priority: o.priority ?? 0,
    run_at: runAt,
    max_trials: o.maxTrials ?? opts.maxTrials,
    dedupe_key: o.key ?? null,
    created_at: now,
    invoker: o.invoker ?? null,
    scope: o.scope ?? null,
  };
}

/**
 * The rows again, those of types with declared parameters (`schemasFor`) rebuilt from their payload checked against
 * the declarations and given their defaults; a payload that breaks them is refused (a `UsageError` naming every bad
 * field, with the item's `label`). Rows of other types are kept as they are; `rows[i]` was built from `items[i]`.
 */
export async function withDeclaredParams(
  rows: NewItemRow[],
  items: EnqueueManyItem[],
  schemasFor: (type: string) => Promise<Record<string, unknown>[]>,
  opts: Pick<ResolvedOptions, 'maxPayloadBytes' | 'maxTrials'>,
  label?: (index: number) => string,
): Promise<NewItemRow[]> {
  const schemasByType = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) if (!schemasByType.has(r.type)) schemasByType.set(r.type, await schemasFor(r.type));
  if (![...schemasByType.values()].some((s) => s.length > 0)) return rows;
  return rows.map((row, i) => {
    const schemas = schemasByType.get(row.type)!;
    if (schemas.length === 0) return row;
    const { type, payload, ...o } = items[i];
    const where = label?.(i);
    const checked = checkPayload(type, plainPayload(payload), schemas, where ? `${where}: payload` : 'payload');
    return { ...buildRow(type, checked, o, row.created_at, opts, where), created_at: row.created_at };
  });
}
