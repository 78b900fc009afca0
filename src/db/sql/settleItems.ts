/**
 * Settling: writes claimed items' outcomes (done, need_retry, error) through the claim-token fence.
 */
import type { Knex } from 'knex';
import { FINAL_STATUSES, type ItemStatus } from '../../types.ts';
import { ITEMS } from '../rows.ts';
import { distinctIds, fencedBy, runFenced } from './fence.ts';
import { valueById } from './value-by-id.ts';

/** One claimed item's outcome, to be written. */
export interface Settlement {
  id: number;
  token: string;
  status: ItemStatus;
  /** Next run time (epoch ms); kept as is for a final status. */
  runAt: number;
  /** The item's full results map, serialized. */
  results: string;
  /** When its handlers started on this trial, if not yet written (kept if already set). */
  startedAt?: number | null;
}

/**
 * Writes many items' outcomes in one statement (one transaction, one disk flush), each fenced by its own claim
 * token. Counts one trial per item. Returns how many items were written; fewer than given means some claims
 * were lost (their leases ran out and another processor took them), and those outcomes were dropped.
 */
export async function settleItems(knex: Knex, settlements: Settlement[], now: number): Promise<number> {
  let written = 0;
  // The CASE picks a value by id alone: an id held under two tokens in one statement (an outcome kept through an
  // outage longer than the lease, and the outcome of the item's next claim) would write the first one's values
  // through the second one's fence. So each statement holds an id once, and the fence decides.
  for (const group of distinctIds(settlements)) written += await settleDistinct(knex, group, now);
  return written;
}

async function settleDistinct(knex: Knex, settlements: Settlement[], now: number): Promise<number> {
  if (settlements.length === 0) return 0;
  const set: string[] = [];
  const bindings: unknown[] = [];
  const ids = settlements.map((s) => s.id);
  const column = (name: string, value: (s: Settlement) => unknown) => {
    const values = settlements.map(value);
    if (values.every((v) => v === values[0])) {
      set.push(`${name} = ?`);
      bindings.push(values[0]);
    } else {
      set.push(`${name} = ${valueById(ids, values, bindings)}`);
    }
  };
  const final = (s: Settlement) => FINAL_STATUSES.includes(s.status);
  column('status', (s) => s.status);
  column('run_at', (s) => s.runAt);
  column('results', (s) => s.results);
  column('finished_at', (s) => (final(s) ? now : null));
  // Start marks not yet written: most items finish before the job writer's next flush, and carry theirs here.
  const starts = settlements.map((s) => s.startedAt ?? null);
  if (starts.some((v) => v !== null)) {
    if (starts.every((v) => v === starts[0])) {
      set.push('started_at = COALESCE(started_at, ?)');
      bindings.push(starts[0]);
    } else {
      set.push(`started_at = COALESCE(started_at, ${valueById(ids, starts, bindings)})`);
    }
  }
  // A finished item frees its dedupe key for a later enqueue.
  const finishedIds = settlements.filter(final).map((s) => s.id);
  if (finishedIds.length === settlements.length) set.push('active_key = NULL');
  else if (finishedIds.length > 0) {
    set.push(`active_key = CASE WHEN id IN (${finishedIds.map(() => '?').join(', ')}) THEN NULL ELSE active_key END`);
    bindings.push(...finishedIds);
  }
  // A canceled item's cancel request is answered: cleared, so the cancel index holds only pending requests. Only
  // statements that settle a canceled item name the column (naming it costs an index write per row).
  const canceledIds = settlements.filter((s) => s.status === 'canceled').map((s) => s.id);
  if (canceledIds.length > 0) {
    set.push(`cancel_requested = CASE WHEN id IN (${canceledIds.map(() => '?').join(', ')}) THEN 0 ELSE cancel_requested END`);
    bindings.push(...canceledIds);
  }
  set.push('trials = trials + 1', 'owner = NULL', 'claim_token = NULL', 'lease_until = NULL');
  const sql = `UPDATE ${ITEMS} SET ${set.join(', ')} WHERE ${fencedBy(settlements, bindings)}`;
  return runFenced(knex, sql, bindings);
}
