/**
 * `queue.stopOnSignals()` in a real process (test/fixtures/app-shutdown.ts, run with `node --import tsx`), on
 * SQLite and MySQL/MariaDB: SIGTERM in the middle of an item lets it finish, hands the claimed items not yet
 * started back to pending, writes everything and exits 0, leaving nothing in progress; a second signal exits 130
 * at once.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Queue } from '../../src/queue/queue.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { databaseUrl, freshQueue } from '../helpers/queue.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const APP = join(ROOT, 'test/fixtures/app-shutdown.ts');

/** Starts the app on `q`'s database; `lines` fills with what it prints, `exited` resolves with how it ended. */
function startApp(q: Queue<any>, slowMs: number) {
  const db = databaseUrl(q);
  const env: NodeJS.ProcessEnv = { ...process.env, SIGNALQ_DB: db, SLOW_MS: String(slowMs) };
  delete env.NODE_OPTIONS; // the test runner's own loader settings must not leak into the app
  const child = spawn(process.execPath, ['--import', 'tsx', APP], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const guard = setTimeout(() => child.kill('SIGKILL'), 45_000); // a hung app fails the test instead of hanging it
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      res({ code, signal });
    }),
  );
  const printed = async (text: string) => {
    for (const until = Date.now() + 30_000; !stdout.includes(text); ) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`the app did not print "${text}"; stdout: ${stdout} stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, exited, printed, stdout: () => stdout, stderr: () => stderr };
}

describe.each(DIALECTS)('stopOnSignals on %s', (dialect) => {
  it('SIGTERM mid-item: the item finishes, the rest go back to pending, outcomes are written, exit 0, nothing in progress', async () => {
    const q = await freshQueue(dialect);
    await q.enqueueMany(Array.from({ length: 4 }, (_, n) => ({ type: 'slow', payload: { n } })));
    const app = startApp(q, 1500);
    await app.printed('started ');
    const first = Number(/started (\d+)/.exec(app.stdout())![1]);
    expect((await q.admin.list({ status: 'in_progress' })).length).toBe(4); // the batch holds them all
    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code, app.stderr()).toBe(0);
    expect(app.stderr()).toBe('');
    expect(app.stdout()).toMatch(/stopped \{"batches":1,"claimed":4,"done":1,"retry":0,"error":0,"canceled":0,"handedBack":3,"lost":0\}\nclosed after SIGTERM\n$/);
    const stats = await q.admin.stats();
    expect(stats.counts).toMatchObject({ done: 1, pending: 3, in_progress: 0 });
    expect(await q.admin.get(first)).toMatchObject({ status: 'done', trials: 1, results: { slow: { ok: true, runs: 1 } } });
    for (const item of await q.admin.list({ status: 'pending' })) expect(item).toMatchObject({ trials: 0, owner: null });
    expect(await q.admin.workers()).toEqual([]); // the worker's row went with it
  });

  it('a second signal exits at once with 130, without waiting for the running item', async () => {
    const q = await freshQueue(dialect);
    const { id } = await q.enqueue('slow', { n: 1 });
    const app = startApp(q, 20_000);
    await app.printed(`started ${id}`);
    const sent = Date.now();
    app.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(130);
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(app.stdout()).not.toMatch(/stopped|closed/);
    // Left to its lease, as a killed worker's item is.
    expect((await q.admin.get(id))?.status).toBe('in_progress');
  });
});
