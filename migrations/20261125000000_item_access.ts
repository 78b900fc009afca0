import type { Knex } from 'knex';
import { dialectOf } from '../src/db/dialect.ts';
import { binaryCollation } from '../src/db/collation.ts';

/**
 * Who asked for an item and in which scope, indexed in a table of its own: `signalq_item_access` holds a row
 * only for the items enqueued with an invoker or a scope, and serves `list --invoker/--scope` through its
 * (invoker, item_id) and (scope, item_id) indexes. The items keep their `invoker` and `scope` columns (what an item
 * read returns); only the indexes move.
 *
 * Why: MariaDB has no partial indexes, so the (invoker, id) and (scope, id) indexes on the items table took an
 * entry for every item, most of them with neither, and cost every bulk enqueue 7-8% (measured with `npm run
 * bench`, 20,000 items, against the same table without them). Here an item enqueued with neither costs nothing.
 * SQLite's partial indexes did not cost that, but one shape of listing on both databases is worth more than the
 * few microseconds an enqueue with an invoker now spends on its second row.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = dialectOf(knex).name === 'mysql';
  await knex.schema.createTable('signalq_item_access', (t) => {
    t.bigInteger('item_id').unsigned().primary();
    t.string('invoker', 191).nullable();
    t.string('scope', 191).nullable();
    t.index(['invoker', 'item_id'], 'signalq_item_access_invoker');
    t.index(['scope', 'item_id'], 'signalq_item_access_scope');
  });
  if (mysql) {
    const collation = await binaryCollation(knex);
    await knex.raw(`ALTER TABLE signalq_item_access CONVERT TO CHARACTER SET utf8mb4 COLLATE ${collation}`);
  }
  await knex.raw(
    'INSERT INTO signalq_item_access (item_id, invoker, scope) SELECT id, invoker, scope FROM signalq_items WHERE invoker IS NOT NULL OR scope IS NOT NULL',
  );
  if (mysql) {
    await knex.schema.alterTable('signalq_items', (t) => {
      t.dropIndex(['invoker', 'id'], 'signalq_items_invoker');
      t.dropIndex(['scope', 'id'], 'signalq_items_scope');
    });
  } else {
    await knex.raw('DROP INDEX IF EXISTS signalq_items_invoker');
    await knex.raw('DROP INDEX IF EXISTS signalq_items_scope');
  }
}

export async function down(knex: Knex): Promise<void> {
  if (dialectOf(knex).name === 'mysql') {
    await knex.schema.alterTable('signalq_items', (t) => {
      t.index(['invoker', 'id'], 'signalq_items_invoker');
      t.index(['scope', 'id'], 'signalq_items_scope');
    });
  } else {
    await knex.raw('CREATE INDEX signalq_items_invoker ON signalq_items (invoker, id) WHERE invoker IS NOT NULL');
    await knex.raw('CREATE INDEX signalq_items_scope ON signalq_items (scope, id) WHERE scope IS NOT NULL');
  }
  await knex.schema.dropTableIfExists('signalq_item_access');
}
