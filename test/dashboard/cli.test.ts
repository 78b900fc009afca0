/**
 * `signalq dashboard` and `signalq work --dashboard` as processes, on SQLite and MySQL/MariaDB: bad flags and an
 * unsafe bind refused with one line and exit 2, the dashboard served and stopped by a signal, and a worker serving
 * it beside its work.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import knexFactory from 'knex';
import { DIALECTS, freshDatabase } from '../helpers/databases.ts';
import { databaseUrl, freshQueue } from '../helpers/queue.ts';
import { fixtureHandlers, hasStackTrace, linesOf, runCli, startCli, waitFor } from '../processes/cli-helpers.ts';

const urlIn = (text: string) => /dashboard at (http:\/\/\S+)/.exec(text)?.[1];

describe.each(DIALECTS)('signalq dashboard on %s', (dialect) => {
  it('refuses a non-loopback bind without a token and a bad port with one line and exit 2, writing nothing', async () => {
    const db = await freshDatabase(dialect);
    const open = await runCli(['dashboard', '--db', db, '--host', '0.0.0.0', '--port', '0'], { env: { SIGNALQ_DASHBOARD_TOKEN: undefined } });
    expect(open.code).toBe(2);
    expect(linesOf(open.stderr)).toEqual([
      'signalq: the dashboard would listen on 0.0.0.0, reachable from other machines, without a token; set SIGNALQ_DASHBOARD_TOKEN (at least 16 random characters) or use --host 127.0.0.1',
    ]);
    const port = await runCli(['dashboard', '--db', db, '--port', 'eighty']);
    expect(port.code).toBe(2);
    expect(linesOf(port.stderr)).toEqual(['signalq: --port "eighty" is invalid; use a whole number from 0 to 65535']);
    expect(hasStackTrace(open.stderr + port.stderr)).toBe(false);
    if (dialect === 'sqlite') expect(existsSync(db.slice('sqlite:'.length))).toBe(false);
    else {
      const k = knexFactory({ client: 'mysql2', connection: { uri: db } as any, pool: { min: 0, max: 1 } });
      try {
        expect((await k.raw('SHOW TABLES'))[0]).toEqual([]);
      } finally {
        await k.destroy();
      }
    }
  });

  it('serves the dashboard with a token on 0.0.0.0 until SIGTERM', async () => {
    const q = await freshQueue(dialect);
    await q.enqueue('audit', { n: 1 });
    const token = 'cli-token-0123456789abcdef';
    const p = startCli(['dashboard', '--db', databaseUrl(q), '--host', '0.0.0.0', '--port', '0'], { env: { SIGNALQ_DASHBOARD_TOKEN: token } });
    const url = await waitFor('the dashboard URL', () => urlIn(p.stderr()));
    expect(p.stderr()).toContain('(token required)');
    const port = new URL(url).port;
    expect((await fetch(`http://127.0.0.1:${port}/api/items`)).status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${port}/api/items`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await res.json()) as any).items).toMatchObject([{ type: 'audit', status: 'pending' }]);
    p.child.kill('SIGTERM');
    expect((await p.result).code).toBe(0);
  });

  it('work --dashboard serves it beside the worker, which the workers page lists', async () => {
    const q = await freshQueue(dialect);
    const p = startCli(['work', '--db', databaseUrl(q), '--handlers', fixtureHandlers('handlers-basic'), '--dashboard', '0']);
    const url = await waitFor('the dashboard URL', () => urlIn(p.stderr()));
    const workers = await waitFor('the worker row', async () => {
      const body = (await (await fetch(`${url}api/workers`)).json()) as any;
      return body.workers.length > 0 ? body.workers : null;
    });
    expect(workers[0]).toMatchObject({ pid: p.child.pid, alive: true });
    p.child.kill('SIGINT');
    expect((await p.result).code).toBe(0);
  });

  it('work --dashboard starts a job posted to /api/jobs, runs it to done, and steers the crontab', async () => {
    const q = await freshQueue(dialect);
    await q.crontab.add({ name: 'tick', expression: '0 3 * * *', type: 'count', payload: { n: 1 } });
    const token = 'cli-token-0123456789abcdef';
    const auth = { authorization: `Bearer ${token}` };
    const p = startCli(['work', '--db', databaseUrl(q), '--handlers', fixtureHandlers('handlers-job-count'), '--dashboard', '0'], { env: { SIGNALQ_DASHBOARD_TOKEN: token } });
    const url = await waitFor('the dashboard URL', () => urlIn(p.stderr()));
    const post = (path: string, body?: unknown) =>
      fetch(url + path, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const bad = await post('api/jobs', { type: 'count', payload: { n: 'three' } });
    expect([bad.status, ((await bad.json()) as any).error]).toEqual([400, 'payload of count is invalid: n must be integer (got "three"); nothing was enqueued (signalq types shows its parameters)']);
    const started = (await (await post('api/jobs', { type: 'count', payload: { n: 3, stepMs: 0 } })).json()) as any;
    const done = await waitFor('the job done', async () => {
      const body = (await (await fetch(`${url}api/items/${started.id}`, { headers: auth })).json()) as any;
      return body.item.status === 'done' ? body.item : null;
    });
    expect(done).toMatchObject({ invoker: 'dashboard', summary: 'counted to 3', results: { counter: { ok: true, value: { counted: 3 } } } });
    expect((await post('api/crontab/tick/disable')).status).toBe(200);
    expect((await q.crontab.get('tick'))!.activated).toBe(false);
    p.child.kill('SIGINT');
    expect((await p.result).code).toBe(0);
  });
});
