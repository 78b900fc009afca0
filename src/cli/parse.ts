/**
 * Parsing of command-line values; each refusal names the flag, the value, and what to give instead.
 */
import ms from 'ms';
import { UsageError } from '../errors.ts';
import { PayloadText } from '../queue/payload-text.ts';

/** A duration such as `30s`, `5m`, `2h`, `7d`, `250ms`; a bare number is seconds. Returns milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const t = String(text).trim();
  const value = /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : ms(t as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a duration; use e.g. 30s, 5m, 2h or 7d`);
  }
  return value;
}

/** A whole number within [min, max]. */
export function parseInteger(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const t = String(text).trim();
  const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is invalid; use a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}`);
  }
  return n;
}

/** A JSON payload given on the command line (a leading byte order mark is dropped). */
export function parseJsonArgument(text: string, what: string): unknown {
  const shown = JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
  return parseJsonPayload(stripBom(text), what, (reason) => `${what} ${shown} is not valid JSON (${reason}); quote it, e.g. '{"id": 1}'`);
}

/** Drops a leading UTF-8 byte order mark, which Windows editors write at the start of a file and JSON.parse refuses. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses one payload a user wrote (an argument, a line of a file); see `PayloadText.parse` for what it refuses.
 * `notJson(reason)` words the refusal of text that is not JSON.
 */
export function parseJsonPayload(text: string, where: string, notJson: (reason: string) => string): unknown {
  return PayloadText.check(text, where, notJson).value;
}
