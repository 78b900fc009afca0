/**
 * knex CLI settings: `npx knex migrate:latest` migrates the same database `signalq migrate` does (SIGNALQ_DB,
 * else the embedded SQLite file), with the same migrations under the same names. Loaded through tsx, which the
 * project's `.npmrc` registers for npm and npx commands.
 */
import { parseDatabaseUrl } from './src/config.ts';
import { knexConfig } from './src/db/connect.ts';
import { MIGRATIONS_TABLE, migrationSource } from './src/db/migrate.ts';

// `extension` is for `npx knex migrate:make`, which writes into ./migrations (knex's default folder, ours).
// signalq's own migrations table (MIGRATIONS_TABLE), so knex's default one stays the app's.
const config = { ...knexConfig(parseDatabaseUrl()), migrations: { migrationSource, tableName: MIGRATIONS_TABLE, extension: 'ts' } };
export default config;
