/**
 * `signalq run TYPE --param name=value ...` through the real command on SQLite and MariaDB: the job runs in that
 * process and is recorded like a queued one (claimed, started, progress, history, summary, result); a bad
 * parameter is refused in one line naming every field, exit 2, nothing written; a failing job exits 1; Ctrl-C
 * cancels it (status canceled, exit 130); progress lines go to stderr when it is not a terminal, and a bar is drawn
 * when it is.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.ts';
import { databaseUrl, freshQueue } from '../helpers/queue.ts';
import { spawn } from 'node:child_process';
import { BIN, fixtureHandlers, hasStackTrace, linesOf, runCli, startCli, waitFor } from './cli-helpers.ts';

const JOBS = fixtureHandlers('handlers-jobs');
const ISOLATED = fixtureHandlers('handlers-isolated');

async function fresh(dialect: (typeof DIALECTS)[number]) {
  const q = await freshQueue(dialect);
  return { q, db: databaseUrl(q) };
}

describe.each(DIALECTS)('signalq run on %s', (dialect) => {
  it('runs a job in the process, recorded like a queued one, and prints its outcome', async () => {
    const { q, db } = await fresh(dialect);
    const r = await runCli(['run', 'count', '--param', 'to=3000', '--param', 'every=1000', '--invoker', 'ada', '--scope', 'acme', '--handlers', JOBS, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    const lines = linesOf(r.stdout);
    expect(lines[0]).toMatch(/^item \d+ \(count\) done after \d+\.\d s$/);
    expect(lines.slice(1)).toEqual(['summary  counted to 3000', 'result   counter: {"counted":3000}', expect.stringMatching(/^signalq show \d+ has its history$/)]);
    // Not a terminal: plain progress lines, the last one the finished count.
    expect(linesOf(r.stderr).at(-1)).toMatch(/^signalq: item \d+: 3000\/3000 \(100%\) unit 3000$/);
    const [item] = await q.admin.list({});
    expect(item).toMatchObject({ type: 'count', status: 'done', trials: 1, invoker: 'ada', scope: 'acme', summary: 'counted to 3000', payload: { to: 3000, every: 1000, loud: false, mode: 'up' } });
    expect(item.startedAt).not.toBeNull();
    expect(item.lastTryAt).not.toBeNull();
    expect(item.progress).toEqual({ done: 3000, size: 3000, percent: 100, message: 'unit 3000' });
    expect((await q.admin.history(item.id)).map((h) => [h.subject, h.status])).toEqual([['1000', 'counted'], ['2000', 'counted'], ['3000', 'counted']]);
  });

  it('--json prints the finished item; a failing job exits 1 with its error', async () => {
    const { q, db } = await fresh(dialect);
    const ok = await runCli(['run', 'count', '--param', 'to=5', '--json', '--handlers', JOBS, '--db', db]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ type: 'count', status: 'done', results: { counter: { ok: true, value: { counted: 5 } } } });
    const failed = await runCli(['run', 'count', '--param', 'to=5', '--param', 'failAt=3', '--handlers', JOBS, '--db', db]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/\(count\) need_retry after .*; it will be tried again by a worker\nerror    counter: failed at 3 on purpose\n/);
    expect(hasStackTrace(failed.stderr)).toBe(false);
    expect((await q.admin.list({})).map((i) => i.status).sort()).toEqual(['done', 'need_retry']);
  });

  it('refuses bad parameters in one line naming every field, exit 2, nothing written; and an unknown type', async () => {
    const { q, db } = await fresh(dialect);
    const bad = await runCli(['run', 'count', '--param', 'to=many', '--param', 'loud=perhaps', '--param', 'mode=sideways', '--param', 'colour=red', '--handlers', JOBS, '--db', db]);
    expect(bad.code).toBe(2);
    expect(linesOf(bad.stderr)).toHaveLength(1);
    expect(bad.stderr).toMatch(/^signalq: payload of count is invalid: .*colour is not a parameter of this type.*to must be integer \(got "many"\).*loud must be boolean \(got "perhaps"\).*mode must be one of "up", "down" \(got "sideways"\)/);
    const missing = await runCli(['run', 'count', '--handlers', JOBS, '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^signalq: payload of count is invalid: to is required; nothing was enqueued/);
    const unknown = await runCli(['run', 'nosuch', '--handlers', JOBS, '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^signalq: no handler in .* takes type nosuch; signalq run runs the job in this process/);
    const notPair = await runCli(['run', 'count', '--param', 'to', '--handlers', JOBS, '--db', db]);
    expect(notPair.code).toBe(2);
    expect(notPair.stderr).toMatch(/^signalq: --param "to" is not name=value/);
    expect(await q.admin.list({})).toEqual([]);
  });

  it('Ctrl-C cancels the running job: it ends canceled, with its history, and the command exits 130', async () => {
    const { q, db } = await fresh(dialect);
    const p = startCli(['run', 'wait', '--handlers', JOBS, '--db', db]);
    await waitFor('the job reporting progress', async () => (await q.admin.list({}))[0]?.progress?.done === 1);
    p.child.kill('SIGINT');
    const r = await p.result;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/signalq: canceling item \d+ \(Ctrl-C again to exit at once\)/);
    expect(r.stdout).toMatch(/^item \d+ \(wait\) canceled after/);
    const [item] = await q.admin.list({});
    expect(item).toMatchObject({ status: 'canceled', trials: 1 });
    expect((await q.admin.history(item.id)).map((h) => h.status)).toEqual(['cancel-requested', 'stopped', 'canceled']);
  });

  it('Ctrl-C on a terminal (SIGINT to the whole process group) cancels an isolated job; its process is killed, not crashed', async () => {
    const { q, db } = await fresh(dialect);
    // Its own process group, signalled as a terminal does: the command and the isolated handler's process both get it.
    const child = spawn(process.execPath, [BIN, 'run', 'iso.ignore', '--handlers', ISOLATED, '--db', db], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr!.resume();
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    const guard = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 45_000);
    try {
      await waitFor('the isolated job reporting progress', async () => (await q.admin.list({}))[0]?.progress?.done === 1);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(130);
    } finally {
      clearTimeout(guard);
    }
    expect(out).toMatch(/error    ignore: item \d+ was canceled; it ignored its signal and its process was killed after 300 ms/);
    expect((await q.admin.list({}))[0]).toMatchObject({ status: 'canceled' });
  });

  it('on a terminal draws a progress bar from the recorded progress (util-linux script gives it a pseudo-terminal)', async () => {
    const { q, db } = await fresh(dialect);
    const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, BIN, 'run', 'wait', '--handlers', JOBS, '--db', db].map(quote).join(' ');
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', COLUMNS: '120' };
    delete env.NODE_OPTIONS;
    delete env.SIGNALQ_DB;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr!.resume();
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    const guard = setTimeout(() => child.kill('SIGKILL'), 45_000);
    try {
      // The job reports 1 of 2 and waits: the bar shows it, drawn with cli-progress's shades.
      await waitFor('the bar at 50%', () => /[█░]+ 50% \| 1\/2 \| waiting for a cancel/.test(out), 30_000);
      const [item] = await q.admin.list({});
      expect((await q.cancel(item.id, 'test')).outcome).toBe('requested');
      await exited;
    } finally {
      clearTimeout(guard);
      child.stdin!.end();
    }
    expect(out).toMatch(/item \d+ \(wait\) canceled after/);
    expect((await q.admin.list({}))[0]).toMatchObject({ status: 'canceled' });
  });
});
