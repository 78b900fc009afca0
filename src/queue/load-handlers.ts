/**
 * Connecting handlers at start-up: every module in a folder default-exports a handler `{ name, types, handle }`
 * or an array of them. Plain `.js`/`.mjs` modules work as well as TypeScript ones.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, messageOf } from '../errors.ts';
import type { Handler } from '../types.ts';
import { validateHandler } from './handlers.ts';

const MODULE = /\.(m?js|cjs|m?ts|cts)$/;

/**
 * Imports every handler module in `dir`, sorted by file name. Not recursive; `.d.ts` files, `.test.` files and
 * files whose name starts with `_` (shared helpers of the handlers) are skipped.
 */
export async function loadHandlers(dir: string): Promise<Handler[]> {
  const abs = resolve(dir);
  let files: string[];
  try {
    if (!statSync(abs).isDirectory()) throw new Error('not a directory');
    files = readdirSync(abs).filter((f) => MODULE.test(f) && !f.startsWith('_') && !f.endsWith('.d.ts') && !/\.test\./.test(f)).sort();
  } catch (err) {
    throw new UsageError(`handlers folder ${dir} cannot be read (${messageOf(err)}); create it or pass --handlers DIR`);
  }
  const handlers: Handler[] = [];
  for (const f of files) {
    let mod: any;
    try {
      mod = await import(pathToFileURL(join(abs, f)).href);
    } catch (err) {
      throw new UsageError(`handler module ${join(dir, f)} failed to load: ${messageOf(err)}`);
    }
    const exported = mod.default?.default ?? mod.default;
    if (exported === undefined) throw new UsageError(`handler module ${join(dir, f)} has no default export; export default { name, types, handle }`);
    const list = Array.isArray(exported) ? exported : [exported];
    // An isolated handler's process imports it again from its file: handlers loaded from a folder record it.
    const file = pathToFileURL(join(abs, f)).href;
    list.forEach((h, i) => handlers.push(validateHandler(withModule(h, file), `handler module ${join(dir, f)}${list.length > 1 ? ` [${i}]` : ''}`)));
  }
  return handlers;
}

/** The handler with `module` set to its file when it has none (a copy that keeps its prototype; others as given). */
function withModule(h: unknown, file: string): unknown {
  if (!h || typeof h !== 'object' || (h as Handler).module !== undefined) return h;
  return Object.assign(Object.create(Object.getPrototypeOf(h)), h, { module: file });
}
