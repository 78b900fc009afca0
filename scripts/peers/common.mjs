/**
 * What every runner of `npm run bench:peers` shares: the workload's settings, the latency probe, the
 * completion counter and the one JSON line a runner prints. Plain JavaScript with no imports beyond Node's,
 * because the peer runners are copied into the scratch folder (so their bare imports resolve to its
 * node_modules) and run with plain `node`; the signalq runner imports it from here through tsx.
 */

import { readFileSync } from 'node:fs';

/**
 * The installed version of a package in the scratch folder (the runners run from `<scratch>/runners/`). Read from
 * the file, since some packages (sidequest) do not export their package.json.
 */
export function packageVersion(name) {
  return JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
}

/** Reads a whole number from the environment, with a default. */
export function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${raw} is not a whole number of at least 1`);
  return n;
}

/** The workload, the same for every system (set by bench-peers.ts through the environment). */
export const workload = {
  /** Jobs enqueued in bulk, then processed by one worker. */
  n: intEnv('BENCH_N', 5000),
  /** Jobs run at once, where the system has such a setting. */
  concurrency: intEnv('BENCH_CONCURRENCY', 50),
  /** Jobs enqueued one at a time, each after the last one started, to measure enqueue-to-start latency. */
  latencyN: intEnv('BENCH_LATENCY_N', 200),
  /** Longest a phase may take before the runner gives up and reports it. */
  phaseTimeoutMs: intEnv('BENCH_PHASE_TIMEOUT_MS', 180_000),
};

/** A ~110-byte payload, like the workload; `i` numbers the job. */
export function payloadFor(i) {
  return { i, pad: 'x'.repeat(90) };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects after `ms` with a message naming what did not finish. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Median and 95th percentile (nearest rank) of a list of numbers, rounded to 0.1. */
export function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const r = (x) => Math.round(x * 10) / 10;
  return { median: r(at(0.5)), p95: r(at(0.95)), max: r(sorted[sorted.length - 1]), n: sorted.length };
}

/**
 * Counts durable completions: `done()` once per job whose completion the system has written; `finished`
 * resolves with the time the `target`-th arrived.
 */
export function completionCounter(target) {
  let count = 0;
  let resolve;
  const finished = new Promise((r) => (resolve = r));
  return {
    finished,
    get count() {
      return count;
    },
    done(k = 1) {
      count += k;
      if (count >= target) resolve(performance.now());
    },
  };
}

/**
 * The enqueue-to-start probe. A handler calls `started(payload)` (or the runner does, with the start time a
 * job reported from elsewhere): the latency is start time minus the `t` the enqueuer stamped in the payload,
 * both `Date.now()` on this machine.
 */
export function latencyProbe() {
  const waiting = new Map();
  const samples = [];
  return {
    samples,
    started(payload, startedAt = Date.now()) {
      if (!payload || typeof payload.t !== 'number') return false;
      const w = waiting.get(payload.i);
      if (!w) return false;
      waiting.delete(payload.i);
      samples.push(startedAt - payload.t);
      w();
      return true;
    },
    /**
     * Enqueues `count` jobs one at a time with an idle worker: each is stamped with `t` just before its
     * enqueue, and the next waits until it started, plus 5-15 ms (random, so the enqueues do not fall in step
     * with a polling worker's rhythm).
     */
    async run(count, enqueue, timeoutMs) {
      for (let i = 0; i < count; i++) {
        await sleep(5 + Math.random() * 10);
        const startedP = new Promise((r) => waiting.set(i, r));
        await enqueue({ i, t: Date.now(), pad: 'x'.repeat(80) });
        await withTimeout(startedP, timeoutMs, `latency job ${i} (from enqueue to handler start)`);
      }
      return percentiles(samples);
    },
  };
}

/** Times an async step in ms. */
export async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Jobs per second, rounded. */
export const perSecond = (count, ms) => Math.round((count * 1000) / ms);

/** Prints the runner's one result line (stdout) and exits. Progress and warnings go to stderr. */
export function report(result) {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

/** Reports a failure as a result line, so the parent can show it as a row, and exits non-zero. */
export function reportFailure(system, error) {
  const message = error instanceof Error ? error.message : String(error);
  report({ system, error: message.split('\n')[0].slice(0, 300) });
  console.error(error);
  process.exit(1);
}

export const log = (...args) => console.error(`[${process.env.BENCH_SYSTEM ?? 'runner'}]`, ...args);
