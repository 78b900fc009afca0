/**
 * The per-item values of a statement that writes many items at once, as one SQL expression over `id`.
 */

/** Ids at most in one flat `CASE id WHEN ? THEN ? …` of `valueById`. */
const LEAF = 8;

/**
 * A SQL expression that gives each of `ids` its value (`values[i]` for `ids[i]`; every id once), pushing its
 * bindings onto `bindings`. Over a few ids it is a flat `CASE id WHEN ? THEN ? … END`; over more, a balanced split
 * on the sorted ids (`CASE WHEN id < ? THEN … ELSE … END`), so each row costs about log2(n) comparisons. A flat
 * CASE over n items costs each row up to n, which made a statement of n items O(n²): with the per-item start
 * times a settle carries, 4-5% of the processing throughput at 500 items per claim.
 */
export function valueById(ids: number[], values: unknown[], bindings: unknown[]): string {
  if (ids.length === 0) return 'NULL';
  const order = ids.map((_, i) => i).sort((a, b) => ids[a] - ids[b]);
  const build = (lo: number, hi: number): string => {
    if (hi - lo <= LEAF) {
      let sql = 'CASE id';
      for (let k = lo; k < hi; k++) {
        sql += ' WHEN ? THEN ?';
        bindings.push(ids[order[k]], values[order[k]]);
      }
      return `${sql} END`;
    }
    const mid = (lo + hi) >>> 1;
    bindings.push(ids[order[mid]]);
    const below = build(lo, mid);
    const rest = build(mid, hi);
    return `CASE WHEN id < ? THEN ${below} ELSE ${rest} END`;
  };
  return build(0, ids.length);
}
