/**
 * The webhook handler against a real local HTTP server, run through a real queue on SQLite and MySQL/MariaDB.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, type HandlerContext, type Item } from '../../src/index.ts';
import webhook, { createWebhookHandler, hostAllowed, webhookOptionsFromEnv, webhookStartupWarning, type WebhookOptions } from '../../handlers/webhook.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { freshQueue } from '../helpers/queue.ts';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

let server: Server;
let base: string;
let received: Received[] = [];
/** Path -> how many requests it has had, for routes that answer differently the second time. */
let hits = new Map<string, number>();
/** How the last /huge-500 answer went on the server's side. */
let huge: { written: number; finished: boolean; closed: Promise<void> } | null = null;
/** Size of the /huge-500 body: far more than a worker should ever hold for an error message. */
const HUGE_BYTES = 200 * 1024 * 1024;

/**
 * Routes: /ok/* 200, /status/<n> answers n, /flaky fails once then 200, /slow never answers, /redirect 302,
 * /trickle-500 a 500 whose body comes a byte at a time for ever, /huge-500 a 500 with a 200 MB body.
 */
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', path, headers: req.headers, body: text ? JSON.parse(text) : undefined });
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (path.startsWith('/ok')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      const status = /^\/status\/(\d+)(\?|$)/.exec(path);
      if (status) return void res.writeHead(Number(status[1])).end(`answer\n${status[1]}`);
      if (path === '/rate-limited') return void res.writeHead(429, { 'retry-after': '120' }).end();
      if (path === '/flaky') return void res.writeHead(n === 1 ? 503 : 204).end();
      if (path === '/redirect') return void res.writeHead(302, { location: `${base}/ok/moved` }).end();
      if (path === '/slow') return; // never answers; the handler's timeout must end the request
      if (path === '/trickle-500') return trickle(res);
      if (path === '/huge-500') return void (huge = streamHuge(res));
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  received = [];
  hits = new Map();
});

/** A 500 whose body never ends: one byte every 20 ms until the client goes away. */
function trickle(res: ServerResponse): void {
  res.writeHead(500, { 'content-type': 'text/plain' });
  res.write('slow failure ');
  const timer = setInterval(() => res.write('x'), 20);
  res.on('close', () => clearInterval(timer));
}

/** A 500 with a HUGE_BYTES body, generated in 64 KB chunks as the client reads (never held whole). */
function streamHuge(res: ServerResponse): { written: number; finished: boolean; closed: Promise<void> } {
  const state = { written: 0, finished: false, closed: new Promise<void>((r) => res.on('close', () => r())) };
  const chunk = Buffer.alloc(64 * 1024, 'x');
  res.writeHead(500, { 'content-type': 'text/plain', 'content-length': HUGE_BYTES });
  const head = Buffer.from('database exploded: ');
  res.write(head);
  state.written = head.length;
  const pump = () => {
    while (!res.destroyed && state.written < HUGE_BYTES) {
      const part = chunk.subarray(0, Math.min(chunk.length, HUGE_BYTES - state.written));
      state.written += part.length;
      if (!res.write(part)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end(() => (state.finished = true));
  };
  pump();
  return state;
}

/** A port nothing listens on: listen, note the port, close. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('webhook options from the environment', () => {
  it('needs no configuration: 10 s timeout, every host allowed', () => {
    expect(webhookOptionsFromEnv({})).toEqual({ timeoutMs: 10_000, allowHosts: null });
    expect(webhookOptionsFromEnv({ SIGNALQ_WEBHOOK_ALLOW_HOSTS: ' ' })).toEqual({ timeoutMs: 10_000, allowHosts: null });
  });

  it('reads the timeout and the allow-list', () => {
    expect(webhookOptionsFromEnv({ SIGNALQ_WEBHOOK_TIMEOUT_MS: '2500', SIGNALQ_WEBHOOK_ALLOW_HOSTS: 'Hooks.Example.com, *.partner.io,' })).toEqual({
      timeoutMs: 2500,
      allowHosts: ['hooks.example.com', '*.partner.io'],
    });
  });

  it.each(['abc', '0', '-5', '1.5'])('refuses SIGNALQ_WEBHOOK_TIMEOUT_MS=%s, naming it', (value) => {
    expect(() => webhookOptionsFromEnv({ SIGNALQ_WEBHOOK_TIMEOUT_MS: value })).toThrow(`SIGNALQ_WEBHOOK_TIMEOUT_MS is "${value}"`);
  });

  it('matches exact hosts and *. subdomains only', () => {
    const list = ['hooks.example.com', '*.partner.io'];
    expect(hostAllowed('HOOKS.example.com', list)).toBe(true);
    expect(hostAllowed('a.b.partner.io', list)).toBe(true);
    expect(hostAllowed('partner.io', list)).toBe(false);
    expect(hostAllowed('evilpartner.io', list)).toBe(false);
    expect(hostAllowed('example.com', list)).toBe(false);
    expect(hostAllowed('anything', null)).toBe(true);
  });
});

describe.each(DIALECTS)('webhook handler on %s', (dialect) => {
  it('POSTs the item as JSON with its idempotency key and the payload headers, then goes done', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', {
      url: `${base}/ok/orders?token=secret`,
      body: { order: 42, total: '9.90' },
      headers: { Authorization: 'Bearer abc', 'Idempotency-Key': 'forged', 'Content-Type': 'text/plain' },
    });
    expect(await q.process()).toMatchObject({ claimed: 1, done: 1 });
    expect(received).toHaveLength(1);
    const [r] = received;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/ok/orders?token=secret');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['idempotency-key']).toBe(`${id}:webhook`);
    expect(r.headers.authorization).toBe('Bearer abc');
    expect(r.body).toEqual({ id, type: 'webhook', body: { order: 42, total: '9.90' } });
    const item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'done', trials: 1 });
    expect(item?.results.webhook.ok).toBe(true);
  });

  it('PUTs when asked, with a null body when the payload has none', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/ok/put`, method: 'PUT' });
    await q.process();
    expect(received).toMatchObject([{ method: 'PUT', body: { id, type: 'webhook', body: null } }]);
    expect((await q.admin.get(id))?.status).toBe('done');
  });

  it('retries on 500 with the URL (no query) and status in the error, and sends the same key again', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/status/500?sig=hidden` });
    expect(await q.process()).toMatchObject({ retry: 1 });
    let item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'need_retry', trials: 1 });
    expect(item?.results.webhook.error).toBe(`webhook POST ${base}/status/500 answered 500 Internal Server Error: answer 500`);

    await q.process();
    item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'need_retry', trials: 2 });
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual([`${id}:webhook`, `${id}:webhook`]);
  });

  it('goes done on the retry after a 503', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/flaky` });
    await q.process();
    expect((await q.admin.get(id))?.status).toBe('need_retry');
    await q.process();
    const item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'done', trials: 2 });
    expect(item?.results.webhook).toMatchObject({ ok: true, runs: 2 });
  });

  it('waits as long as a 429 Retry-After asks, longer than its backoff', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/rate-limited` });
    const before = Date.now();
    await q.process();
    const item = await q.admin.get(id);
    expect(item?.status).toBe('need_retry');
    expect(item!.runAt.getTime()).toBeGreaterThanOrEqual(before + 119_000);
    expect(item?.results.webhook.error).toMatch(/answered 429 .*\(retry after 120 s\)/);
    expect((await q.process()).claimed).toBe(0); // not due yet
  });

  it.each([408, 429, 502])('retries on %i', async (status) => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/status/${status}` });
    await q.process();
    const item = await q.admin.get(id);
    expect(item?.status).toBe('need_retry');
    expect(item?.results.webhook.error).toContain(`answered ${status}`);
  });

  it.each([400, 404, 410])('fails permanently on %i, without more trials', async (status) => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/status/${status}` });
    expect(await q.process()).toMatchObject({ error: 1 });
    const item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'error', trials: 1 });
    expect(item?.results.webhook.error).toContain(`webhook POST ${base}/status/${status} answered ${status}`);
  });

  it('does not follow a redirect: permanent error naming where it pointed', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/redirect` });
    await q.process();
    const item = await q.admin.get(id);
    expect(item?.status).toBe('error');
    expect(item?.results.webhook.error).toContain(`answered 302`);
    expect(item?.results.webhook.error).toContain(`${base}/ok/moved`);
    expect(received.map((r) => r.path)).toEqual(['/redirect']);
  });

  it('fails (and retries) when the server does not answer within the timeout', async () => {
    const q = await freshQueue(dialect);
    q.connect(createWebhookHandler({ timeoutMs: 150 }));
    const { id } = await q.enqueue('webhook', { url: `${base}/slow` });
    expect(await q.process()).toMatchObject({ retry: 1 });
    const item = await q.admin.get(id);
    expect(item?.status).toBe('need_retry');
    expect(item?.results.webhook.error).toBe(`webhook POST ${base}/slow got no answer within 150 ms`);
  });

  it('fails (and retries) when nothing listens, naming the cause', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const port = await closedPort();
    const { id } = await q.enqueue('webhook', { url: `http://127.0.0.1:${port}/hook` });
    await q.process();
    const item = await q.admin.get(id);
    expect(item?.status).toBe('need_retry');
    expect(item?.results.webhook.error).toMatch(new RegExp(`^webhook POST http://127\\.0\\.0\\.1:${port}/hook failed: .*ECONNREFUSED`));
  });

  it.each([
    [{}, '"url" must be an http or https URL, got nothing'],
    [{ url: 'ftp://files.example.com/x' }, '"url" must be an http or https URL, got "ftp://files.example.com/x"'],
    [{ url: 'not a url' }, '"url" must be an http or https URL, got "not a url"'],
    [{ url: 42 }, '"url" must be an http or https URL, got 42'],
    [['http://example.com'], 'payload must be an object'],
    [{ url: 'http://127.0.0.1/', method: 'GET' }, '"method" must be POST or PUT, got "GET"'],
    [{ url: 'http://127.0.0.1/', headers: { 'x-n': 1 } }, '"headers" must be an object of header names to string values'],
    [{ url: 'http://127.0.0.1/', headers: { 'bad header': 'x' } }, '"headers" must be an object of header names to string values'],
    [{ url: 'http://127.0.0.1/', headers: { 'x-a': 'one\r\nx-b: two' } }, '"headers" must be an object of header names to string values'],
    [{ url: 'http://127.0.0.1/', headers: { Host: 'admin.internal' } }, '"headers" must not set "host"'],
    [{ url: 'http://127.0.0.1/', headers: { 'Transfer-Encoding': 'chunked' } }, '"headers" must not set "transfer-encoding"'],
    [{ url: 'http://ada:secret@127.0.0.1/hook' }, '"url" must not carry a user name or password (http://127.0.0.1/hook)'],
  ])('refuses payload %j at once, naming the value', async (payload, message) => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', payload);
    await q.process();
    const item = await q.admin.get(id);
    expect(item).toMatchObject({ status: 'error', trials: 1 });
    expect(item?.results.webhook.error).toContain(`webhook item ${id}: ${message}`);
    expect(received).toEqual([]);
  });

  it('calls only hosts in the allow-list', async () => {
    const q = await freshQueue(dialect);
    q.connect(createWebhookHandler({ allowHosts: ['hooks.example.com'] }));
    const { id } = await q.enqueue('webhook', { url: `${base}/ok/a` });
    await q.process();
    const item = await q.admin.get(id);
    expect(item?.status).toBe('error');
    expect(item?.results.webhook.error).toContain('webhook host 127.0.0.1 is not in SIGNALQ_WEBHOOK_ALLOW_HOSTS (hooks.example.com)');
    expect(received).toEqual([]);

    const allowed = await freshQueue(dialect);
    allowed.connect(createWebhookHandler({ allowHosts: ['hooks.example.com', '127.0.0.1'] }));
    const second = await allowed.enqueue('webhook', { url: `${base}/ok/b` });
    await allowed.process();
    expect((await allowed.admin.get(second.id))?.status).toBe('done');
    expect(received.map((r) => r.path)).toEqual(['/ok/b']);
  });
});

/** Runs the handler once, outside a queue, as a worker would call it. */
function runOnce(options: WebhookOptions, payload: unknown): Promise<unknown> {
  const ctx = { attempt: 1, idempotencyKey: '1:webhook', signal: new AbortController().signal } as HandlerContext;
  return Promise.resolve(createWebhookHandler(options).handle({ id: 1, type: 'webhook', payload } as Item<any>, ctx));
}

/** The error `promise` rejects with (fails the test if it resolves). */
async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure, got success');
}

/** A full garbage collection, as the worker's heap would have one sooner or later (`gc` without --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** `promise`'s value, or 'still running' after `ms`: a hung handler fails its test instead of hanging the suite. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still running'> {
  let timer: NodeJS.Timeout;
  const late = new Promise<'still running'>((r) => (timer = setTimeout(() => r('still running'), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('webhook handler against receivers that never finish their answer', () => {
  it('ends a 500 whose body trickles for ever at its timeout, with what arrived in the error', async () => {
    const q = await freshQueue('sqlite');
    q.connect(createWebhookHandler({ timeoutMs: 500 }));
    const { id } = await q.enqueue('webhook', { url: `${base}/trickle-500` });
    // Full collections while it runs: on Node 20 the old AbortSignal.any([..., AbortSignal.timeout()]) was collected
    // once fetch() had returned, and its timeout never fired.
    const churn = setInterval(collectGarbage, 50);
    const started = Date.now();
    let outcome;
    try {
      outcome = await within(q.process(), 5000);
    } finally {
      clearInterval(churn);
    }
    expect(outcome).toMatchObject({ retry: 1 });
    expect(Date.now() - started).toBeLessThan(3000);
    const item = await q.admin.get(id);
    expect(item?.status).toBe('need_retry');
    expect(item?.results.webhook.error).toMatch(new RegExp(`^webhook POST ${base}/trickle-500 answered 500 Internal Server Error: slow failure x*$`));
  });

  it('reads only the start of a 200 MB error body, then hangs up on the rest', async () => {
    const q = await freshQueue('sqlite');
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/huge-500` });
    expect(await within(q.process(), 10_000)).toMatchObject({ retry: 1 });
    const error = String((await q.admin.get(id))?.results.webhook.error);
    expect(error).toMatch(new RegExp(`^webhook POST ${base}/huge-500 answered 500 Internal Server Error: database exploded: x+…$`));
    expect(error.length).toBeLessThan(400);
    // The server saw the client go away long before the body's end: the handler did not read (and hold) it all.
    expect(await within(huge!.closed, 5000)).not.toBe('still running');
    expect(huge!.finished).toBe(false);
    expect(huge!.written).toBeLessThan(HUGE_BYTES / 4);
  });
});

describe('webhook allow-list and the addresses a name resolves to', () => {
  const port = () => new URL(base).port;
  /** A resolver that answers `addresses` for any name, counting the questions. */
  const resolver = (...addresses: string[]) => {
    const fn = async () => {
      fn.calls++;
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    fn.calls = 0;
    return fn;
  };

  it('warns when there is no allow-list, once on stderr when the module is loaded, and not with a list', async () => {
    const message = 'webhook: no SIGNALQ_WEBHOOK_ALLOW_HOSTS set: items may call any address, including internal ones; set it to the hosts you expect';
    expect(webhookStartupWarning({})).toBe(message);
    expect(webhookStartupWarning({ allowHosts: [] })).toBe(message);
    expect(webhookStartupWarning({ allowHosts: ['hooks.example.com'] })).toBeNull();
    const load = (allow: string | undefined) =>
      new Promise<string>((resolve, reject) => {
        const env: NodeJS.ProcessEnv = { ...process.env, SIGNALQ_WEBHOOK_ALLOW_HOSTS: allow };
        delete env.NODE_OPTIONS;
        if (allow === undefined) delete env.SIGNALQ_WEBHOOK_ALLOW_HOSTS;
        const script = "await import('./handlers/webhook.ts'); await import('./handlers/webhook.ts');";
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), env });
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        child.on('error', reject).on('close', (code) => (code === 0 ? resolve(err) : reject(new Error(`exit ${code}: ${err}`))));
      });
    const [open, listed] = await Promise.all([load(undefined), load('hooks.example.com')]);
    expect(open).toBe(`signalq: warning: ${message}\n`);
    expect(listed).toBe('');
  });

  it('matches addresses in any spelling, and never by wildcard', () => {
    expect(hostAllowed('[::1]', ['::1'])).toBe(true);
    expect(hostAllowed('[::1]', ['[0:0::1]'])).toBe(true);
    expect(hostAllowed('[::ffff:7f00:1]', ['127.0.0.1'])).toBe(true);
    expect(hostAllowed('127.0.0.1', ['*.0.0.1'])).toBe(false);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['100.64.0.1', 'carrier-grade NAT (shared)'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['64:ff9b::a00:1', 'NAT64'],
    ['2002:a00:1::1', '6to4 (IPv4-carrying)'],
    ['2001::a00:1', 'Teredo (IPv4-carrying)'],
  ])('refuses, for good, a wildcard-matched name that also resolves to %s (%s)', async (address, kind) => {
    const err = await errorOf(runOnce({ allowHosts: ['*.example.test'], resolve: resolver('192.0.2.10', address) }, { url: `http://hooks.example.test:${port()}/ok/x` }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toBe(
      `webhook host hooks.example.test resolves to ${address}, a ${kind} address, which a wildcard entry of SIGNALQ_WEBHOOK_ALLOW_HOSTS does not cover; list hooks.example.test or ${address} there if it is meant to be called, or fix the item's url`,
    );
    expect(received).toEqual([]);
  });

  it('calls an internal address when the list names it, or names the host exactly', async () => {
    await runOnce({ allowHosts: ['*.example.test', '127.0.0.1'], resolve: resolver('127.0.0.1') }, { url: `http://hooks.example.test:${port()}/ok/by-address` });
    await runOnce({ allowHosts: ['billing.internal.test'], resolve: resolver('127.0.0.1') }, { url: `http://billing.internal.test:${port()}/ok/by-name` });
    // With the real resolver: localhost is 127.0.0.1 here, and listed by name.
    await runOnce({ allowHosts: ['localhost'] }, { url: `http://localhost:${port()}/ok/localhost` });
    expect(received.map((r) => r.path)).toEqual(['/ok/by-address', '/ok/by-name', '/ok/localhost']);
  });

  it('connects to the address it checked, without asking again (no DNS rebinding between check and connect)', async () => {
    // hooks.internal.test is in no DNS: the request can only reach the server through the checked address.
    const resolve = resolver('127.0.0.1');
    expect(await runOnce({ allowHosts: ['hooks.internal.test'], resolve }, { url: `http://hooks.internal.test:${port()}/ok/pinned` })).toEqual({ status: 200 });
    expect(resolve.calls).toBe(1);
    expect(received).toMatchObject([{ path: '/ok/pinned', headers: { host: `hooks.internal.test:${port()}` } }]);
  });

  it('lets a public address through the check (then fails like any unreachable host, to be retried)', async () => {
    const err = await errorOf(runOnce({ allowHosts: ['*.example.test'], resolve: resolver('192.0.2.10'), timeoutMs: 300 }, { url: `http://hooks.example.test:${port()}/ok/x` }));
    expect(err).not.toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(new RegExp(`^webhook POST http://hooks\\.example\\.test:${port()}/ok/x (failed: |got no answer within 300 ms)`));
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds or an HTTP date, caps at a day, and ignores junk', async () => {
    const { parseRetryAfter } = await import('../../handlers/webhook.ts');
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter('999999', now)).toBe(86_400_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
