/**
 * `npm run bench:jobs`: what jobs cost, on SQLite (a temp file) and MariaDB/MySQL (a database it creates and drops).
 *
 * 1. Progress: a 100,000-unit job that reports progress on every unit against the same job reporting nothing,
 *    each run as an item (enqueue, claim, run, settle), alternated `BENCH_JOB_REPEAT` times (default 5); the
 *    median of each, as items/s and units/s, and what one ctx.progress call costs. Progress is written at most
 *    every `progressFlushMs` (250 ms) and once before the outcome, whatever the number of calls.
 * 2. Isolation: `BENCH_ISOLATED_ITEMS` (default 40) trivial items run isolated (a child process each) against the
 *    same items run in the worker, at concurrency 1 (the per-item cost) and at the default 50.
 *
 * Runs from the sources (tsx) unless BENCH_DIST=1, which uses the compiled package in dist/ (`npm run build`
 * first): isolated children then start without tsx's loader, as they do in production.
 * BENCH_DIALECTS=sqlite,mysql picks the databases; BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/) the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import type * as Signalq from '../src/index.ts';

const lib: typeof Signalq = process.env.BENCH_DIST === '1' ? await import('../dist/src/index.js' as string) : await import('../src/index.ts');
const UNITS = 100_000;
const REPEAT = Number(process.env.BENCH_JOB_REPEAT ?? 5);
const ISOLATED_ITEMS = Number(process.env.BENCH_ISOLATED_ITEMS ?? 40);
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,mysql').split(',').map((d) => d.trim());
const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
const HANDLERS = new URL('./bench/job-handlers.mjs', import.meta.url).pathname;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (m: string) => console.log(m);

interface Db {
  url: string;
  drop(): Promise<void>;
}

async function createDb(dialect: string): Promise<Db> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'signalq-bench-jobs-'));
    return { url: `sqlite:${join(dir, 'bench.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = knexFactory({ client: 'mysql2', connection: { uri: MYSQL_URL } as any, pool: { min: 0, max: 1 } });
  const name = `signalq_bench_jobs_${process.pid}`; // two runs at once must not share it
  await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.raw(`CREATE DATABASE \`${name}\``);
  await admin.destroy();
  const url = new URL(MYSQL_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = knexFactory({ client: 'mysql2', connection: { uri: MYSQL_URL } as any, pool: { min: 0, max: 1 } });
      await a.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await a.destroy();
    },
  };
}

async function openQueue(url: string, concurrency = 50): Promise<Signalq.Queue<any>> {
  const q = await lib.createQueue({ db: url, concurrency });
  await q.migrate();
  for (const h of (await import(HANDLERS)).default as Signalq.Handler[]) q.connect(h);
  return q;
}

/** Enqueues `n` items of `type` and processes them in one batch; returns items/s (enqueue excluded). */
async function itemsPerSecond(q: Signalq.Queue<any>, type: string, payload: unknown, n: number): Promise<number> {
  await q.enqueueMany(Array.from({ length: n }, () => ({ type, payload })));
  const t0 = performance.now();
  const s = await q.process({ limit: n });
  const ms = performance.now() - t0;
  if (s.done !== n) {
    const failed = (await q.admin.list({ status: 'need_retry' })).concat(await q.admin.list({ status: 'error' }));
    throw new Error(`${type}: ${s.done} of ${n} items done (${JSON.stringify(s)}); first failure: ${JSON.stringify(failed[0]?.results)}`);
  }
  return n / (ms / 1000);
}

async function measureProgress(url: string) {
  const q = await openQueue(url);
  const silent: number[] = [];
  const reporting: number[] = [];
  await itemsPerSecond(q, 'bench.units', { units: UNITS, report: true }, 1); // warm-up
  for (let r = 0; r < REPEAT; r++) {
    silent.push(await itemsPerSecond(q, 'bench.units', { units: UNITS, report: false }, 1));
    reporting.push(await itemsPerSecond(q, 'bench.units', { units: UNITS, report: true }, 1));
  }
  await q.close();
  const s = median(silent);
  const r = median(reporting);
  // What each ctx.progress call costs: the difference of the two jobs' times, over the units reported.
  return { silentItemsPerS: s, reportingItemsPerS: r, nsPerProgressCall: ((1 / r - 1 / s) * 1e9) / UNITS };
}

async function measureIsolation(url: string, concurrency: number) {
  const q = await openQueue(url, concurrency);
  await itemsPerSecond(q, 'bench.isolated', {}, 2); // warm-up (module cache, tsx's cache)
  const plain: number[] = [];
  const isolated: number[] = [];
  for (let r = 0; r < 3; r++) {
    plain.push(await itemsPerSecond(q, 'bench.plain', {}, ISOLATED_ITEMS));
    isolated.push(await itemsPerSecond(q, 'bench.isolated', {}, ISOLATED_ITEMS));
  }
  await q.close();
  const p = median(plain);
  const i = median(isolated);
  return { concurrency, plainItemsPerS: p, isolatedItemsPerS: i, extraMsPerItem: 1000 / i - 1000 / p };
}

const results: Record<string, unknown> = {};
log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores; bench:jobs from ${process.env.BENCH_DIST === '1' ? 'dist/ (compiled)' : 'the sources (tsx)'}; ${UNITS} units per job, ${REPEAT} runs each; ${ISOLATED_ITEMS} items per isolation run`);
for (const dialect of DIALECTS) {
  const db = await createDb(dialect);
  try {
    const progress = await measureProgress(db.url);
    log(`${dialect}: ${UNITS}-unit job: reporting nothing ${progress.silentItemsPerS.toFixed(1)} items/s (${((progress.silentItemsPerS * UNITS) / 1e6).toFixed(1)} M units/s); ` +
      `reporting every unit ${progress.reportingItemsPerS.toFixed(1)} items/s (${((progress.reportingItemsPerS * UNITS) / 1e6).toFixed(1)} M units/s), ${progress.nsPerProgressCall.toFixed(0)} ns per ctx.progress call`);
    const iso1 = await measureIsolation(db.url, 1);
    const iso50 = await measureIsolation(db.url, 50);
    for (const iso of [iso1, iso50]) {
      log(`${dialect}: isolation at concurrency ${iso.concurrency}: in the worker ${iso.plainItemsPerS.toFixed(1)} items/s, isolated ${iso.isolatedItemsPerS.toFixed(1)} items/s (+${iso.extraMsPerItem.toFixed(1)} ms per item)`);
    }
    results[dialect] = { progress, isolation: [iso1, iso50] };
  } finally {
    await db.drop();
  }
}
console.log(JSON.stringify(results));
