/**
 * TypeScript handler modules for the CLI. The library and the CLI are plain JavaScript and need no loader; only a
 * handlers folder that holds TypeScript modules does, so tsx is loaded then, and only then: it costs a few hundred
 * milliseconds of start-up, and an app whose handlers are compiled JavaScript never installs it (tsx is an optional
 * peer dependency of the package).
 */
import { readdirSync } from 'node:fs';
import { UsageError } from '../errors.ts';

const TYPESCRIPT = /\.[mc]?ts$/;

/**
 * Registers tsx (its ESM and CommonJS hooks, as `node --import tsx` does) when `dir` holds a TypeScript module
 * (`.ts`, `.mts`, `.cts`; declaration files aside). A folder that cannot be read is left to the handler loader,
 * which says so; importing tsx a second time (it was preloaded) changes nothing.
 */
export async function registerTypeScriptLoader(dir: string): Promise<void> {
  let first: string | undefined;
  try {
    first = readdirSync(dir).find((f) => TYPESCRIPT.test(f) && !/\.d\.[mc]?ts$/.test(f));
  } catch {
    return;
  }
  if (first === undefined) return;
  try {
    await import('tsx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new UsageError(`handler module ${first} in ${dir} is TypeScript, which needs tsx to load: install it (npm install --save-dev tsx), or compile the handlers to .js`);
  }
}
