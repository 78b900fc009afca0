/**
 * `npm run bench`: signalq's speed on SQLite (a temp file) and MariaDB/MySQL (a database it creates and drops),
 * side by side with what the database itself allows (the shared floor scripts), against issue 5's targets.
 *
 * Default run (a few minutes at most): bulk enqueue, processing with one and three no-op handlers, the command-line
 * forms against them (`signalq enqueue --file`, `signalq process --until-empty`), enqueue-to-start
 * latency from another process, the idle worker's database traffic, scale-out over 1/2/4 `signalq work` processes
 * (MariaDB), and the floors. Opt-in: BENCH_HISTORY=1 (speed with a million done rows), BENCH_LONG=1 (one work
 * process over a million items, its memory sampled). See scripts/bench/settings.ts for every variable.
 *
 * Prints progress as it goes, then one table and one JSON line (`BENCH_OUT=file` also writes the JSON there).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { createBenchDatabase, openQueue, type BenchDatabase } from './bench/databases.ts';
import { measureThroughput } from './bench/throughput.ts';
import { measureIdleAndLatency } from './bench/latency.ts';
import { measureScaleOut, measureLongRun } from './bench/workers.ts';
import { measureHistory } from './bench/history.ts';
import { measureCli } from './bench/cli.ts';
import { measureFloor } from './bench/floors.ts';
import { buildTable, type DialectResults } from './bench/report.ts';
import { readSettings, USAGE, workerFlags, type Settings } from './bench/settings.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}

let s: Settings;
try {
  s = readSettings();
} catch (err) {
  console.error(`bench: ${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const started = Date.now();
const log = (m: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${m}`);

const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAvgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
};

console.log(`signalq bench: ${s.dialects.join(' + ')}; sections ${[...s.sections].join(', ')}`);
console.log(`  N=${s.n} items of ~110-byte payloads {i, text: 'x' * 100}, BENCH_REPEAT=${s.repeat} (median kept), warm-up ${s.warmup} items, ` +
  `async no-op handlers, latency ${s.latencyN} items with ${s.latencyGapMs.join('-')} ms gaps, idle window ${s.idleSeconds} s` +
  (s.sections.has('cli') ? `, command-line forms over ${s.cliN} items` : '') +
  (s.sections.has('scale') ? `, scale-out ${s.scale.join('/')} processes` : '') +
  (s.sections.has('history') ? `, history ${s.historyRows} done rows` : '') +
  (s.sections.has('long') ? `, long run ${s.longN} items` : ''));
console.log(`  machine: ${machine.cpus} x ${machine.cpu}, ${machine.memGb} GB, node ${machine.node}, load ${machine.loadAvgAtStart.join(' ')}` +
  ' (a shared machine: compare ratios within one run)');
if (s.cpuProfDir) console.log(`  work processes write CPU profiles to ${s.cpuProfDir}`);

async function section<T>(r: DialectResults, name: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const error = (err as Error)?.stack ?? String(err);
    r.failures.push({ section: name, error: String((err as Error)?.message ?? err) });
    log(`${r.dialect} ${name} FAILED: ${error}`);
    return undefined;
  }
}

async function runDialect(db: BenchDatabase, s: Settings): Promise<DialectResults> {
  const r: DialectResults = { dialect: db.dialect, database: db.display, failures: [] };
  const dlog = (m: string) => log(`${db.dialect}: ${m}`);
  const q = await openQueue(db, s);
  try {
    await q.migrate();
    r.options = q.options;
    if (db.dialect === 'mysql') {
      const [rows] = await q.knex.raw("SELECT VERSION() v, @@innodb_flush_log_at_trx_commit f");
      r.server = `${rows[0].v}, innodb_flush_log_at_trx_commit=${rows[0].f}`;
    } else {
      r.server = `SQLite ${(await q.knex.raw('SELECT sqlite_version() v'))[0].v}`;
    }
  } finally {
    await q.close();
  }
  const o = r.options!;
  dlog(`${db.display} (${r.server}); queue options batchSize ${o.batchSize}, concurrency ${o.concurrency}, pollIntervalMs ${o.pollIntervalMs}, ` +
    `settleDelayMs ${o.settleDelayMs}, leaseMs ${o.leaseMs}; work processes: ${['work', ...workerFlags(s)].join(' ')}`);

  if (s.sections.has('floor')) r.floor = await section(r, 'floor', () => measureFloor(db, s, dlog));
  if (s.sections.has('enqueue') || s.sections.has('process')) {
    const t = await section(r, 'throughput', () => measureThroughput(db, s, dlog));
    if (t) Object.assign(r, t);
  }
  if (s.sections.has('cli')) r.cli = await section(r, 'cli', () => measureCli(db, s, dlog));
  if (s.sections.has('latency') || s.sections.has('idle')) r.idleAndLatency = await section(r, 'latency', () => measureIdleAndLatency(db, s, dlog));
  if (s.sections.has('scale') && db.dialect === 'mysql') r.scale = await section(r, 'scale', () => measureScaleOut(db, s, dlog));
  if (s.sections.has('long')) r.long = await section(r, 'long', () => measureLongRun(db, s, dlog));
  if (s.sections.has('history')) r.history = await section(r, 'history', () => measureHistory(db, s, dlog));
  return r;
}

const results: DialectResults[] = [];
const open: BenchDatabase[] = [];
const cleanUp = async () => {
  for (const db of open.splice(0)) await db.drop().catch((e) => log(`could not drop ${db.display}: ${e.message}`));
};
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
try {
  for (const dialect of s.dialects) {
    let db: BenchDatabase;
    try {
      db = await createBenchDatabase(dialect, s);
    } catch (err) {
      log(`${dialect}: cannot create the bench database: ${(err as Error).message}`);
      results.push({ dialect, database: '-', failures: [{ section: 'setup', error: (err as Error).message }] });
      continue;
    }
    open.push(db);
    results.push(await runDialect(db, s));
    await cleanUp();
  }
} finally {
  await cleanUp();
}

console.log('');
for (const r of results) console.log(`${r.dialect}: ${r.database}; ${r.server ?? ''}`);
console.log(buildTable(results));
const failures = results.flatMap((r) => r.failures.map((f) => `${r.dialect} ${f.section}: ${f.error}`));
if (failures.length) console.log(`failed sections:\n  ${failures.join('\n  ')}`);
const json = JSON.stringify({ bench: 'signalq', at: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), machine, settings: { ...s, sections: [...s.sections] }, results });
console.log(json);
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, json + '\n');
process.exitCode = failures.length ? 1 : 0;
