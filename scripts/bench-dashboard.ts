/**
 * The dashboard over a million items in MariaDB: fills a database (one INSERT … SELECT per 100,000 rows from
 * MariaDB's sequence tables, finished over the last two hours: the oldest 5% canceled and the oldest 2% of type
 * `legacy`, the filters whose items all lie far back; of the rest ~90% done, 5% error, 3% pending, 2% need_retry,
 * in ten types t0-t9), then times the items page, the items API with each filter, a deep page, the workers page and the
 * overview (counted afresh on every request, and as served from its 2-second cache), as the median of several
 * requests, and prints each listing's EXPLAIN.
 *
 *   npx tsx scripts/bench-dashboard.ts
 *
 * Env: BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/test, the server; the script creates and drops its
 * own database, signalq_bench_dashboard), BENCH_ITEMS (default 1000000), BENCH_RUNS (requests per figure,
 * default 9), BENCH_KEEP=1 (keep the database, and reuse it when it already holds BENCH_ITEMS items).
 */
import knexFactory from 'knex';
import { createQueue } from '../src/queue/queue.ts';
import { startDashboard } from '../src/dashboard/server.ts';
import { listItemsQuery, type ListFilter } from '../src/db/sql/listItemRows.ts';
import { dialectOf } from '../src/db/dialect.ts';

const SERVER = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const NAME = 'signalq_bench_dashboard';
const ITEMS = Number(process.env.BENCH_ITEMS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const KEEP = process.env.BENCH_KEEP === '1';
const CHUNK = 100_000;

async function main(): Promise<void> {
  const admin = knexFactory({ client: 'mysql2', connection: { uri: SERVER } as any, pool: { min: 0, max: 1 } });
  const url = new URL(SERVER);
  url.pathname = `/${NAME}`;
  await admin.raw(`CREATE DATABASE IF NOT EXISTS \`${NAME}\``);
  const queue = await createQueue({ db: url.toString() });
  await queue.migrate();
  const knex = queue.knex;
  try {
    const [[{ n }]] = await knex.raw('SELECT COUNT(*) AS n FROM signalq_items');
    if (!(KEEP && Number(n) === ITEMS)) await fill(knex);
    else console.log(`reusing ${ITEMS.toLocaleString('en')} items in ${NAME}`);

    const cold = await startDashboard(queue, { port: 0, overviewMaxAgeMs: 0 });
    const cached = await startDashboard(queue, { port: 0 });
    const firstStarted = performance.now();
    const firstRes = await fetch(`http://127.0.0.1:${cached.port}/api/overview`);
    const first = (await firstRes.json()) as { readMs: number };
    const firstMs = performance.now() - firstStarted;
    const base = `http://127.0.0.1:${cold.port}`;
    const lastId = Number((await knex('signalq_items').max({ m: 'id' }))[0].m);
    const firstId = Number((await knex('signalq_items').min({ m: 'id' }))[0].m);
    // A done item half-way down (the cursor of a deep page of status=done) and a legacy one half-way into its ids.
    const midDone = await knex('signalq_items').select('id', 'finished_at').where('status', 'done').where('id', '<=', Math.floor((firstId + lastId) / 2)).orderBy('id', 'desc').first();
    const midLegacy = firstId + Math.floor(ITEMS * 0.01);
    console.log(`\n${ITEMS.toLocaleString('en')} items, median of ${RUNS} requests (min–max), ms:`);
    const pages: [string, string][] = [
      ['items page (HTML), first page', `${base}/items`],
      ['items page (HTML), a deep page', `${base}/items?before=${midDone.id}`],
      ['items page (HTML), status=error', `${base}/items?status=error`],
      ['/api/items', `${base}/api/items`],
      ['/api/items?status=pending', `${base}/api/items?status=pending`],
      ['/api/items?status=error', `${base}/api/items?status=error`],
      ['/api/items?status=done', `${base}/api/items?status=done`],
      ['/api/items?type=t3', `${base}/api/items?type=t3`],
      ['/api/items?type=t3&status=error', `${base}/api/items?type=t3&status=error`],
      ['/api/items?status=canceled (all far back)', `${base}/api/items?status=canceled`],
      ['/api/items?type=legacy (all far back)', `${base}/api/items?type=legacy`],
      ['/api/items?type=legacy, a deep page', `${base}/api/items?type=legacy&before=${midLegacy}`],
      ['/api/items?status=done, a deep page', `${base}/api/items?status=done&before=${midDone.id}`],
      ['/api/items?status=in_progress (none)', `${base}/api/items?status=in_progress`],
      ['/api/items?type=zz (no such type)', `${base}/api/items?type=zz`],
      ['/api/items/:id', `${base}/api/items/${midDone.id}`],
      ['workers page', `${base}/workers`],
      ['/api/overview, counted afresh', `${base}/api/overview`],
      ['overview page, counted afresh', `${base}/`],
      ['/api/overview, from the 2 s cache', `http://127.0.0.1:${cached.port}/api/overview`],
    ];
    for (const [label, u] of pages) console.log(`${label.padEnd(40)} ${await time(u)}`);
    console.log(`${'/api/overview, first request after start'.padEnd(40)} ${firstMs.toFixed(1).padStart(7)}  (waits for the first count, which took ${first.readMs} ms)`);

    console.log('\nEXPLAIN of each listing:');
    const filters: [string, Omit<ListFilter, 'limit'>][] = [
      ['first page', {}], ['deep page', { beforeId: midDone.id }], ['status=pending', { status: 'pending' }],
      ['status=error', { status: 'error' }], ['status=done', { status: 'done' }], ['type=t3', { type: 't3' }],
      ['type=t3&status=error', { type: 't3', status: 'error' }], ['status=canceled', { status: 'canceled' }],
      ['status=done, deep', { status: 'done', beforeId: midDone.id, beforeFinishedAt: Number(midDone.finished_at) }],
    ];
    for (const [label, f] of filters) {
      const sql = listItemsQuery(knex, { ...f, limit: 51 }).toSQL();
      console.log(`${label.padEnd(22)} ${await explain(knex, sql.sql, sql.bindings as unknown[])}`);
    }
    console.log(`${'type=legacy, window'.padEnd(22)} ${await explain(knex, 'SELECT id FROM signalq_items WHERE type = ? AND id < ? AND id >= ? ORDER BY id DESC LIMIT 51', ['legacy', lastId + 1, lastId + 1 - 50_000])}`);
    console.log(`${'type=legacy, index'.padEnd(22)} ${await explain(knex, 'SELECT id FROM signalq_items FORCE INDEX (signalq_items_type) WHERE type = ? AND id < ? ORDER BY id DESC LIMIT 51', ['legacy', lastId + 1])}`);
    const since = Date.now() - 600_000;
    console.log(`${'overview: counts'.padEnd(22)} ${await explain(knex, 'SELECT type, status, COUNT(*) FROM signalq_items GROUP BY type, status', [])}`);
    console.log(`${'overview: chart'.padEnd(22)} ${await explain(knex, "SELECT status, FLOOR((finished_at - ?) / ?) AS bucket, COUNT(*) FROM signalq_items WHERE status IN ('done','error') AND finished_at >= ? GROUP BY status, bucket", [since, 20_000, since])}`);
    console.log(`${'workers: held items'.padEnd(22)} ${await explain(knex, "SELECT owner, COUNT(*), MIN(id) FROM signalq_items WHERE status = 'in_progress' GROUP BY owner", [])}`);
    await cold.close();
    await cached.close();
  } finally {
    await queue.close();
    if (!KEEP) await admin.raw(`DROP DATABASE IF EXISTS \`${NAME}\``);
    await admin.destroy();
  }
}

/** Fills the table with `ITEMS` rows, one INSERT … SELECT from a sequence table per chunk. */
async function fill(knex: import('knex').Knex): Promise<void> {
  await knex('signalq_items').truncate();
  const started = Date.now();
  const now = Date.now();
  const results = JSON.stringify({ h: { ok: true, at: new Date(now).toISOString(), runs: 1 } });
  for (let from = 1; from <= ITEMS; from += CHUNK) {
    const to = Math.min(ITEMS, from + CHUNK - 1);
    // The oldest 5% canceled, the oldest 2% of type legacy; else by seq % 100: 0-89 done, 90-94 error, 95-97
    // pending, 98-99 need_retry. Finished over the last two hours (7 ms apart).
    const old = Math.floor(ITEMS * 0.05);
    const legacy = Math.floor(ITEMS * 0.02);
    await knex.raw(
      `INSERT INTO signalq_items (type, payload, status, trials, max_trials, priority, run_at, results, created_at, last_try_at, finished_at)
       SELECT type, CONCAT('{"n":', seq, ',"note":"a benchmark item"}'), status, 1, 10, 0, ? - (? - seq) * ?, ?, ? - (? - seq) * ? - 500,
         CASE WHEN status IN ('pending', 'need_retry') THEN NULL ELSE ? - (? - seq) * ? END,
         CASE WHEN status IN ('pending', 'need_retry') THEN NULL ELSE ? - (? - seq) * ? END
       FROM (SELECT seq,
         CASE WHEN seq <= ? THEN 'legacy' ELSE CONCAT('t', seq % 10) END AS type,
         CASE WHEN seq <= ? THEN 'canceled' WHEN seq % 100 < 90 THEN 'done' WHEN seq % 100 < 95 THEN 'error' WHEN seq % 100 < 98 THEN 'pending' ELSE 'need_retry' END AS status
         FROM seq_${from}_to_${to}) s`,
      [now, ITEMS, 7, results, now, ITEMS, 7, now, ITEMS, 7, now, ITEMS, 7, legacy, old],
    );
    process.stdout.write(`\rfilled ${to.toLocaleString('en')} items`);
  }
  await knex.raw('ANALYZE TABLE signalq_items');
  console.log(` in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Median (min–max) of `RUNS` sequential requests, after one warm-up. */
async function time(url: string): Promise<string> {
  const get = async () => {
    const t = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return performance.now() - t;
  };
  await get();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) ms.push(await get());
  ms.sort((a, b) => a - b);
  return `${ms[Math.floor(ms.length / 2)].toFixed(1).padStart(7)}  (${ms[0].toFixed(1)}–${ms[ms.length - 1].toFixed(1)})`;
}

/** MariaDB's plan of a statement: per table, its access type, key, rows estimate and extra. */
async function explain(knex: import('knex').Knex, sql: string, bindings: unknown[]): Promise<string> {
  const rows = dialectOf(knex).rowsOf<any>(await knex.raw(`EXPLAIN ${sql}`, bindings as any[]));
  return rows.map((r) => `type=${r.type} key=${r.key} rows=${r.rows} extra=${r.Extra ?? ''}`).join(' | ');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
