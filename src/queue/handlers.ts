/**
 * Connecting handlers to the `processItem` signal, and running one handler on one item with its timeout.
 */
import type { Knex } from 'knex';
import { HandlerTimeoutError, PermanentError, RetryLaterError, UsageError, messageOf } from '../errors.ts';
import type { Signals, ProcessItemSignal } from '../signals.ts';
import type { Handler, HandlerContext, HandlerOutcome, Item } from '../types.ts';
import { validateTypeName } from './validate.ts';
import { SIGNALQ_VERDICT } from './decide.ts';

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
const MAX_ERROR_CHARS = 2000;

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
      sig.run(h.name, runHandler(h, sig.item, (sig.results[h.name]?.runs ?? 0) + 1, h.timeoutMs ?? this.defaultTimeoutMs, this.knex));
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

/** Runs one handler on one item; never throws: failure and timeout come back as an outcome. */
export async function runHandler(h: Handler, item: Item, attempt: number, timeoutMs: number, knex: Knex): Promise<HandlerOutcome> {
  // The AbortController is made only when the handler reads ctx.signal: most handlers never do, and making one
  // per run was a measurable share of the per-item cost.
  let controller: AbortController | undefined;
  let timedOut: HandlerTimeoutError | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = new HandlerTimeoutError(`handler "${h.name}" ran past its timeout of ${timeoutMs} ms`);
      controller?.abort(timedOut);
      reject(timedOut);
    }, timeoutMs);
  });
  try {
    const ctx: HandlerContext = {
      attempt,
      idempotencyKey: `${item.id}:${h.name}`,
      knex,
      get signal() {
        if (!controller) {
          controller = new AbortController();
          // First read after the timeout: the run is already over, and the handler must be able to tell.
          if (timedOut) controller.abort(timedOut);
        }
        return controller.signal;
      },
    };
    await Promise.race([Promise.resolve().then(() => h.handle(item, ctx)), timeout]);
    return { name: h.name, ok: true };
  } catch (err) {
    return failureOf(h.name, err);
  } finally {
    clearTimeout(timer);
  }
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
    const retryAfter = (err as RetryLaterError)?.delayMs;
    if (kind === 'RetryLaterError' && typeof retryAfter === 'number' && Number.isFinite(retryAfter)) outcome.retryAfterMs = retryAfter;
  } catch {
    // An unreadable thrown value is an ordinary failure.
  }
  return outcome;
}
