/**
 * The SQL of an item's way: insert, partial results, settle, lease renewal, hand-back and lease expiry (the claim
 * and the idle probe are in sql/). Operators' reads are in inspect.ts; nothing outside `src/db/` writes SQL.
 *
 * Writes that settle or renew claimed items are fenced by the claim token: a processor that lost its claim (its
 * lease ran out and another processor took the item) changes nothing.
 */
import type { Knex } from 'knex';
import { FINAL_STATUSES, type ItemStatus } from '../types.ts';
import { dialectOf, retryOnLockConflict, type Dialect } from './dialect.ts';
import { ITEMS, ITEM_COLUMNS, type ItemRow } from './rows.ts';

/** Rows per INSERT statement: enough to amortize a round trip. */
const INSERT_CHUNK = 500;
/**
 * Payload bytes per INSERT statement: well under MySQL's default max_allowed_packet (16 MiB; 4 MiB on older
 * servers), which 500 large payloads would pass. A single payload (at most `maxPayloadBytes`) always goes.
 */
const INSERT_CHUNK_BYTES = 2 * 1024 * 1024;

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
/**
 * One multi-row INSERT, written out rather than built with knex's query builder, which cost more than the
 * database did for bulk enqueues. A keyed row skips a key an unfinished item holds where the dialect has a clause
 * for that (SQLite's `ON CONFLICT DO NOTHING`); elsewhere (MySQL) it is a plain INSERT that fails on such a key,
 * and the callers find the holders and leave them out.
 */
function bulkInsertSql(dialect: Dialect, rows: NewItemRow[]): { sql: string; bindings: unknown[] } {
  const keyed = rows.some((r) => r.dedupe_key != null);
  const values = new Array(rows.length).fill(ROW_PLACEHOLDERS).join(', ');
  const bindings: unknown[] = [];
  for (const r of rows) bindings.push(r.type, r.payload, r.priority, r.run_at, r.max_trials, r.dedupe_key, r.dedupe_key, r.created_at);
  const tail = keyed && dialect.skipHeldKeys != null ? ` ${dialect.skipHeldKeys}` : '';
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
  const dialect = dialectOf(db);
  const { sql, bindings } = bulkInsertSql(dialect, [row]);
  for (let attempt = 0; attempt < KEY_RACE_TRIES; attempt++) {
    try {
      const res = await db.raw(sql, bindings as any[]);
      if (dialect.changedRowsOf(res) === 1) return { id: dialect.insertedIdOf(res), created: true };
    } catch (err) {
      if (row.dedupe_key == null || !dialect.isDuplicateKeyError(err)) throw err;
    }
    // Skipped: an unfinished item holds the key, and it is the answer.
    const existing = await findUnfinishedByKey(db, row.dedupe_key!);
    if (existing != null) return { id: existing, created: false };
    // That item finished between the insert and the look, which frees the key: insert again.
  }
  throw new Error(`dedupe key ${JSON.stringify(row.dedupe_key)} kept changing hands; enqueue again`);
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
  // Without a clause that skips held keys, the rows leave out the keys that are held (and repeated) themselves.
  const skipsHeldKeys = dialectOf(db).skipHeldKeys != null;
  const run = async (trx: Knex | Knex.Transaction) => {
    let written = 0;
    for (const chunk of chunkRows(skipsHeldKeys ? rows : firstOfEachKey(rows))) {
      written += !skipsHeldKeys && chunk.some((r) => r.dedupe_key != null) ? await insertKeyedChunk(trx, chunk) : await insertChunk(trx, chunk);
    }
    return written;
  };
  if ((db as Knex.Transaction).isTransaction) return run(db);
  return (db as Knex).transaction(run);
}

async function insertChunk(trx: Knex | Knex.Transaction, chunk: NewItemRow[]): Promise<number> {
  const dialect = dialectOf(trx);
  const { sql, bindings } = bulkInsertSql(dialect, chunk);
  return dialect.changedRowsOf(await trx.raw(sql, bindings as any[]));
}

/**
 * Where an insert cannot skip held keys (MySQL): leaves out the rows whose key an unfinished item holds, then inserts the rest. When another enqueue
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
      if (!dialectOf(trx).isDuplicateKeyError(err) || attempt >= KEY_RACE_TRIES) throw err;
    }
  }
}

/** The rows whose dedupe key no earlier row of the same call has (as one multi-row INSERT IGNORE would keep). */
function firstOfEachKey(rows: NewItemRow[]): NewItemRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => r.dedupe_key == null || (!seen.has(r.dedupe_key) && seen.add(r.dedupe_key)));
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
  const dialect = dialectOf(knex);
  return retryOnLockConflict(async () => dialect.changedRowsOf(await dialect.run(knex, sql, bindings)));
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
    const dialect = dialectOf(knex);
    written += await retryOnLockConflict(async () => dialect.changedRowsOf(await dialect.run(knex, sql, bindings)));
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
