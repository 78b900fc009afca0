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
import type { DashboardQueue } from './server.ts';
import { validateTypeName } from '../queue/validate.ts';
import { payloadFromForm } from './job-form.ts';

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

/** A job started from the dashboard: its item id and the outcome to show. */
export interface StartOutcome {
  id: number;
  type: string;
  message: string;
}

/**
 * Starts a job of `type` with `payload`, recorded as started by the dashboard. `enqueue` checks the payload
 * against the type's declared parameters: a bad one is refused with the message the CLI gives, nothing written.
 */
export async function startJob(queue: DashboardQueue, type: unknown, payload: unknown): Promise<StartOutcome> {
  if (typeof type !== 'string' || type === '') throw new UsageError('no job type given; choose one of the types the jobs page lists');
  validateTypeName(type, 'type');
  const r = await queue.enqueue(type, payload, { invoker: DASHBOARD_INVOKER });
  return { id: r.id, type, message: `job ${r.id} (${type}) started` };
}

/**
 * Starts a job from a posted start form: its type must be one the live workers take (the form lists those), its
 * fields converted as the type's parameters declare.
 */
export async function startJobFromForm(queue: DashboardQueue, form: Record<string, unknown>): Promise<StartOutcome> {
  const type = form.type;
  if (typeof type !== 'string' || type === '') throw new UsageError('no job type given; choose one of the types the jobs page lists');
  const known = (await queue.admin.types()).find((t) => t.type === type);
  if (!known) throw new UsageError(`no job type ${JSON.stringify(type.slice(0, 60))} is taken by a live worker; start one of the types the jobs page lists`);
  return startJob(queue, type, payloadFromForm(form, known.params[0] as Record<string, unknown> | undefined));
}

async function notFoundAs404<T>(act: () => Promise<T>, id: number): Promise<T> {
  try {
    return await act();
  } catch (err) {
    if (err instanceof UsageError && err.message === `no item with id ${id}`) throw new NotFoundError(err.message);
    throw err;
  }
}
