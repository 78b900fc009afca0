/**
 * Reads the database address and the queue's tunables once, with their defaults, and validates them.
 */
import ms from 'ms';
import { UsageError } from './errors.ts';
import { resolveCrontabOptions, type CrontabOptions, type ResolvedCrontabOptions } from './schedules/crontab.ts';

/**
 * The longest delay Node's timers take: 2^31-1 ms, about 24.8 days. A longer one does not wait longer: Node fires
 * it after 1 ms with a TimeoutOverflowWarning, so a handler timeout would fail every run at once and a poll would
 * spin. Every option that feeds a timer is held to it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** The longest backoff delay, a year: beyond it a retry is never in practice, and run times head for what a Date holds. */
export const MAX_BACKOFF_MS = 365 * 86_400_000;

/** The embedded default's file, relative to the working directory; its folder is created on first use. */
export const DEFAULT_SQLITE_FILE = 'var/signalq.sqlite';

/** The embedded default when `SIGNALQ_DB` is unset. */
export const DEFAULT_DB_URL = `sqlite:${DEFAULT_SQLITE_FILE}`;

/** Where the queue lives. `url` holds the password: print `display`, which shows it as `***`. */
export type DatabaseTarget =
  | { dialect: 'mysql'; url: string; display: string }
  | { dialect: 'sqlite'; filename: string; display: string };

/**
 * `url` with its password replaced by `***`, for anything printed (stderr ends up in logs). Works on text that does
 * not parse as a URL too, erring on the side of hiding: everything from the first `:` after the scheme to the last
 * `@` goes, and with no `@`, a "port" that is not one (a password whose `@` went missing).
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('://');
  const start = scheme >= 0 ? scheme + 3 : 0;
  const at = url.lastIndexOf('@');
  if (at >= start) {
    const colon = url.indexOf(':', start);
    return colon >= 0 && colon < at ? `${url.slice(0, colon + 1)}***${url.slice(at)}` : url;
  }
  if (scheme < 0) return url;
  const m = /^([^/?#]*?:)([^/?#]*)/.exec(url.slice(start));
  if (!m || (/^\d{1,5}$/.test(m[2]) && Number(m[2]) <= 65_535)) return url;
  return `${url.slice(0, start)}${m[1]}***${url.slice(start + m[0].length)}`;
}

/**
 * Parses a database address: `mysql://user:pass@host:port/db` (MySQL 8.0.1+ or MariaDB 10.6+) or
 * `sqlite:path/to/file.sqlite` (`sqlite::memory:` for a throwaway database).
 * Default: `SIGNALQ_DB`, else `sqlite:var/signalq.sqlite`.
 * Every problem with the address is a `UsageError`; no message, nor `display`, shows the password (it is `***`).
 */
export function parseDatabaseUrl(url: string = process.env.SIGNALQ_DB || DEFAULT_DB_URL): DatabaseTarget {
  const trimmed = url.trim();
  const shown = JSON.stringify(redactUrl(trimmed));
  if (/^mysql2?:\/\//i.test(trimmed) || /^mariadb:\/\//i.test(trimmed)) {
    const normalized = trimmed.replace(/^\w+:/, 'mysql:');
    let parsed: URL;
    try {
      parsed = new URL(normalized);
    } catch {
      throw new UsageError(`database URL ${shown} is not a valid URL; use mysql://user:password@host:3306/database (write @ : / # ? in the password as %40 %3A %2F %23 %3F)`);
    }
    if (!parsed.pathname || parsed.pathname === '/') {
      throw new UsageError(`database URL ${shown} names no database; add it, as in mysql://root@127.0.0.1:3306/test`);
    }
    // The driver decodes these and would fail at connect time (an exit 1 that looks like the server's fault).
    const parts: [string, string][] = [['user', parsed.username], ['password', parsed.password], ['host', parsed.hostname], ['database name', parsed.pathname.slice(1)]];
    for (const [what, text] of parts) {
      try {
        decodeURIComponent(text);
      } catch {
        throw new UsageError(`database URL ${shown} has a bad %-escape in its ${what}; write a literal % as %25`);
      }
    }
    // From the text as given, not the parsed parts: an unescaped / in a password parses as a port and a path.
    const display = redactUrl(normalized).replace(/[?#].*$/s, '');
    return { dialect: 'mysql', url: parsed.toString(), display };
  }
  const m = /^sqlite3?:(?:\/\/)?(.+)$/i.exec(trimmed);
  if (m) return { dialect: 'sqlite', filename: m[1], display: `sqlite:${m[1]}` };
  throw new UsageError(
    `database URL ${shown} is not understood; use mysql://user@host:3306/database or sqlite:path/to/file.sqlite (SIGNALQ_DB)`,
  );
}

/** The queue's tunables. Every field is optional where it is passed in; the defaults are below. */
export interface QueueOptions {
  /** Database address; see `parseDatabaseUrl`. Default: `SIGNALQ_DB`, else the embedded SQLite file. */
  db?: string;
  /** Items claimed per batch. Default 500. */
  batchSize?: number;
  /** Items whose handlers run at once within a batch. Default 50. */
  concurrency?: number;
  /** How long a claim holds without renewal, in ms. Renewed every third of it while the batch runs. Default 60 000; at most 2^31-1 (24.8 days). */
  leaseMs?: number;
  /** Trials before an item goes to `error`, unless an item sets its own. Default 10. */
  maxTrials?: number;
  /** First retry delay in ms; doubles per trial, with jitter. Default 2 000; at most a year. */
  backoffBaseMs?: number;
  /** Longest retry delay in ms. Default 3 600 000 (an hour); at most a year. */
  backoffMaxMs?: number;
  /** Milliseconds before a handler run counts as failed. Default 300 000 (5 minutes); at most 2^31-1 (24.8 days). */
  handlerTimeoutMs?: number;
  /** Largest serialized payload, in bytes. Default 1 048 576 (1 MiB). */
  maxPayloadBytes?: number;
  /** How often an idle worker looks for new items, in ms. Default 10; at most 2^31-1 (24.8 days). */
  pollIntervalMs?: number;
  /** Settled items are written together after at most this many ms. Default 5; at most 2^31-1 (24.8 days). */
  settleDelayMs?: number;
  /**
   * Running jobs' progress, summaries, start marks and history records are written together at most this often,
   * in ms: a job that reports every record costs a few writes per second, not one per record. Default 250.
   */
  progressFlushMs?: number;
  /** `host:pid` recorded as the owner of claimed items. Default: this host and process. */
  owner?: string;
  /**
   * Create or update the tables before the queue's first read or write (the migrations in `migrations/`, safe when
   * many processes start at once). Default true. With false the queue only checks once that its table exists, and
   * refuses to work, saying what to run, when it does not: for teams whose deploy runs the migrations itself.
   */
  migrate?: boolean;
  /** The crontab's settings: read-only mode, log entries kept per cron. See `CrontabOptions`. */
  crontab?: CrontabOptions;
}

export type ResolvedOptions = Required<Omit<QueueOptions, 'db' | 'crontab'>> & { crontab: ResolvedCrontabOptions };

/** Fills in the defaults and refuses values that make no sense, naming them. */
export function resolveOptions(opts: QueueOptions, owner: string): ResolvedOptions {
  const o: ResolvedOptions = {
    batchSize: opts.batchSize ?? 500,
    concurrency: opts.concurrency ?? 50,
    leaseMs: opts.leaseMs ?? 60_000,
    maxTrials: opts.maxTrials ?? 10,
    backoffBaseMs: opts.backoffBaseMs ?? 2_000,
    backoffMaxMs: opts.backoffMaxMs ?? 3_600_000,
    handlerTimeoutMs: opts.handlerTimeoutMs ?? 300_000,
    maxPayloadBytes: opts.maxPayloadBytes ?? 1_048_576,
    pollIntervalMs: opts.pollIntervalMs ?? 10,
    settleDelayMs: opts.settleDelayMs ?? 5,
    progressFlushMs: opts.progressFlushMs ?? 250,
    owner: opts.owner ?? owner,
    migrate: opts.migrate ?? true,
    crontab: resolveCrontabOptions(opts.crontab),
  };
  if (typeof o.migrate !== 'boolean') throw new UsageError(`option migrate=${JSON.stringify(o.migrate)} must be true or false`);
  const positive: (keyof ResolvedOptions)[] = ['batchSize', 'concurrency', 'leaseMs', 'maxTrials', 'handlerTimeoutMs', 'maxPayloadBytes'];
  for (const k of positive) {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`option ${k}=${v} must be a whole number of at least 1`);
  }
  for (const k of ['backoffBaseMs', 'backoffMaxMs', 'pollIntervalMs', 'settleDelayMs', 'progressFlushMs'] as const) {
    const v = o[k];
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`option ${k}=${v} must be a number of at least 0`);
  }
  if (o.leaseMs < 1000) throw new UsageError(`option leaseMs=${o.leaseMs} is too short; use at least 1000 ms`);
  // The lease is renewed every third of it, the handler timeout and the poll are timers, and so is the settle delay.
  for (const k of ['leaseMs', 'handlerTimeoutMs', 'pollIntervalMs', 'settleDelayMs', 'progressFlushMs'] as const) {
    if (o[k] > MAX_TIMER_MS) throw tooLong(k, o[k], MAX_TIMER_MS, 'longer waits overflow Node\'s timers');
  }
  for (const k of ['backoffBaseMs', 'backoffMaxMs'] as const) {
    if (o[k] > MAX_BACKOFF_MS) throw tooLong(k, o[k], MAX_BACKOFF_MS, 'a retry further off is never in practice');
  }
  return o;
}

/** The refusal of a duration over its limit: the option, the value (and in days), the limit and why. */
function tooLong(k: string, v: number, limit: number, why: string): UsageError {
  const days = Math.floor((limit / 86_400_000) * 10) / 10; // down: 24.8 days is within the limit, 24.9 is not
  return new UsageError(`option ${k}=${v} (${ms(v, { long: true })}) is too long (${why}); use at most ${limit} ms (${days} days)`);
}
