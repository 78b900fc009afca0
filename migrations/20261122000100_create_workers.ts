import type { Knex } from 'knex';

/**
 * Running workers: who they are (host, PID), which handlers they connected, when they were last seen, and the
 * loopback UDP port on which an enqueue on the same host wakes them at once instead of at their next poll.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('signalq_workers', (t) => {
    t.string('id', 120).primary(); // host:pid:random, unique per worker start
    t.string('host', 255).notNullable();
    t.integer('pid').notNullable();
    t.integer('wake_port').nullable();
    t.text('handlers').notNullable(); // JSON: [{ name, types }] of the connected handlers (older rows: names only)
    t.bigInteger('started_at').notNullable();
    t.bigInteger('seen_at').notNullable();
    t.index(['host', 'seen_at'], 'signalq_workers_host');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('signalq_workers');
}
