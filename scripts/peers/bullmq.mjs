/**
 * BullMQ on Redis: `addBulk` of N no-op jobs, then one Worker (concurrency 50) until every job's completion is
 * written (the `completed` event), then enqueue-to-start latency against the idle worker.
 * Run from the scratch folder (bare imports resolve to its node_modules); prints one BENCH_RESULT line.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  packageVersion, workload, payloadFor, completionCounter, latencyProbe, timed, perSecond, report, reportFailure, withTimeout, log,
} from './common.mjs';

const SYSTEM = 'bullmq';
const version = packageVersion('bullmq');
const redisUrl = new URL(process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379');
const connection = {
  host: redisUrl.hostname,
  port: Number(redisUrl.port || 6379),
  // Workers need this (BullMQ refuses a blocking connection that gives up on commands).
  maxRetriesPerRequest: null,
};

async function main() {
  const name = `signalq-bench-${process.pid}-${Date.now()}`;
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  let worker;
  try {
    // BullMQ 6 keeps its Redis client behind a backend layer, so ask the server with a client of our own.
    const probeClient = new Redis(connection);
    const info = await probeClient.info('server').finally(() => probeClient.quit());
    const serverVersion = `Redis ${/redis_version:([^\r\n]+)/.exec(info)?.[1] ?? '?'}`;
    const jobs = Array.from({ length: workload.n }, (_, i) => ({ name: 'noop', data: payloadFor(i) }));
    const enq = await timed(() => queue.addBulk(jobs));
    log(`enqueued ${workload.n} in ${enq.ms.toFixed(0)} ms`);

    const counter = completionCounter(workload.n);
    const probe = latencyProbe();
    const t0 = performance.now();
    worker = new Worker(name, async (job) => { probe.started(job.data); }, { connection, concurrency: workload.concurrency });
    worker.on('completed', () => counter.done());
    worker.on('error', (e) => log('worker error', e.message));
    const tEnd = await withTimeout(counter.finished, workload.phaseTimeoutMs, `processing ${workload.n} jobs`);
    const processMs = tEnd - t0;
    log(`processed ${workload.n} in ${processMs.toFixed(0)} ms`);

    const latency = await probe.run(workload.latencyN, (data) => queue.add('noop', data), 10_000);
    report({
      system: SYSTEM,
      label: `BullMQ ${version}`,
      version,
      server: serverVersion,
      settings: { concurrency: workload.concurrency, enqueue: `addBulk of ${workload.n}`, defaults: 'removeOnComplete off (default)' },
      enqueuePerSec: perSecond(workload.n, enq.ms),
      processPerSec: perSecond(workload.n, processMs),
      latencyMs: latency,
    });
  } finally {
    await worker?.close().catch(() => {});
    await queue.obliterate({ force: true }).catch((e) => log('obliterate failed', e.message));
    await queue.close().catch(() => {});
  }
}

main().then(() => process.exit(0), (e) => reportFailure(SYSTEM, e));
