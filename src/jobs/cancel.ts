/**
 * Canceling an item: a queued one at once (it never runs), a running one by request (its worker ends it within
 * two seconds, as `canceled`), a finished one refused.
 */
import type { Knex } from 'knex';
import { cancelQueuedItem, requestCancel } from '../db/sql/cancelItem.ts';
import { appendHistory } from '../db/sql/appendHistory.ts';
import { getItemRow } from '../db/sql/getItemRow.ts';
import { itemFromRow } from '../db/rows.ts';
import { UsageError } from '../errors.ts';
import type { Item } from '../types.ts';
import { SIGNALQ_VERDICT } from '../queue/decide.ts';

/** What `cancel` did: `canceled` (it was queued, and never runs) or `requested` (it runs; its worker ends it). */
export interface CancelResult {
  outcome: 'canceled' | 'requested';
  item: Item;
}

/** How often `cancel` reads again an item whose status changed between its read and its write. */
const ATTEMPTS = 5;

/**
 * Cancels item `id`. Throws a `UsageError` when there is no such item or it is finished (`done`, `error`,
 * `canceled`): there is nothing left to cancel.
 */
export async function cancelItem(knex: Knex, id: number, now: number, by?: string): Promise<CancelResult> {
  const who = by ? ` by ${by}` : '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const row = await getItemRow(knex, id);
    if (!row) throw new UsageError(`no item with id ${id}`);
    const item = itemFromRow(row, true);
    if (item.status === 'pending' || item.status === 'need_retry') {
      if (await cancelQueuedItem(knex, id, now)) {
        await appendHistory(knex, [{ itemId: id, handler: SIGNALQ_VERDICT, at: now, subject: null, status: 'canceled', comment: `canceled${who} while ${item.status}; it never ran again` }]);
        return { outcome: 'canceled', item: itemFromRow((await getItemRow(knex, id))!, true) };
      }
    } else if (item.status === 'in_progress') {
      if (await requestCancel(knex, id)) {
        await appendHistory(knex, [{ itemId: id, handler: SIGNALQ_VERDICT, at: now, subject: null, status: 'cancel-requested', comment: `cancel requested${who} while it ran on ${item.owner ?? 'a worker'}` }]);
        return { outcome: 'requested', item: { ...item, cancelRequested: true } };
      }
    } else {
      throw new UsageError(`item ${id} is ${item.status}, finished; only a queued or running item can be canceled`);
    }
    // Its status changed between the read and the write (claimed, or settled): read it again.
  }
  throw new UsageError(`item ${id} changed status ${ATTEMPTS} times while being canceled; try again`);
}
