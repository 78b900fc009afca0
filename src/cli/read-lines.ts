/**
 * The lines of a text stream, split as node's readline splits them with `crlfDelay: Infinity`: `\n`, `\r\n` and a
 * lone `\r` each end a line, a `\r\n` split across two reads is one line end, and a last line without an end still
 * counts. Yields the lines of each read at once instead of one promise per line: readline's per-line async
 * iteration cost about as much CPU as parsing the JSON on them (`signalq enqueue --file`, 100,000 short lines).
 */
import type { Readable } from 'node:stream';

const ANY_LINE_END = /\r?\n|\r/;

/** Splits `input` (read as UTF-8) into lines, one array per read; multi-byte characters split across reads are kept whole. */
export async function* linesOf(input: Readable): AsyncGenerator<string[], void, undefined> {
  input.setEncoding('utf8');
  let rest = '';
  for await (const chunk of input as AsyncIterable<string>) {
    let text = rest + chunk;
    // A \r ending the read may be the first half of a \r\n: held back until the next read tells.
    const heldCr = text.endsWith('\r');
    if (heldCr) text = text.slice(0, -1);
    const lines = text.includes('\r') ? text.split(ANY_LINE_END) : text.split('\n');
    rest = lines.pop()! + (heldCr ? '\r' : '');
    if (lines.length > 0) yield lines;
  }
  // At the end a held \r ends its line (a lone \r); an empty rest is no line (the text ended with a line end).
  if (rest !== '') yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest];
}
