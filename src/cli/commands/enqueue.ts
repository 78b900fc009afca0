/**
 * `signalq enqueue TYPE JSON` and `signalq enqueue TYPE --file ITEMS.ndjson`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError, messageOf } from '../../errors.ts';
import { openQueue, output, type GlobalFlags } from '../context.ts';
import { parseDuration, parseInteger, parseJsonArgument, parseJsonPayload, stripBom } from '../parse.ts';

export interface EnqueueFlags extends GlobalFlags {
  key?: string;
  delay?: string;
  priority?: string;
  maxTrials?: string;
  file?: string;
  json?: boolean;
}

export async function enqueueCommand(type: string, payloadText: string | undefined, f: EnqueueFlags): Promise<void> {
  const options = {
    key: f.key,
    delayMs: f.delay !== undefined ? parseDuration(f.delay, '--delay') : undefined,
    priority: f.priority !== undefined ? parseInteger(f.priority, '--priority', -1_000_000, 1_000_000) : undefined,
    maxTrials: f.maxTrials !== undefined ? parseInteger(f.maxTrials, '--max-trials', 1, 1000) : undefined,
  };
  if (f.file !== undefined && payloadText !== undefined) throw new UsageError('give either a JSON payload or --file, not both');
  if (f.file === undefined && payloadText === undefined) throw new UsageError(`no payload for ${type}; give it as JSON (signalq enqueue ${type} '{"id":1}') or use --file ITEMS.ndjson`);
  if (f.file !== undefined && f.key !== undefined) throw new UsageError('--key names one item; with --file, put no key (or enqueue items one by one)');

  if (f.file === undefined) {
    const payload = parseJsonArgument(payloadText!, 'payload');
    const queue = await openQueue(f);
    try {
      const r = await queue.enqueue(type, payload, options);
      output(!!f.json, r, () => (r.created ? `enqueued item ${r.id} (${type})` : `item ${r.id} with key ${JSON.stringify(f.key)} is not finished yet; nothing written`));
    } finally {
      await queue.close();
    }
    return;
  }

  // Read and check the whole file before writing: a bad line refuses the file, and nothing of it is written.
  const payloads = await readNdjson(f.file);
  const queue = await openQueue(f);
  try {
    const items = payloads.map((p) => ({ type, payload: p.payload, ...options }));
    const r = await queue.enqueueMany(items, { label: (i) => `line ${payloads[i].line}` });
    output(!!f.json, r, () => `enqueued ${r.inserted} items (${type}) from ${f.file === '-' ? 'standard input' : f.file}`);
  } finally {
    await queue.close();
  }
}

/**
 * One JSON payload per non-blank line, with its line number. `-` reads standard input. A byte order mark starting
 * the first line is dropped; an integer a number cannot hold exactly refuses the file (see `parseJsonPayload`).
 */
async function readNdjson(path: string): Promise<{ line: number; payload: unknown }[]> {
  const input = path === '-' ? process.stdin : createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    if (path === '-') return resolve();
    input.once('open', () => resolve());
    input.once('error', (err: Error) => reject(new UsageError(`cannot read ${path} (${messageOf(err)}); check the path`)));
  });
  await opened;
  const out: { line: number; payload: unknown }[] = [];
  const name = path === '-' ? 'standard input' : path;
  let n = 0;
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      n++;
      const text = n === 1 ? stripBom(line) : line;
      if (text.trim() === '') continue;
      const payload = parseJsonPayload(text, `line ${n} of ${name}: payload`, (reason) => `line ${n} of ${name} is not valid JSON (${reason}); nothing was enqueued`);
      out.push({ line: n, payload });
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // Opening succeeds on a folder; reading it fails (EISDIR).
    throw new UsageError(`cannot read ${path} (${messageOf(err)}); check the path`);
  }
  if (out.length === 0) throw new UsageError(`${name} holds no payloads (one JSON value per line); nothing was enqueued`);
  return out;
}
