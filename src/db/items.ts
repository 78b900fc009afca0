/**
 * The SQL of an item's way: insert, claim, partial results, settle, lease renewal, hand-back and lease expiry.
 * (Operators' reads are in inspect.ts; nothing outside `src/db/` writes SQL.)
 *
 * Writes that settle or renew claimed items are fenced by the claim token: a processor that lost its claim (its
 * lease ran out and another processor took the item) changes nothing.
 */
import type { Knex } from 'knex';
import { FINAL_STATUSES, type ItemStatus } from '../types.ts';
import { dialectOf, rowsOf, changedRowsOf, retryOnLockConflict, runSqlitePrepared } from './dialect.ts';
import { ITEM_COLUMNS, type ItemRow } from './rows.ts';

export const ITEMS = 'signalq_items';
const COLS = ITEM_COLUMNS.join(', ');
/** Rows per INSERT statement: enough to amortize a round trip. */
const INSERT_CHUNK = 500;
/**
 * Payload bytes per INSERT statement: well under MySQL's default max_allowed_packet (16 MiB; 4 MiB on older
 * servers), which 500 large payloads would pass. A single payload (at most `maxPayloadBytes`) always goes.
 */
const INSERT_CHUNK_BYTES = 2 * 1024 * 1024;

/** Runs a hot-path statement: through a cached prepared statement on SQLite, through knex on MySQL. */
function exec(knex: Knex, sql: string, bindings: unknown[]): Promise<any> {
  return dialectOf(knex) === 'sqlite' ? runSqlitePrepared(knex, sql, bindings) : knex.raw(sql, bindings as any[]);
}

/** Splits rows into INSERT statements by count and by payload size. */
export function chunkRows(rows: NewItemRow[], maxRows = INSERT_CHUNK, maxBytes = INSERT_CHUNK_BYTES): NewItemRow[][] {
  const chunks: NewItemRow[][] = [];
  let chunk: NewItemRow[] = [];
  let bytes = 0;
  for (const r of rows) {
    const size = r.payload.length; // UTF-16 units: close enough for a bound, and free to compute
    if (chunk.length > 0 && (chunk.length >= maxRows || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(r);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** A row to insert (already validated and serialized). */
export interface NewItemRow {
  type: string;
  payload: string;
  priority: number;
  run_at: number;
  max_trials: number;
  dedupe_key: string | null;
  created_at: number;
}

const INSERT_COLUMNS = 'type, payload, priority, run_at, max_trials, dedupe_key, active_key, created_at, status, trials, results';
const ROW_PLACEHOLDERS = "(?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, '{}')";
/** MySQL's errno for a duplicate key; the only unique index besides the primary key is `active_key`'s. */
const ER_DUP_ENTRY = 1062;

/** True when a write failed because an unfinished item holds one of its dedupe keys. */
export function isDuplicateKeyError(err: unknown): boolean {
  const e = err as { errno?: number; code?: string };
  return e?.errno === ER_DUP_ENTRY || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * One multi-row INSERT, written out rather than built with knex's query builder, which cost more than the
 * database did for bulk enqueues. On SQLite a keyed row skips (`ON CONFLICT DO NOTHING`) a key an unfinished
 * item holds. On MySQL it is a plain INSERT that fails on such a key (the callers find the holders and leave
 * them out): `INSERT IGNORE` would also turn every conversion error of the statement into a warning and store a
 * damaged or clamped value without a word.
 */
function bulkInsertSql(knex: Knex, rows: NewItemRow[]): { sql: string; bindings: unknown[] } {
  const keyed = rows.some((r) => r.dedupe_key != null);
  const values = new Array(rows.length).fill(ROW_PLACEHOLDERS).join(', ');
  const bindings: unknown[] = [];
  for (const r of rows) bindings.push(r.type, r.payload, r.priority, r.run_at, r.max_trials, r.dedupe_key, r.dedupe_key, r.created_at);
  const tail = keyed && dialectOf(knex) === 'sqlite' ? ' ON CONFLICT (active_key) DO NOTHING' : '';
  return { sql: `INSERT INTO ${ITEMS} (${INSERT_COLUMNS}) VALUES ${values}${tail}`, bindings };
}

/** How many times a keyed insert looks again when the key keeps changing hands under it. */
const KEY_RACE_TRIES = 5;

/**
 * Inserts one item (the same statement as a bulk insert, of one row). With a dedupe key held by an unfinished
 * item, writes nothing and returns that item's id. Runs on `db`, which may be the app's own transaction (on
 * MySQL a duplicate-key error undoes only its own statement, not the transaction).
 */
export async function insertItem(db: Knex | Knex.Transaction, row: NewItemRow): Promise<{ id: number; created: boolean }> {
  const knex = db as Knex;
  const { sql, bindings } = bulkInsertSql(knex, [row]);
  for (let attempt = 0; attempt < KEY_RACE_TRIES; attempt++) {
    try {
      const res = await db.raw(sql, bindings as any[]);
      if (changedRowsOf(knex, res) === 1) return { id: insertedIdOf(knex, res), created: true };
    } catch (err) {
      if (row.dedupe_key == null || !isDuplicateKeyError(err)) throw err;
    }
    // Skipped: an unfinished item holds the key, and it is the answer.
    const existing = await findUnfinishedByKey(db, row.dedupe_key!);
    if (existing != null) return { id: existing, created: false };
    // That item finished between the insert and the look, which frees the key: insert again.
  }
  throw new Error(`dedupe key ${JSON.stringify(row.dedupe_key)} kept changing hands; enqueue again`);
}

function insertedIdOf(knex: Knex, result: any): number {
  return dialectOf(knex) === 'mysql' ? Number(result[0].insertId) : Number(result.lastInsertRowid);
}

async function findUnfinishedByKey(db: Knex | Knex.Transaction, key: string): Promise<number | null> {
  const row = await db(ITEMS).select('id').where('active_key', key).first();
  return row ? Number(row.id) : null;
}

/**
 * Inserts many items in statements of up to 500 rows (fewer when payloads are large). Rows whose dedupe key an
 * unfinished item holds, or an earlier row of the same call, are skipped. Returns how many rows were written.
 * Runs on `db`, which may be the app's own transaction; when it is not, the whole call is one transaction, so a
 * failure writes nothing.
 */
export async function insertItems(db: Knex | Knex.Transaction, rows: NewItemRow[]): Promise<number> {
  const mysql = dialectOf(db as Knex) === 'mysql';
  const run = async (trx: Knex | Knex.Transaction) => {
    let written = 0;
    for (const chunk of chunkRows(mysql ? firstOfEachKey(rows) : rows)) {
      written += mysql && chunk.some((r) => r.dedupe_key != null) ? await insertKeyedChunk(trx, chunk) : await insertChunk(trx, chunk);
    }
    return written;
  };
  if ((db as Knex.Transaction).isTransaction) return run(db);
  return (db as Knex).transaction(run);
}

async function insertChunk(trx: Knex | Knex.Transaction, chunk: NewItemRow[]): Promise<number> {
  const { sql, bindings } = bulkInsertSql(trx as Knex, chunk);
  return changedRowsOf(trx as Knex, await trx.raw(sql, bindings as any[]));
}

/**
 * MySQL: leaves out the rows whose key an unfinished item holds, then inserts the rest. When another enqueue
 * takes one of the keys between the look and the insert, the statement fails as a whole (and undoes only
 * itself), and the look is made again.
 */
async function insertKeyedChunk(trx: Knex | Knex.Transaction, chunk: NewItemRow[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const keys = chunk.filter((r) => r.dedupe_key != null).map((r) => r.dedupe_key!);
    const held = new Set((await trx(ITEMS).select('active_key').whereIn('active_key', keys)).map((r: { active_key: string }) => r.active_key));
    const free = chunk.filter((r) => r.dedupe_key == null || !held.has(r.dedupe_key));
    if (free.length === 0) return 0;
    try {
      return await insertChunk(trx, free);
    } catch (err) {
      if (!isDuplicateKeyError(err) || attempt >= KEY_RACE_TRIES) throw err;
    }
  }
}

/** The rows whose dedupe key no earlier row of the same call has (as one multi-row INSERT IGNORE would keep). */
function firstOfEachKey(rows: NewItemRow[]): NewItemRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => r.dedupe_key == null || (!seen.has(r.dedupe_key) && seen.add(r.dedupe_key)));
}

/** What a claim needs to know. */
export interface ClaimRequest {
  token: string;
  owner: string;
  now: number;
  leaseUntil: number;
  limit: number;
  /** Only these types (the ones a connected handler takes); null for every type. */
  types: string[] | null;
}

/**
 * Atomically takes up to `limit` runnable items (pending or need_retry, due by `now`) in order of priority, due
 * time and id, stamping them with the claim token, owner and lease. Two claims at once never take the same item.
 */
export async function claimItems(knex: Knex, req: ClaimRequest): Promise<ItemRow[]> {
  if (req.types && req.types.length === 0) return [];
  const stamp = `UPDATE ${ITEMS} SET status = 'in_progress', claim_token = ?, owner = ?, lease_until = ?, last_try_at = ?`;
  const stampBindings = [req.token, req.owner, req.leaseUntil, req.now];
  if (dialectOf(knex) === 'sqlite') {
    // One statement is one write transaction on SQLite: the pick and the stamp cannot interleave with another claim.
    const pick = pickIds(false, req.types, req.now, req.limit);
    const rows = await retryOnLockConflict(() =>
      exec(knex, `${stamp} WHERE id IN (${pick.sql}) RETURNING ${COLS}`, [...stampBindings, ...pick.bindings]),
    );
    return (rows as ItemRow[]).sort(claimOrder);
  }
  return retryOnLockConflict(() =>
    knex.transaction(async (trx) => {
      let rows: ItemRow[];
      if (req.types === null || req.types.length === 1) {
        // SKIP LOCKED: rows another claimer is taking right now are passed over, not waited for.
        const pick = pickRows(COLS, req.types?.[0] ?? null, req.now, req.limit, true);
        [rows] = await trx.raw(`${pick.sql} FOR UPDATE SKIP LOCKED`, pick.bindings as any[]);
      } else {
        // Several types: each type's first `limit` in order, locked as read, then the first `limit` of those
        // (the rest stay locked only until this transaction ends). Payloads are read for the chosen rows only.
        const pick = pickIds(true, req.types, req.now, req.limit, ' FOR UPDATE SKIP LOCKED');
        const [ids] = await trx.raw(pick.sql, pick.bindings as any[]);
        if (ids.length === 0) return [];
        [rows] = await trx.raw(`SELECT ${COLS} FROM ${ITEMS} WHERE id IN (${ids.map(() => '?').join(', ')})`, ids.map((r: { id: number }) => r.id));
        rows.sort(claimOrder);
      }
      if (rows.length === 0) return [];
      await trx.raw(`${stamp} WHERE id IN (${rows.map(() => '?').join(', ')})`, [...stampBindings, ...rows.map((r) => r.id)]);
      return rows.map((r) => ({ ...r, status: 'in_progress' as const, owner: req.owner, lease_until: req.leaseUntil, last_try_at: req.now }));
    }),
  );
}

/**
 * Runnable items in claim order, of one type or of any, reading an index in order and stopping after `limit`
 * rows: no sort, whatever the backlog, the history or the items of other types. Of any type: `claimable = 1` is
 * an equality on the first column of the claim index (claimable, priority, run_at, id). Of one type: type and
 * claimable are the first two columns of the type index (type, claimable, priority, run_at, id).
 */
function pickRows(columns: string, type: string | null, now: number, limit: number, forceIndex: boolean): { sql: string; bindings: unknown[] } {
  // MySQL's optimizer picks a full scan plus a sort when most rows are runnable (a fresh backlog), which costs
  // more as the backlog grows; the index is always right for "first N in order", so it is forced.
  const index = type === null ? 'signalq_items_claim' : 'signalq_items_type';
  const from = forceIndex ? `${ITEMS} FORCE INDEX (${index})` : ITEMS;
  const typed = type === null ? '' : 'type = ? AND ';
  return {
    sql: `SELECT ${columns} FROM ${from} WHERE ${typed}claimable = 1 AND run_at <= ? ORDER BY priority, run_at, id LIMIT ?`,
    bindings: type === null ? [now, limit] : [type, now, limit],
  };
}

/**
 * Ids of the first `limit` runnable items of these types (null: any type) in claim order: each type's first
 * `limit` from the type index, merged. `lock` is appended to each type's pick (MySQL's FOR UPDATE SKIP LOCKED).
 */
function pickIds(mysql: boolean, types: string[] | null, now: number, limit: number, lock = ''): { sql: string; bindings: unknown[] } {
  if (types === null || types.length === 1) return pickRows('id', types?.[0] ?? null, now, limit, mysql);
  const bindings: unknown[] = [];
  const parts = types.map((t) => {
    const one = pickRows('id, priority, run_at', t, now, limit, mysql);
    bindings.push(...one.bindings);
    // SQLite takes ORDER BY/LIMIT only at the end of a compound select, so each part is a subquery there.
    return mysql ? `(${one.sql}${lock})` : `SELECT * FROM (${one.sql})`;
  });
  bindings.push(limit);
  return { sql: `SELECT id FROM (${parts.join(' UNION ALL ')}${mysql ? '' : ' ORDER BY priority, run_at, id LIMIT ?'}) AS picked${mysql ? ' ORDER BY priority, run_at, id LIMIT ?' : ''}`, bindings };
}

function claimOrder(a: ItemRow, b: ItemRow): number {
  return a.priority - b.priority || a.run_at - b.run_at || a.id - b.id;
}

/**
 * True when at least one item is runnable now: the idle worker's cheap poll (one index probe, or one per type).
 */
export async function hasRunnableItem(knex: Knex, now: number, types: string[] | null): Promise<boolean> {
  if (types && types.length === 0) return false;
  // Raw SQL: an idle worker sends this about 100 times a second, and knex's builder cost more CPU than the query.
  const mysql = dialectOf(knex) === 'mysql';
  const { sql, bindings } = types === null || types.length === 1 ? pickRows('id', types?.[0] ?? null, now, 1, mysql) : pickIds(mysql, types, now, 1);
  return rowsOf(knex, await exec(knex, sql, bindings)).length > 0;
}

/** One claimed item's outcome, to be written. */
export interface Settlement {
  id: number;
  token: string;
  status: ItemStatus;
  /** Next run time (epoch ms); kept as is for a final status. */
  runAt: number;
  /** The item's full results map, serialized. */
  results: string;
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

/** Splits entries into runs in which every id appears once, keeping their order. */
export function distinctIds<E extends { id: number }>(entries: E[]): E[][] {
  const groups: { ids: Set<number>; entries: E[] }[] = [];
  for (const e of entries) {
    let g = groups.find((x) => !x.ids.has(e.id));
    if (!g) groups.push((g = { ids: new Set(), entries: [] }));
    g.ids.add(e.id);
    g.entries.push(e);
  }
  return groups.map((g) => g.entries);
}

async function settleDistinct(knex: Knex, settlements: Settlement[], now: number): Promise<number> {
  if (settlements.length === 0) return 0;
  const set: string[] = [];
  const bindings: unknown[] = [];
  const column = (name: string, value: (s: Settlement) => unknown) => {
    const values = settlements.map(value);
    if (values.every((v) => v === values[0])) {
      set.push(`${name} = ?`);
      bindings.push(values[0]);
    } else {
      set.push(`${name} = CASE id ${settlements.map(() => 'WHEN ? THEN ?').join(' ')} END`);
      settlements.forEach((s, i) => bindings.push(s.id, values[i]));
    }
  };
  const final = (s: Settlement) => FINAL_STATUSES.includes(s.status);
  column('status', (s) => s.status);
  column('run_at', (s) => s.runAt);
  column('results', (s) => s.results);
  column('finished_at', (s) => (final(s) ? now : null));
  // A finished item frees its dedupe key for a later enqueue.
  const finishedIds = settlements.filter(final).map((s) => s.id);
  if (finishedIds.length === settlements.length) set.push('active_key = NULL');
  else if (finishedIds.length > 0) {
    set.push(`active_key = CASE WHEN id IN (${finishedIds.map(() => '?').join(', ')}) THEN NULL ELSE active_key END`);
    bindings.push(...finishedIds);
  }
  set.push('trials = trials + 1', 'owner = NULL', 'claim_token = NULL', 'lease_until = NULL');
  const sql = `UPDATE ${ITEMS} SET ${set.join(', ')} WHERE ${fencedBy(settlements, bindings)}`;
  return retryOnLockConflict(async () => changedRowsOf(knex, await exec(knex, sql, bindings)));
}

/** The WHERE of a fenced write: each item only while it is still held under its claim token. */
function fencedBy(entries: { id: number; token: string }[], bindings: unknown[]): string {
  const byToken = new Map<string, number[]>();
  for (const e of entries) {
    const ids = byToken.get(e.token) ?? [];
    ids.push(e.id);
    byToken.set(e.token, ids);
  }
  const where: string[] = [];
  for (const [token, ids] of byToken) {
    where.push(`(claim_token = ? AND id IN (${ids.map(() => '?').join(', ')}))`);
    bindings.push(token, ...ids);
  }
  return where.join(' OR ');
}

/**
 * Writes the results of items still in progress (a handler succeeded while others of the same item still run),
 * so that a crash before the item settles does not run that handler again. Fenced like settling; the status,
 * trials and claim are left as they are. Returns how many items it wrote.
 */
export async function writeResults(knex: Knex, entries: { id: number; token: string; results: string }[]): Promise<number> {
  let written = 0;
  for (const group of distinctIds(entries)) {
    const bindings: unknown[] = [];
    const cases = group.map((e) => (bindings.push(e.id, e.results), 'WHEN ? THEN ?')).join(' ');
    const sql = `UPDATE ${ITEMS} SET results = CASE id ${cases} END WHERE ${fencedBy(group, bindings)}`;
    written += await retryOnLockConflict(async () => changedRowsOf(knex, await exec(knex, sql, bindings)));
  }
  return written;
}

/** Extends the leases of items still held under these tokens. Returns how many items it extended. */
export async function renewLeases(knex: Knex, tokens: string[], leaseUntil: number): Promise<number> {
  if (tokens.length === 0) return 0;
  return retryOnLockConflict(async () =>
    knex(ITEMS).update({ lease_until: leaseUntil }).whereIn('claim_token', tokens).andWhere('status', 'in_progress'),
  );
}

/** Hands claimed items that never started back to `pending`, with no trial counted (graceful shutdown). */
export async function releaseItems(knex: Knex, token: string, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return retryOnLockConflict(async () =>
    knex(ITEMS)
      .update({ status: 'pending', owner: null, claim_token: null, lease_until: null })
      .where('claim_token', token)
      .whereIn('id', ids),
  );
}

/**
 * Items whose lease ran out by `now` (their processor died or lost the database), oldest lease first: the lease
 * expiry decides each one like any failed trial and writes it through the fenced settle path, with the token
 * read here, so a processor that comes back and settles first wins.
 */
export async function readExpiredItems(knex: Knex, now: number, limit: number): Promise<(ItemRow & { claim_token: string })[]> {
  return knex(ITEMS)
    .select([...ITEM_COLUMNS, 'claim_token'] as string[])
    .where('status', 'in_progress')
    .andWhere('lease_until', '<', now)
    .orderBy('lease_until')
    .limit(limit);
}

/** The stored results text of these items (id -> text); missing ids were deleted. */
export async function readResults(knex: Knex, ids: number[]): Promise<Map<number, string>> {
  const rows = await knex(ITEMS).select('id', 'results').whereIn('id', ids);
  return new Map(rows.map((r: { id: number; results: string }) => [Number(r.id), r.results]));
}

/** The plan the database would use for the claim's pick (for tests that it reads an index, with no sort). */
export async function explainClaim(knex: Knex, now: number, limit: number, types: string[] | null = null): Promise<string> {
  if (dialectOf(knex) === 'sqlite') {
    const pick = pickIds(false, types, now, limit);
    const rows = await knex.raw(`EXPLAIN QUERY PLAN ${pick.sql}`, pick.bindings as any[]);
    return (rows as any[]).map((r) => r.detail).join('\n');
  }
  const pick = types === null || types.length === 1 ? pickRows(COLS, types?.[0] ?? null, now, limit, true) : pickIds(true, types, now, limit, ' FOR UPDATE SKIP LOCKED');
  const rows = rowsOf<any>(knex, await knex.raw(`EXPLAIN ${pick.sql}${types === null || types.length === 1 ? ' FOR UPDATE SKIP LOCKED' : ''}`, pick.bindings as any[]));
  return rows.map((r) => `table=${r.table} key=${r.key} extra=${r.Extra}`).join('\n');
}
