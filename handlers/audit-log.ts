/**
 * `audit` items: writes one row per item to the app's audit table, in the queue's own database (`ctx.knex`).
 * App code enqueues the item in the same transaction as the change it records
 * (`queue.enqueue('audit', {...}, { trx })`), so the audit row exists exactly when the change was committed.
 *
 * Payload: `{ action, actor?, subject?, details? }`
 * - `action`: what happened, e.g. `"order.refunded"` (1-100 characters; required).
 * - `actor`: who did it, e.g. a user id (up to 255 characters).
 * - `subject`: what it was done to, e.g. `"order:42"` (up to 255 characters).
 * - `details`: any JSON value, stored as JSON text.
 *
 * Exactly once: the row's `idempotency_key` is the item's `ctx.idempotencyKey` under a unique index, and a
 * second insert with the same key is ignored, so a rerun after a crash (row written, outcome not) adds nothing.
 *
 * The table is created on first use if it does not exist (once per process and database), with columns
 * `id, item_id, idempotency_key (unique), action, actor, subject, details, occurred_at, created_at`; times are
 * epoch milliseconds like signalq's own. An app that makes the table in its own migration must give it at least
 * these columns and the unique index on `idempotency_key`.
 *
 * Environment (optional):
 * - `SIGNALQ_AUDIT_TABLE`: the table's name. Default `app_audit_log`.
 *
 * Example: `npx signalq enqueue audit '{"action":"order.refunded","actor":"user:7","subject":"order:42"}'`
 */
import type { Knex } from 'knex';
import { PermanentError, defineHandler, type Handler } from '../src/index.ts';
import { preview } from './_preview.ts';

/** What an `audit` item carries. */
export interface AuditPayload {
  action: string;
  actor?: string | null;
  subject?: string | null;
  details?: unknown;
}

/** How the audit handler behaves; `auditOptionsFromEnv` reads them from the environment. */
export interface AuditLogOptions {
  /** The audit table's name. Default `app_audit_log`. */
  table?: string;
}

const DEFAULT_TABLE = 'app_audit_log';
/** Short enough that `<table>_idempotency_key` stays within MySQL's 64-character index names. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;
const MAX_ACTION = 100;
const MAX_TEXT = 255;

/** Reads `SIGNALQ_AUDIT_TABLE`. Throws on a name that is not a plain identifier, so the worker refuses to start. */
export function auditOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Required<AuditLogOptions> {
  return { table: checkTableName(env.SIGNALQ_AUDIT_TABLE?.trim() || DEFAULT_TABLE) };
}

function checkTableName(table: string): string {
  if (!TABLE_NAME.test(table)) {
    throw new Error(`audit table name ${JSON.stringify(table)} is invalid (SIGNALQ_AUDIT_TABLE); use 1-41 letters, digits or _, not starting with a digit`);
  }
  return table;
}

/** knex instance -> table -> its creation. Per instance, because one process may use several databases (tests do). */
const ensured = new WeakMap<Knex, Map<string, Promise<void>>>();

/**
 * Creates the audit table if it does not exist. Runs once per process, knex instance and table: items running at
 * once share the same promise instead of racing to create the table. A failed creation is forgotten, so the next
 * item tries again.
 */
export function ensureAuditTable(knex: Knex, table: string): Promise<void> {
  let byTable = ensured.get(knex);
  if (!byTable) ensured.set(knex, (byTable = new Map()));
  let created = byTable.get(table);
  if (!created) {
    created = createAuditTable(knex, table).catch((err) => {
      byTable.delete(table);
      throw err;
    });
    byTable.set(table, created);
  }
  return created;
}

async function createAuditTable(knex: Knex, table: string): Promise<void> {
  if (await knex.schema.hasTable(table)) return;
  try {
    await knex.schema.createTable(table, (t) => {
      t.bigIncrements('id').primary();
      t.bigInteger('item_id').notNullable();
      t.string('idempotency_key', 150).notNullable().unique({ indexName: `${table}_idempotency_key` });
      t.string('action', MAX_ACTION).notNullable();
      t.string('actor', MAX_TEXT).nullable();
      t.string('subject', MAX_TEXT).nullable();
      // mediumtext on MySQL: TEXT stops at 64 KiB, and an item's payload may be up to 1 MiB.
      t.text('details', 'mediumtext').nullable();
      t.bigInteger('occurred_at').notNullable();
      t.bigInteger('created_at').notNullable();
      t.index(['occurred_at'], `${table}_occurred_at`);
    });
  } catch (err) {
    // Another worker process created it between our check and our CREATE: that is what we wanted.
    if (!(await knex.schema.hasTable(table))) throw err;
  }
}

/** An `audit` handler writing to the given table; the module's default export uses the environment's. */
export function createAuditLogHandler(options: AuditLogOptions = {}): Handler<AuditPayload> {
  const table = checkTableName(options.table ?? DEFAULT_TABLE);
  return defineHandler<AuditPayload>({
    name: 'audit-log',
    types: ['audit'],
    async handle(item, ctx) {
      const p = parsePayload(item.payload, item.id);
      await ensureAuditTable(ctx.knex, table);
      // On MySQL this is INSERT IGNORE, which would also turn a too-long or missing value into a warning and a
      // truncated row; parsePayload has already refused those, so only the duplicate key is ignored in practice.
      await ctx.knex(table)
        .insert({
          item_id: item.id,
          idempotency_key: ctx.idempotencyKey,
          action: p.action,
          actor: p.actor,
          subject: p.subject,
          details: p.details === undefined ? null : JSON.stringify(p.details),
          // When the action happened (the item was enqueued with it), not when a retry got to write it.
          occurred_at: item.createdAt.getTime(),
          created_at: Date.now(),
        })
        .onConflict('idempotency_key')
        .ignore();
    },
  });
}

/** The payload checked; anything wrong is a `PermanentError` naming the field and its value. */
function parsePayload(payload: unknown, id: number): Required<Omit<AuditPayload, 'details'>> & { details: unknown } {
  const bad = (what: string) => new PermanentError(`audit item ${id}: ${what}`);
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw bad(`payload must be an object { action, actor?, subject?, details? }, got ${preview(payload)}`);
  }
  const p = payload as Record<string, unknown>;
  if (typeof p.action !== 'string' || p.action.trim() === '' || p.action.length > MAX_ACTION) {
    throw bad(`"action" must be a string of 1-${MAX_ACTION} characters, got ${preview(p.action)}`);
  }
  const optionalText = (field: 'actor' | 'subject'): string | null => {
    const v = p[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v.length > MAX_TEXT) throw bad(`"${field}" must be a string of at most ${MAX_TEXT} characters, got ${preview(v)}`);
    return v;
  };
  return { action: p.action, actor: optionalText('actor'), subject: optionalText('subject'), details: p.details };
}


/** The `audit-log` handler, configured from the environment (see the header of this file). */
export default createAuditLogHandler(auditOptionsFromEnv());
