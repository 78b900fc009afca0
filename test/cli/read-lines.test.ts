import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { linesOf } from '../../src/cli/read-lines.ts';

/** A stream that hands over `bytes` in reads of `size` bytes (so characters and \r\n can be cut between reads). */
const streamOf = (bytes: Buffer, size: number) => {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
};

async function ours(bytes: Buffer, size: number): Promise<string[]> {
  const all: string[] = [];
  for await (const lines of linesOf(streamOf(bytes, size))) all.push(...lines);
  return all;
}

async function readlines(bytes: Buffer): Promise<string[]> {
  const all: string[] = [];
  for await (const line of createInterface({ input: Readable.from([bytes]), crlfDelay: Infinity })) all.push(line);
  return all;
}

describe('linesOf', () => {
  const texts = [
    '{"a":1}\n{"b":2}\n',
    '{"a":1}\n{"b":2}', // no line end at the end
    '{"a":1}\r\n{"b":2}\r\n', // Windows
    '{"a":1}\r{"b":2}\r', // old Mac: a lone \r ends a line
    'a\n\nb\n\n\n', // blank lines keep their numbers
    'a\r\r\nb\n\rc\r\n\r',
    '\r\n',
    '\r',
    '\n',
    '',
    '\uFEFF{"é":"日本語"}\n{"x":"😀"}\r\n',
    'x'.repeat(5000) + '\r\n' + 'y'.repeat(70_000) + '\n',
  ];

  it('splits as readline does (crlfDelay: Infinity), however the reads cut the text', async () => {
    for (const text of texts) {
      const bytes = Buffer.from(text, 'utf8');
      const expected = await readlines(bytes);
      for (const size of [1, 2, 3, 5, 7, 64, 1 << 20]) {
        expect(await ours(bytes, size), `${JSON.stringify(text.slice(0, 40))} in reads of ${size}`).toEqual(expected);
      }
    }
  });

  it('hands over the lines of a read at once', async () => {
    const reads: string[][] = [];
    for await (const lines of linesOf(streamOf(Buffer.from('1\n2\n3\n4'), 4))) reads.push(lines);
    expect(reads).toEqual([['1', '2'], ['3'], ['4']]);
  });
});
