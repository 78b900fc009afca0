/**
 * The databases the benchmark runs on: a temp SQLite file, or a MariaDB/MySQL database it creates and drops.
 * Each is migrated once; sections empty the items table between runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createQueue, type Queue, type QueueOptions } from '../../src/index.ts';
import type { Dialect, Settings } from './settings.ts';

export const ITEMS = 'signalq_items';

export interface BenchDatabase {
  dialect: Dialect;
  /** The URL signalq and `signalq work --db` take. */
  url: string;
  /** What the report prints (no password). */
  display: string;
  /** Removes the database (file or MySQL database). */
  drop(): Promise<void>;
}

export async function createBenchDatabase(dialect: Dialect, s: Settings): Promise<BenchDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'signalq-bench-'));
    const file = join(dir, 'bench.sqlite');
    return { dialect, url: `sqlite:${file}`, display: `sqlite:${file} (WAL, synchronous=FULL)`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = s.mysqlDatabase;
  if (!/^\w+$/.test(name)) throw new Error(`BENCH_MYSQL_DB=${name} must be letters, digits and _`);
  await withAdmin(s.mysqlUrl, async (admin) => {
    await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.raw(`CREATE DATABASE \`${name}\``);
  });
  const url = new URL(s.mysqlUrl);
  url.pathname = `/${name}`;
  const display = `mysql://${url.username ? url.username + '@' : ''}${url.host}/${name}`;
  return { dialect, url: url.toString(), display, drop: () => withAdmin(s.mysqlUrl, (admin) => admin.raw(`DROP DATABASE IF EXISTS \`${name}\``)) };
}

async function withAdmin<T>(url: string, fn: (admin: Knex) => Promise<T>): Promise<T> {
  const admin = knexFactory({ client: 'mysql2', connection: { uri: url } as any, pool: { min: 0, max: 1 } });
  try {
    return await fn(admin);
  } finally {
    await admin.destroy();
  }
}

/** A queue on the bench database with the bench's queue options. */
export function openQueue(db: BenchDatabase, s: Settings, extra: QueueOptions = {}): Promise<Queue<any>> {
  const opts: QueueOptions = { db: db.url };
  for (const [k, v] of Object.entries(s.queue)) if (v !== undefined) (opts as any)[k] = v;
  return createQueue({ ...opts, ...extra });
}

/** Empties the items table (TRUNCATE on MySQL; DELETE on SQLite, then VACUUM so the file does not carry old pages). */
export async function emptyItems(knex: Knex): Promise<void> {
  await knex(ITEMS).truncate();
  if (/sqlite/.test(String(knex.client.config.client))) {
    await knex.raw('VACUUM');
    await knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  }
}

/** Item counts by status (for checks after a run). */
export async function countByStatus(knex: Knex): Promise<Record<string, number>> {
  const rows = await knex(ITEMS).select('status').count({ c: '*' }).groupBy('status');
  return Object.fromEntries(rows.map((r: any) => [r.status, Number(r.c)]));
}

/** True while any item is not finished. One index probe. */
export async function hasUnfinished(knex: Knex): Promise<boolean> {
  const row = await knex(ITEMS).select('id').whereIn('status', ['pending', 'need_retry', 'in_progress']).first();
  return row != null;
}

/** `n` items of ~110-byte payloads like FLOORS.md's `{ i, text: 'x' * 100 }`. */
export function benchItems(n: number, type = 'bench', offset = 0): { type: string; payload: { i: number; text: string } }[] {
  const text = 'x'.repeat(100);
  return Array.from({ length: n }, (_, k) => ({ type, payload: { i: offset + k, text } }));
}
