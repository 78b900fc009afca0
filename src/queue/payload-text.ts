/**
 * A payload a user wrote as JSON text (a command-line argument, a line of an NDJSON file): parsed once to check it,
 * and kept as the text to store when the parse proved that storing it as written reads back the same value as
 * storing `JSON.stringify` of it would. That spares a bulk enqueue from a file (`signalq enqueue --file`) turning
 * every line into objects and back into the same text.
 */
import { UsageError, messageOf } from '../errors.ts';
import { MAX_PAYLOAD_DEPTH, serializePayload } from './validate.ts';

/**
 * Checked payload text, made only by `PayloadText.parse` (`buildRow` knows it by `instanceof`: a plain object shaped
 * like it is an ordinary payload). `buildRow` stores `text` as written when `storable` and within `maxPayloadBytes`;
 * otherwise it parses the text again and serializes the value as any payload, with the same refusals.
 */
export class PayloadText {
  private constructor(
    /** The text, without surrounding whitespace. */
    readonly text: string,
    /**
     * True when the parsed value holds only finite numbers other than -0 and nests at most `MAX_PAYLOAD_DEPTH` levels:
     * then the text reads back as the same value `JSON.stringify` of it would. Otherwise the payload goes through
     * `serializePayload`, which refuses Infinity (`1e400`) and deep nesting and writes -0 as 0, as it always has.
     */
    readonly storable: boolean,
  ) {}

  /**
   * Parses `text` (one JSON value) and refuses, naming the path after `where`, an integer JSON.parse would round
   * without a word (12345678901234567890 reads as 12345678901234567000): one beyond ±(2^53-1), written with an
   * exponent or not, since the parsed number cannot tell. `notJson(reason)` words the refusal of text that is not
   * JSON; JSON too deep for JSON.parse's stack (a RangeError) is refused too.
   */
  static parse(text: string, where: string, notJson: (reason: string) => string): PayloadText {
    return PayloadText.check(text, where, notJson).payload;
  }

  /** `parse`, also returning the parsed value. */
  static check(text: string, where: string, notJson: (reason: string) => string): { payload: PayloadText; value: unknown } {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      if (err instanceof RangeError) {
        throw new UsageError(`${where} nests too deeply to read (${err.message}); keep it within ${MAX_PAYLOAD_DEPTH} levels of arrays and objects`);
      }
      throw new UsageError(notJson(messageOf(err)));
    }
    const found = inexactInteger(value, 1);
    if (found === STORABLE || found === NOT_STORABLE) {
      const first = text.charCodeAt(0);
      const last = text.charCodeAt(text.length - 1);
      return { payload: new PayloadText(first <= 32 || last <= 32 ? text.trim() : text, found === STORABLE), value };
    }
    const path = where + found.path.join('');
    throw new UsageError(`${path} is an integer beyond ±${Number.MAX_SAFE_INTEGER}, which a JavaScript number cannot hold exactly (it would be stored as ${found.value}); send it as a string`);
  }

  /**
   * The JSON to store, or a `UsageError` naming `where` as `serializePayload` gives for this payload. `maxBytes`
   * holds on what is stored: text within it is stored as written even where `JSON.stringify` would write a number
   * longer (`1E3` as `1000`); text over it is stored compact when that fits, and refused as any payload otherwise.
   */
  serialize(maxBytes: number, where: string): string {
    // A UTF-16 unit is at most 3 UTF-8 bytes: most payloads are shown to fit without counting.
    if (this.storable && (this.text.length * 3 <= maxBytes || Buffer.byteLength(this.text, 'utf8') <= maxBytes)) return this.text;
    // Rare: a payload serializePayload refuses or rewrites, or text over the limit whose compact form may fit.
    return serializePayload(JSON.parse(this.text), maxBytes, where);
  }
}

const STORABLE = 0;
const NOT_STORABLE = 1;

/**
 * Walks a parsed value for an integer a number does not hold exactly; returns its path (built only then) and
 * value, or whether the text is storable as written. Goes no deeper than `MAX_PAYLOAD_DEPTH`, so it cannot overflow
 * the stack: a deeper payload is refused by `serializePayload` when the item is built.
 */
function inexactInteger(v: unknown, depth: number): typeof STORABLE | typeof NOT_STORABLE | { path: string[]; value: number } {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || (v === 0 && 1 / v < 0)) return NOT_STORABLE;
    return Number.isInteger(v) && !Number.isSafeInteger(v) ? { path: [], value: v } : STORABLE;
  }
  if (v === null || typeof v !== 'object') return STORABLE;
  if (depth > MAX_PAYLOAD_DEPTH) return NOT_STORABLE;
  let result: typeof STORABLE | typeof NOT_STORABLE = STORABLE;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = inexactInteger(v[i], depth + 1);
      if (typeof r === 'object') return r.path.unshift(`[${i}]`), r;
      if (r === NOT_STORABLE) result = NOT_STORABLE;
    }
  } else {
    for (const k in v) {
      const r = inexactInteger((v as Record<string, unknown>)[k], depth + 1);
      if (typeof r === 'object') return r.path.unshift(`.${k}`), r;
      if (r === NOT_STORABLE) result = NOT_STORABLE;
    }
  }
  return result;
}

/** The payload as a value: command-line text parsed (to check it against declared parameters), anything else as is. */
export function plainPayload(payload: unknown): unknown {
  return payload instanceof PayloadText ? JSON.parse(payload.text) : payload;
}
