/**
 * The real handlers/ folder, as `signalq work` connects it: every module loads with no configuration.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadHandlers } from '../../src/queue/load-handlers.ts';

const HANDLERS_DIR = fileURLToPath(new URL('../../handlers', import.meta.url));

describe('the handlers folder', () => {
  it('loads every handler, with unique names and the types they document', async () => {
    const handlers = await loadHandlers(HANDLERS_DIR);
    const names = handlers.map((h) => h.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['audit-log', 'webhook']));
    const byName = Object.fromEntries(handlers.map((h) => [h.name, h]));
    expect(byName.webhook.types).toEqual(['webhook']);
    expect(byName['audit-log'].types).toEqual(['audit']);
  });
});
