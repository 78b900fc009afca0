/**
 * `signalq enqueue TYPE JSON` and `signalq enqueue TYPE --file ITEMS.ndjson`.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, messageOf } from '../../errors.ts';
import type { EnqueueManyResult } from '../../index.ts';
import { openQueue, output, type GlobalFlags } from '../context.ts';
import { linesOf } from '../read-lines.ts';
import { PayloadText } from '../../queue/payload-text.ts';
import { parseDuration, parseInteger, parseJsonArgument, stripBom } from '../parse.ts';

export interface EnqueueFlags extends GlobalFlags {
  key?: string;
  delay?: string;
  priority?: string;
  maxTrials?: string;
  file?: string;
  invoker?: string;
  scope?: string;
  handlers?: string;
  json?: boolean;
}

/**
 * The queue, with the handlers folder's declarations (default ./handlers, when it exists): a payload is checked
 * against the parameters its type declares there and in the live workers, so a typo is refused before any worker
 * starts.
 */
function openForEnqueue(f: EnqueueFlags) {
  return openQueue(f, {}, { dir: resolve(f.handlers ?? './handlers'), explicit: f.handlers !== undefined });
}

export async function enqueueCommand(type: string, payloadText: string | undefined, f: EnqueueFlags): Promise<void> {
  const options = {
    key: f.key,
    delayMs: f.delay !== undefined ? parseDuration(f.delay, '--delay') : undefined,
    priority: f.priority !== undefined ? parseInteger(f.priority, '--priority', -1_000_000, 1_000_000) : undefined,
    maxTrials: f.maxTrials !== undefined ? parseInteger(f.maxTrials, '--max-trials', 1, 1000) : undefined,
    invoker: f.invoker,
    scope: f.scope,
  };
  if (f.file !== undefined && payloadText !== undefined) throw new UsageError('give either a JSON payload or --file, not both');
  if (f.file === undefined && payloadText === undefined) throw new UsageError(`no payload for ${type}; give it as JSON (signalq enqueue ${type} '{"id":1}') or use --file ITEMS.ndjson`);
  if (f.file !== undefined && f.key !== undefined) throw new UsageError('--key names one item; with --file, put no key (or enqueue items one by one)');

  if (f.file === undefined) {
    const payload = parseJsonArgument(payloadText!, 'payload');
    const queue = await openForEnqueue(f);
    try {
      const r = await queue.enqueue(type, payload, options);
      output(!!f.json, r, () => (r.created ? `enqueued item ${r.id} (${type})` : `item ${r.id} with key ${JSON.stringify(f.key)} is not finished yet; nothing written`));
    } finally {
      await queue.close();
    }
    return;
  }

  // Streamed: lines are checked and written a chunk at a time, all in one transaction, so a bad line still refuses
  // the whole file (the transaction rolls back: nothing of it is written) while reading overlaps writing.
  const chunks = readNdjsonChunks(f.file);
  try {
    // The first chunk is read before the database is opened: a path that cannot be read, an empty file or a bad
    // early line is refused without touching it.
    const first = await chunks.next();
    const queue = await openForEnqueue(f);
    try {
      const items = (lines: NdjsonLine[]) => lines.map((l) => ({ type, payload: l.payload, ...options }));
      const r = await queue.knex.transaction((trx) => writeChunks(first.done ? [] : first.value, chunks, (lines) =>
        queue.enqueueMany(items(lines), { trx, label: (i) => `line ${lines[i].line}` })));
      output(!!f.json, r, () => `enqueued ${r.inserted} items (${type}) from ${f.file === '-' ? 'standard input' : f.file}`);
    } finally {
      await queue.close();
    }
  } finally {
    await chunks.return(undefined); // closes the file when a refusal stopped the reading early
  }
}

/** One payload of an NDJSON file, checked and kept as its text, with its line number (from 1). */
interface NdjsonLine {
  line: number;
  payload: PayloadText;
}

/** Lines per chunk, and line characters: one multi-row INSERT of `enqueueMany` (500 rows or 2 MiB). */
const CHUNK_LINES = 500;
const CHUNK_CHARS = 2 * 1024 * 1024;

/**
 * Chunks handed to the transaction's connection at once: the one the database is inserting and the next, already
 * checked and turned into its statement, waiting behind it (the driver sends a connection's statements in order).
 * So the database never waits for this process between chunks, and at most this many are held in memory besides
 * the one being read.
 */
const CHUNKS_IN_FLIGHT = 2;

/** Bytes per read of the file. */
const READ_BYTES = 1024 * 1024;

/**
 * Writes `first`, then every chunk of `rest` as it is read. A refusal names the earliest bad line: a chunk's own
 * refusal (checked when it is handed over) wins over a reading refusal of a later line.
 */
async function writeChunks(
  first: NdjsonLine[],
  rest: AsyncIterable<NdjsonLine[]>,
  write: (lines: NdjsonLine[]) => Promise<EnqueueManyResult>,
): Promise<EnqueueManyResult> {
  const total = { inserted: 0, skipped: 0 };
  const inFlight: Promise<void>[] = [];
  // Awaited before it leaves the list: a refused write stays in it, first, for the refusal below to find.
  const settleOldest = async () => {
    await inFlight[0];
    inFlight.shift();
  };
  const start = (lines: NdjsonLine[]) => {
    const p = write(lines).then((r) => {
      total.inserted += r.inserted;
      total.skipped += r.skipped;
    });
    p.catch(() => {}); // awaited below; this only keeps a refusal from counting as unhandled meanwhile
    inFlight.push(p);
  };
  try {
    start(first);
    for await (const lines of rest) {
      if (inFlight.length >= CHUNKS_IN_FLIGHT) await settleOldest();
      start(lines);
    }
    while (inFlight.length > 0) await settleOldest();
  } catch (err) {
    // Every write handed over ends before the transaction rolls back; the first refusal among them is of the
    // earliest lines.
    const refusals = await Promise.all(inFlight.map((p) => p.then(() => null, (e: unknown) => e)));
    throw refusals.find((e) => e !== null) ?? err;
  }
  return total;
}

/**
 * The file's payloads in chunks of at most `CHUNK_LINES` lines and about `CHUNK_CHARS` characters: one JSON payload
 * per non-blank line, with its line number. `-` reads standard input. A byte order mark starting the first line is
 * dropped; an integer a number cannot hold exactly refuses the file (see `PayloadText.parse`), as does a file with
 * no payload at all.
 */
async function* readNdjsonChunks(path: string): AsyncGenerator<NdjsonLine[], void, undefined> {
  // Large reads: each one is a round trip to the thread pool, which on SQLite (inserts run on this thread) leaves
  // this thread idle while it waits; 64 KiB reads made ~170 of them per 100,000 short lines.
  const input = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: READ_BYTES });
  const opened = new Promise<void>((resolve, reject) => {
    if (path === '-') return resolve();
    input.once('open', () => resolve());
    input.once('error', (err: Error) => reject(new UsageError(`cannot read ${path} (${messageOf(err)}); check the path`)));
  });
  await opened;
  const name = path === '-' ? 'standard input' : path;
  let chunk: NdjsonLine[] = [];
  let chars = 0;
  let payloads = 0;
  let n = 0;
  try {
    for await (const lines of linesOf(input)) {
      for (const line of lines) {
        n++;
        const text = n === 1 ? stripBom(line) : line;
        if (text.trim() === '') continue;
        const payload = PayloadText.parse(text, `line ${n} of ${name}: payload`, (reason) => `line ${n} of ${name} is not valid JSON (${reason}); nothing was enqueued`);
        chunk.push({ line: n, payload });
        payloads++;
        chars += text.length;
        if (chunk.length >= CHUNK_LINES || chars >= CHUNK_CHARS) {
          yield chunk;
          chunk = [];
          chars = 0;
        }
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // Opening succeeds on a folder; reading it fails (EISDIR).
    throw new UsageError(`cannot read ${path} (${messageOf(err)}); check the path`);
  } finally {
    // Also standard input: after a refusal the rest is not wanted, and an open pipe would keep the process until its end.
    input.destroy();
  }
  if (payloads === 0) throw new UsageError(`${name} holds no payloads (one JSON value per line); nothing was enqueued`);
  if (chunk.length > 0) yield chunk;
}
