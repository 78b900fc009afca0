/**
 * `csv.import` jobs: import a CSV file of contacts into a table of the queue's database, row by row.
 *
 * The file needs a header line with an `email` column (`name` is optional; other columns are ignored). Each row
 * with a valid email is upserted by email (the table's unique key), in transactions of `batchSize` rows; each
 * other row (no or a bad email, a duplicate of an earlier row, a line the CSV parser cannot read) is rejected with
 * a history record whose subject is its line number, status `rejected`, and the reason as comment. Progress is
 * reported in bytes of the file, with the line reached as message; a cancel is honoured between rows. The job
 * ends with a summary line and the result `{ imported, rejected, table, dryRun }`.
 *
 * Retries and reclaims resume where the last run stopped: each batch commits together with the line it reached,
 * in `<table>_import_state` (one row per item), so a run killed mid-import (kill -9) is taken again after its
 * lease, skips what was committed, and each good row ends in the table exactly once (the upsert by email makes a
 * replayed batch harmless as well). A batch's rejections are recorded once it has committed, so none is recorded
 * twice; the history the first run wrote is kept; a crash within a moment of a commit (history is written every
 * 250 ms) can leave that batch's rejections without their record.
 *
 * Tables (created on first use if missing): `<table>` (`id, email unique, name, item_id, line, imported_at`) and
 * `<table>_import_state` (`item_id, last_line, imported, rejected`).
 *
 * Example: `npx signalq run csv.import --param file=contacts.csv` or
 * `npx signalq enqueue csv.import '{"file":"/data/contacts.csv","table":"crm_contacts"}'`
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Knex } from 'knex';
import { parse } from 'csv-parse';
import { PermanentError, Type, defineJob, type HandlerContext } from '../src/index.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL = 191; // a unique utf8mb4 key of MySQL stays within its 767-byte index limit
const MAX_NAME = 255;

export const csvImportParams = Type.Object(
  {
    file: Type.String({ minLength: 1, description: 'path of the CSV file, as the worker sees it' }),
    table: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,40}$', default: 'imported_contacts', description: 'table to import into (created if missing)' }),
    delimiter: Type.String({ minLength: 1, maxLength: 1, default: ',', description: 'field delimiter' }),
    dryRun: Type.Boolean({ default: false, description: 'check every row and report, but write nothing' }),
    batchSize: Type.Integer({ minimum: 1, maximum: 5000, default: 200, description: 'rows per transaction' }),
  },
  { additionalProperties: false },
);

/** What one row comes to: a contact to import, or the reason it is rejected. */
export type RowVerdict = { ok: true; email: string; name: string | null } | { ok: false; reason: string };

/**
 * Judges one data row against the header's columns: a valid email, not seen in an earlier row of the file
 * (`seen`, by lower-cased email), and a name within bounds. Pure, so every rule is tested without a database.
 */
export function judgeRow(fields: string[], columns: { email: number; name: number | null; count: number }, seen: Map<string, number>, line: number): RowVerdict {
  if (fields.length !== columns.count) return { ok: false, reason: `has ${fields.length} fields, the header has ${columns.count}` };
  const email = fields[columns.email].trim();
  if (email === '') return { ok: false, reason: 'has no email' };
  if (email.length > MAX_EMAIL || !EMAIL.test(email)) return { ok: false, reason: `email ${JSON.stringify(email.slice(0, 80))} is not an email address` };
  const key = email.toLowerCase();
  const first = seen.get(key);
  if (first !== undefined) return { ok: false, reason: `email ${email} repeats line ${first}` };
  seen.set(key, line);
  const name = columns.name === null ? null : fields[columns.name].trim() || null;
  if (name !== null && name.length > MAX_NAME) return { ok: false, reason: `name is ${name.length} characters long, over ${MAX_NAME}` };
  return { ok: true, email: key, name };
}

/** The positions of the `email` and `name` columns in the header; a header without `email` cannot be imported. */
export function columnsOf(header: string[], file: string): { email: number; name: number | null; count: number } {
  const names = header.map((h) => h.trim().toLowerCase());
  const email = names.indexOf('email');
  if (email < 0) throw new PermanentError(`${file} has no email column (its header is ${JSON.stringify(header.join(','))}); give the file a header line naming an email column`);
  const name = names.indexOf('name');
  return { email, name: name < 0 ? null : name, count: header.length };
}

/** Creates the import table and its state table when missing (two workers may race: the loser finds them made). */
export async function ensureImportTables(knex: Knex, table: string): Promise<void> {
  const create = async (name: string, build: (t: Knex.CreateTableBuilder) => void) => {
    if (await knex.schema.hasTable(name)) return;
    try {
      await knex.schema.createTable(name, build);
    } catch (err) {
      if (!(await knex.schema.hasTable(name))) throw err;
    }
  };
  await create(table, (t) => {
    t.increments('id');
    t.string('email', MAX_EMAIL).notNullable().unique();
    t.string('name', MAX_NAME);
    t.bigInteger('item_id').notNullable();
    t.integer('line').notNullable();
    t.bigInteger('imported_at').notNullable();
  });
  await create(`${table}_import_state`, (t) => {
    t.bigInteger('item_id').primary();
    t.integer('last_line').notNullable();
    t.integer('imported').notNullable();
    t.integer('rejected').notNullable();
  });
}

interface ImportState {
  lastLine: number;
  imported: number;
  rejected: number;
}

async function readState(knex: Knex, table: string, itemId: number): Promise<ImportState> {
  const row = await knex(`${table}_import_state`).where('item_id', itemId).first();
  return row ? { lastLine: Number(row.last_line), imported: Number(row.imported), rejected: Number(row.rejected) } : { lastLine: 0, imported: 0, rejected: 0 };
}

/** Upserts a batch of contacts and records the line reached, in one transaction: both or neither. */
async function commitBatch(knex: Knex, table: string, itemId: number, rows: { email: string; name: string | null; line: number }[], state: ImportState): Promise<void> {
  await knex.transaction(async (trx) => {
    if (rows.length > 0) {
      const now = Date.now();
      await trx(table)
        .insert(rows.map((r) => ({ email: r.email, name: r.name, item_id: itemId, line: r.line, imported_at: now })))
        .onConflict('email')
        .merge(['name', 'item_id', 'line', 'imported_at']);
    }
    const values = { last_line: state.lastLine, imported: state.imported, rejected: state.rejected };
    await trx(`${table}_import_state`).insert({ item_id: itemId, ...values }).onConflict('item_id').merge(values);
  });
}

export default defineJob({
  name: 'csv-import',
  type: 'csv.import',
  help: 'Imports contacts (a header with email, optionally name) from a CSV file into a table, row by row; rejected rows are listed in the history.',
  params: csvImportParams,
  async handle(item, ctx: HandlerContext) {
    const { file, table, delimiter, dryRun, batchSize } = item.payload;
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      throw new PermanentError(`file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a path the worker can read`);
    }
    if (!dryRun) await ensureImportTables(ctx.knex, table);
    const state = dryRun ? { lastLine: 0, imported: 0, rejected: 0 } : await readState(ctx.knex, table, item.id);
    const resumedAfter = state.lastLine;
    if (resumedAfter > 0) ctx.history({ status: 'resumed', comment: `resumed after line ${resumedAfter}, which an earlier run committed (${state.imported} imported, ${state.rejected} rejected)` });

    // Lines the parser could not read: rejected like any bad row (collected here, reported from the loop).
    const unreadable: { line: number; reason: string }[] = [];
    const input = createReadStream(file);
    const parser = input.pipe(parse({
      delimiter, info: true, bom: true, skip_empty_lines: true, relax_column_count: true, skip_records_with_error: true,
      on_skip: (err) => void unreadable.push({ line: Number(err?.lines ?? 0), reason: err?.message ?? 'cannot be read as CSV' }),
    }));
    const seen = new Map<string, number>();
    let columns: ReturnType<typeof columnsOf> | null = null;
    let batch: { email: string; name: string | null; line: number }[] = [];
    let line = 0;
    // A batch's rejections are recorded once the batch has committed: a run taken again after a crash resumes after
    // the committed lines, so no rejection is recorded twice.
    let rejections: { at: number; reason: string }[] = [];
    const reject = (at: number, reason: string) => {
      state.rejected++;
      rejections.push({ at, reason });
    };
    const flush = async () => {
      state.lastLine = line;
      if (!dryRun) await commitBatch(ctx.knex, table, item.id, batch, state);
      for (const r of rejections) ctx.history({ subject: `line ${r.at}`, status: 'rejected', comment: `line ${r.at} ${r.reason}` });
      batch = [];
      rejections = [];
    };
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        line = info.lines;
        // The parser reads ahead: an unreadable line is reported in its place among the rows, not when it was met.
        while (unreadable.length > 0 && unreadable[0].line < line) {
          const u = unreadable.shift()!;
          if (u.line > resumedAfter) reject(u.line, `cannot be read as CSV: ${u.reason}`);
        }
        if (!columns) {
          columns = columnsOf(record, file);
          continue;
        }
        const verdict = judgeRow(record, columns, seen, line);
        // Lines an earlier run committed are only read again, for the duplicate check.
        if (line <= resumedAfter) continue;
        if (verdict.ok) {
          state.imported++;
          batch.push({ email: verdict.email, name: verdict.name, line });
        } else {
          reject(line, verdict.reason);
        }
        ctx.progress(info.bytes, size, `line ${line}`);
        if (batch.length + rejections.length >= batchSize) await flush();
      }
      for (const u of unreadable.splice(0)) if (u.line > resumedAfter) reject(u.line, `cannot be read as CSV: ${u.reason}`);
      if (!columns) throw new PermanentError(`${file} is empty; give a CSV file with a header line naming an email column`);
      if (line > resumedAfter) await flush();
    } finally {
      input.destroy();
    }
    ctx.progress(size, size, `line ${line}`);
    const verb = dryRun ? 'would import' : 'imported';
    ctx.summary(`${verb} ${state.imported} rows into ${table}, rejected ${state.rejected}${resumedAfter > 0 ? ` (resumed after line ${resumedAfter})` : ''}`);
    return { imported: state.imported, rejected: state.rejected, table, dryRun };
  },
});
