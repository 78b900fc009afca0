/**
 * History records: appended by running jobs (fenced by their claim) and by signalq itself (a cancel).
 */
import type { Knex } from 'knex';
import { dialectOf } from '../dialect.ts';
import { HISTORY, ITEMS } from '../rows.ts';

/** One history record to write. */
export interface NewHistoryRecord {
  itemId: number;
  handler: string;
  at: number;
  subject: string | null;
  status: string | null;
  comment: string;
}

const toRow = (r: NewHistoryRecord) => ({ item_id: r.itemId, handler: r.handler, at: r.at, subject: r.subject, status: r.status, comment: r.comment });

/**
 * Appends the records of items still held under `token`, in order, in one transaction: records of an item whose
 * claim was lost (its lease ran out and another processor took it) are dropped. Returns how many were written.
 */
export async function appendHistoryFenced(knex: Knex, token: string, records: NewHistoryRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  const ids = [...new Set(records.map((r) => r.itemId))];
  return knex.transaction(async (trx) => {
    // The claim cannot move until the records are in.
    const q = dialectOf(knex).lockedRead(trx(ITEMS).select('id').where('claim_token', token).whereIn('id', ids));
    const held = new Set((await q).map((r: { id: number | string }) => Number(r.id)));
    const rows = records.filter((r) => held.has(r.itemId)).map(toRow);
    for (let i = 0; i < rows.length; i += 200) await trx(HISTORY).insert(rows.slice(i, i + 200));
    return rows.length;
  });
}

/** Appends records without a fence (signalq's own records, such as a cancel of a queued item). */
export async function appendHistory(knex: Knex, records: NewHistoryRecord[]): Promise<void> {
  if (records.length > 0) await knex(HISTORY).insert(records.map(toRow));
}
