/**
 * Step 1 of an item's way: validate and serialize an item into its row. `Queue.enqueue` then inserts the row
 * (db's insert, in the app's transaction when given one); nothing is written unless every check passes.
 */
import type { Knex } from 'knex';
import type { NewItemRow } from '../db/sql/insertItems.ts';
import type { ResolvedOptions } from '../config.ts';
import { serializePayload, validateEnqueueOptions, validateTypeName } from './validate.ts';
import { PayloadText } from './payload-text.ts';

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
