/**
 * Reading route parameters and query strings: each bad value is refused with a `UsageError` naming it (a 400), an
 * item that does not exist with a `NotFoundError` (a 404).
 */
import { UsageError } from '../errors.ts';
import { ITEM_STATUSES, type ItemStatus } from '../types.ts';
import { validateTypeName } from '../queue/validate.ts';

/** No such thing: the dashboard answers 404. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** A whole number of at least 1, as given in a route or a query (`what` names it in the refusal). */
export function parseId(text: string | undefined, what = 'item id'): number {
  const t = String(text ?? '');
  const n = /^[1-9]\d{0,15}$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} ${JSON.stringify(t.slice(0, 40))} is invalid; use a whole number of at least 1`);
  return n;
}

/** What the items page and `/api/items` list. */
export interface ItemsQuery {
  status?: ItemStatus;
  type?: string;
  /** Only items enqueued by this invoker, and/or in this scope. */
  invoker?: string;
  scope?: string;
  beforeId?: number;
  limit: number;
}

/** The most items one page shows. */
export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;

/** The items filter of a query string; empty values mean "any". */
export function parseItemsQuery(q: Record<string, string | undefined>): ItemsQuery {
  const out: ItemsQuery = { limit: DEFAULT_PAGE };
  if (q.status) {
    if (!ITEM_STATUSES.includes(q.status as ItemStatus)) {
      throw new UsageError(`status ${JSON.stringify(q.status.slice(0, 40))} is not one of ${ITEM_STATUSES.join(', ')}`);
    }
    out.status = q.status as ItemStatus;
  }
  if (q.type) out.type = validateTypeName(q.type, 'type');
  if (q.invoker) out.invoker = checkInvokerOrScope(q.invoker, 'invoker');
  if (q.scope) out.scope = checkInvokerOrScope(q.scope, 'scope');
  if (q.before) out.beforeId = parseId(q.before, 'before');
  if (q.limit) {
    const n = /^\d{1,6}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!(n >= 1 && n <= MAX_PAGE)) throw new UsageError(`limit ${JSON.stringify(q.limit.slice(0, 40))} is invalid; use a whole number from 1 to ${MAX_PAGE}`);
    out.limit = n;
  }
  return out;
}

/** An invoker or scope filter: what `enqueue` accepts (1-191 characters). */
function checkInvokerOrScope(text: string, what: 'invoker' | 'scope'): string {
  if (text.length > 191) throw new UsageError(`${what} ${JSON.stringify(text.slice(0, 40) + '…')} is ${text.length} characters long; use at most 191 characters`);
  return text;
}

/** Where a history listing starts (`after`: the last record id of the previous page) and how many it shows. */
export function parseHistoryQuery(q: Record<string, string | undefined>): { afterId?: number; limit: number } {
  const out: { afterId?: number; limit: number } = { limit: HISTORY_PAGE };
  if (q.after) out.afterId = parseId(q.after, 'after');
  if (q.limit) {
    const n = /^\d{1,6}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!(n >= 1 && n <= MAX_HISTORY_PAGE)) throw new UsageError(`limit ${JSON.stringify(q.limit.slice(0, 40))} is invalid; use a whole number from 1 to ${MAX_HISTORY_PAGE}`);
    out.limit = n;
  }
  return out;
}

/** History records an item page shows, and the most one `/api/items/:id/history` request returns. */
export const HISTORY_PAGE = 500;
export const MAX_HISTORY_PAGE = 10_000;
