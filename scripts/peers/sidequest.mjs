/**
 * Sidequest on MariaDB (the direct MySQL peer): N no-op jobs enqueued through its API (it has no bulk call, so
 * a loop with a few enqueues in flight), then its engine (one forked worker process, concurrency 50) until every
 * job is `completed` in the database, then enqueue-to-start latency against the idle engine.
 * Uses a fresh database of its own, dropped at the end (kept with BENCH_KEEP=1, to look at its rows). Run from the
 * scratch folder; prints one BENCH_RESULT line.
 */
import dgram from 'node:dgram';
import mysql from 'mysql2/promise';
import { Sidequest } from 'sidequest';
import { SignalqBenchNoopJob } from './sidequest-job.mjs';
import {
  packageVersion, workload, payloadFor, latencyProbe, timed, perSecond, report, reportFailure, withTimeout, log, sleep, intEnv,
} from './common.mjs';

const SYSTEM = 'sidequest';
const version = packageVersion('sidequest');
const backendVersion = packageVersion('@sidequest/mysql-backend');
const server = new URL(process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306');
const database = 'signalq_bench_sidequest';
const dbUrl = new URL(server);
dbUrl.pathname = `/${database}`;
/** Enqueues in flight at once while filling the queue. */
const enqueueParallel = intEnv('BENCH_SIDEQUEST_ENQUEUE_PARALLEL', 10);
/** `thread` (Sidequest's default: jobs run in a pool of worker threads) or `inline`. */
const runner = process.env.BENCH_SIDEQUEST_RUNNER || 'thread';
const pollMs = 25;

const config = {
  backend: { driver: '@sidequest/mysql-backend', config: dbUrl.toString() },
  queues: [{ name: 'bench', concurrency: workload.concurrency }],
  maxConcurrentJobs: workload.concurrency,
  runner,
  logger: { level: 'warn' },
  gracefulShutdown: false,
  dashboard: { enabled: false },
};

async function main() {
  const admin = await mysql.createConnection({ uri: server.toString() });
  let udp;
  try {
    const [[{ v }]] = await admin.query('SELECT VERSION() AS v');
    const serverVersion = /mariadb/i.test(v) ? `MariaDB ${v.split('-')[0]}` : `MySQL ${v}`;
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`CREATE DATABASE ${database}`);
    await Sidequest.configure(config); // migrates; the engine is not started yet

    const build = () => Sidequest.build(SignalqBenchNoopJob).queue('bench');
    let next = 0;
    const enq = await timed(() => Promise.all(Array.from({ length: enqueueParallel }, async () => {
      while (next < workload.n) await build().enqueue(payloadFor(next++));
    })));
    log(`enqueued ${workload.n} in ${enq.ms.toFixed(0)} ms`);

    const t0 = performance.now();
    await Sidequest.start(config);
    const engineStartMs = Math.round(performance.now() - t0);
    // Jobs run in another process, so count them where Sidequest writes their outcome.
    const tEnd = await withTimeout((async () => {
      for (;;) {
        const [rows] = await admin.query(
          `SELECT SUM(state = 'completed') AS done, SUM(state = 'failed') AS failed FROM ${database}.sidequest_jobs`,
        );
        if (Number(rows[0].failed) > 0) {
          const [[f]] = await admin.query(`SELECT errors FROM ${database}.sidequest_jobs WHERE state = 'failed' LIMIT 1`);
          throw new Error(`a job failed: ${JSON.stringify(f.errors).slice(0, 200)}`);
        }
        if (Number(rows[0].done) >= workload.n) return performance.now();
        await sleep(pollMs);
      }
    })(), workload.phaseTimeoutMs, `processing ${workload.n} jobs`);
    const processMs = tEnd - t0;
    log(`processed ${workload.n} in ${processMs.toFixed(0)} ms`);

    const probe = latencyProbe();
    udp = dgram.createSocket('udp4');
    udp.on('message', (msg) => {
      const m = JSON.parse(String(msg));
      probe.started({ i: m.i, t: m.t }, m.startedAt);
    });
    await new Promise((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    const latency = await probe.run(workload.latencyN, (payload) => build().enqueue({ ...payload, port }), 10_000);
    report({
      system: SYSTEM,
      label: `Sidequest ${version}${runner === 'thread' ? '' : ` (${runner} runner)`}`,
      version: `${version} (@sidequest/mysql-backend ${backendVersion})`,
      server: serverVersion,
      settings: {
        concurrency: workload.concurrency, enqueue: `enqueue() loop, ${enqueueParallel} in flight (no bulk API)`,
        runner, fork: 'on (default)', jobPollingInterval: '100 ms (default)',
        completion: `polled in the database every ${pollMs} ms`,
      },
      enqueuePerSec: perSecond(workload.n, enq.ms),
      processPerSec: perSecond(workload.n, processMs),
      latencyMs: latency,
      // Part of the processing time: forking the engine process until it reports ready.
      engineStartMs,
    });
  } finally {
    udp?.close();
    await Sidequest.stop().catch((e) => log('stop failed', e.message));
    if (!process.env.BENCH_KEEP) await admin.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await admin.end().catch(() => {});
  }
}

main().then(() => process.exit(0), (e) => reportFailure(SYSTEM, e));
