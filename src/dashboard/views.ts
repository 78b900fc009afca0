/**
 * What the pages and the JSON API both show, shaped once: an item's row in a listing, the actions an item allows,
 * the workers with the items each holds, the items page. Pages render these; `/api` returns them as JSON.
 */
import type { Admin, HistoryRecord, WorkerInfo } from '../admin/admin.ts';
import { FINAL_STATUSES, type Item, type ItemStatus, type Progress } from '../types.ts';
import { NotFoundError, type ItemsQuery } from './params.ts';

/** An item as a listing shows it (no payload or results: a page of them stays small). */
export interface ItemSummary {
  id: number;
  type: string;
  status: ItemStatus;
  trials: number;
  maxTrials: number;
  priority: number;
  runAt: Date;
  createdAt: Date;
  finishedAt: Date | null;
  owner: string | null;
  /** Who asked for it and for which scope (as given to `enqueue`). */
  invoker: string | null;
  scope: string | null;
  /** Handlers whose last run failed. */
  failing: string[];
}

export function itemSummary(item: Item): ItemSummary {
  return {
    id: item.id, type: item.type, status: item.status, trials: item.trials, maxTrials: item.maxTrials, priority: item.priority,
    runAt: item.runAt, createdAt: item.createdAt, finishedAt: item.finishedAt, owner: item.owner, invoker: item.invoker, scope: item.scope,
    failing: Object.entries(item.results).filter(([, r]) => !r.ok).map(([name]) => name),
  };
}

/** What an operator may do to an item in this status: retry an error, delete a finished one, cancel the others. */
export function actionsFor(status: ItemStatus): { retry: boolean; delete: boolean; cancel: boolean } {
  return { retry: status === 'error', delete: FINAL_STATUSES.includes(status), cancel: !FINAL_STATUSES.includes(status) };
}

/** One page of items, and the cursor of the next (null: this is the last). */
export interface ItemsPage {
  items: ItemSummary[];
  next: number | null;
}

/** A page of items, newest first, by keyset on id (no count over the table). */
export async function itemsPage(admin: Admin, q: ItemsQuery): Promise<ItemsPage> {
  // One more than the page tells whether a next page exists without a count.
  const rows = await admin.list({ status: q.status, type: q.type, invoker: q.invoker, scope: q.scope, beforeId: q.beforeId, limit: q.limit + 1 });
  const items = rows.slice(0, q.limit).map(itemSummary);
  return { items, next: rows.length > q.limit ? items[items.length - 1].id : null };
}

/** One item, or a `NotFoundError`. */
export async function itemOrNotFound(admin: Admin, id: number): Promise<Item> {
  const item = await admin.get(id);
  if (!item) throw new NotFoundError(`no item with id ${id}`);
  return item;
}

/** A worker with what it holds now. */
export interface WorkerView extends WorkerInfo {
  /** Items in progress under this worker's `host:pid`, and the smallest of their ids. */
  held: number;
  firstHeldId: number | null;
  /** Not seen for 15 s: stopped without saying so, or stuck. */
  silent: boolean;
}

/** Every registered worker with its held items, and holders that no worker row names (a `process` run, say). */
export async function workersView(admin: Admin): Promise<{ workers: WorkerView[]; otherHolders: { owner: string; count: number; firstId: number }[] }> {
  const [workers, held] = [await admin.workers(), await admin.heldItems()];
  const byOwner = new Map(held.map((h) => [h.owner, h]));
  const views = workers.map((w) => {
    const h = byOwner.get(`${w.host}:${w.pid}`);
    return { ...w, held: h?.count ?? 0, firstHeldId: h?.firstId ?? null, silent: !w.alive };
  });
  const named = new Set(workers.map((w) => `${w.host}:${w.pid}`));
  return { workers: views, otherHolders: held.filter((h) => !named.has(h.owner)) };
}

/** A page of an item's history records, in the order they were written, and the `after` of the next (null: last). */
export async function historyPage(admin: Admin, id: number, q: { afterId?: number; limit: number }): Promise<{ records: HistoryRecord[]; next: number | null }> {
  const rows = await admin.history(id, { afterId: q.afterId, limit: q.limit + 1 });
  const records = rows.slice(0, q.limit);
  return { records, next: rows.length > q.limit ? records[records.length - 1].id : null };
}

/** A running job as the jobs page lists it. */
export interface RunningJob {
  id: number;
  type: string;
  invoker: string | null;
  scope: string | null;
  owner: string | null;
  /** Null while it waits in its worker for a free slot. */
  startedAt: Date | null;
  progress: Progress | null;
  cancelRequested: boolean;
}

/** The most running jobs the jobs page lists (newest first). */
export const RUNNING_SHOWN = 100;

/** The items in progress, newest first, with their progress. */
export async function runningJobs(admin: Admin): Promise<RunningJob[]> {
  const items = await admin.list({ status: 'in_progress', limit: RUNNING_SHOWN });
  return items.map((i) => ({
    id: i.id, type: i.type, invoker: i.invoker, scope: i.scope, owner: i.owner, startedAt: i.startedAt, progress: i.progress, cancelRequested: i.cancelRequested,
  }));
}
