/**
 * What every command starts from: the queue opened on the database the global flags name, migrated, with the
 * handlers of the handlers folder connected when the command runs items.
 */
import { existsSync } from 'node:fs';
import { createQueue, type Queue } from '../queue/queue.ts';
import { loadHandlers } from '../queue/load-handlers.ts';
import { registerTypeScriptLoader } from './typescript-loader.ts';
import type { QueueOptions } from '../config.ts';

export interface GlobalFlags {
  db?: string;
  verbose?: boolean;
}

/** Opens and migrates the queue. `handlersDir`: connect its handlers (a missing default folder is fine). */
export async function openQueue(flags: GlobalFlags, options: QueueOptions = {}, handlersDir?: { dir: string; explicit: boolean }): Promise<Queue> {
  const queue = await createQueue({ ...options, db: flags.db });
  try {
    await queue.migrate();
    if (handlersDir && (handlersDir.explicit || existsSync(handlersDir.dir))) {
      await registerTypeScriptLoader(handlersDir.dir);
      for (const h of await loadHandlers(handlersDir.dir)) queue.connect(h);
    }
    return queue;
  } catch (err) {
    await queue.close().catch(() => {});
    throw err;
  }
}

/** Opens the queue for one command, runs `fn` on it, and closes it whatever happens. */
export async function withQueue<T>(f: GlobalFlags, fn: (q: Queue) => Promise<T>): Promise<T> {
  const queue = await openQueue(f);
  try {
    return await fn(queue);
  } finally {
    await queue.close();
  }
}

/** Prints to stdout as JSON (one document) or as text lines. */
export function output(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}
