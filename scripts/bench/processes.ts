/**
 * Child processes: TypeScript scripts run through tsx, real `signalq work` processes
 * (`signalq work --db URL --handlers DIR`, see `cliEntry`) with a folder of no-op handler modules, and one-shot
 * `signalq` commands run to their exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { workerFlags, type Settings } from './settings.ts';
import { endedChildrenCpuMs, procMemoryMb } from './stats.ts';

/** Resolves with the first line of `child`'s stream matching `re`; rejects when the child exits first or on timeout. */
export function waitForLine(child: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child[stream]! });
    const timer = setTimeout(() => done(new Error(`no line matching ${re} from pid ${child.pid} within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null) => done(new Error(`pid ${child.pid} exited (${code}) before printing a line matching ${re}`));
    const done = (err: Error | null, line?: string) => {
      clearTimeout(timer);
      rl.off('line', onLine);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line!);
    };
    const onLine = (line: string) => {
      if (re.test(line)) done(null, line);
    };
    rl.on('line', onLine);
    child.once('exit', onExit);
  });
}

/** Collects a child's output; `exited` resolves with its exit code. */
function collect(child: ChildProcess) {
  const out: string[] = [];
  const err: string[] = [];
  child.stdout?.on('data', (d) => out.push(String(d)));
  child.stderr?.on('data', (d) => err.push(String(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { stdout: () => out.join(''), stderr: () => err.join(''), exited };
}

/** Runs a TypeScript file of this repo in a child process through tsx. */
export function spawnTsx(s: Settings, file: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: s.root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, ...collect(child) };
}

/** Runs a plain script and parses the JSON lines it prints. Rejects on a non-zero exit. */
export async function runJsonScript(s: Settings, file: string, env: Record<string, string>): Promise<any[]> {
  const child = spawn(process.execPath, [file], { cwd: s.root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const c = collect(child);
  const code = await c.exited;
  if (code !== 0) throw new Error(`${file} exited with ${code}: ${c.stderr().trim().split('\n').slice(-3).join(' | ')}`);
  return c.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

/**
 * A folder with one handler module exporting `handlers` async no-op handlers for type `bench`. When the worker runs with
 * BENCH_SEEN_DIR set, the first handler records every item id it ran and writes them there at exit, so the
 * scale-out run can prove no item ran twice.
 */
export function makeHandlerDir(handlers: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'signalq-bench-handlers-'));
  writeFileSync(
    join(dir, 'noop.mjs'),
    `import { writeFileSync } from 'node:fs';
const seenDir = process.env.BENCH_SEEN_DIR;
const waitMs = Number(process.env.BENCH_HANDLER_MS || 0);
const seen = [];
if (seenDir) process.on('exit', () => writeFileSync(seenDir + '/seen-' + process.pid + '.json', JSON.stringify(seen)));
export default Array.from({ length: ${handlers} }, (_, i) => ({
  name: 'noop' + i,
  types: ['bench'],
  async handle(item) {
    if (seenDir && i === 0) seen.push(item.id);
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
  },
}));
`,
  );
  return dir;
}

/** Item ids recorded by workers run with BENCH_SEEN_DIR=dir: handler runs, ids run more than once, runs per worker. */
export function readSeen(dir: string): { runs: number; distinct: number; duplicates: number; perFile: number[] } {
  const counts = new Map<number, number>();
  const perFile: number[] = [];
  for (const f of readdirSync(dir).filter((f) => f.startsWith('seen-'))) {
    const ids = JSON.parse(readFileSync(join(dir, f), 'utf8')) as number[];
    perFile.push(ids.length);
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return { runs: perFile.reduce((a, b) => a + b, 0), distinct: counts.size, duplicates: [...counts.values()].filter((c) => c > 1).length, perFile };
}

/** What one `signalq` command did, timed from its spawn to its exit (start-up included, as a user pays it). */
export interface CliRun {
  code: number | null;
  ms: number;
  /** The command's CPU time (user + system), ms, to 10 ms; null where /proc cannot tell. */
  cpuMs: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The `signalq` command as users run it: the built package's bin (dist/, made by `npm run build`, which `npm install`
 * runs), else the sources through tsx (src/cli/bin.mjs), which pay tsx's start-up on top.
 */
export function cliEntry(root: string): string {
  const built = join(root, 'dist/src/cli/bin.js');
  return existsSync(built) ? built : join(root, 'src/cli/bin.mjs');
}

/**
 * The environment of a `signalq` process: this one's, without the `NODE_OPTIONS=--import=tsx` that npm sets for
 * `npm run bench` from the project's .npmrc (`node-options`, there so that `npx knex` reads knexfile.ts). A user's
 * `signalq` does not load tsx, and it cost every spawned command ~0.2 s of start-up here (src/cli/bin.mjs
 * registers tsx itself when there is no build). Any other NODE_OPTIONS is kept.
 */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  const own = env.NODE_OPTIONS?.replace(/--import[= ]tsx(?=\s|$)/g, '').trim();
  if (own) env.NODE_OPTIONS = own;
  else delete env.NODE_OPTIONS;
  return env;
}

/** Runs one `signalq` command (`node <cliEntry> ...args`) to its exit. */
export async function runCliCommand(s: Settings, args: string[]): Promise<CliRun> {
  const nodeArgs = s.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${s.cpuProfDir}`] : [];
  const cpu0 = endedChildrenCpuMs();
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, cliEntry(s.root), ...args], { cwd: s.root, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const c = collect(child);
  const closed = new Promise((r) => child.once('close', r)); // after 'exit', once the last of its output is read
  const code = await c.exited;
  const ms = performance.now() - t0;
  await closed;
  const cpu1 = endedChildrenCpuMs();
  return { code, ms, cpuMs: cpu0 == null || cpu1 == null ? null : cpu1 - cpu0, stdout: c.stdout(), stderr: c.stderr() };
}

/** One `signalq work` process. */
export class CliWorker {
  readonly child: ChildProcess;
  private readonly out: ReturnType<typeof collect>;
  private sampler: NodeJS.Timeout | null = null;
  /** Highest VmRSS sampled, and the kernel's own high-water mark (VmHWM), in MB. */
  peakRssMb = 0;
  hwmMb = 0;
  samples: { at: number; rssMb: number }[] = [];

  constructor(s: Settings, dbUrl: string, handlerDir: string, env: Record<string, string> = {}) {
    const nodeArgs = s.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${s.cpuProfDir}`] : [];
    const args = [...nodeArgs, cliEntry(s.root), 'work', '--db', dbUrl, '--handlers', handlerDir, ...workerFlags(s)];
    this.child = spawn(process.execPath, args, { cwd: s.root, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.out = collect(this.child);
  }

  /** Resolves once the worker says it is working (handlers loaded, database open). */
  ready(timeoutMs = 30_000): Promise<string> {
    return waitForLine(this.child, 'stderr', /signalq: working on/, timeoutMs);
  }

  /** Samples the worker's resident memory every `everyMs`. */
  sampleMemory(everyMs = 250): void {
    const t0 = Date.now();
    this.sampler = setInterval(() => {
      const m = procMemoryMb(this.child.pid!);
      if (!m) return;
      this.peakRssMb = Math.max(this.peakRssMb, m.rss);
      this.hwmMb = Math.max(this.hwmMb, m.peak);
      this.samples.push({ at: Date.now() - t0, rssMb: m.rss });
    }, everyMs);
  }

  /** Graceful stop (SIGTERM); resolves with the exit code. Kills it after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (this.sampler) clearInterval(this.sampler);
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.out.exited;
    clearTimeout(timer);
    return code;
  }

  get stderr(): string {
    return this.out.stderr();
  }

  /** Lines where the worker reported a database error or a lost claim (deadlocks surface here). */
  get problems(): string[] {
    return this.stderr.split('\n').filter((l) => /database error|outcomes not written|deadlock/i.test(l));
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
