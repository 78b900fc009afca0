/**
 * `signalq types` (every item type the workers and the handlers folder take, with its help and parameters) and
 * `signalq cancel ID`.
 */
import { resolve } from 'node:path';
import { openQueue, output, type GlobalFlags } from '../context.ts';
import { formatJobTypes } from '../format-jobs.ts';
import { parseInteger } from '../parse.ts';

interface JsonFlag extends GlobalFlags {
  json?: boolean;
}

export async function typesCommand(f: JsonFlag & { handlers?: string }) {
  const queue = await openQueue(f, {}, { dir: resolve(f.handlers ?? './handlers'), explicit: f.handlers !== undefined });
  try {
    const types = await queue.admin.types();
    output(!!f.json, types, () => formatJobTypes(types));
  } finally {
    await queue.close();
  }
}

export async function cancelCommand(idText: string, f: JsonFlag & { by?: string }) {
  const id = parseInteger(idText, 'item id', 1);
  const queue = await openQueue(f);
  try {
    const r = await queue.cancel(id, f.by ?? process.env.USER ?? undefined);
    output(!!f.json, r, () =>
      r.outcome === 'canceled'
        ? `item ${id} (${r.item.type}) is canceled; it will not run`
        : `item ${id} (${r.item.type}) is running on ${r.item.owner ?? 'a worker'}; asked it to stop (its handlers' signal fires within 2 s, and it ends canceled)`,
    );
  } finally {
    await queue.close();
  }
}
