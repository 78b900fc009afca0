/**
 * What the database itself allows, measured in the same run with the bare drivers (no queue library): the
 * shared floor scripts (../shared/bench/mysql-floor.mjs and sqlite-floor.mjs, see FLOORS.md).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchDatabase } from './databases.ts';
import { runJsonScript } from './processes.ts';
import type { Settings } from './settings.ts';

export interface MysqlFloor {
  server: string;
  n: number;
  insert_rows_s: number;
  claim_and_batch_done_rows_s: number;
  queue_floor_rows_s: number;
  per_item_autocommit_update_rows_s: number;
}

export interface SqliteFloor {
  synchronous: 'FULL' | 'NORMAL';
  n: number;
  insert_rows_s: number;
  queue_floor_rows_s: number;
}

export type Floor = { dialect: 'mysql'; figures: MysqlFloor } | { dialect: 'sqlite'; figures: SqliteFloor[] };

/** Runs the floor script for the database's dialect (the MySQL one inside the bench database). Null when absent. */
export async function measureFloor(db: BenchDatabase, s: Settings, log: (m: string) => void): Promise<Floor | null> {
  const file = join(s.floorDir, db.dialect === 'mysql' ? 'mysql-floor.mjs' : 'sqlite-floor.mjs');
  if (!existsSync(file)) {
    log(`floor: ${file} not found; set BENCH_FLOOR_DIR`);
    return null;
  }
  const lines = await runJsonScript(s, file, db.dialect === 'mysql' ? { MYSQL_URL: db.url, N: String(s.n) } : { N: String(s.n) });
  for (const l of lines) log(`floor: ${JSON.stringify(l)}`);
  return db.dialect === 'mysql' ? { dialect: 'mysql', figures: lines[0] } : { dialect: 'sqlite', figures: lines };
}
