/**
 * The other process of the latency measure: enqueues LATENCY_N items one at a time, with random gaps, each
 * carrying the wall-clock time just before its `enqueue` call. Prints one JSON line: how long the enqueue
 * calls took (the commit is part of the latency the worker sees).
 * Env: BENCH_DB_URL, LATENCY_N, LATENCY_GAP_MS=min-max, LATENCY_TYPE.
 */
import { createQueue } from '../../src/index.ts';
import { percentile, round1, sleep, wallNow } from './stats.ts';

const n = Number(process.env.LATENCY_N ?? 200);
const [gapMin, gapMax] = (process.env.LATENCY_GAP_MS ?? '5-25').split('-').map(Number);
const type = process.env.LATENCY_TYPE ?? 'bench.latency';
const q = await createQueue({ db: process.env.BENCH_DB_URL });
const enqueueMs: number[] = [];
try {
  // Let the parent know the connection is open, so its clock for "idle" and this process's start do not overlap.
  process.stdout.write('ready\n');
  await sleep(200);
  for (let i = 0; i < n; i++) {
    await sleep(gapMin + Math.random() * (gapMax - gapMin));
    const sentAt = wallNow();
    await q.enqueue(type, { i, sentAt, text: 'x'.repeat(80) });
    enqueueMs.push(wallNow() - sentAt);
  }
} finally {
  await q.close();
}
process.stdout.write(JSON.stringify({ n, enqueueMedianMs: round1(percentile(enqueueMs, 50)), enqueueP95Ms: round1(percentile(enqueueMs, 95)) }) + '\n');
