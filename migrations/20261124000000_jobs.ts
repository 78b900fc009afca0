import type { Knex } from 'knex';
import { dialectOf } from '../src/db/dialect.ts';
import { binaryCollation } from '../src/db/collation.ts';

/**
 * Long-running jobs. An item records who asked for it (`invoker`, a free string such as a user id) and in which
 * scope (a tenant), when its handlers really started (`started_at`; claimed-but-waiting items have only
 * `last_try_at`, the claim time, and show as assigned), and the summary line a job may finish with. The progress
 * and cancel-request columns were made by the first migration.
 *
 * `signalq_history` keeps a job's history records (what an operator reads instead of output), linked to the item
 * and optionally to a subject (a person, a file, a row id). It is read per item in order, by (item_id, id).
 *
 * Indexes: (invoker, id) and (scope, id) serve `list --invoker/--scope`, newest first; their columns are written
 * once, at enqueue, so they cost nothing on claim and settle (20261125000000_item_access.ts moved them to a table
 * of their own: on MariaDB they cost every enqueue). A worker looks for cancel requests for the items it
 * holds every second: on SQLite through a partial index of the requested rows only; on MySQL through the lease
 * index, which holds exactly the claimed items (the flag is set only while a running item's cancel is pending, and
 * settling it clears it). An index holding `owner`, which every claim and settle writes, cost a third of the
 * processing throughput.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = dialectOf(knex).name === 'mysql';
  await knex.schema.alterTable('signalq_items', (t) => {
    t.string('invoker', 191).nullable();
    t.string('scope', 191).nullable();
    t.bigInteger('started_at').nullable();
    t.text('summary').nullable();
  });
  if (mysql) {
    await knex.schema.alterTable('signalq_items', (t) => {
      t.index(['invoker', 'id'], 'signalq_items_invoker');
      t.index(['scope', 'id'], 'signalq_items_scope');
      // No index on cancel_requested: a full one costs every enqueue ~7% on MariaDB; the cancel watcher reads the
      // lease index instead, which holds exactly the claimed items.
    });
  } else {
    // SQLite indexes only the rows that have a value: an enqueue with no invoker, scope or cancel request (most of
    // them) writes no entry, which measured 3-10% of the bulk enqueue's CPU. A query on `invoker = ?` or
    // `cancel_requested = 1` implies the index's condition, so the planner uses it.
    await knex.raw('CREATE INDEX signalq_items_invoker ON signalq_items (invoker, id) WHERE invoker IS NOT NULL');
    await knex.raw('CREATE INDEX signalq_items_scope ON signalq_items (scope, id) WHERE scope IS NOT NULL');
    await knex.raw('CREATE INDEX signalq_items_cancel ON signalq_items (cancel_requested) WHERE cancel_requested = 1');
  }
  await knex.schema.createTable('signalq_history', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('item_id').notNullable();
    t.string('handler', 100).notNullable();
    t.bigInteger('at').notNullable();
    t.string('subject', 255).nullable();
    t.string('status', 50).nullable();
    t.text('comment').notNullable();
    t.index(['item_id', 'id'], 'signalq_history_item');
  });
  if (mysql) {
    const collation = await binaryCollation(knex);
    await knex.raw(`ALTER TABLE signalq_history CONVERT TO CHARACTER SET utf8mb4 COLLATE ${collation}`);
  }
}

export async function down(knex: Knex): Promise<void> {
  const mysql = dialectOf(knex).name === 'mysql';
  await knex.schema.dropTableIfExists('signalq_history');
  await knex.schema.alterTable('signalq_items', (t) => {
    t.dropIndex(['invoker', 'id'], 'signalq_items_invoker');
    t.dropIndex(['scope', 'id'], 'signalq_items_scope');
  });
  if (!mysql) await knex.raw('DROP INDEX IF EXISTS signalq_items_cancel');
  await knex.schema.alterTable('signalq_items', (t) => {
    t.dropColumn('invoker');
    t.dropColumn('scope');
    t.dropColumn('started_at');
    t.dropColumn('summary');
  });
}
