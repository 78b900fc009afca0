/**
 * Isolated handlers (`isolated: true`): each run happens in a child process of the worker, so a run that ignores
 * its cancel or its timeout is ended for real. The child (isolated-child.ts) imports the handler's module, runs it
 * with a context whose reports come back here over IPC, and sends back the outcome. On a cancel or a timeout the
 * child is told to abort, and is killed with SIGKILL `killAfterMs` later if it has not exited; the worker itself
 * is never harmed, and a crash of the child fails only that run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { HandlerTimeoutError, PermanentError, RetryLaterError, messageOf } from '../errors.ts';
import type { Handler, HandlerOutcome, Item } from '../types.ts';
import { MAX_ERROR_CHARS, failureOf, keptValue } from '../queue/handlers.ts';
import { CanceledError } from './item-run.ts';
import type { JobHooks } from './context.ts';

/** Grace period between a cancel or timeout and the kill, when the handler declares none. */
export const DEFAULT_KILL_AFTER_MS = 3_000;

/** What the worker sends the child. */
export type ToChild =
  | { kind: 'run'; module: string; name: string; item: Item; attempt: number; idempotencyKey: string; db: string }
  | { kind: 'abort'; name: string; message: string };

/** A thrown value as it crosses the process boundary: the kinds that change what happens next survive. */
export interface ThrownInChild {
  name: string;
  message: string;
  delayMs?: number;
}

/** What the child sends the worker: the handler's reports, then its outcome. */
export type FromChild =
  | { kind: 'progress'; done: number; size: number | null; message: string | null }
  | { kind: 'history'; record: { comment: string; subject?: string | number; status?: string } }
  | { kind: 'summary'; line: string }
  | { kind: 'warn'; message: string }
  | { kind: 'done'; value: unknown }
  | { kind: 'failed'; error: ThrownInChild };

// The child runs from the same tree as this module: isolated-child.ts from the sources, .js once compiled.
const CHILD = fileURLToPath(new URL(`./isolated-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
const TYPESCRIPT = /\.[mc]?ts$/;

/**
 * The URL a child process opens the queue's database with, read from the queue's knex settings (`sqlite:FILE` or
 * the MySQL URL), so the child's `ctx.knex` reaches the same database.
 */
export function databaseUrlOf(knex: Knex): string {
  const c = knex.client.config.connection as { uri?: string; filename?: string };
  if (c?.uri) return c.uri;
  if (c?.filename) return `sqlite:${c.filename}`;
  throw new Error('cannot tell which database the queue uses, for the isolated handler\'s process');
}

/**
 * Node options for the child: tsx's loader when the child or the handler's module is TypeScript. tsx is resolved
 * from signalq's own folder (not the worker's working directory), and only then: compiled handlers need none.
 */
export function childExecArgv(handlerModule: string): string[] {
  if (!TYPESCRIPT.test(CHILD) && !TYPESCRIPT.test(handlerModule)) return [];
  let tsx: string;
  try {
    tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    throw new Error(`handler module ${handlerModule} is TypeScript, which needs tsx to load in its own process: install it (npm install --save-dev tsx), or compile the handlers to .js`);
  }
  return ['--import', tsx];
}

/** A thrown value rebuilt from the child's description, as `failureOf` reads it. */
export function errorFromChild(e: ThrownInChild): Error {
  if (e.name === 'PermanentError') return new PermanentError(e.message);
  if (e.name === 'RetryLaterError') return new RetryLaterError(e.message, Number(e.delayMs));
  if (e.name === 'CanceledError') return new CanceledError(e.message);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** Why a child that ended without an outcome ended, for its failure message. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by signal ${signal}` : `exited with code ${code}`;
}

/**
 * Runs handler `h` on `item` in a child process. Never throws: failure, crash, timeout and cancel come back as an
 * outcome, once the child has exited (its side effects are over before the item is settled).
 */
export function runIsolated(h: Handler, item: Item, attempt: number, timeoutMs: number, knex: Knex, job: JobHooks): Promise<HandlerOutcome> {
  const killAfterMs = h.killAfterMs ?? DEFAULT_KILL_AFTER_MS;
  return new Promise((resolve) => {
    let child: ChildProcess;
    let run: ToChild;
    try {
      run = { kind: 'run', module: h.module!, name: h.name, item, attempt, idempotencyKey: `${item.id}:${h.name}`, db: databaseUrlOf(knex) };
      // 'advanced' serialization carries the item's Dates as Dates. stdout and stderr are the worker's.
      child = fork(CHILD, [], { execArgv: childExecArgv(h.module!), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    } catch (err) {
      resolve(failureOf(h.name, new Error(`handler "${h.name}" could not start its process: ${messageOf(err)}`)));
      return;
    }
    let stopped: Error | null = null;
    let killed = false;
    let result: HandlerOutcome | null = null;
    let warning: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const send = (m: ToChild) => {
      // A child that already exited cannot be told (an error here, or in the callback): it is ending anyway.
      try {
        child.send(m, () => {});
      } catch {
        // the channel is closed
      }
    };
    const killLater = () => {
      killTimer ??= setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, killAfterMs);
    };
    // The cancel or the timeout: ask the child to abort, and kill it if it does not exit within the grace period.
    const stop = (reason: Error) => {
      if (stopped || result) return;
      stopped = reason;
      send({ kind: 'abort', name: reason.name, message: reason.message });
      killLater();
    };
    const timer = setTimeout(() => stop(new HandlerTimeoutError(`handler "${h.name}" ran past its timeout of ${timeoutMs} ms`)), timeoutMs);
    const stopListening = job.run ? job.run.onCancel((reason) => stop(reason)) : () => {};

    child.on('message', (m: FromChild) => {
      try {
        switch (m.kind) {
          case 'progress':
            return job.reports.progress(m.done, m.size, m.message ?? undefined);
          case 'history':
            return job.reports.history(m.record);
          case 'summary':
            return job.reports.summary(m.line);
          case 'warn':
            warning = String(m.message);
            return;
          case 'done':
            result = { name: h.name, ok: true };
            if (m.value !== undefined) result.value = keptValue(m.value);
            break;
          case 'failed':
            result = failureOf(h.name, errorFromChild(m.error));
            break;
        }
        // The outcome is in: the child exits on its own; one that lingers is not waited for past the grace period.
        killLater();
      } catch {
        // A report the child already checked cannot fail here; a malformed message is ignored.
      }
    });
    child.once('error', (err) => {
      // The process could not be started (or signalled): it ends as a failed run.
      result ??= failureOf(h.name, new Error(`handler "${h.name}"'s process failed: ${messageOf(err)}`));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    // 'close' comes after the exit and after every message the child sent has been handled.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      stopListening();
      let outcome: HandlerOutcome;
      if (stopped) {
        const grace = killed ? `; it ignored its signal and its process was killed after ${killAfterMs} ms` : '';
        outcome = failureOf(h.name, stopped instanceof CanceledError ? new CanceledError(stopped.message + grace) : new HandlerTimeoutError(stopped.message + grace));
      } else if (result) {
        outcome = result;
      } else {
        outcome = failureOf(h.name, new Error(`handler "${h.name}"'s process ${describeExit(code, signal)} before the run finished`));
      }
      if (warning !== undefined) outcome.warning = warning.slice(0, MAX_ERROR_CHARS);
      resolve(outcome);
    });
    send(run);
  });
}
