/**
 * Connecting handlers to the `processItem` signal, and running one handler on one item with its timeout.
 */
import type { Knex } from 'knex';
import { HandlerTimeoutError, PermanentError, RetryLaterError, UsageError, messageOf } from '../errors.ts';
import type { Signals, ProcessItemSignal } from '../signals.ts';
import type { Handler, HandlerContext, HandlerOutcome, Item } from '../types.ts';
import { validateTypeName } from './validate.ts';
import { SIGNALQ_VERDICT } from './decide.ts';
import { CanceledError } from '../jobs/item-run.ts';
import { NO_JOB, type JobHooks } from '../jobs/context.ts';
import { checkParamsSchema } from '../jobs/params.ts';
import { runIsolated } from '../jobs/isolated.ts';

/**
 * Names a handler may not take: its name keys the item's results map, where `__proto__` would set the map's
 * prototype instead of an entry (the success was dropped and the handler ran again every trial), and `signalq`
 * holds signalq's own verdicts (a payload that is not JSON, an outcome the database refused).
 */
const RESERVED_NAMES = new Map([
  ['__proto__', 'a results entry of that name would be lost'],
  [SIGNALQ_VERDICT, "it holds signalq's own verdicts in each item's results"],
]);

/** Longest error message kept in an item's results. */
export const MAX_ERROR_CHARS = 2000;

/** Refuses a handler that is not `{ name, types, handle }`, naming what is wrong. */
export function validateHandler(h: unknown, where = 'handler'): Handler {
  const x = h as Handler;
  if (!x || typeof x !== 'object') throw new UsageError(`${where} is ${x === null ? 'null' : typeof x}; export an object { name, types, handle }`);
  if (typeof x.name !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(x.name)) {
    throw new UsageError(`${where} has name ${JSON.stringify(x.name)}; give it a name of 1-100 letters, digits or _ . : -`);
  }
  if (RESERVED_NAMES.has(x.name)) {
    throw new UsageError(`handler name "${x.name}" is reserved (${RESERVED_NAMES.get(x.name)}); choose another name`);
  }
  if (x.types !== '*') {
    if (!Array.isArray(x.types) || x.types.length === 0) {
      throw new UsageError(`handler "${x.name}" has types ${JSON.stringify(x.types)}; give a non-empty list of item types, or '*'`);
    }
    for (const t of x.types) validateTypeName(t, `handler "${x.name}" type`);
  }
  if (typeof x.handle !== 'function') throw new UsageError(`handler "${x.name}" has no handle(item, ctx) function`);
  // At most 2^31-1 ms (MAX_TIMER_MS in config.ts): a longer timer fires at once, failing every run of the handler.
  if (x.timeoutMs !== undefined && !(Number.isInteger(x.timeoutMs) && x.timeoutMs > 0 && x.timeoutMs <= 2_147_483_647)) {
    throw new UsageError(`handler "${x.name}" has timeoutMs ${x.timeoutMs}; use a whole number of milliseconds, at least 1 and at most 2147483647 ms (24.8 days), past which Node's timers overflow`);
  }
  if (x.help !== undefined && typeof x.help !== 'string') throw new UsageError(`handler "${x.name}" has help ${JSON.stringify(x.help)}; give a string`);
  checkParamsSchema(x.params, `handler "${x.name}"`);
  if (x.isolated !== undefined && typeof x.isolated !== 'boolean') throw new UsageError(`handler "${x.name}" has isolated ${JSON.stringify(x.isolated)}; give true or false`);
  if (x.module !== undefined && (typeof x.module !== 'string' || x.module === '')) throw new UsageError(`handler "${x.name}" has module ${JSON.stringify(x.module)}; give the path or file: URL of the module that exports it`);
  if (x.isolated && x.module === undefined) {
    throw new UsageError(`handler "${x.name}" is isolated but names no module to load in its process; give module: import.meta.url (handlers loaded from a folder have it)`);
  }
  if (x.killAfterMs !== undefined && !(Number.isInteger(x.killAfterMs) && x.killAfterMs >= 0 && x.killAfterMs <= 2_147_483_647)) {
    throw new UsageError(`handler "${x.name}" has killAfterMs ${x.killAfterMs}; use a whole number of milliseconds from 0 to 2147483647`);
  }
  return x;
}

/** Does this handler take items of this type? */
export function takesType(h: Handler, type: string): boolean {
  return h.types === '*' || h.types.includes(type);
}

/**
 * The handlers connected to one queue. Each is a listener of `processItem` that starts its run and hands it to
 * the dispatcher (`signal.run`) when the item's type is one it takes and it has not already succeeded on it.
 */
export class HandlerRegistry {
  private readonly byName = new Map<string, Handler>();
  /** What `claimableTypes` returns, kept up to date by `connect` (it is read by every claim and idle poll). */
  private types: string[] | null = [];

  constructor(private readonly signals: Signals, private readonly knex: Knex, private readonly defaultTimeoutMs: number) {}

  /** Connects a handler. Refuses a second handler with a name already connected. */
  connect(handler: Handler): void {
    const h = validateHandler(handler);
    if (this.byName.has(h.name)) throw new UsageError(`a handler named "${h.name}" is already connected; handler names must be unique (they key each item's results)`);
    this.byName.set(h.name, h);
    this.types = h.types === '*' || this.types === null ? null : [...new Set([...this.types, ...h.types])];
    this.signals.on('processItem', (sig: ProcessItemSignal) => {
      if (!takesType(h, sig.item.type) || sig.results[h.name]?.ok) return;
      sig.run(h.name, runHandler(h, sig.item, (sig.results[h.name]?.runs ?? 0) + 1, h.timeoutMs ?? this.defaultTimeoutMs, this.knex, sig.job?.(h.name)));
    });
  }

  get handlers(): Handler[] {
    return [...this.byName.values()];
  }

  /** The item types a claim should take: null when some handler takes every type. */
  claimableTypes(): string[] | null {
    return this.types;
  }

  /** Names of connected handlers that take this type. */
  handlersFor(type: string): string[] {
    return this.handlers.filter((h) => takesType(h, type)).map((h) => h.name);
  }
}

/** Longest result kept (characters of its JSON). */
const MAX_VALUE_CHARS = 64 * 1024;

/**
 * Runs one handler on one item; never throws: failure, timeout and cancel come back as an outcome. What the
 * handler returns is its result (`value`), kept when JSON can carry it in at most 64 KiB.
 */
export async function runHandler(h: Handler, item: Item, attempt: number, timeoutMs: number, knex: Knex, job: JobHooks = NO_JOB): Promise<HandlerOutcome> {
  if (h.isolated) return runIsolated(h, item, attempt, timeoutMs, knex, job); // in a child process it can be killed
  const ctx = new RunContext(attempt, item.id, h.name, knex, job.reports);
  let timer: NodeJS.Timeout | undefined;
  let stopListening: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(ctx.end(new HandlerTimeoutError(`handler "${h.name}" ran past its timeout of ${timeoutMs} ms`))), timeoutMs);
    if (job.run) stopListening = job.run.onCancel((reason) => reject(ctx.end(reason)));
  });
  try {
    const value = await Promise.race([Promise.resolve().then(() => h.handle(item, ctx)), stopped]);
    const outcome: HandlerOutcome = { name: h.name, ok: true };
    if (value !== undefined) outcome.value = keptValue(value);
    if (ctx.warning !== undefined) outcome.warning = ctx.warning;
    return outcome;
  } catch (err) {
    const outcome = failureOf(h.name, ctx.ended ?? err);
    if (ctx.warning !== undefined) outcome.warning = ctx.warning;
    return outcome;
  } finally {
    clearTimeout(timer);
    stopListening?.();
  }
}

/**
 * What a handler receives as `ctx` on one run: one object per run, its methods on the prototype (this is on every
 * item's path, where a closure per method was a measurable share of the cost).
 */
class RunContext implements HandlerContext {
  /** Made only when the handler reads `signal`: most handlers never do. */
  private controller: AbortController | undefined;
  /** Why the run ended early (timeout or cancel), once it did. */
  ended: Error | undefined;
  /** The last `warn` message. */
  warning: string | undefined;

  constructor(
    readonly attempt: number,
    private readonly itemId: number,
    private readonly handlerName: string,
    readonly knex: Knex,
    private readonly reports: JobHooks['reports'],
  ) {}

  get idempotencyKey(): string {
    return `${this.itemId}:${this.handlerName}`;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      // First read after the timeout or cancel: the run is already over, and the handler must be able to tell.
      if (this.ended) this.controller.abort(this.ended);
    }
    return this.controller.signal;
  }

  /** Ends the run early: its signal fires. Returns the reason, for the caller to reject with. */
  end(reason: Error): Error {
    this.ended ??= reason;
    this.controller?.abort(reason);
    return reason;
  }

  progress(done: number, size?: number | null, message?: string): void {
    this.reports.progress(done, size, message);
  }

  history(record: { comment: string; subject?: string | number; status?: string }): void {
    this.reports.history(record);
  }

  summary(line: string): void {
    this.reports.summary(line);
  }

  warn(message: string): void {
    this.warning = String(message).slice(0, MAX_ERROR_CHARS);
  }
}

/** A handler's returned value as kept in its result: JSON of at most 64 KiB, or a note saying why not. */
export function keptValue(value: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return `[result not kept: JSON cannot carry it (${messageOf(err)})]`;
  }
  if (json === undefined) return undefined;
  if (json.length > MAX_VALUE_CHARS) return `[result not kept: ${json.length} characters of JSON, over the ${MAX_VALUE_CHARS} kept]`;
  return JSON.parse(json);
}

/**
 * The outcome of a run that threw `err`, whatever was thrown: a Proxy whose every trap throws, an object whose
 * `name` getter throws, a string. Reading what was thrown must never throw in turn, or the item would be left in
 * progress with its lease renewed for ever.
 */
export function failureOf(name: string, err: unknown): HandlerOutcome {
  const outcome: HandlerOutcome = { name, ok: false, error: messageOf(err).slice(0, MAX_ERROR_CHARS) };
  try {
    const kind = err instanceof PermanentError || err instanceof RetryLaterError ? err.name : (err as { name?: unknown })?.name;
    if (kind === 'PermanentError') outcome.permanent = true;
    if (err instanceof CanceledError) outcome.canceled = true;
    const retryAfter = (err as RetryLaterError)?.delayMs;
    if (kind === 'RetryLaterError' && typeof retryAfter === 'number' && Number.isFinite(retryAfter)) outcome.retryAfterMs = retryAfter;
  } catch {
    // An unreadable thrown value is an ordinary failure.
  }
  return outcome;
}
