/**
 * The crontab's model: what a cron is, how a cron given by a user is checked (every refusal names the value and
 * what to give instead), and the conversion between crons and their rows.
 */
import type { CronRow } from '../db/cron-rows.ts';
import { decodePayload } from '../db/rows.ts';
import { UsageError } from '../errors.ts';
import { serializePayload, validateTypeName } from '../queue/validate.ts';
import { describeExpression, nextTick, validateExpression, validateTimezone } from './expression.ts';
import { MISSED_POLICIES, type MissedPolicy } from './policy.ts';

/** A cron as it is added, exported and imported. */
export interface CronSpec {
  /** Unique name: 1-100 characters of letters, digits, `_ . : -`. */
  name: string;
  /** 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. `'*\/5 * * * *'`. */
  expression: string;
  /** IANA time zone the expression is read in (e.g. `Europe/Paris`). Default: null, the worker host's. */
  timezone?: string | null;
  /** The item type each run enqueues. */
  type: string;
  /** The payload of each enqueued item. Default: `{}`. */
  payload?: unknown;
  /** Whether the cron runs. Default true. */
  activated?: boolean;
  /** What a (re)started worker does with ticks missed while none ran. Default `skip`. */
  missed?: MissedPolicy;
  /** When true, a tick whose previous run's item is not finished yet is skipped (logged NOTRUN). Default false. */
  noOverlap?: boolean;
}

/** A cron as stored, with its schedule state. */
export interface Cron extends Required<CronSpec> {
  timezone: string | null;
  /** The next scheduled time not yet handled (null: the expression never fires again). */
  nextRunAt: Date | null;
  /** The latest scheduled time that enqueued an item. */
  lastRunAt: Date | null;
  /** The expression in words. */
  description: string;
}

/** A cron spec once checked: the values as stored. */
export interface CheckedCron {
  name: string;
  expression: string;
  timezone: string | null;
  type: string;
  payload: string;
  activated: boolean;
  missed: MissedPolicy;
  noOverlap: boolean;
}

const CRON_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Refuses a cron name that is not 1-100 characters of letters, digits, `_ . : -`, naming it. */
export function validateCronName(name: unknown, what = 'cron name'): string {
  if (typeof name !== 'string' || !CRON_NAME.test(name)) {
    throw new UsageError(`${what} ${JSON.stringify(name) ?? String(name)} is invalid; use 1-100 characters of letters, digits, _ . : -`);
  }
  return name;
}

/** Refuses a missed-run policy other than skip, once or all, naming it. */
export function validateMissedPolicy(policy: unknown, where = ''): MissedPolicy {
  if (policy === undefined) return 'skip';
  if (!MISSED_POLICIES.includes(policy as MissedPolicy)) {
    throw new UsageError(`${where}missed-run policy ${JSON.stringify(policy) ?? String(policy)} is invalid; use skip, once or all`);
  }
  return policy as MissedPolicy;
}

/** Checks every field of a cron spec; `where` prefixes refusals (`crontab.json crons[2]: `). */
export function checkCronSpec(spec: unknown, maxPayloadBytes: number, where = ''): CheckedCron {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new UsageError(`${where}a cron is ${JSON.stringify(spec) ?? typeof spec}; give an object { name, expression, type, payload? }`);
  }
  const s = spec as Record<string, unknown>;
  const known = new Set(['name', 'expression', 'timezone', 'type', 'payload', 'activated', 'missed', 'noOverlap']);
  const unknown = Object.keys(s).filter((k) => !known.has(k));
  if (unknown.length) throw new UsageError(`${where}unknown cron field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the fields are ${[...known].join(', ')}`);
  const name = validateCronName(s.name, `${where}cron name`);
  const at = where || `cron ${name}: `;
  for (const k of ['activated', 'noOverlap'] as const) {
    if (s[k] !== undefined && typeof s[k] !== 'boolean') throw new UsageError(`${at}${k} ${JSON.stringify(s[k])} must be true or false`);
  }
  return {
    name,
    expression: prefixed(at, () => validateExpression(s.expression)),
    timezone: prefixed(at, () => validateTimezone(s.timezone)),
    type: validateTypeName(s.type, `${at}item type`),
    payload: serializePayload(s.payload === undefined ? {} : s.payload, maxPayloadBytes, `${at}payload`),
    activated: s.activated === undefined ? true : (s.activated as boolean),
    missed: validateMissedPolicy(s.missed, at),
    noOverlap: s.noOverlap === true,
  };
}

function prefixed<T>(where: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof UsageError && where) throw new UsageError(`${where}${err.message}`);
    throw err;
  }
}

/** A checked cron's row, scheduled from `now` (its first tick is the first one after now). */
export function cronRowOf(c: CheckedCron, now: number): CronRow {
  return {
    name: c.name,
    expression: c.expression,
    timezone: c.timezone,
    type: c.type,
    payload: c.payload,
    activated: c.activated ? 1 : 0,
    missed: c.missed,
    no_overlap: c.noOverlap ? 1 : 0,
    next_run_at: nextTick(c, now),
    last_run_at: null,
    created_at: now,
    updated_at: now,
  };
}

/** A row as a `Cron`. */
export function cronOfRow(r: CronRow): Cron {
  const schedule = { expression: r.expression, timezone: r.timezone ?? null };
  return {
    name: r.name,
    expression: r.expression,
    timezone: r.timezone ?? null,
    type: r.type,
    payload: decodePayload(r.payload, true),
    activated: Boolean(Number(r.activated)),
    missed: r.missed as MissedPolicy,
    noOverlap: Boolean(Number(r.no_overlap)),
    nextRunAt: r.next_run_at == null ? null : new Date(Number(r.next_run_at)),
    lastRunAt: r.last_run_at == null ? null : new Date(Number(r.last_run_at)),
    description: describeExpression(schedule),
  };
}

/** A cron as `export` writes it (what `import` reads back): its spec, without schedule state. */
export function specOf(c: Cron): Required<CronSpec> {
  return { name: c.name, expression: c.expression, timezone: c.timezone, type: c.type, payload: c.payload, activated: c.activated, missed: c.missed, noOverlap: c.noOverlap };
}


/** The crontab's settings. */
export interface CrontabOptions {
  /**
   * Refuse every change to the crontab (add, remove, enable, disable, on, off, import), writing nothing: for
   * production hosts whose crontab is managed as code. Default: true when the environment has
   * `SIGNALQ_CRONTAB_READONLY=1`, else false.
   */
  readOnly?: boolean;
  /** Log entries kept per cron (older ones are deleted as new ones come). Default 100. */
  logsKept?: number;
}

export type ResolvedCrontabOptions = Required<CrontabOptions>;

/** Fills in the defaults and refuses values that make no sense, naming them. */
export function resolveCrontabOptions(o: CrontabOptions = {}): ResolvedCrontabOptions {
  const env = process.env.SIGNALQ_CRONTAB_READONLY;
  const readOnly = o.readOnly ?? (env !== undefined && /^(1|true|yes)$/i.test(env.trim()));
  const logsKept = o.logsKept ?? 100;
  if (typeof readOnly !== 'boolean') throw new UsageError(`option crontab.readOnly=${JSON.stringify(readOnly)} must be true or false`);
  if (!Number.isInteger(logsKept) || logsKept < 1) throw new UsageError(`option crontab.logsKept=${logsKept} must be a whole number of at least 1`);
  return { readOnly, logsKept };
}
