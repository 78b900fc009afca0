/**
 * Waiting for something another connection or process will make true.
 */

/**
 * Resolves with `check`'s value once it is truthy, looking every 20 ms; fails naming `what` after `ms` (a safety
 * net against a hang, not a timing assertion).
 */
export async function until<T>(check: () => Promise<T | undefined | false | null>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
