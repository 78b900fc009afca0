/**
 * The command-line forms against the library forms they stand for, in the same run over the same items:
 * `signalq enqueue TYPE --file ITEMS.ndjson` against `enqueueMany`, and `signalq process --until-empty --no-lock`
 * (the cron-run batch) against `work()`, both with one no-op handler.
 *
 * A command is timed from its spawn to its exit, start-up included, since a user pays it too. Each command's start-up
 * (node, loading signalq, opening and checking the database: a fixed cost whatever the item count) is measured
 * apart, on the smallest run of the same command (`enqueue --file` of one line, `process` on an empty queue), and the
 * ratios are given both ways: spawn to exit, and without that start-up, which is what compares the per-item paths
 * (issue 11's targets). The library forms are timed as in the throughput section (the queue already open, the items
 * array built before the clock starts). BENCH_REPEAT rounds (default 1) each time both pairs; medians are reported,
 * and the table shows the range of the ratios.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchItems, countByStatus, emptyItems, openQueue, type BenchDatabase } from './databases.ts';
import { makeHandlerDir, removeDir, runCliCommand, type CliRun } from './processes.ts';
import { workerFlags, type Settings } from './settings.ts';
import { measureEnqueue, timeWork } from './throughput.ts';
import { median } from './stats.ts';

/** Items per second and the time it took, in ms. */
export interface Speed {
  itemsPerSec: number;
  ms: number;
}

/** One round: each library form and its command, timed one right after the other. */
export interface CliRound {
  enqueueFile: Speed;
  enqueueMany: Speed;
  enqueueRatio: number;
  enqueueRatioWithoutStartup: number;
  processUntilEmpty: Speed;
  work: Speed;
  processRatio: number;
  processRatioWithoutStartup: number;
  /** CPU time: enqueueMany's / enqueue --file's without its start-up's (see `cpuRatio`). */
  enqueueCpuRatio: number | null;
  /** CPU time: work()'s / process --until-empty's without its start-up's. */
  processCpuRatio: number | null;
}

/** Medians over the rounds (BENCH_REPEAT of them); each ratio is the median of the rounds' own ratios. */
export interface CliFigure {
  n: number;
  /** `signalq enqueue bench --file` of `n` lines, spawn to exit. */
  enqueueFile: Speed;
  /** `enqueueMany` of the same `n` items. */
  enqueueMany: Speed;
  /** enqueueFile / enqueueMany items/s, spawn to exit. */
  enqueueRatio: number;
  /** The same without `enqueueStartupMs` (issue 11's target: >= 0.85). */
  enqueueRatioWithoutStartup: number;
  /** Spawn to exit of `signalq enqueue bench --file` of a one-line file, median of three, ms. */
  enqueueStartupMs: number;
  /** `signalq process --until-empty --no-lock` over `n` items, spawn to exit. */
  processUntilEmpty: Speed;
  /** `work()` over the same number of items. */
  work: Speed;
  /** processUntilEmpty / work items/s, spawn to exit. */
  processRatio: number;
  /** The same without `startupMs` (issue 11's target: >= 0.85). */
  processRatioWithoutStartup: number;
  /** Spawn to exit of `signalq process --until-empty --no-lock` on an empty queue, median of three, ms. */
  startupMs: number;
  /** Median over the rounds of each round's CPU ratio (null where /proc cannot tell). */
  enqueueCpuRatio: number | null;
  processCpuRatio: number | null;
  /** CPU time of the start-up runs (median of three), ms. */
  enqueueStartupCpuMs: number | null;
  startupCpuMs: number | null;
  rounds: CliRound[];
}

const speed = (n: number, ms: number): Speed => ({ itemsPerSec: Math.round((n / ms) * 1000), ms: Math.round(ms) });
const ratio = (a: Speed, b: Speed) => Math.round((a.itemsPerSec / b.itemsPerSec) * 100) / 100;

/** Spawn-to-exit ms of three runs of a command, and their median; `check` throws on a run that did not do its work. */
async function timeStartup(s: Settings, args: string[], check: (run: CliRun) => void): Promise<{ runs: number[]; median: number; cpuMs: number | null }> {
  const runs: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 3; i++) {
    const run = await runCliCommand(s, args);
    check(run);
    runs.push(Math.round(run.ms));
    if (run.cpuMs != null) cpu.push(run.cpuMs);
  }
  return { runs, median: Math.round(median(runs)), cpuMs: cpu.length === runs.length ? median(cpu) : null };
}

/**
 * Library CPU ms / command CPU ms without its start-up's: the per-item paths compared by the CPU they take, which
 * a loaded machine moves much less than their wall time. On SQLite both include the database's work (in process);
 * on MySQL only the client's. Null where /proc cannot tell.
 */
function cpuRatio(libraryMs: number, commandMs: number | null, startupMs: number | null): number | null {
  if (commandMs == null || startupMs == null || commandMs - startupMs <= 0) return null;
  return Math.round((libraryMs / (commandMs - startupMs)) * 100) / 100;
}

/** The command's JSON output; throws, with its stderr, when it did not exit 0. */
function jsonOf(what: string, run: CliRun): any {
  if (run.code !== 0) throw new Error(`${what} exited with ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(run.stdout);
}

export async function measureCli(db: BenchDatabase, s: Settings, log: (m: string) => void): Promise<CliFigure> {
  const n = s.cliN;
  const handlerDir = makeHandlerDir(1);
  const fileDir = mkdtempSync(join(tmpdir(), 'signalq-bench-ndjson-'));
  const file = join(fileDir, 'items.ndjson');
  // The same payloads as enqueueMany's, one per line, written before any clock starts.
  writeFileSync(file, benchItems(n).map((it) => JSON.stringify(it.payload)).join('\n') + '\n');
  const oneLine = join(fileDir, 'one.ndjson');
  writeFileSync(oneLine, JSON.stringify(benchItems(1)[0].payload) + '\n');
  const processArgs = ['process', '--until-empty', '--no-lock', '--json', '--db', db.url, '--handlers', handlerDir, ...workerFlags(s)];
  const q = await openQueue(db, s);
  try {
    if (s.warmup > 0) {
      // Unmeasured, as in the throughput section: the library forms run on warm code, as in a long-running app.
      await measureEnqueue(q, s.warmup);
      await timeWork(db, s, s.warmup, 1);
      log(`cli: warm-up of the library forms: ${s.warmup} items enqueued and processed (not measured)`);
    }

    const enqueueArgs = (path: string) => ['enqueue', 'bench', '--file', path, '--json', '--db', db.url];
    await emptyItems(q.knex);
    const enqueueStartup = await timeStartup(s, enqueueArgs(oneLine), (run) => {
      const r = jsonOf('signalq enqueue --file of one line', run);
      if (r.inserted !== 1) throw new Error(`signalq enqueue --file of one line inserted ${r.inserted}`);
    });
    const enqueueStartupMs = enqueueStartup.median;
    log(`cli: start-up, signalq enqueue --file of one line: ${enqueueStartup.runs.join(' / ')} ms (median ${enqueueStartupMs})`);
    await emptyItems(q.knex);
    const processStartup = await timeStartup(s, processArgs, (run) => {
      const summary = jsonOf('signalq process on an empty queue', run);
      if (summary.claimed !== 0) throw new Error(`signalq process on an empty queue claimed ${summary.claimed}`);
    });
    const startupMs = processStartup.median;
    log(`cli: start-up, signalq process --until-empty on an empty queue: ${processStartup.runs.join(' / ')} ms (median ${startupMs})`);

    // Each round times a library form and its command right after each other, so that both see about the same
    // load on a shared machine; the ratios are taken within a round, and their median is kept.
    const rounds: CliRound[] = [];
    for (let r = 1; r <= s.repeat; r++) {
      const round = `cli${s.repeat > 1 ? ` round ${r}/${s.repeat}` : ''}`;
      const many = await measureEnqueue(q, n);
      const enqueueMany = speed(n, many.ms);
      log(`${round}: enqueueMany ${n}: ${enqueueMany.itemsPerSec} items/s (${enqueueMany.ms} ms)`);

      await emptyItems(q.knex);
      const enqueued = await runCliCommand(s, enqueueArgs(file));
      const written = jsonOf('signalq enqueue --file', enqueued);
      if (written.inserted !== n) throw new Error(`signalq enqueue --file inserted ${written.inserted} of ${n}`);
      const enqueueFile = speed(n, enqueued.ms);
      const enqueueWithoutStartup = speed(n, enqueued.ms - enqueueStartupMs);
      const enqueueCpuRatio = cpuRatio(many.cpuMs, enqueued.cpuMs, enqueueStartup.cpuMs);
      log(`${round}: signalq enqueue --file of ${n} lines: ${enqueueFile.itemsPerSec} items/s (${enqueueFile.ms} ms), ` +
        `${ratio(enqueueFile, enqueueMany)} of enqueueMany; without its start-up ${enqueueWithoutStartup.itemsPerSec} items/s, ` +
        `${ratio(enqueueWithoutStartup, enqueueMany)}; CPU ms ${enqueued.cpuMs} (start-up ${enqueueStartup.cpuMs}) vs ${many.cpuMs}: ${enqueueCpuRatio}`);

      // work() takes the items the command wrote (the same payloads as enqueueMany's).
      const worked = await timeWork(db, s, n, 1);
      const work = speed(n, worked.ms);
      log(`${round}: work(), 1 no-op handler, ${n} items: ${work.itemsPerSec} items/s (${work.ms} ms) ${JSON.stringify(worked.statuses)}`);

      await emptyItems(q.knex);
      const fill = await q.enqueueMany(benchItems(n));
      if (fill.inserted !== n) throw new Error(`enqueueMany inserted ${fill.inserted} of ${n}`);
      const processed = await runCliCommand(s, processArgs);
      const summary = jsonOf('signalq process --until-empty', processed);
      const statuses = await countByStatus(q.knex);
      if (summary.done !== n || statuses.done !== n) throw new Error(`signalq process --until-empty: done ${summary.done} of ${n}; statuses ${JSON.stringify(statuses)}`);
      const processUntilEmpty = speed(n, processed.ms);
      const withoutStartup = speed(n, processed.ms - startupMs);
      const processCpuRatio = cpuRatio(worked.cpuMs, processed.cpuMs, processStartup.cpuMs);
      log(`${round}: signalq process --until-empty over ${n} items: ${processUntilEmpty.itemsPerSec} items/s (${processUntilEmpty.ms} ms, ` +
        `${summary.batches} batches), ${ratio(processUntilEmpty, work)} of work(); without its start-up ${withoutStartup.itemsPerSec} items/s, ` +
        `${ratio(withoutStartup, work)}; CPU ms ${processed.cpuMs} (start-up ${processStartup.cpuMs}) vs ${worked.cpuMs}: ${processCpuRatio}`);
      await emptyItems(q.knex);

      rounds.push({
        enqueueFile,
        enqueueMany,
        enqueueRatio: ratio(enqueueFile, enqueueMany),
        enqueueRatioWithoutStartup: ratio(enqueueWithoutStartup, enqueueMany),
        processUntilEmpty,
        work,
        processRatio: ratio(processUntilEmpty, work),
        processRatioWithoutStartup: ratio(withoutStartup, work),
        enqueueCpuRatio,
        processCpuRatio,
      });
    }

    const mid = <K extends keyof CliRound>(k: K) => median(rounds.map((r) => r[k] as number));
    const midOrNull = (k: 'enqueueCpuRatio' | 'processCpuRatio') => (rounds.some((r) => r[k] == null) ? null : mid(k));
    const midSpeed = (k: 'enqueueFile' | 'enqueueMany' | 'processUntilEmpty' | 'work') => speed(n, median(rounds.map((r) => r[k].ms)));
    return {
      n,
      enqueueFile: midSpeed('enqueueFile'),
      enqueueMany: midSpeed('enqueueMany'),
      enqueueRatio: mid('enqueueRatio'),
      enqueueRatioWithoutStartup: mid('enqueueRatioWithoutStartup'),
      enqueueStartupMs,
      processUntilEmpty: midSpeed('processUntilEmpty'),
      work: midSpeed('work'),
      processRatio: mid('processRatio'),
      processRatioWithoutStartup: mid('processRatioWithoutStartup'),
      startupMs,
      enqueueCpuRatio: midOrNull('enqueueCpuRatio'),
      processCpuRatio: midOrNull('processCpuRatio'),
      enqueueStartupCpuMs: enqueueStartup.cpuMs,
      startupCpuMs: processStartup.cpuMs,
      rounds,
    };
  } finally {
    await q.close();
    removeDir(handlerDir);
    removeDir(fileDir);
  }
}
