import type { Knex } from 'knex';
import { dialectOf } from '../src/db/dialect.ts';

/**
 * The items table. Times are epoch milliseconds (BIGINT) so both databases compare them the same way and the
 * claim can bind one number for "now".
 *
 * `claimable` is derived from `status` by the database itself (a stored generated column), so no write can leave
 * the two out of step. The claim filters on `claimable = 1` (an equality on the index's first column) and orders by
 * the rest of the index, which lets both databases read runnable items in order without sorting them: the claim's
 * cost does not grow with the backlog or with history.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = dialectOf(knex).name === 'mysql';
  await knex.schema.createTable('signalq_items', (t) => {
    t.bigIncrements('id').primary();
    t.string('type', 50).notNullable();
    t.text('payload', 'longtext').notNullable();
    t.string('status', 12).notNullable().defaultTo('pending');
    t.integer('trials').notNullable().defaultTo(0);
    t.integer('max_trials').notNullable();
    t.integer('priority').notNullable().defaultTo(0);
    t.bigInteger('run_at').notNullable();
    t.text('results', 'longtext').notNullable();
    // The dedupe key as given, and the same key only while the item is unfinished: the unique index on
    // `active_key` refuses a second unfinished item with the key and lets the key be used again once it is done.
    t.string('dedupe_key', 255).nullable();
    t.string('active_key', 255).nullable().unique('signalq_items_active_key');
    t.string('owner', 120).nullable();
    t.string('claim_token', 36).nullable();
    t.bigInteger('lease_until').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_try_at').nullable();
    t.bigInteger('finished_at').nullable();
    // Room for long-running jobs: progress in units of a size, a message, and a cooperative cancel request.
    t.bigInteger('progress_done').nullable();
    t.bigInteger('progress_total').nullable();
    t.string('progress_message', 255).nullable();
    t.boolean('cancel_requested').notNullable().defaultTo(false);
  });
  const generated = mysql
    ? "ALTER TABLE signalq_items ADD COLUMN claimable TINYINT AS (CASE WHEN status IN ('pending','need_retry') THEN 1 ELSE 0 END) STORED"
    : "ALTER TABLE signalq_items ADD COLUMN claimable INTEGER GENERATED ALWAYS AS (CASE WHEN status IN ('pending','need_retry') THEN 1 ELSE 0 END) VIRTUAL";
  await knex.raw(generated);
  await knex.schema.alterTable('signalq_items', (t) => {
    // Every index that holds `status` is rewritten by every claim and every settle, so only two do: the claim's,
    // and the operators' (list by status, purge). The lease sweep reads `lease_until`, set only while an item is
    // in progress; `type` never changes once written. (Measured: four status indexes cost ~30% of throughput.)
    t.index(['claimable', 'priority', 'run_at', 'id'], 'signalq_items_claim');
    t.index(['status', 'finished_at'], 'signalq_items_status');
    t.index(['lease_until'], 'signalq_items_lease');
    t.index(['type'], 'signalq_items_type');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('signalq_items');
}
