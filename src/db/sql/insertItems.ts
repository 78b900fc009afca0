/**
 * Enqueue's SQL: one item or many, through one statement builder. A keyed row never becomes a second unfinished
 * item with its key: the insert skips it (SQLite) or the holders are looked up and left out (MySQL).
 */
import type { Knex } from 'knex';
import { dialectOf, type Dialect } from '../dialect.ts';
import { ITEMS, ITEM_ACCESS } from '../rows.ts';

/** A row to insert (already validated and serialized). */
export interface NewItemRow {
  type: string;
  payload: string;
  priority: number;
  run_at: number;
  max_trials: number;
  dedupe_key: string | null;
  created_at: number;
  /** Who asked for the item, and in which scope (null: not given). */
  invoker?: string | null;
  scope?: string | null;
}

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

const INSERT_COLUMNS = 'type, payload, priority, run_at, max_trials, dedupe_key, active_key, created_at, status, trials, results';
const ROW_PLACEHOLDERS = "(?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, '{}')";
/** With who asked and for which scope: only statements with such a row name them (two more bindings per row). */
const INSERT_COLUMNS_WITH_INVOKER = 'type, payload, priority, run_at, max_trials, dedupe_key, active_key, created_at, invoker, scope, status, trials, results';
const ROW_PLACEHOLDERS_WITH_INVOKER = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, '{}')";

/** Whether a row names who asked for it or a scope: such a row also gets its row in `signalq_item_access`. */
function isInvoked(r: NewItemRow): boolean {
  return r.invoker != null || r.scope != null;
}

/**
 * One multi-row INSERT, written out rather than built with knex's query builder, which cost more than the
 * database did for bulk enqueues, and run through the dialect (on SQLite a prepared statement kept per text: a
 * 500-row INSERT costs more to prepare than to run, and knex's raw path rewrote every binding). A keyed row skips
 * a key an unfinished item holds where the dialect has a clause for that (SQLite's `ON CONFLICT DO NOTHING`);
 * elsewhere (MySQL) it is a plain INSERT that fails on such a key, and the callers find the holders and leave them
 * out. With `returning`, the statement returns the id, invoker and scope of each row it wrote.
 */
function bulkInsertSql(dialect: Dialect, rows: NewItemRow[], invoked = rows.some(isInvoked), returning = false): { sql: string; bindings: unknown[] } {
  const keyed = rows.some((r) => r.dedupe_key != null);
  const values = new Array(rows.length).fill(invoked ? ROW_PLACEHOLDERS_WITH_INVOKER : ROW_PLACEHOLDERS).join(', ');
  const bindings: unknown[] = [];
  if (invoked) for (const r of rows) bindings.push(r.type, r.payload, r.priority, r.run_at, r.max_trials, r.dedupe_key, r.dedupe_key, r.created_at, r.invoker ?? null, r.scope ?? null);
  else for (const r of rows) bindings.push(r.type, r.payload, r.priority, r.run_at, r.max_trials, r.dedupe_key, r.dedupe_key, r.created_at);
  const tail = (keyed && dialect.skipHeldKeys != null ? ` ${dialect.skipHeldKeys}` : '') + (returning ? ' RETURNING id, invoker, scope' : '');
  return { sql: `INSERT INTO ${ITEMS} (${invoked ? INSERT_COLUMNS_WITH_INVOKER : INSERT_COLUMNS}) VALUES ${values}${tail}`, bindings };
}

/** Written items that name an invoker or a scope, as `signalq_item_access` rows. */
interface AccessRow {
  id: number;
  invoker: string | null;
  scope: string | null;
}

/** Indexes who asked for these written items and in which scope (in the caller's transaction). */
async function recordAccess(trx: Knex | Knex.Transaction, rows: AccessRow[]): Promise<void> {
  const access = rows.filter((r) => r.invoker != null || r.scope != null).map((r) => ({ item_id: Number(r.id), invoker: r.invoker ?? null, scope: r.scope ?? null }));
  for (let i = 0; i < access.length; i += INSERT_CHUNK) await trx(ITEM_ACCESS).insert(access.slice(i, i + INSERT_CHUNK));
}

/** How many times a keyed insert looks again when the key keeps changing hands under it. */
const KEY_RACE_TRIES = 5;

/**
 * Inserts one item (the same statement as a bulk insert, of one row). With a dedupe key held by an unfinished
 * item, writes nothing and returns that item's id. Runs on `db`, which may be the app's own transaction (on
 * MySQL a duplicate-key error undoes only its own statement, not the transaction).
 */
export async function insertItem(db: Knex | Knex.Transaction, row: NewItemRow): Promise<{ id: number; created: boolean }> {
  // With an invoker or scope, the item and its access row are written together or not at all.
  if (isInvoked(row) && !(db as Knex.Transaction).isTransaction) return (db as Knex).transaction((trx) => insertItem(trx, row));
  const dialect = dialectOf(db);
  const { sql, bindings } = bulkInsertSql(dialect, [row]);
  for (let attempt = 0; attempt < KEY_RACE_TRIES; attempt++) {
    try {
      const res = await dialect.run(db, sql, bindings);
      if (dialect.changedRowsOf(res) === 1) {
        const id = dialect.insertedIdOf(res);
        if (isInvoked(row)) await recordAccess(db, [{ id, invoker: row.invoker ?? null, scope: row.scope ?? null }]);
        return { id, created: true };
      }
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

/**
 * One INSERT of the chunk. With rows that name an invoker or scope, their ids come back through `RETURNING` for
 * their access rows; a server without it (MySQL 8) inserts those rows one at a time to learn their ids, in order,
 * and all or nothing (a savepoint), as the single statement would.
 */
async function insertChunk(trx: Knex | Knex.Transaction, chunk: NewItemRow[]): Promise<number> {
  const dialect = dialectOf(trx);
  if (!chunk.some(isInvoked)) {
    const { sql, bindings } = bulkInsertSql(dialect, chunk, false);
    return dialect.changedRowsOf(await dialect.run(trx, sql, bindings));
  }
  if (dialect.insertsReturn(trx)) {
    const { sql, bindings } = bulkInsertSql(dialect, chunk, true, true);
    const written = dialect.rowsOf<AccessRow>(await dialect.run(trx, sql, bindings));
    await recordAccess(trx, written);
    return written.length;
  }
  return trx.transaction(async (savepoint) => {
    let written = 0;
    for (let i = 0; i < chunk.length; ) {
      let end = i + 1;
      if (!isInvoked(chunk[i])) while (end < chunk.length && !isInvoked(chunk[end])) end++;
      const { sql, bindings } = bulkInsertSql(dialect, chunk.slice(i, end));
      const res = await dialect.run(savepoint, sql, bindings);
      const n = dialect.changedRowsOf(res);
      if (isInvoked(chunk[i]) && n === 1) await recordAccess(savepoint, [{ id: dialect.insertedIdOf(res), invoker: chunk[i].invoker ?? null, scope: chunk[i].scope ?? null }]);
      written += n;
      i = end;
    }
    return written;
  });
}

/**
 * Where an insert cannot skip held keys (MySQL): leaves out the rows whose key an unfinished item holds, then
 * inserts the rest. When another enqueue takes one of the keys between the look and the insert, the statement
 * fails as a whole (and undoes only itself), and the look is made again.
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
