/**
 * The databases every integration suite runs on: embedded SQLite and MySQL/MariaDB. Each call to `freshDatabase`
 * gives an empty database of its own (a temp SQLite file, or a new MySQL database), so tests never share rows.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';

/** The MySQL server tests use; its user must be allowed to create databases. */
export const MYSQL_URL = process.env.SIGNALQ_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306/test';

export const DIALECTS = ['sqlite', 'mysql'] as const;
export type Dialect = (typeof DIALECTS)[number];

let counter = 0;
const created: string[] = [];

/**
 * A fresh, empty database URL of the given dialect. Fails (never skips) when MySQL cannot be reached.
 * MySQL databases take the server's stock defaults (here utf8mb4_general_ci), as users' databases do, unless
 * `charset` names another (`latin1`, MariaDB's compiled default, or `utf8mb3`, which many servers still run).
 */
export async function freshDatabase(dialect: Dialect, { charset }: { charset?: 'latin1' | 'utf8mb3' } = {}): Promise<string> {
  if (dialect === 'sqlite') return `sqlite:${join(mkdtempSync(join(tmpdir(), 'signalq-test-')), 'q.sqlite')}`;
  const name = `signalq_t_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 7)}`;
  const admin = knexFactory({ client: 'mysql2', connection: { uri: MYSQL_URL } as any, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE \`${name}\`${charset ? ` CHARACTER SET ${charset}` : ''}`);
  } catch (err) {
    throw new Error(
      `the MySQL test suite cannot reach ${MYSQL_URL} (${(err as Error).message}); start MariaDB with ` +
        '`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd` or set SIGNALQ_TEST_MYSQL',
    );
  } finally {
    await admin.destroy();
  }
  created.push(name);
  const url = new URL(MYSQL_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops the MySQL databases this process created. */
export async function dropCreatedDatabases(): Promise<void> {
  if (created.length === 0) return;
  const admin = knexFactory({ client: 'mysql2', connection: { uri: MYSQL_URL } as any, pool: { min: 0, max: 1 } });
  try {
    for (const name of created.splice(0)) await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await admin.destroy();
  }
}
