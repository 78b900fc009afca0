/**
 * The dashboard's actions on one item, shared by the page's forms and the JSON API: each returns the item as it
 * is now and a one-line outcome to show. A refusal (not in error, running, no such item) is a `UsageError` from
 * `queue.admin`, shown with its message.
 */
import type { Admin } from '../admin/admin.ts';
import type { Item } from '../types.ts';
import type { CancelResult } from '../jobs/cancel.ts';
import { UsageError } from '../errors.ts';
import { NotFoundError } from './params.ts';

/** Who the dashboard records as the invoker of the jobs it starts and the canceler of the items it cancels. */
export const DASHBOARD_INVOKER = 'dashboard';

export interface ActionOutcome {
  item: Item;
  message: string;
}

/** `admin.retry`, with a missing item as a 404. */
export async function retryItem(admin: Admin, id: number): Promise<ActionOutcome> {
  const item = await notFoundAs404(() => admin.retry(id), id);
  return { item, message: `item ${id} is back to pending; only its failed handlers run again` };
}

/** `admin.delete`, with a missing item as a 404. */
export async function deleteItem(admin: Admin, id: number): Promise<ActionOutcome> {
  const item = await notFoundAs404(() => admin.delete(id), id);
  return { item, message: `item ${id} (${item.type}, ${item.status}) is deleted` };
}

/**
 * `admin.cancel`, with a missing item as a 404: a queued item is canceled at once, a running one asked to stop (its
 * worker ends it within two seconds). The dashboard is recorded as who asked.
 */
export async function cancelItem(admin: Admin, id: number, by: string): Promise<ActionOutcome & { outcome: CancelResult['outcome'] }> {
  const r = await notFoundAs404(() => admin.cancel(id, by), id);
  const message = r.outcome === 'canceled'
    ? `item ${id} is canceled; it never runs`
    : `cancel requested for item ${id}: its worker stops it within two seconds and it ends canceled`;
  return { item: r.item, outcome: r.outcome, message };
}

async function notFoundAs404<T>(act: () => Promise<T>, id: number): Promise<T> {
  try {
    return await act();
  } catch (err) {
    if (err instanceof UsageError && err.message === `no item with id ${id}`) throw new NotFoundError(err.message);
    throw err;
  }
}
