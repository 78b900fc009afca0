/**
 * knex CLI settings: `npx knex migrate:latest` migrates the same database `signalq migrate` does (SIGNALQ_DB,
 * else the embedded SQLite file). Run through tsx, which the package's bin and scripts already use.
 */
import { parseDatabaseUrl } from './src/config.ts';
import { knexConfig } from './src/db/connect.ts';
import { MIGRATIONS_DIR } from './src/db/migrate.ts';

const config = { ...knexConfig(parseDatabaseUrl()), migrations: { directory: MIGRATIONS_DIR, extension: 'ts', loadExtensions: ['.ts'] } };
export default config;
