/**
 * Real `signalq work` processes: scale-out (1, 2, 4 processes over the same items, none run twice) and the long
 * run (one process over a million items, its memory sampled).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ITEMS, benchItems, countByStatus, emptyItems, hasUnfinished, openQueue, type BenchDatabase } from './databases.ts';
import { CliWorker, makeHandlerDir, readSeen, removeDir } from './processes.ts';
import type { Settings } from './settings.ts';
import { round1, sleep } from './stats.ts';

export interface ScaleFigure {
  /** What each handler run waited, in ms (0: no-op). */
  handlerMs: number;
  workers: number;
  itemsPerSec: number;
  ms: number;
  n: number;
  /** Items left not `done`, and `done` items tried more than once (both should be 0). */
  notDone: number;
  triedTwice: number;
  /** Handler runs recorded by the workers, items run more than once, and runs per worker. */
  handlerRuns: number;
  duplicates: number;
  perWorker: number[];
  /** Database errors (deadlocks included) and lost claims the workers reported on stderr. */
  problems: number;
  exitCodes: (number | null)[];
}

/** Waits until no item is pending, need_retry or in_progress; returns the ms it took. */
async function untilAllFinished(db: BenchDatabase, knex: import('knex').Knex, t0: number, timeoutMs: number): Promise<number> {
  const pollMs = db.dialect === 'mysql' ? 10 : 25;
  while (await hasUnfinished(knex)) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`items still unfinished after ${timeoutMs} ms`);
    await sleep(pollMs);
  }
  return performance.now() - t0;
}

export async function measureScaleOut(db: BenchDatabase, s: Settings, log: (m: string) => void): Promise<ScaleFigure[]> {
  const handlerDir = makeHandlerDir(1);
  const q = await openQueue(db, s);
  const out: ScaleFigure[] = [];
  try {
    for (const k of s.scale) {
      await emptyItems(q.knex);
      const seenDir = mkdtempSync(join(tmpdir(), 'signalq-bench-seen-'));
      const workers = Array.from({ length: k }, () => new CliWorker(s, db.url, handlerDir, { BENCH_SEEN_DIR: seenDir, BENCH_HANDLER_MS: String(s.scaleHandlerMs) }));
      try {
        await Promise.all(workers.map((w) => w.ready()));
        await sleep(300); // into the idle poll
        const items = benchItems(s.scaleN);
        // One transaction: the items become visible to every worker at the same moment, when it commits.
        await q.enqueueMany(items);
        const t0 = performance.now();
        const ms = await untilAllFinished(db, q.knex, t0, 300_000);
        const exitCodes = await Promise.all(workers.map((w) => w.stop()));
        const statuses = await countByStatus(q.knex);
        const [{ c: triedTwice }] = await q.knex(ITEMS).count({ c: '*' }).where('trials', '>', 1);
        const seen = readSeen(seenDir);
        const f: ScaleFigure = {
          workers: k,
          handlerMs: s.scaleHandlerMs,
          itemsPerSec: Math.round((s.scaleN / ms) * 1000),
          ms: Math.round(ms),
          n: s.scaleN,
          notDone: s.scaleN - (statuses.done ?? 0),
          triedTwice: Number(triedTwice),
          handlerRuns: seen.runs,
          duplicates: seen.duplicates,
          perWorker: seen.perFile,
          problems: workers.reduce((a, w) => a + w.problems.length, 0),
          exitCodes,
        };
        out.push(f);
        log(`${k} work process(es): ${f.itemsPerSec} items/s (${f.ms} ms); per process ${f.perWorker.join('/')}; ` +
          `not done ${f.notDone}, tried twice ${f.triedTwice}, run twice ${f.duplicates}, reported problems ${f.problems}, exit ${exitCodes.join(',')}`);
        for (const w of workers) for (const p of w.problems.slice(0, 3)) log(`  worker ${w.child.pid}: ${p}`);
      } finally {
        await Promise.all(workers.map((w) => w.stop(5_000)));
        removeDir(seenDir);
      }
    }
  } finally {
    await q.close();
    removeDir(handlerDir);
  }
  return out;
}

export interface LongRunFigure {
  n: number;
  itemsPerSec: number;
  ms: number;
  /** Resident memory of the `work` process, MB: after start-up, highest sampled, kernel high-water mark. */
  startRssMb: number;
  peakRssMb: number;
  hwmMb: number;
  /** Highest RSS sampled in the second and in the last tenth of the run (flat memory: about equal; the first tenth is warm-up). */
  secondTenthMaxRssMb: number;
  lastTenthMaxRssMb: number;
  notDone: number;
  problems: number;
}

/**
 * One `signalq work` process over `longN` items, fed in chunks while it works (the backlog capped at 100,000 so
 * the feeder does not hold the whole run in memory). Its RSS is read from /proc every 250 ms.
 */
export async function measureLongRun(db: BenchDatabase, s: Settings, log: (m: string) => void): Promise<LongRunFigure> {
  const handlerDir = makeHandlerDir(1);
  const q = await openQueue(db, s);
  const worker = new CliWorker(s, db.url, handlerDir);
  try {
    await emptyItems(q.knex);
    await worker.ready();
    await sleep(500);
    worker.sampleMemory(250);
    await sleep(300);
    const startRssMb = worker.samples.at(-1)?.rssMb ?? 0;
    const chunk = 10_000;
    const t0 = performance.now();
    const sampledFrom = worker.samples.at(-1)?.at ?? 0;
    let enqueued = 0;
    let nextLog = 100_000;
    while (enqueued < s.longN) {
      const [{ c }] = await q.knex(ITEMS).count({ c: '*' }).where('claimable', 1);
      if (Number(c) > 100_000) {
        await sleep(100);
        continue;
      }
      const size = Math.min(chunk, s.longN - enqueued);
      await q.enqueueMany(benchItems(size, 'bench', enqueued));
      enqueued += size;
      if (enqueued >= nextLog) {
        log(`long run: ${enqueued} enqueued, ${Math.round(performance.now() - t0)} ms, worker RSS ${worker.samples.at(-1)?.rssMb} MB`);
        nextLog += 100_000;
      }
    }
    const ms = await untilAllFinished(db, q.knex, t0, 3_600_000);
    const samples = worker.samples.filter((x) => x.at >= sampledFrom);
    await worker.stop();
    const statuses = await countByStatus(q.knex);
    const tenth = Math.max(1, Math.floor(samples.length / 10));
    const maxOf = (xs: { rssMb: number }[]) => Math.max(0, ...xs.map((x) => x.rssMb));
    const f: LongRunFigure = {
      n: s.longN,
      itemsPerSec: Math.round((s.longN / ms) * 1000),
      ms: Math.round(ms),
      startRssMb,
      peakRssMb: worker.peakRssMb,
      hwmMb: worker.hwmMb,
      secondTenthMaxRssMb: round1(maxOf(samples.slice(tenth, 2 * tenth))),
      lastTenthMaxRssMb: round1(maxOf(samples.slice(-tenth))),
      notDone: s.longN - (statuses.done ?? 0),
      problems: worker.problems.length,
    };
    log(`long run: ${f.n} items through one work process at ${f.itemsPerSec} items/s; RSS start ${f.startRssMb} MB, peak ${f.peakRssMb} MB ` +
      `(VmHWM ${f.hwmMb}), second tenth max ${f.secondTenthMaxRssMb}, last tenth max ${f.lastTenthMaxRssMb}; not done ${f.notDone}`);
    await emptyItems(q.knex);
    return f;
  } finally {
    await worker.stop(5_000);
    await q.close();
    removeDir(handlerDir);
  }
}
