import type { Knex } from 'knex';
import { dialectOf } from '../src/db/dialect.ts';
import { binaryCollation } from '../src/db/collation.ts';

/**
 * The crontab, kept in the database so every worker on every host runs the same one and a restart restores it.
 *
 * - `signalq_crons`: one row per cron (its name is the key). `next_run_at` is the first scheduled time not yet
 *   handled; a worker handles a cron's due ticks only by moving it forward (compare-and-set), so a restart
 *   resumes exactly where the last worker stopped and sees what it missed.
 * - `signalq_cron_runs`: one row per (cron, scheduled time) that was handled: the tick key (UNIQUE, the
 *   exactly-once guarantee: the row is inserted in the same transaction as the item it enqueued, so a second
 *   worker's insert of the same tick fails and rolls its item back) and the run's log entry (status, message).
 *   `status` is null while the enqueued item is unfinished.
 * - `signalq_settings`: named values; `crontab.enabled` is the global switch.
 *
 * On MySQL the tables are utf8mb4 with a binary collation, as 20261123000000_exact_text.ts makes the others: cron
 * names and item types compare byte for byte on any server default.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = dialectOf(knex).name === 'mysql';
  await knex.schema.createTable('signalq_crons', (t) => {
    t.string('name', 100).primary();
    t.string('expression', 200).notNullable();
    t.string('timezone', 64).nullable();
    t.string('type', 50).notNullable();
    t.text('payload', 'longtext').notNullable();
    t.boolean('activated').notNullable().defaultTo(true);
    t.string('missed', 8).notNullable().defaultTo('skip');
    t.boolean('no_overlap').notNullable().defaultTo(false);
    t.bigInteger('next_run_at').nullable();
    t.bigInteger('last_run_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('signalq_cron_runs', (t) => {
    t.bigIncrements('id').primary();
    t.string('cron_name', 100).notNullable();
    t.bigInteger('scheduled_at').notNullable();
    t.bigInteger('item_id').nullable();
    t.string('status', 8).nullable();
    t.text('message').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('finished_at').nullable();
    t.unique(['cron_name', 'scheduled_at'], { indexName: 'signalq_cron_runs_tick' });
    t.index(['status', 'item_id'], 'signalq_cron_runs_open');
    t.index(['cron_name', 'id'], 'signalq_cron_runs_cron');
  });
  await knex.schema.createTable('signalq_settings', (t) => {
    t.string('name', 100).primary();
    t.text('value').notNullable();
  });
  if (!mysql) return;
  const collation = await binaryCollation(knex);
  for (const table of ['signalq_crons', 'signalq_cron_runs', 'signalq_settings']) {
    await knex.raw(`ALTER TABLE ?? CONVERT TO CHARACTER SET utf8mb4 COLLATE ${collation}`, [table]);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('signalq_cron_runs');
  await knex.schema.dropTableIfExists('signalq_crons');
  await knex.schema.dropTableIfExists('signalq_settings');
}
