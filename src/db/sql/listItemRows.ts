import type { Knex } from 'knex';
import type { ItemStatus } from '../../types.ts';
import { dialectOf } from '../dialect.ts';
import { ITEMS, ITEM_ACCESS, ITEM_COLUMNS, type ItemRow } from '../rows.ts';

/** How far back (in ids) a listing of one type reads the primary key before asking the type index instead. */
export const TYPE_WINDOW_IDS = 50_000;

/** Which items `listItemRows` lists, and how many at most. */
export interface ListFilter {
  status?: ItemStatus;
  type?: string;
  /**
   * Keyset cursor: the listing continues after this item (pass the last id of the previous page). Paging by the
   * columns the listing is ordered by costs the same on the thousandth page as on the first, where an OFFSET reads
   * every row it skips.
   */
  beforeId?: number;
  /** With `status`: the `finished_at` of the `beforeId` item (null for an unfinished one). */
  beforeFinishedAt?: number | null;
  /** Only items enqueued by this invoker, and/or in this scope (read through `signalq_item_access`'s (invoker, item_id) and (scope, item_id) indexes). */
  invoker?: string;
  scope?: string;
  limit: number;
}

/**
 * The order of a listing. Without a status: newest first (`id` descending), reading the primary key backwards.
 * With a status: most recently finished first, then newest (`finished_at`, `id` descending; unfinished items
 * have no `finished_at`, so they come newest first): the order of the (status, finished_at) index, which then
 * holds only that status's items, so the page is read in order and no other item is looked at however far back
 * they lie. (By id alone with a status, a status whose items all sit far back in the table, old errors say, made
 * MariaDB read the primary key through every newer row: 2.2 s at a million rows.)
 */
export function ordersByFinish(f: Pick<ListFilter, 'status'>): boolean {
  return f.status !== undefined;
}

/** The listing's statement, unrun (the benchmark EXPLAINs it). */
export function listItemsQuery(knex: Knex, f: ListFilter): Knex.QueryBuilder {
  // A status alone reads its index, forced: past the first page MariaDB otherwise reads all of the status's entries
  // from the top, discarding those before the cursor (1.7 s half-way down a million items); forced, it reads the
  // range from the cursor (under 1 ms). With a type too, the optimizer chooses between the two indexes.
  const from = ordersByFinish(f) && !f.type ? knex.raw(dialectOf(knex).fromIndex(ITEMS, 'signalq_items_status')) : ITEMS;
  const q = knex.select(ITEM_COLUMNS as unknown as string[]).from(from as string);
  if (f.type) q.where('type', f.type);
  if (f.invoker !== undefined || f.scope !== undefined) {
    const access = knex(ITEM_ACCESS).select('item_id');
    if (f.invoker !== undefined) access.where('invoker', f.invoker);
    if (f.scope !== undefined) access.where('scope', f.scope);
    q.whereIn('id', access);
  }
  if (!ordersByFinish(f)) {
    if (f.beforeId !== undefined) q.where('id', '<', f.beforeId);
    return q.orderBy('id', 'desc').limit(f.limit);
  }
  q.where('status', f.status!);
  if (f.beforeId === undefined) return q.orderBy([{ column: 'finished_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(f.limit);
  const finished = f.beforeFinishedAt ?? null;
  if (finished === null) {
    // Only unfinished items remain after the cursor; ordering by id alone lets MariaDB read the index without a sort.
    return q.whereNull('finished_at').where('id', '<', f.beforeId).orderBy('id', 'desc').limit(f.limit);
  }
  // Items finished earlier, or at the same time with a smaller id, or never (sorted last, as DESC puts nulls).
  q.where((w) => w.where('finished_at', '<', finished).orWhere((s) => s.where('finished_at', finished).where('id', '<', f.beforeId!)).orWhereNull('finished_at'));
  return q.orderBy([{ column: 'finished_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(f.limit);
}

/**
 * Items in the listing's order (see `ordersByFinish`), optionally of one status and/or type, after a cursor.
 *
 * A type without a status: the newest items of a common type are found at once reading the primary key backwards,
 * but one whose items all lie far back (an old, misspelt type) would read every newer row first. So the primary
 * key is read over the last `TYPE_WINDOW_IDS` ids only, and when that does not fill the page, the ids come from the
 * type index, which holds only that type's items (sorted there: that costs what the type's size does, ~0.1 s for
 * 100,000 items on MariaDB), and the rows by those ids.
 */
export async function listItemRows(knex: Knex, f: ListFilter): Promise<ItemRow[]> {
  if (!f.type || ordersByFinish(f) || f.invoker !== undefined || f.scope !== undefined) return listItemsQuery(knex, f);
  const top = f.beforeId ?? Number((await knex(ITEMS).max({ m: 'id' }))[0].m ?? 0) + 1;
  const recent: ItemRow[] = await listItemsQuery(knex, { ...f, beforeId: top }).where('id', '>=', top - TYPE_WINDOW_IDS);
  if (recent.length >= f.limit || top <= TYPE_WINDOW_IDS) return recent;
  const ids = (
    await knex.select('id').from(knex.raw(dialectOf(knex).fromIndex(ITEMS, 'signalq_items_type'))).where('type', f.type).where('id', '<', top)
      .orderBy('id', 'desc').limit(f.limit)
  ).map((r: { id: number }) => r.id);
  if (ids.length === 0) return [];
  return knex(ITEMS).select(ITEM_COLUMNS as unknown as string[]).whereIn('id', ids).orderBy('id', 'desc');
}
