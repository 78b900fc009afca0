/**
 * Checks at the entry points: what an enqueue is refused for, with a message naming the value and what to do.
 * Pure functions; nothing here touches the database.
 */
import { UsageError } from '../errors.ts';
import type { EnqueueOptions } from './enqueue.ts';

const TYPE_NAME = /^[A-Za-z0-9_.:-]{1,50}$/;

/** The latest run time an item may have (epoch ms): the last instant a JavaScript Date can hold. */
export const MAX_RUN_AT_MS = 8_640_000_000_000_000;

/**
 * The deepest nesting of arrays and objects a payload may have. The check below and JSON.stringify both recurse, so
 * a payload thousands of levels deep would overflow the stack ("Maximum call stack size exceeded"); no real payload
 * comes near 200.
 */
export const MAX_PAYLOAD_DEPTH = 200;

/** An item type is 1-50 characters of letters, digits, `_ . : -`. */
export function validateTypeName(type: unknown, what = 'item type'): string {
  if (typeof type !== 'string' || !TYPE_NAME.test(type)) {
    throw new UsageError(`${what} ${JSON.stringify(type) ?? String(type)} is invalid; use 1-50 characters of letters, digits, _ . : -`);
  }
  return type;
}

/**
 * Serializes a payload, refusing what would not come back the same from JSON: functions, symbols, BigInt,
 * cycles, `undefined`, non-finite numbers, Dates (they come back as strings) and objects other than plain ones and arrays.
 * Refuses a payload whose JSON is larger than `maxBytes`, or nested deeper than `MAX_PAYLOAD_DEPTH`.
 */
export function serializePayload(payload: unknown, maxBytes: number, where = 'payload'): string {
  if (payload === undefined) throw new UsageError(`${where} is undefined; pass a JSON value (null, if there is nothing to send)`);
  checkJsonSafe(payload, where, new Set(), where, 1);
  const json = JSON.stringify(payload);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new UsageError(`${where} is ${bytes} bytes of JSON, over the limit of ${maxBytes}; store large data elsewhere and enqueue a reference (or raise maxPayloadBytes)`);
  }
  return json;
}

/** The refusal of a payload nested deeper than `MAX_PAYLOAD_DEPTH`, naming the payload (the full path would be hundreds of characters). */
function tooDeepError(where: string): UsageError {
  return new UsageError(`${where} nests arrays and objects deeper than ${MAX_PAYLOAD_DEPTH} levels; flatten it (or store it elsewhere and enqueue a reference)`);
}

/** Recurses at most `MAX_PAYLOAD_DEPTH` levels (`depth` is that of `v`, the payload itself being 1), so it cannot overflow. */
function checkJsonSafe(v: unknown, path: string, seen: Set<object>, where: string, depth: number): void {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new UsageError(`${path} is ${v}, which JSON cannot hold; use a finite number or null`);
      return;
    case 'bigint':
      throw new UsageError(`${path} is a BigInt (${v}n), which JSON cannot hold; send it as a string`);
    case 'function':
      throw new UsageError(`${path} is a function, which JSON cannot hold; send data only`);
    case 'symbol':
      throw new UsageError(`${path} is a symbol, which JSON cannot hold; send data only`);
    case 'undefined':
      throw new UsageError(`${path} is undefined, which JSON turns into null; use null`);
  }
  if (v === null) return;
  const obj = v as object;
  if (obj instanceof Date) throw new UsageError(`${path} is a Date, which JSON turns into a string; send date.toISOString()`);
  if (seen.has(obj)) throw new UsageError(`${path} refers back to itself (a cycle), which JSON cannot hold`);
  if (depth > MAX_PAYLOAD_DEPTH) throw tooDeepError(where);
  seen.add(obj);
  if (Array.isArray(obj)) {
    obj.forEach((x, i) => checkJsonSafe(x, `${path}[${i}]`, seen, where, depth + 1));
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      throw new UsageError(`${path} is a ${proto?.constructor?.name ?? 'non-plain'} object, which JSON would not bring back as such; send plain objects, arrays and strings`);
    }
    // A key whose value is undefined is left out by JSON, which reads back the same for optional fields.
    for (const [k, x] of Object.entries(obj)) if (x !== undefined) checkJsonSafe(x, `${path}.${k}`, seen, where, depth + 1);
  }
  seen.delete(obj);
}

/**
 * Checks an enqueue's options, naming the one at fault. `now` (epoch ms, the queue's clock) is what `delayMs` counts
 * from: a delay that would put the run time past `MAX_RUN_AT_MS` is refused, since no Date could show it.
 */
export function validateEnqueueOptions(o: Omit<EnqueueOptions, 'trx'>, where = 'enqueue', now: number = Date.now()): void {
  if (o.key != null && (typeof o.key !== 'string' || o.key.length < 1 || o.key.length > 255)) {
    throw new UsageError(`${where}: key ${JSON.stringify(o.key)} is invalid; use a string of 1-255 characters`);
  }
  if (o.delayMs != null && (!Number.isFinite(o.delayMs) || o.delayMs < 0)) {
    throw new UsageError(`${where}: delay ${o.delayMs} is invalid; use a number of milliseconds of at least 0`);
  }
  if (o.delayMs != null && now + o.delayMs > MAX_RUN_AT_MS) {
    throw new UsageError(`${where}: delay ${o.delayMs} ms would run the item after ${new Date(MAX_RUN_AT_MS).toISOString()}, the latest time a Date holds; use a shorter delay`);
  }
  // A valid Date is never past MAX_RUN_AT_MS: checking that it is valid holds runAt to the limit too.
  if (o.runAt != null && (!(o.runAt instanceof Date) || Number.isNaN(o.runAt.getTime()))) {
    throw new UsageError(`${where}: runAt ${String(o.runAt)} is not a valid Date`);
  }
  if (o.priority != null && (!Number.isInteger(o.priority) || Math.abs(o.priority) > 1_000_000)) {
    throw new UsageError(`${where}: priority ${o.priority} is invalid; use a whole number between -1000000 and 1000000 (lower runs first)`);
  }
  if (o.maxTrials != null && (!Number.isInteger(o.maxTrials) || o.maxTrials < 1 || o.maxTrials > 1000)) {
    throw new UsageError(`${where}: maxTrials ${o.maxTrials} is invalid; use a whole number from 1 to 1000`);
  }
  if (o.invoker != null) checkWho('invoker', o.invoker, where);
  if (o.scope != null) checkWho('scope', o.scope, where);
}

/** Checks an enqueue's `invoker` or `scope` (who asked, for which scope): a string of 1-191 characters. */
export function checkWho(field: 'invoker' | 'scope', v: unknown, where: string): void {
  if (typeof v !== 'string' || v.length < 1 || v.length > 191) {
    throw new UsageError(`${where}: ${field} ${JSON.stringify(v)} is invalid; use a string of 1-191 characters`);
  }
}
