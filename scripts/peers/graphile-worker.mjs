/**
 * graphile-worker on PostgreSQL: `addJobs` of N no-op jobs, then one runner (concurrency 50) until every job's
 * completion is written (the `job:complete` event), then enqueue-to-start latency against the idle runner.
 * Uses its own schema (dropped first) in the given database. Run from the scratch folder; prints one
 * BENCH_RESULT line.
 */
import pg from 'pg';
import { run, makeWorkerUtils, Logger } from 'graphile-worker';
import {
  packageVersion, workload, payloadFor, completionCounter, latencyProbe, timed, perSecond, report, reportFailure, withTimeout, log,
} from './common.mjs';

const SYSTEM = 'graphile-worker';
const version = packageVersion('graphile-worker');
/** BENCH_PG_URL, else database `test` on loopback as `postgres`, else as `root` (trust auth either way). */
async function pickConnectionString() {
  if (process.env.BENCH_PG_URL) return process.env.BENCH_PG_URL;
  const tried = [];
  for (const user of ['postgres', 'root']) {
    const url = `postgres://${user}@127.0.0.1:5432/test`;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      return url;
    } catch (e) {
      tried.push(`${user}: ${e.message}`);
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error(`cannot reach PostgreSQL database test on 127.0.0.1:5432 (${tried.join('; ')}); set BENCH_PG_URL`);
}
const schema = 'signalq_bench_graphile_worker';
// Its default logger writes a line per job at `info`; keep warnings and errors only, as the other systems print
// nothing per job.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') log(`${level}: ${message}`);
});
// graphile-worker warns when its pool is smaller than its concurrency, so give it one connection per job slot.
const maxPoolSize = Number(process.env.BENCH_GRAPHILE_POOL || workload.concurrency + 1);
// Opt-in (BENCH_GRAPHILE_BATCHING=1): its batching features, off by default (a local queue of fetched jobs,
// completions written together).
const batching = process.env.BENCH_GRAPHILE_BATCHING === '1'
  ? { localQueue: { size: workload.concurrency + 1 }, completeJobBatchDelay: 0 }
  : null;

async function main() {
  const connectionString = await pickConnectionString();
  const utils = await makeWorkerUtils({ connectionString, schema, logger });
  let runner;
  try {
    const { rows } = await utils.withPgClient((c) => c.query('SHOW server_version'));
    const serverVersion = `PostgreSQL ${rows[0].server_version.split(' ')[0]}`;
    await utils.withPgClient((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    await utils.migrate();
    const specs = Array.from({ length: workload.n }, (_, i) => ({ identifier: 'noop', payload: payloadFor(i) }));
    const enq = await timed(() => utils.addJobs(specs));
    log(`enqueued ${workload.n} in ${enq.ms.toFixed(0)} ms`);

    const counter = completionCounter(workload.n);
    const probe = latencyProbe();
    const t0 = performance.now();
    runner = await run({
      connectionString, schema, logger, concurrency: workload.concurrency, noHandleSignals: true,
      maxPoolSize,
      ...(batching ? { preset: { worker: batching } } : {}),
      taskList: { noop: async (payload) => { probe.started(payload); } },
    });
    runner.events.on('job:complete', () => counter.done());
    const tEnd = await withTimeout(counter.finished, workload.phaseTimeoutMs, `processing ${workload.n} jobs`);
    const processMs = tEnd - t0;
    log(`processed ${workload.n} in ${processMs.toFixed(0)} ms`);

    const latency = await probe.run(workload.latencyN, (payload) => utils.addJob('noop', payload), 10_000);
    report({
      system: SYSTEM,
      label: `graphile-worker ${version}${batching ? ' (batching on)' : ''}`,
      version,
      server: serverVersion,
      settings: {
        concurrency: workload.concurrency, enqueue: `addJobs of ${workload.n}`,
        maxPoolSize, logger: 'warnings only', batching: batching ?? 'off (default)',
      },
      enqueuePerSec: perSecond(workload.n, enq.ms),
      processPerSec: perSecond(workload.n, processMs),
      latencyMs: latency,
    });
  } finally {
    await runner?.stop().catch(() => {});
    await utils.withPgClient((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).catch(() => {});
    await utils.release().catch(() => {});
  }
}

main().then(() => process.exit(0), (e) => reportFailure(SYSTEM, e));
