/**
 * The pick shared by the claim and the idle probe: which runnable items come first, read from an index in claim
 * order. Builds statements only; the claim (`claimItems`, one implementation per dialect) and the probe
 * (`hasRunnableItem`) run them.
 */
import type { Dialect, Statement } from '../dialect.ts';
import { ITEMS, type ItemRow } from '../rows.ts';

/** The claim order: priority, then due time, then id. */
const CLAIM_ORDER = 'priority, run_at, id';

/**
 * Runnable items in claim order, of one type or of any, reading an index in order and stopping after `limit`
 * rows: no sort, whatever the backlog, the history or the items of other types. Of any type: `claimable = 1` is
 * an equality on the first column of the claim index (claimable, priority, run_at, id). Of one type: type and
 * claimable are the first two columns of the type index (type, claimable, priority, run_at, id).
 */
export function pickRows(dialect: Dialect, columns: string, type: string | null, now: number, limit: number): Statement {
  const index = type === null ? 'signalq_items_claim' : 'signalq_items_type';
  const typed = type === null ? '' : 'type = ? AND ';
  return {
    sql: `SELECT ${columns} FROM ${dialect.fromIndex(ITEMS, index)} WHERE ${typed}claimable = 1 AND run_at <= ? ORDER BY ${CLAIM_ORDER} LIMIT ?`,
    bindings: type === null ? [now, limit] : [type, now, limit],
  };
}

/**
 * Ids of the first `limit` runnable items of these types (null: any type) in claim order: each type's first
 * `limit` from the type index, merged. `lock` is appended to each type's pick (MySQL's FOR UPDATE SKIP LOCKED).
 */
export function pickIds(dialect: Dialect, types: string[] | null, now: number, limit: number, lock = ''): Statement {
  if (types === null || types.length === 1) return pickRows(dialect, 'id', types?.[0] ?? null, now, limit);
  const bindings: unknown[] = [];
  const parts = types.map((t) => {
    const one = pickRows(dialect, 'id, priority, run_at', t, now, limit);
    bindings.push(...one.bindings);
    return `${one.sql}${lock}`;
  });
  bindings.push(limit);
  return { sql: dialect.firstOfPicks(parts, CLAIM_ORDER), bindings };
}

/** Sorts claimed rows into claim order. */
export function claimOrder(a: ItemRow, b: ItemRow): number {
  return a.priority - b.priority || a.run_at - b.run_at || a.id - b.id;
}
