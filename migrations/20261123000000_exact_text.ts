import type { Knex } from 'knex';
import { dialectOf } from '../src/db/dialect.ts';
import { binaryCollation } from '../src/db/collation.ts';

/**
 * Text stored exactly as given, whatever the server's defaults. Without this the tables take the database's
 * default charset and collation: on MariaDB's stock utf8mb4_general_ci, dedupe keys and item types compared
 * case-, accent- and trailing-space-insensitively (`order-AbC` was the same key as `order-abc`, and a handler of
 * `audit` claimed `Audit` items it could not take); on a latin1 or utf8mb3 database an emoji could not be stored.
 *
 * Both tables become utf8mb4 with a binary collation that does not pad (`k1` and `k1 ` differ): MariaDB's
 * `utf8mb4_nopad_bin`, MySQL 8's `utf8mb4_0900_bin`. SQLite already compares text byte for byte.
 */
export async function up(knex: Knex): Promise<void> {
  if (dialectOf(knex).name !== 'mysql') return;
  const collation = await binaryCollation(knex);
  for (const table of ['signalq_items', 'signalq_workers']) {
    await knex.raw(`ALTER TABLE ?? CONVERT TO CHARACTER SET utf8mb4 COLLATE ${collation}`, [table]);
  }
}

/** Leaves the tables as they are: going back to a case-insensitive key would merge keys that now differ. */
export async function down(): Promise<void> {}
