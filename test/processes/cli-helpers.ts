/**
 * Spawning the real `signalq` command (`node src/cli/bin.mjs ...`) from process-level tests, and small helpers
 * for watching the database while those processes run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Queue } from '../../src/queue/queue.ts';
import type { Dialect } from '../helpers/databases.ts';
import { databaseUrl, freshQueue } from '../helpers/queue.ts';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The `signalq` entry point. */
export const BIN = join(ROOT, 'src/cli/bin.mjs');
/** Folder of handler modules for one fixture set (test/fixtures/<name>). */
export const fixtureHandlers = (name: string) => join(ROOT, 'test/fixtures', name);

export interface CliResult {
  /** Exit code; null when the process ended on a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to (and overriding) the test process's environment. */
  env?: Record<string, string | undefined>;
  /** Written to standard input, which is then closed. Without it standard input is closed at once. */
  input?: string;
  /** Working directory. Default: a scratch directory, so a default `var/` never lands in the repository. */
  cwd?: string;
  /** Safety net against a hung process (not a timing assertion): killed with SIGKILL after this. Default 45 s. */
  killAfterMs?: number;
}

let scratch: string | undefined;
const scratchDir = () => (scratch ??= mkdtempSync(join(tmpdir(), 'signalq-cli-')));

/** A running `signalq` process: its child, the result once it exits, and what it printed so far. */
export interface RunningCli {
  child: ChildProcess;
  result: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
}

/** Starts `signalq ...args` and returns at once. */
export function startCli(args: string[], opts: CliOptions = {}): RunningCli {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The test runner's own settings must not leak into the command under test.
  delete env.SIGNALQ_DB;
  delete env.NODE_OPTIONS;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? scratchDir(), env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  child.stdin!.on('error', () => {}); // the command may exit before reading all of it
  child.stdin!.end(opts.input ?? '');
  const guard = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 45_000);
  const result = new Promise<CliResult>((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolvePromise({ code, signal, stdout: out, stderr: err });
    });
  });
  return { child, result, stdout: () => out, stderr: () => err };
}

/** Runs `signalq ...args` to its end. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).result;
}

/** Waits until `check` returns a truthy value (polling), or fails after `limitMs` with `what` in the message. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, limitMs = 30_000, everyMs = 50): Promise<NonNullable<T>> {
  const until = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The lines a process printed, without the empty last one. */
export const linesOf = (text: string) => text.split('\n').filter((l) => l.length > 0);

/** True when text looks like a stack trace was printed. */
export const hasStackTrace = (text: string) => /^\s+at .+[:(]/m.test(text);

/**
 * A migrated database for spawned processes, with the `effects` table the fixture handlers record each run in
 * (`phase` for the slow handler's start/end rows). The queue is closed after the test.
 */
export async function databaseWithEffects(dialect: Dialect, opts: { phase?: boolean } = {}): Promise<{ db: string; q: Queue }> {
  const q = await freshQueue(dialect);
  await q.knex.schema.createTable('effects', (t) => {
    t.increments('id');
    t.integer('item_id').notNullable();
    t.string('handler', 20).notNullable();
    if (opts.phase) t.string('phase', 10).notNullable();
  });
  const db = databaseUrl(q);
  return { db, q };
}
