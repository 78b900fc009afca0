/**
 * Bulk enqueue and processing speed in this process, through the public API: `enqueueMany` of N items, then one
 * `work()` loop (the `signalq work` loop) with one or three no-op handlers, timed from its start until every
 * item's outcome is written (the `batchEnd` events, which fire once a batch's outcomes are durable).
 */
import type { Queue } from '../../src/index.ts';
import { benchItems, countByStatus, emptyItems, openQueue, type BenchDatabase } from './databases.ts';
import type { Settings } from './settings.ts';
import { median } from './stats.ts';

export interface EnqueueFigure {
  itemsPerSec: number;
  ms: number;
  n: number;
  /** CPU time of this process meanwhile (user + system), ms: on SQLite that includes the database. */
  cpuMs: number;
}

export interface ProcessFigure {
  itemsPerSec: number;
  ms: number;
  n: number;
  handlers: number;
  /** CPU time of this process per item (user + system), in microseconds: on SQLite that includes the database. */
  cpuUsPerItem: number;
  /** The same in all, ms. */
  cpuMs: number;
  /** Statuses after the run: every item should be `done`. */
  statuses: Record<string, number>;
}

/** Times `enqueueMany` of `n` items into an empty table (the items array is built before the clock starts). */
export async function measureEnqueue(q: Queue<any>, n: number): Promise<EnqueueFigure> {
  await emptyItems(q.knex);
  const items = benchItems(n);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await q.enqueueMany(items);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (r.inserted !== n) throw new Error(`enqueueMany inserted ${r.inserted} of ${n}`);
  return { itemsPerSec: Math.round((n / ms) * 1000), ms: Math.round(ms), n, cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}

/**
 * No-op handlers named noop0..noop{k-1}, all taking `type`. They are async functions, as real handlers (and the
 * peers' no-op processors) are: a synchronous no-op would skip work a real handler run costs.
 */
export function noopHandlers(k: number, type = 'bench') {
  return Array.from({ length: k }, (_, i) => ({ name: `noop${i}`, types: [type], async handle() {} }));
}

/**
 * Runs `work()` with `handlers` no-op handlers over the items already in the table (`n` of them, all runnable),
 * timed from the start of `work()` until `batchEnd` events account for all `n`; then stops the loop.
 */
export async function timeWork(db: BenchDatabase, s: Settings, n: number, handlers: number): Promise<ProcessFigure> {
  const q = await openQueue(db, s);
  try {
    for (const h of noopHandlers(handlers)) q.connect(h);
    let settled = 0;
    let finish!: () => void;
    const allSettled = new Promise<void>((r) => (finish = r));
    q.on('batchEnd', (e) => {
      settled += e.done + e.retry + e.error;
      if (settled >= n) finish();
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const working = q.work();
    await Promise.race([allSettled, working.then(() => Promise.reject(new Error('work() ended before every item was processed')))]);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    q.stop();
    await working;
    const statuses = await countByStatus(q.knex);
    const cpuUsPerItem = Math.round(((cpu.user + cpu.system) / n) * 10) / 10;
    const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
    return { itemsPerSec: Math.round((n / ms) * 1000), ms: Math.round(ms), n, handlers, cpuUsPerItem, cpuMs, statuses };
  } finally {
    await q.close();
  }
}

/** Enqueue, then process with one handler, then (fresh items) with three: `repeat` times each, medians kept. */
export async function measureThroughput(db: BenchDatabase, s: Settings, log: (m: string) => void) {
  const enqueues: EnqueueFigure[] = [];
  const one: ProcessFigure[] = [];
  const three: ProcessFigure[] = [];
  const q = await openQueue(db, s);
  try {
    if (s.warmup > 0) {
      // Unmeasured: the first thousands of items run on cold code; a long-running worker or app does not.
      await measureEnqueue(q, s.warmup);
      // Each measured configuration once: one handler and three take different paths (one run is awaited alone).
      if (s.sections.has('process')) {
        for (const handlers of [1, 3]) {
          await measureEnqueue(q, s.warmup);
          await timeWork(db, s, s.warmup, handlers);
        }
      }
      log(`warm-up: ${s.warmup} items enqueued and processed with 1 and with 3 handlers (not measured)`);
    }
    for (let r = 0; r < s.repeat; r++) {
      const e = await measureEnqueue(q, s.n);
      enqueues.push(e);
      log(`enqueueMany ${s.n}: ${e.itemsPerSec} items/s (${e.ms} ms)`);
      if (s.sections.has('process')) {
        const p1 = await timeWork(db, s, s.n, 1);
        one.push(p1);
        log(`work(), 1 no-op handler: ${p1.itemsPerSec} items/s (${p1.ms} ms, ${p1.cpuUsPerItem} us CPU/item here) ${JSON.stringify(p1.statuses)}`);
        await emptyItems(q.knex);
        await q.enqueueMany(benchItems(s.n));
        const p3 = await timeWork(db, s, s.n, 3);
        three.push(p3);
        log(`work(), 3 no-op handlers: ${p3.itemsPerSec} items/s (${p3.ms} ms, ${p3.cpuUsPerItem} us CPU/item here) ${JSON.stringify(p3.statuses)}`);
      }
    }
  } finally {
    await q.close();
  }
  const pick = <T extends { itemsPerSec: number }>(xs: T[]) => xs.find((x) => x.itemsPerSec === median(xs.map((y) => y.itemsPerSec))) ?? null;
  return {
    enqueue: pick(enqueues),
    process1: pick(one),
    process3: pick(three),
    runs: { enqueue: enqueues.map((e) => e.itemsPerSec), process1: one.map((p) => p.itemsPerSec), process3: three.map((p) => p.itemsPerSec) },
  };
}
