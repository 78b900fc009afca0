/**
 * Cron expressions: validation, next run, the ticks due since a time, and the expression in words. cron-parser
 * computes the times (in the cron's time zone); node-cron must accept the expression too, since it drives the
 * timers; cronstrue words it.
 */
import { CronExpressionParser } from 'cron-parser';
import cronstrue from 'cronstrue';
import nodeCron from 'node-cron';
import { UsageError, messageOf } from '../errors.ts';

/** An expression and its time zone (null: the host's). */
export interface Schedule {
  expression: string;
  timezone: string | null;
}

/**
 * Refuses an expression that is not 5 fields (minute hour day month weekday) or 6 (with seconds first), or that
 * cron-parser or node-cron cannot read, naming it. Returns it trimmed.
 */
export function validateExpression(expression: unknown): string {
  const shown = JSON.stringify(expression) ?? String(expression);
  const help = "use 5 fields (minute hour day-of-month month day-of-week, e.g. '*/5 * * * *') or 6 with seconds first";
  if (typeof expression !== 'string') throw new UsageError(`cron expression ${shown} is not a string; ${help}`);
  const text = expression.trim().replace(/\s+/g, ' ');
  const fields = text === '' ? 0 : text.split(' ').length;
  if (fields !== 5 && fields !== 6) throw new UsageError(`cron expression ${shown} has ${fields} field(s); ${help}`);
  try {
    CronExpressionParser.parse(text, { strict: false });
  } catch (err) {
    throw new UsageError(`cron expression ${shown} is invalid (${messageOf(err)}); ${help}`);
  }
  if (!nodeCron.validate(text)) throw new UsageError(`cron expression ${shown} is not one node-cron can schedule; ${help} with numbers, ranges, lists, steps and names`);
  return text;
}

/** Refuses a time zone the runtime does not know (an IANA name such as `Europe/Paris`), naming it. */
export function validateTimezone(timezone: unknown): string | null {
  if (timezone == null) return null;
  const shown = JSON.stringify(timezone) ?? String(timezone);
  if (typeof timezone !== 'string' || timezone.trim() === '') throw new UsageError(`time zone ${shown} is invalid; use an IANA name such as Europe/Paris or UTC`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new UsageError(`time zone ${shown} is unknown; use an IANA name such as Europe/Paris or UTC`);
  }
  return timezone;
}

function parse(s: Schedule, currentDate: number) {
  return CronExpressionParser.parse(s.expression, { currentDate: new Date(currentDate), ...(s.timezone ? { tz: s.timezone } : {}) });
}

/** The first scheduled time strictly after `after` (epoch ms), or null when the expression never fires again. */
export function nextTick(s: Schedule, after: number): number | null {
  const e = parse(s, after);
  return e.hasNext() ? e.next().getTime() : null;
}

/**
 * The scheduled times in [from, now], ascending: at most the `limit` latest, and whether there are earlier ones
 * beyond them (`more`). Walks back from now, so a cron that missed a week of ticks costs `limit` steps, not a
 * week of them.
 */
export function dueTicks(s: Schedule, from: number, now: number, limit: number): { ticks: number[]; more: boolean } {
  const e = parse(s, now + 1); // prev() is strictly before: a tick at `now` itself is due
  const ticks: number[] = [];
  while (e.hasPrev()) {
    const t = e.prev().getTime();
    if (t < from) return { ticks: ticks.reverse(), more: false };
    if (ticks.length === limit) return { ticks: ticks.reverse(), more: true };
    ticks.push(t);
  }
  return { ticks: ticks.reverse(), more: false };
}

/** The expression in English words ("Every 5 minutes"), with its time zone when it has one. */
export function describeExpression(s: Schedule): string {
  let words: string;
  try {
    words = cronstrue.toString(s.expression, { use24HourTimeFormat: true });
  } catch {
    words = s.expression;
  }
  return s.timezone ? `${words} (${s.timezone})` : words;
}
