import type { Knex } from 'knex';

/**
 * The server's binary, non-padding utf8mb4 collation (MariaDB's `utf8mb4_nopad_bin`, MySQL 8's
 * `utf8mb4_0900_bin`): what every signalq table uses on MySQL, so text is stored and compared exactly as given,
 * whatever the database's defaults (latin1, utf8mb3, a case-insensitive collation).
 */
export async function binaryCollation(knex: Knex): Promise<string> {
  for (const name of ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin']) {
    const [rows] = await knex.raw('SHOW COLLATION WHERE Collation = ?', [name]);
    if ((rows as unknown[]).length > 0) return name;
  }
  throw new Error('this server has neither utf8mb4_nopad_bin (MariaDB 10.2+) nor utf8mb4_0900_bin (MySQL 8); signalq needs MariaDB 10.6+ or MySQL 8.0.1+');
}
