/**
 * Parsing of command-line values; each refusal names the flag, the value, and what to give instead.
 */
import ms from 'ms';
import { UsageError, messageOf } from '../errors.ts';
import { MAX_PAYLOAD_DEPTH } from '../queue/validate.ts';

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
 * Parses one payload a user wrote (an argument, a line of a file). Refuses, naming the path, an integer JSON.parse
 * would round without a word (12345678901234567890 reads as 12345678901234567000): one beyond ±(2^53-1), written
 * with an exponent or not, since the parsed number cannot tell. `notJson(reason)` words the refusal of text that is
 * not JSON; JSON too deep for JSON.parse's stack (a RangeError) is refused too.
 */
export function parseJsonPayload(text: string, where: string, notJson: (reason: string) => string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof RangeError) {
      throw new UsageError(`${where} nests too deeply to read (${err.message}); keep it within ${MAX_PAYLOAD_DEPTH} levels of arrays and objects`);
    }
    throw new UsageError(notJson(messageOf(err)));
  }
  checkExactIntegers(value, where, 1);
  return value;
}

/**
 * Finds an integer a number does not hold exactly. Goes no deeper than `MAX_PAYLOAD_DEPTH`, so it cannot overflow the
 * stack: a deeper payload is refused by `serializePayload` when the item is built.
 */
function checkExactIntegers(v: unknown, path: string, depth: number): void {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
      throw new UsageError(`${path} is an integer beyond ±${Number.MAX_SAFE_INTEGER}, which a JavaScript number cannot hold exactly (it would be stored as ${v}); send it as a string`);
    }
    return;
  }
  if (v === null || typeof v !== 'object' || depth > MAX_PAYLOAD_DEPTH) return;
  if (Array.isArray(v)) v.forEach((x, i) => checkExactIntegers(x, `${path}[${i}]`, depth + 1));
  else for (const [k, x] of Object.entries(v)) checkExactIntegers(x, `${path}.${k}`, depth + 1);
}
