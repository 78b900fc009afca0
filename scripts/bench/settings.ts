/**
 * The benchmark's settings, read once from the environment, with their defaults. `npm run bench` with no
 * variables runs the default sections (a few minutes at most); the heavy ones are opt-in.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Dialect = 'sqlite' | 'mysql';

/** Every section the script can run; the default set excludes the slow ones. */
export const SECTIONS = ['enqueue', 'process', 'cli', 'latency', 'idle', 'scale', 'floor', 'history', 'long'] as const;
export type Section = (typeof SECTIONS)[number];
const DEFAULT_SECTIONS: Section[] = ['enqueue', 'process', 'cli', 'latency', 'idle', 'scale', 'floor'];

export interface Settings {
  /** Project root (where package.json and src/ are). */
  root: string;
  dialects: Dialect[];
  sections: Set<Section>;
  /** Items per throughput run (enqueue, processing, scale-out). */
  n: number;
  /** Throughput runs per measure, and rounds of the cli section; the median is reported. */
  repeat: number;
  /** Items enqueued and processed once, unmeasured, before the throughput runs (JIT warm-up, as in a long-running worker). */
  warmup: number;
  /** Items enqueued one at a time from another process for the latency measure. */
  latencyN: number;
  /** Random gap between those enqueues, in ms: [min, max]. */
  latencyGapMs: [number, number];
  /** How long the idle worker's database traffic is counted, in seconds. */
  idleSeconds: number;
  /** `done` rows put in the table before the history run. */
  historyRows: number;
  /** Items the long run pushes through one `signalq work` process. */
  longN: number;
  /** Items of the command-line runs (`signalq enqueue --file`, `signalq process --until-empty`) and of the library runs they are set against. */
  cliN: number;
  /** Worker process counts for the scale-out run. */
  scale: number[];
  /** Items per scale-out run: larger than N, so that each of four cold processes works long past its warm-up. */
  scaleN: number;
  /**
   * Milliseconds each scale-out handler run waits (as for a network call); 0 = no-op. With no-op handlers one
   * process already reaches what the database allows here, so this shows what more processes are for.
   */
  scaleHandlerMs: number;
  /** The MySQL server: its URL names an existing database; the bench creates and drops its own next to it. */
  mysqlUrl: string;
  /** Name of the database the bench creates (and drops) on that server. */
  mysqlDatabase: string;
  /** Folder of the floor scripts (mysql-floor.mjs, sqlite-floor.mjs). */
  floorDir: string;
  /** Queue options passed to every queue and worker (only those set are passed; the rest are signalq's defaults). */
  queue: { batchSize?: number; concurrency?: number; pollIntervalMs?: number; settleDelayMs?: number };
  /** When set, spawned `signalq work` processes run with `--cpu-prof` into this folder. */
  cpuProfDir: string | null;
}

function int(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}=${raw} must be a whole number of at least ${min}`);
  return v;
}

function optionalInt(name: string, min = 0): number | undefined {
  return process.env[name] ? int(name, 0, min) : undefined;
}

const flag = (name: string) => /^(1|true|yes|on)$/i.test(process.env[name] ?? '');

export function readSettings(): Settings {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const db = (process.env.BENCH_DB ?? 'both').toLowerCase();
  const dialects: Dialect[] = db === 'both' ? ['sqlite', 'mysql'] : db === 'sqlite' ? ['sqlite'] : db === 'mysql' || db === 'mariadb' ? ['mysql'] : [];
  if (dialects.length === 0) throw new Error(`BENCH_DB=${db} must be sqlite, mysql or both`);

  let sections: Section[];
  if (process.env.BENCH_ONLY) {
    sections = process.env.BENCH_ONLY.split(',').map((s) => s.trim()).filter(Boolean) as Section[];
    const unknown = sections.filter((s) => !SECTIONS.includes(s));
    if (unknown.length) throw new Error(`BENCH_ONLY names unknown sections ${unknown.join(', ')}; use some of ${SECTIONS.join(', ')}`);
  } else {
    sections = [...DEFAULT_SECTIONS];
    if (flag('BENCH_HISTORY')) sections.push('history');
    if (flag('BENCH_LONG')) sections.push('long');
  }

  const gap = (process.env.LATENCY_GAP_MS ?? '5-25').split('-').map(Number);
  if (gap.length !== 2 || gap.some((g) => !Number.isFinite(g) || g < 0) || gap[0] > gap[1]) throw new Error('LATENCY_GAP_MS must look like 5-25');

  const scale = (process.env.BENCH_SCALE ?? '1,2,4').split(',').map(Number);
  if (scale.some((k) => !Number.isInteger(k) || k < 1)) throw new Error('BENCH_SCALE must list whole numbers, e.g. 1,2,4');

  return {
    root,
    dialects,
    sections: new Set(sections),
    n: int('N', 20_000),
    repeat: int('BENCH_REPEAT', 1),
    warmup: int('BENCH_WARMUP', 2_000, 0),
    latencyN: int('LATENCY_N', 200),
    latencyGapMs: gap as [number, number],
    idleSeconds: int('IDLE_SECONDS', 3),
    historyRows: int('HISTORY_ROWS', 1_000_000),
    longN: int('LONG_N', 1_000_000),
    cliN: int('BENCH_CLI_N', 100_000),
    scale,
    scaleN: int('SCALE_N', 60_000),
    scaleHandlerMs: int('SCALE_HANDLER_MS', 0),
    mysqlUrl: process.env.MYSQL_URL ?? process.env.SIGNALQ_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306/test',
    mysqlDatabase: process.env.BENCH_MYSQL_DB ?? `signalq_bench_${process.pid}`,
    floorDir: resolve(root, process.env.BENCH_FLOOR_DIR ?? join('..', 'shared', 'bench')),
    queue: {
      batchSize: optionalInt('BENCH_BATCH_SIZE', 1),
      concurrency: optionalInt('BENCH_CONCURRENCY', 1),
      pollIntervalMs: optionalInt('BENCH_POLL_MS', 0),
      settleDelayMs: optionalInt('BENCH_SETTLE_MS', 0),
    },
    cpuProfDir: process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null,
  };
}

/** The queue options as `signalq work` flags (only those set). */
export function workerFlags(s: Settings): string[] {
  const f: string[] = [];
  if (s.queue.batchSize !== undefined) f.push('--limit', String(s.queue.batchSize));
  if (s.queue.concurrency !== undefined) f.push('--concurrency', String(s.queue.concurrency));
  if (s.queue.pollIntervalMs !== undefined) f.push('--poll', `${s.queue.pollIntervalMs}ms`);
  return f;
}

/** The environment variables the script understands, for the header and `--help`. */
export const USAGE = `npm run bench  [env: N=20000 BENCH_DB=sqlite|mysql|both BENCH_ONLY=${SECTIONS.join(',')}
  BENCH_HISTORY=1 (1M done rows; slow) BENCH_LONG=1 (one work process over LONG_N=1000000 items; slow)
  BENCH_CLI_N=100000 (items of the cli section: signalq enqueue --file / process --until-empty vs enqueueMany / work())
  BENCH_REPEAT=1 BENCH_WARMUP=2000 LATENCY_N=200 LATENCY_GAP_MS=5-25 IDLE_SECONDS=3 HISTORY_ROWS=1000000 BENCH_SCALE=1,2,4 SCALE_N=60000 SCALE_HANDLER_MS=0
  MYSQL_URL=mysql://root@127.0.0.1:3306/test BENCH_MYSQL_DB=signalq_bench_<pid> BENCH_FLOOR_DIR=../shared/bench
  BENCH_BATCH_SIZE BENCH_CONCURRENCY BENCH_POLL_MS BENCH_SETTLE_MS (queue options; default: signalq's;
  work processes take all but the settle delay, which has no CLI flag)
  BENCH_CPU_PROF=dir (spawned work processes write .cpuprofile files there)]`;
