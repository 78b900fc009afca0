/**
 * An idle worker: what it costs the database while nothing happens, and how soon it starts a handler on an item
 * enqueued by another process (and by its own process, which wakes it at once).
 *
 * Latency is the handler's start minus the wall-clock time taken just before the `enqueue` call, both read from
 * the same machine clock (`performance.timeOrigin + performance.now()`), the send time carried in the payload.
 */
import { join } from 'node:path';
import knexFactory from 'knex';
import { emptyItems, openQueue, type BenchDatabase } from './databases.ts';
import { spawnTsx, waitForLine } from './processes.ts';
import type { Settings } from './settings.ts';
import { percentile, round1, sleep, wallNow } from './stats.ts';

export interface LatencyFigure {
  n: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface IdleFigure {
  seconds: number;
  /** Statements the worker's own knex sent per second (exact, whatever else uses the server). */
  clientQueriesPerSec: number;
  /** MariaDB: growth of the global `Questions` counter per second while the worker idled ... */
  serverQuestionsPerSec: number | null;
  /** ... and over a same-length window before the worker started (other clients of the server, and the probe). */
  serverBaselinePerSec: number | null;
}

export interface IdleAndLatency {
  idle: IdleFigure | null;
  otherProcess: (LatencyFigure & { enqueueMedianMs: number; enqueueP95Ms: number }) | null;
  sameProcess: LatencyFigure | null;
  pollIntervalMs: number;
}

function figure(latencies: number[]): LatencyFigure {
  return { n: latencies.length, medianMs: round1(percentile(latencies, 50)), p95Ms: round1(percentile(latencies, 95)), maxMs: round1(Math.max(...latencies)) };
}

/** Reads MariaDB's global `Questions` counter through a connection of its own. */
function questionsProbe(db: BenchDatabase) {
  if (db.dialect !== 'mysql') return null;
  const k = knexFactory({ client: 'mysql2', connection: { uri: db.url } as any, pool: { min: 1, max: 1 } });
  return {
    async read(): Promise<number> {
      const [rows] = await k.raw("SHOW GLOBAL STATUS LIKE 'Questions'");
      return Number(rows[0].Value);
    },
    close: () => k.destroy(),
  };
}

export async function measureIdleAndLatency(db: BenchDatabase, s: Settings, log: (m: string) => void): Promise<IdleAndLatency> {
  const q = await openQueue(db, s);
  const probe = questionsProbe(db);
  const fromOther: number[] = [];
  const fromSame: number[] = [];
  let wanted = Infinity;
  let gotAll: () => void = () => {};
  try {
    await emptyItems(q.knex);
    let queries = 0;
    q.knex.on('query', () => queries++);
    q.connect({
      name: 'latency',
      types: ['bench.latency', 'bench.latency.same'],
      handle(item) {
        const started = wallNow();
        const p = item.payload as { sentAt: number };
        (item.type === 'bench.latency' ? fromOther : fromSame).push(started - p.sentAt);
        if (fromOther.length + fromSame.length >= wanted) gotAll();
      },
    });

    let idle: IdleFigure | null = null;
    const secs = s.idleSeconds;
    let baseline: number | null = null;
    if (probe && s.sections.has('idle')) {
      const b0 = await probe.read();
      await sleep(secs * 1000);
      baseline = (await probe.read()) - b0;
    }

    const working = q.work();
    await sleep(500); // past start-up (clock sync, lease expiry) into the idle poll

    if (s.sections.has('idle')) {
      const q0 = probe ? await probe.read() : 0;
      const c0 = queries;
      await sleep(secs * 1000);
      const c1 = queries;
      const q1 = probe ? await probe.read() : 0;
      idle = {
        seconds: secs,
        clientQueriesPerSec: round1((c1 - c0) / secs),
        serverQuestionsPerSec: probe ? round1((q1 - q0) / secs) : null,
        serverBaselinePerSec: baseline == null ? null : round1(baseline / secs),
      };
      log(`idle worker: ${idle.clientQueriesPerSec} queries/s sent by the worker` +
        (probe ? `; server Questions ${idle.serverQuestionsPerSec}/s while idle vs ${idle.serverBaselinePerSec}/s without the worker` : ''));
    }

    let otherProcess: IdleAndLatency['otherProcess'] = null;
    let sameProcess: LatencyFigure | null = null;
    if (s.sections.has('latency')) {
      wanted = s.latencyN;
      const all = new Promise<void>((r) => (gotAll = r));
      const child = spawnTsx(s, join(s.root, 'scripts/bench/latency-child.ts'), {
        BENCH_DB_URL: db.url,
        LATENCY_N: String(s.latencyN),
        LATENCY_GAP_MS: s.latencyGapMs.join('-'),
      });
      await waitForLine(child.child, 'stdout', /^ready$/, 30_000);
      const budget = s.latencyN * (s.latencyGapMs[1] + 50) + 30_000;
      const timedOut = await Promise.race([all.then(() => false), child.exited.then(() => sleep(2000)).then(() => true), sleep(budget).then(() => true)]);
      const code = await child.exited;
      if (code !== 0) throw new Error(`latency child exited with ${code}: ${child.stderr().trim().split('\n').slice(-3).join(' | ')}`);
      const sent = JSON.parse(child.stdout().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}');
      if (timedOut) log(`latency: only ${fromOther.length} of ${s.latencyN} items reached the handler`);
      otherProcess = { ...figure(fromOther), enqueueMedianMs: sent.enqueueMedianMs, enqueueP95Ms: sent.enqueueP95Ms };
      log(`latency, enqueue in another process -> handler start: median ${otherProcess.medianMs} ms, p95 ${otherProcess.p95Ms} ms, max ${otherProcess.maxMs} ms over ${otherProcess.n} (the enqueue call itself: median ${sent.enqueueMedianMs} ms)`);

      const sameN = Math.min(50, s.latencyN);
      wanted = s.latencyN + sameN;
      const sameAll = new Promise<void>((r) => (gotAll = r));
      for (let i = 0; i < sameN; i++) {
        await sleep(s.latencyGapMs[0] + Math.random() * (s.latencyGapMs[1] - s.latencyGapMs[0]));
        await q.enqueue('bench.latency.same', { i, sentAt: wallNow() });
      }
      await Promise.race([sameAll, sleep(10_000)]);
      sameProcess = figure(fromSame);
      log(`latency, enqueue in the same process -> handler start: median ${sameProcess.medianMs} ms, p95 ${sameProcess.p95Ms} ms over ${sameProcess.n}`);
    }

    q.stop();
    await working;
    return { idle, otherProcess, sameProcess, pollIntervalMs: q.options.pollIntervalMs };
  } finally {
    await q.close();
    await probe?.close();
  }
}
