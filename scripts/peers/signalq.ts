/**
 * signalq on MariaDB, the same workload as the peers: `enqueueMany` of N no-op items, then one worker
 * (`work()`, concurrency 50) until every item's outcome is written (`itemDone`), then enqueue-to-start latency
 * against the idle worker. The worker is a queue object of its own, as a `signalq work` process would be, so
 * the producer's enqueues reach it through the database (its poll), not the in-process wake-up; that
 * wake-up is measured too, as `latencySameQueueMs`. Uses a fresh database. Run with tsx from the repository;
 * prints one BENCH_RESULT line.
 */
import { readFileSync } from 'node:fs';
import knexFactory from 'knex';
import { createQueue, type Handler, type Item } from '../../src/index.ts';
import {
  workload, payloadFor, completionCounter, latencyProbe, timed, perSecond, report, reportFailure, withTimeout, log,
} from './common.mjs';

const SYSTEM = 'signalq';
const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
const server = new URL(process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306');
const database = 'signalq_bench_peers';
const dbUrl = new URL(server);
dbUrl.pathname = `/${database}`;

async function main() {
  const adminUrl = new URL(server);
  adminUrl.pathname = '/';
  const admin = knexFactory({ client: 'mysql2', connection: { uri: adminUrl.toString() } as any, pool: { min: 0, max: 1 } });
  const [[{ v }]] = await admin.raw('SELECT VERSION() AS v');
  const serverVersion = /mariadb/i.test(v) ? `MariaDB ${v.split('-')[0]}` : `MySQL ${v}`;
  await admin.raw(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.raw(`CREATE DATABASE \`${database}\``);
  const producer = await createQueue({ db: dbUrl.toString() });
  let worker: Awaited<ReturnType<typeof createQueue>> | null = null;
  let working: Promise<unknown> | null = null;
  try {
    await producer.migrate();
    const items = Array.from({ length: workload.n }, (_, i) => ({ type: 'noop', payload: payloadFor(i) }));
    const enq = await timed(() => producer.enqueueMany(items));
    if (enq.value.inserted !== workload.n) throw new Error(`enqueueMany inserted ${enq.value.inserted} of ${workload.n}`);
    log(`enqueued ${workload.n} in ${enq.ms.toFixed(0)} ms`);

    const counter = completionCounter(workload.n);
    const probe = latencyProbe();
    const sameQueueProbe = latencyProbe();
    let activeProbe = probe;
    const noop: Handler = { name: 'noop', types: ['noop'], handle: (item: Item) => { activeProbe.started(item.payload); } };
    const t0 = performance.now();
    worker = await createQueue({ db: dbUrl.toString(), concurrency: workload.concurrency });
    worker.connect(noop);
    worker.on('itemDone', () => counter.done());
    worker.on('itemError', ({ item }) => log(`item ${item.id} failed: ${JSON.stringify(item.results)}`));
    working = worker.work();
    working.catch(() => {}); // a failure surfaces through the timeout below, and is rethrown at the end
    const tEnd = await withTimeout(counter.finished, workload.phaseTimeoutMs, `processing ${workload.n} items`);
    const processMs = tEnd - t0;
    log(`processed ${workload.n} in ${processMs.toFixed(0)} ms`);

    const latency = await probe.run(workload.latencyN, (payload) => producer.enqueue('noop', payload), 10_000);
    activeProbe = sameQueueProbe;
    const w = worker;
    const sameQueue = await sameQueueProbe.run(Math.min(workload.latencyN, 100), (payload) => w.enqueue('noop', payload), 10_000);
    report({
      system: SYSTEM,
      label: `signalq ${version}`,
      version,
      server: serverVersion,
      settings: {
        concurrency: workload.concurrency, enqueue: `enqueueMany of ${workload.n}`,
        options: 'defaults (batchSize 500, pollIntervalMs 10, settleDelayMs 5)',
        latency: 'enqueued by another queue object (no in-process wake-up)',
      },
      enqueuePerSec: perSecond(workload.n, enq.ms),
      processPerSec: perSecond(workload.n, processMs),
      latencyMs: latency,
      latencySameQueueMs: sameQueue,
    });
  } finally {
    worker?.stop();
    if (working) await working.catch((e) => log('work() failed', e));
    await worker?.close().catch(() => {});
    await producer.close().catch(() => {});
    await admin.raw(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {});
    await admin.destroy();
  }
}

main().then(() => process.exit(0), (e) => reportFailure(SYSTEM, e));
