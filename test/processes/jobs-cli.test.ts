/**
 * The jobs commands as a new user tries them, through the real `signalq` command on SQLite and MariaDB: `types`
 * lists the declared parameters, `enqueue` refuses a bad parameter naming every field (exit 2, nothing written),
 * `show` gives the lifecycle, progress, summary, result and history, `list --invoker/--scope` filters, `cancel`
 * stops a running job and refuses a finished one, `delete` removes a finished job and its history.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { databaseUrl, freshQueue } from '../helpers/queue.ts';
import { fixtureHandlers, runCli, startCli, waitFor } from './cli-helpers.ts';

const JOBS = fixtureHandlers('handlers-job-count');

describe.each(DIALECTS)('jobs commands on %s', (dialect) => {
  it('types, a refused parameter, show with progress and history, list filters, cancel and delete', async () => {
    const q = await freshQueue(dialect);
    const db = databaseUrl(q);
    const cli = (...args: string[]) => runCli(['--db', db, ...args]);

    const types = await cli('types', '--handlers', JOBS);
    expect(types.code).toBe(0);
    expect(types.stdout).toContain('count  [counter]');
    expect(types.stdout).toContain('--param n=…  int, required, min 1: how far to count');
    expect(types.stdout).toContain('--param mode=…  select: up|down, optional, default "up"');
    const typesJson = JSON.parse((await cli('types', '--handlers', JOBS, '--json')).stdout);
    expect(typesJson[0]).toMatchObject({ type: 'count', help: 'Counts to n, slowly', live: false });

    const bad = await cli('enqueue', 'count', '{"n":"ten","mode":"sideways"}', '--handlers', JOBS);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('signalq: payload of count is invalid: n must be integer (got "ten"); mode must be one of "up", "down" (got "sideways"); nothing was enqueued (signalq types shows its parameters)');
    expect((await q.admin.stats()).total).toBe(0);
    // A file is checked line by line against the same declaration; the stored payload gets its defaults.
    const file = join(mkdtempSync(join(tmpdir(), 'signalq-jobs-')), 'jobs.ndjson');
    writeFileSync(file, '{"n":2}\n{"n":0}\n');
    const badFile = await cli('enqueue', 'count', '--file', file, '--handlers', JOBS);
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toContain('signalq: line 2: payload of count is invalid');
    expect(badFile.stderr).toContain('n must be >= 1 (got 0)');
    expect((await q.admin.stats()).total).toBe(0);
    writeFileSync(file, '{"n":2}\n{"n":3, "mode":"down"}\n');
    expect((await cli('enqueue', 'count', '--file', file, '--handlers', JOBS)).code).toBe(0);
    expect((await q.admin.list()).map((i) => i.payload)).toEqual([{ n: 3, mode: 'down', stepMs: 20 }, { n: 2, stepMs: 20, mode: 'up' }]);
    for (const i of await q.admin.list()) await q.admin.delete(i.id);

    const short = await cli('enqueue', 'count', '{"n":6,"stepMs":0}', '--handlers', JOBS, '--invoker', 'ada', '--scope', 'acme', '--json');
    expect(short.code).toBe(0);
    const shortId = JSON.parse(short.stdout).id;
    expect((await cli('process', '--handlers', JOBS, '--no-lock')).code).toBe(0);
    const shown = await cli('show', String(shortId));
    expect(shown.stdout).toMatch(/status +done/);
    expect(shown.stdout).toMatch(/progress +6\/6 \(100%\) step 6/);
    expect(shown.stdout).toMatch(/summary +counted to 6/);
    expect(shown.stdout).toMatch(/invoker +ada \(scope acme\)/);
    expect(shown.stdout).toContain('counter: ok (1 run');
    expect(shown.stdout).toContain('-> {"counted":6}');
    expect(shown.stdout).toMatch(/history \(2\)\n.*fizz +step-3 +3 is divisible by 3.*\n.*fizz +step-6/);
    const shownJson = JSON.parse((await cli('show', String(shortId), '--json')).stdout);
    expect(shownJson.history.map((h: { subject: string }) => h.subject)).toEqual(['step-3', 'step-6']);

    expect(JSON.parse((await cli('list', '--invoker', 'ada', '--json')).stdout).map((i: { id: number }) => i.id)).toEqual([shortId]);
    expect(JSON.parse((await cli('list', '--scope', 'other', '--json')).stdout)).toEqual([]);

    const refused = await cli('cancel', String(shortId));
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(`signalq: item ${shortId} is done, finished; only a queued or running item can be canceled`);

    // A long job, canceled while it runs in a worker process.
    const long = JSON.parse((await cli('enqueue', 'count', '{"n":100000,"stepMs":10}', '--handlers', JOBS, '--json')).stdout).id;
    const worker = startCli(['--db', db, 'work', '--handlers', JOBS, '--poll', '50ms']);
    try {
      await waitFor('the job reports progress', async () => ((await q.admin.get(long))?.progress?.done ?? 0) > 5);
      const canceled = await cli('cancel', String(long), '--by', 'ops');
      expect(canceled.code).toBe(0);
      expect(canceled.stdout).toContain('asked it to stop');
      const ended = await waitFor('the job canceled', async () => ((await q.admin.get(long))?.status === 'canceled' ? q.admin.get(long) : undefined));
      expect(ended!.progress!.done).toBeLessThan(100000);
      const history = await cli('show', String(long));
      expect(history.stdout).toMatch(/cancel-requested +- +cancel requested by ops/);
      expect(history.stdout).toMatch(/canceled +- +canceled at an operator's request/);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.result;
    }

    const deleted = await cli('delete', String(long));
    expect(deleted.code).toBe(0);
    expect(await q.admin.history(long)).toEqual([]);
  });
});
