/**
 * `npm run bench:peers`: the same workload on signalq and on the Node queues it is measured against (issue 5),
 * alternating within one run, and one table of the figures with signalq's ratio to each peer.
 *
 * The peers are not signalq's dependencies: they are installed into a scratch folder (`.bench/peers`, git-ignored)
 * with `npm install --prefix`, skipped when already there. Each run of a system is a child process of its own
 * (scripts/peers/*), so one system's event loop, pools and timers never disturb another's; it prints one
 * `BENCH_RESULT {json}` line. A peer that cannot be installed, reached or run becomes a row "not run: <reason>".
 *
 * Workload per run: N no-op jobs (~110-byte payloads) enqueued with the system's bulk call (or its enqueue call in a
 * loop where it has none), then one worker (concurrency 50) started and timed until all N are durably done, then
 * enqueue-to-start latency against the idle worker: jobs enqueued one at a time, stamped with Date.now() in the
 * payload, read at the handler's start.
 *
 * Environment: ROUNDS (1), BENCH_N (5000), BENCH_CONCURRENCY (50), BENCH_LATENCY_N (200), PEERS (a comma list of
 * bullmq, graphile-worker, sidequest; default all), BENCH_PEERS_DIR (.bench/peers), BENCH_RUN_TIMEOUT_S (600),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test, else user root),
 * BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306); runner knobs: BENCH_GRAPHILE_BATCHING=1,
 * BENCH_SIDEQUEST_RUNNER=inline, BENCH_SIDEQUEST_ENQUEUE_PARALLEL (10).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intEnv } from './peers/common.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const peersSrc = join(repo, 'scripts', 'peers');
const scratch = resolve(repo, process.env.BENCH_PEERS_DIR || '.bench/peers');
const rounds = intEnv('ROUNDS', 1);
const runTimeoutMs = intEnv('BENCH_RUN_TIMEOUT_S', 600) * 1000;
const redisUrl = new URL(process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379');
const mysqlUrl = new URL(process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306');
const pgUrl = new URL(process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test');

interface Peer {
  id: string;
  /** Packages and the versions installed; `accepts` tells whether an installed version will do. */
  packages: { name: string; spec: string; accepts: (version: string) => boolean }[];
  /** Files of scripts/peers copied beside the runner (the runner is `<id>.mjs`). */
  files: string[];
  server: { what: string; host: string; port: number };
}

// Versions: the lines the issue's peer table was measured on. graphile-worker 0.18 and later want Node >= 22.18;
// @sidequest/mysql-backend 1.16.5 names a @sidequest/core 1.16.5 the registry does not have, so 1.16.4 it is.
const PEERS: Peer[] = [
  {
    id: 'bullmq',
    packages: [
      { name: 'bullmq', spec: '^6.7.0', accepts: (v) => v.startsWith('6.') },
      // An optional peer dependency of BullMQ, so npm does not add it by itself; 5.x is what BullMQ tests with.
      { name: 'ioredis', spec: '^5.4.0', accepts: (v) => v.startsWith('5.') },
    ],
    files: ['common.mjs', 'bullmq.mjs'],
    server: { what: 'Redis', host: redisUrl.hostname, port: Number(redisUrl.port || 6379) },
  },
  {
    id: 'graphile-worker',
    packages: [{ name: 'graphile-worker', spec: '~0.17.3', accepts: (v) => v.startsWith('0.17.') }],
    files: ['common.mjs', 'graphile-worker.mjs'],
    server: { what: 'PostgreSQL', host: pgUrl.hostname, port: Number(pgUrl.port || 5432) },
  },
  {
    id: 'sidequest',
    packages: [
      { name: 'sidequest', spec: '1.16.4', accepts: (v) => v === '1.16.4' },
      { name: '@sidequest/mysql-backend', spec: '1.16.4', accepts: (v) => v === '1.16.4' },
    ],
    files: ['common.mjs', 'sidequest.mjs', 'sidequest-job.mjs'],
    server: { what: 'MariaDB', host: mysqlUrl.hostname, port: Number(mysqlUrl.port || 3306) },
  },
];

/** One run's figures, as a runner reports them (or why it did not run). */
interface RunResult {
  system: string;
  label?: string;
  version?: string;
  server?: string;
  settings?: Record<string, unknown>;
  enqueuePerSec?: number;
  processPerSec?: number;
  latencyMs?: { median: number; p95: number; max: number; n: number };
  latencySameQueueMs?: { median: number; p95: number; max: number; n: number };
  engineStartMs?: number;
  error?: string;
  notes?: string[];
}

const say = (line: string) => process.stderr.write(`[bench:peers] ${line}\n`);

function installedVersion(name: string): string | null {
  try {
    return JSON.parse(readFileSync(join(scratch, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function npmInstall(specs: string[]): string | null {
  say(`npm install --prefix ${scratch} ${specs.join(' ')}`);
  const r = spawnSync('npm', ['install', '--prefix', scratch, '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
    encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status === 0) return null;
  // npm's first telling line: skip its code/syscall/errno lines, stack frames and warnings.
  const lines = `${r.stderr ?? ''}\n${r.error?.message ?? ''}`.split('\n')
    .filter((l) => !/^npm warn/i.test(l))
    .map((l) => l.replace(/^npm (error|ERR!) /, '').replace(/^notarget /, '').trim());
  const telling = lines.find((l) => l && !/^(code|syscall|errno) |^at |complete log of this run/.test(l));
  return telling ?? `npm exited with ${r.status}`;
}

/**
 * Installs what is missing, all at once; when that fails, peer by peer, so one peer's failure leaves the others
 * installed. Returns the peers that cannot run, with the reason.
 */
function installPeers(peers: Peer[]): Map<string, string> {
  mkdirSync(scratch, { recursive: true });
  const missing = (p: Peer) => p.packages.filter((k) => !k.accepts(installedVersion(k.name) ?? ''));
  const failed = new Map<string, string>();
  const todo = peers.filter((p) => missing(p).length > 0);
  if (todo.length === 0) {
    say(`peers already installed in ${scratch}`);
    return failed;
  }
  if (npmInstall(todo.flatMap((p) => missing(p).map((k) => `${k.name}@${k.spec}`))) === null) return failed;
  for (const p of todo) {
    const error = npmInstall(missing(p).map((k) => `${k.name}@${k.spec}`));
    if (error) failed.set(p.id, `install failed: ${error}`);
  }
  return failed;
}

/** Node versions a package's `engines.node` asks for, when it is a plain `>=x.y.z` (else null: not judged). */
function engineShortfall(name: string): string | null {
  let wanted: string | undefined;
  try {
    wanted = JSON.parse(readFileSync(join(scratch, 'node_modules', name, 'package.json'), 'utf8')).engines?.node;
  } catch {
    return null;
  }
  const m = wanted && /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(wanted.trim());
  if (!m) return null;
  const want = [m[1], m[2] ?? '0', m[3] ?? '0'].map(Number);
  const have = process.versions.node.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if (have[i] > want[i]) return null;
    if (have[i] < want[i]) return `${name} asks for Node ${wanted}, this is ${process.version}`;
  }
  return null;
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolveReach) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveReach(ok);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Runs one system in a child process of its own (a process group, so a timeout also ends what it forked, such
 * as Sidequest's engine process) and returns the result line it printed.
 */
function runChild(system: string, command: string, args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, {
      cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BENCH_SYSTEM: system, BENCH_REDIS_URL: redisUrl.toString(), BENCH_MYSQL_URL: mysqlUrl.toString() },
    });
    let result: RunResult | null = null;
    let lastErr = '';
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('BENCH_RESULT ')) result = JSON.parse(line.slice('BENCH_RESULT '.length));
        else if (line.trim()) process.stderr.write(`  ${system}| ${line}\n`);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) {
        lastErr = line.trim();
        process.stderr.write(`  ${system}| ${line}\n`);
      }
    });
    const timer = setTimeout(() => {
      result ??= { system, error: `no result within ${runTimeoutMs / 1000} s (BENCH_RUN_TIMEOUT_S)` };
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, runTimeoutMs);
    child.on('error', (e) => {
      result ??= { system, error: `could not start: ${e.message}` };
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun(result ?? { system, error: `exited with code ${code} and no result: ${lastErr.slice(0, 200)}` });
    });
  });
}

async function runPeer(peer: Peer, notRun: Map<string, string>): Promise<RunResult> {
  const known = notRun.get(peer.id);
  if (known) return { system: peer.id, error: known };
  if (!(await reachable(peer.server.host, peer.server.port))) {
    return { system: peer.id, error: `${peer.server.what} at ${peer.server.host}:${peer.server.port} is not reachable` };
  }
  const runners = join(scratch, 'runners');
  mkdirSync(runners, { recursive: true });
  // Copied into the scratch folder so the runner's bare imports resolve to the peers' node_modules there.
  for (const f of peer.files) copyFileSync(join(peersSrc, f), join(runners, f));
  const engines = peer.packages.map((k) => engineShortfall(k.name)).filter((s): s is string => s !== null);
  const r = await runChild(peer.id, process.execPath, [join(runners, `${peer.id}.mjs`)], scratch);
  if (engines.length) {
    if (r.error) r.error = `${r.error} (${engines.join('; ')})`;
    else r.notes = [...(r.notes ?? []), `ran although ${engines.join('; ')}`];
  }
  return r;
}

async function runSignalq(): Promise<RunResult> {
  if (!(await reachable(mysqlUrl.hostname, Number(mysqlUrl.port || 3306)))) {
    return { system: 'signalq', error: `MariaDB at ${mysqlUrl.host} is not reachable` };
  }
  return runChild('signalq', process.execPath, ['--import', 'tsx', join(peersSrc, 'signalq.ts')], repo);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtInt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const fmtMs = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(1) : x.toFixed(0)) : '-');
const fmtRatio = (x: number) => (Number.isFinite(x) ? `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x` : '-');

/** A system's figures over the rounds: the median of each. */
function summarize(runs: RunResult[]) {
  const ok = runs.filter((r) => !r.error);
  return {
    ok: ok.length,
    label: ok[0]?.label ?? runs[0]?.system,
    server: ok[0]?.server,
    enqueue: median(ok.map((r) => r.enqueuePerSec!)),
    process: median(ok.map((r) => r.processPerSec!)),
    p50: median(ok.map((r) => r.latencyMs!.median)),
    p95: median(ok.map((r) => r.latencyMs!.p95)),
    errors: [...new Set(runs.filter((r) => r.error).map((r) => r.error!))],
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w, c) => (c === 0 ? ':' : '-') + '-'.repeat(w) + (c === 0 ? '-' : ':')).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

async function main() {
  const only = (process.env.PEERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((id) => !PEERS.some((p) => p.id === id));
  if (unknown.length) throw new Error(`PEERS names ${unknown.join(', ')}; use some of ${PEERS.map((p) => p.id).join(', ')}`);
  const peers = only.length ? PEERS.filter((p) => only.includes(p.id)) : PEERS;
  const cpu = cpus();
  const machine = `${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${loadavg().map((x) => x.toFixed(1)).join(' ')} at start`;
  say(machine);

  const notRun = installPeers(peers);
  for (const [id, why] of notRun) say(`${id}: ${why}`);

  // Alternating: each peer's run is followed by a signalq run, and the ratio pairs the two, so a load that comes
  // and goes on this shared machine falls on both sides of a ratio as far as possible.
  const runs = new Map<string, RunResult[]>([...peers.map((p) => [p.id, []] as [string, RunResult[]]), ['signalq', []]]);
  const ratios = new Map<string, { enqueue: number; process: number; p50: number; p95: number }[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const peer of peers) {
      say(`round ${round}/${rounds}: ${peer.id}`);
      const p = await runPeer(peer, notRun);
      runs.get(peer.id)!.push(p);
      if (p.error) {
        say(`${peer.id}: not run: ${p.error}`);
        continue;
      }
      say(`round ${round}/${rounds}: signalq (paired with ${peer.id})`);
      const s = await runSignalq();
      runs.get('signalq')!.push(s);
      if (s.error) {
        say(`signalq: ${s.error}`);
        continue;
      }
      const list = ratios.get(peer.id) ?? [];
      list.push({
        enqueue: s.enqueuePerSec! / p.enqueuePerSec!,
        process: s.processPerSec! / p.processPerSec!,
        p50: p.latencyMs!.median / s.latencyMs!.median,
        p95: p.latencyMs!.p95 / s.latencyMs!.p95,
      });
      ratios.set(peer.id, list);
    }
    if (peers.every((p) => runs.get(p.id)![round - 1].error)) {
      say(`round ${round}/${rounds}: signalq alone (no peer ran)`);
      runs.get('signalq')!.push(await runSignalq());
    }
  }

  const header = ['system', 'enqueue jobs/s', 'process jobs/s', 'latency median / p95 ms', 'signalq x: enqueue', 'process', 'latency median', 'p95'];
  const rows: string[][] = [header];
  for (const id of [...peers.map((p) => p.id), 'signalq']) {
    const s = summarize(runs.get(id)!);
    const label = `${s.label}${s.server && !s.label?.includes(s.server) ? ` on ${s.server}` : ''}`;
    if (s.ok === 0) {
      rows.push([`${id}: not run: ${s.errors.join('; ') || 'no run'}`, '', '', '', '', '', '', '']);
      continue;
    }
    const r = ratios.get(id) ?? [];
    const m = (k: 'enqueue' | 'process' | 'p50' | 'p95') => (id === 'signalq' ? NaN : median(r.map((x) => x[k])));
    rows.push([
      label, fmtInt(s.enqueue), fmtInt(s.process), `${fmtMs(s.p50)} / ${fmtMs(s.p95)}`,
      id === 'signalq' ? '' : fmtRatio(m('enqueue')), id === 'signalq' ? '' : fmtRatio(m('process')),
      id === 'signalq' ? '' : fmtRatio(m('p50')), id === 'signalq' ? '' : fmtRatio(m('p95')),
    ]);
  }
  const n = intEnv('BENCH_N', 5000);
  const conc = intEnv('BENCH_CONCURRENCY', 50);
  const latN = intEnv('BENCH_LATENCY_N', 200);
  console.log('');
  console.log(`Peers, side by side: N=${n} no-op jobs, one worker process, concurrency ${conc}, ${latN} latency jobs, ${rounds} round(s); ${machine}.`);
  console.log(table(rows));
  console.log('');
  console.log('signalq x: signalq\'s figure over the peer\'s for throughput, the peer\'s over signalq\'s for latency (above 1: signalq better),');
  console.log('each from the signalq run right after that peer\'s run, median over rounds. Other columns: median over rounds.');
  console.log('process jobs/s: from starting the worker until all N are durably done. Latency: enqueue to handler start, idle worker.');
  // Settings and notes: one line per system, from its first run that worked (they are the same in every run).
  for (const list of runs.values()) {
    const r = list.find((x) => !x.error);
    if (!r) continue;
    const extra = [
      r.version ? `version ${r.version}` : '',
      r.settings ? Object.entries(r.settings).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ') : '',
      r.engineStartMs !== undefined ? `engine start ${r.engineStartMs} ms (counted in process time)` : '',
      r.latencySameQueueMs
        ? `latency when the worker's own queue enqueues (in-process wake-up): ${fmtMs(r.latencySameQueueMs.median)} / ${fmtMs(r.latencySameQueueMs.p95)} ms`
        : '',
      ...(r.notes ?? []),
    ].filter(Boolean);
    console.log(`- ${r.system}${r.server ? ` on ${r.server}` : ''}: ${extra.join('; ')}`);
  }
  console.log(JSON.stringify({
    bench: 'peers', machine, workload: { n, concurrency: conc, latencyN: latN, rounds },
    runs: Object.fromEntries(runs),
    ratios: Object.fromEntries(ratios),
  }));
}

main().catch((e) => {
  console.error(`bench:peers failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
