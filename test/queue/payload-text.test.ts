import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { PayloadText } from '../../src/queue/payload-text.ts';
import { buildRow } from '../../src/queue/enqueue.ts';
import { serializePayload } from '../../src/queue/validate.ts';

const notJson = (reason: string) => `not JSON: ${reason}`;
const parse = (text: string, where = 'line 1 of f: payload') => PayloadText.parse(text, where, notJson);
const opts = { maxPayloadBytes: 1000, maxTrials: 10 };
/** The payload column buildRow writes for text read by the command line, and for the value the old way. */
const storedFromText = (text: string, maxBytes = 1000) => buildRow('t', parse(text), {}, 0, { ...opts, maxPayloadBytes: maxBytes }, 'line 1').payload;
const storedFromValue = (text: string, maxBytes = 1000) => buildRow('t', JSON.parse(text), {}, 0, { ...opts, maxPayloadBytes: maxBytes }, 'line 1').payload;

describe('PayloadText: a payload read as text is stored as written when that reads back the same', () => {
  it('keeps the text of a plain payload (no second serialization), without surrounding whitespace', () => {
    expect(storedFromText('{"i":1,"text":"xx"}')).toBe('{"i":1,"text":"xx"}');
    expect(storedFromText('  {"a": [1, 2.5, "é", null, true]}\t')).toBe('{"a": [1, 2.5, "é", null, true]}');
    expect(storedFromText('"just a string"')).toBe('"just a string"');
    expect(storedFromText('12')).toBe('12');
  });

  it('stores text that reads back as the same value the value itself would be stored as', () => {
    for (const text of ['{"b":1,"1":2}', '{"s":"\\u0041\\n"}', '[1.0, 1e2, -5e-324]', '{"__proto__":{"x":1}}', '{"a":1,"a":2}']) {
      expect(JSON.parse(storedFromText(text))).toEqual(JSON.parse(storedFromValue(text)));
    }
  });

  it('falls back to serializing the value where the text would not read back the same: -0 is stored as 0', () => {
    expect(storedFromText('{"n":-0}')).toBe('{"n":0}');
    expect(storedFromText('-0.0')).toBe('0');
  });

  it('refuses an integer a number cannot hold exactly, naming its path, at any depth', () => {
    expect(() => parse('{"ids":[1,12345678901234567890]}')).toThrow(/^line 1 of f: payload\.ids\[1\] is an integer beyond ±9007199254740991/);
    expect(() => parse('[{"a":{"b":[0,-9007199254740993]}}]')).toThrow(/^line 1 of f: payload\[0\]\.a\.b\[1\] is an integer beyond/);
    expect(() => parse('9007199254740992')).toThrow(/^line 1 of f: payload is an integer beyond .* \(it would be stored as 9007199254740992\)/);
    expect(() => parse('{"x":-0,"big":1e300}')).toThrow(/^line 1 of f: payload\.big is an integer beyond/);
    expect(parse('[9007199254740991, -9007199254740991, 0.5]').text).toBe('[9007199254740991, -9007199254740991, 0.5]');
  });

  it('refuses text that is not JSON with the caller\'s words, and every refusal is a UsageError', () => {
    expect(() => parse('{"n": 1')).toThrow(/^not JSON: /);
    expect(() => parse('')).toThrow(/^not JSON: /);
    expect(() => parse('{"id":12345678901234567890}')).toThrow(UsageError);
  });

  it('refuses what serializePayload refuses, with its message naming buildRow\'s label: Infinity, nesting past 200', () => {
    expect(() => storedFromText('{"x":1e400}')).toThrow(/^line 1: payload\.x is Infinity, which JSON cannot hold/);
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(storedFromText(deep(200))).toBe(deep(200));
    expect(() => storedFromText(deep(201))).toThrow(/^line 1: payload nests arrays and objects deeper than 200 levels/);
    expect(() => storedFromText(deep(20_000))).toThrow(/^line 1: payload nests arrays and objects deeper than 200 levels/);
  });

  it('holds maxPayloadBytes on what is stored, counting UTF-8 bytes', () => {
    expect(storedFromText(JSON.stringify('é'.repeat(49)), 100)).toBe(JSON.stringify('é'.repeat(49))); // 100 bytes
    expect(() => storedFromText(JSON.stringify('é'.repeat(60)), 100)).toThrow(/^line 1: payload is 122 bytes of JSON, over the limit of 100/);
    // Over the limit as written, within it compact: stored compact, as before.
    const spaced = '{"a": [' + '1,    '.repeat(10) + '"x"]}';
    expect(spaced.length).toBeGreaterThan(60);
    expect(JSON.stringify(JSON.parse(spaced)).length).toBeLessThanOrEqual(60);
    expect(storedFromText(spaced, 60)).toBe(serializePayload(JSON.parse(spaced), 60));
    // Over it both ways: the same refusal as the value gets.
    const long = JSON.stringify({ s: 'x'.repeat(200) });
    expect(() => storedFromText(long, 100)).toThrow(/^line 1: payload is 208 bytes of JSON, over the limit of 100/);
    // The limit is on the stored text: a number written shorter than JSON.stringify writes it fits as written.
    expect(storedFromText('[1E3]', 5)).toBe('[1E3]');
    expect(() => storedFromValue('[1E3]', 5)).toThrow(/is 6 bytes of JSON/);
  });

  it('can only be made by parsing (buildRow trusts no other object as checked text)', () => {
    expect(() => buildRow('t', { text: '{"x":', storable: true }, {}, 0, opts)).not.toThrow();
    expect(buildRow('t', { text: '{"x":', storable: true }, {}, 0, opts).payload).toBe('{"text":"{\\"x\\":","storable":true}');
  });
});
