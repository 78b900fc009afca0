/**
 * The server clock signalq reads for leases is epoch time whatever the session's time zone, including the hour
 * that repeats when daylight saving time ends (MariaDB).
 */
import { execSync } from 'node:child_process';
import knexFactory from 'knex';
import { describe, expect, it } from 'vitest';
import { readServerClock } from '../../src/db/sql/readServerClock.ts';
import { MYSQL_URL } from '../helpers/databases.ts';

/** The server knows the zone `name` (its time zone tables are loaded); loads that one zone when it does not. */
async function ensureTimeZone(name: string): Promise<void> {
  const admin = knexFactory({ client: 'mysql2', connection: { uri: MYSQL_URL } as any, pool: { min: 0, max: 1 } });
  try {
    const [rows] = await admin.raw('SELECT COUNT(*) AS n FROM mysql.time_zone_name WHERE Name = ?', [name]);
    if (Number(rows[0].n) > 0) return;
  } finally {
    await admin.destroy();
  }
  const u = new URL(MYSQL_URL);
  const client = `mariadb -h${u.hostname} -P${u.port || 3306} -u${decodeURIComponent(u.username || 'root')}${u.password ? ` -p${decodeURIComponent(u.password)}` : ''} mysql`;
  try {
    execSync(`mariadb-tzinfo-to-sql /usr/share/zoneinfo/${name} ${name} | ${client}`, { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cannot load the time zone ${name} into the server (${(err as Error).message.split('\n')[0]}); load the zone tables with: mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -uroot mysql`);
  }
}

describe('server clock (MariaDB)', () => {
  it('reads epoch time in the repeated hour of a DST fall-back, in any session time zone', async () => {
    await ensureTimeZone('Europe/Berlin');
    // 2025-10-26 01:30:00.500 UTC is 02:30:00.500 in Berlin, the second time that night (CET; the first was CEST):
    // read back through the local time, it is an hour off.
    const instant = Date.UTC(2025, 9, 26, 1, 30, 0, 500);
    for (const zone of ['Europe/Berlin', '+00:00', '-07:00', 'SYSTEM']) {
      const knex = knexFactory({
        client: 'mysql2',
        connection: { uri: MYSQL_URL } as any,
        pool: {
          min: 1,
          max: 1,
          afterCreate(conn: any, done: (err: Error | null, conn: any) => void) {
            conn.query(`SET time_zone = '${zone}', timestamp = ${instant / 1000}`, (err: Error | null) => done(err, conn));
          },
        },
      });
      try {
        expect(await readServerClock(knex), zone).toBe(instant);
      } finally {
        await knex.destroy();
      }
    }
  });
});
