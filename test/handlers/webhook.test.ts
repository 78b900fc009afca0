/**
 * The webhook handler against a real local HTTP server, run through a real queue on SQLite and MySQL/MariaDB.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import webhook, { createWebhookHandler, hostAllowed, webhookOptionsFromEnv } from '../../handlers/webhook.ts';
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

/** Routes: /ok/* 200, /status/<n> answers n, /flaky fails once then 200, /slow never answers, /redirect 302. */
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
    const item = await q.inspect.get(id);
    expect(item).toMatchObject({ status: 'done', trials: 1 });
    expect(item?.results.webhook.ok).toBe(true);
  });

  it('PUTs when asked, with a null body when the payload has none', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/ok/put`, method: 'PUT' });
    await q.process();
    expect(received).toMatchObject([{ method: 'PUT', body: { id, type: 'webhook', body: null } }]);
    expect((await q.inspect.get(id))?.status).toBe('done');
  });

  it('retries on 500 with the URL (no query) and status in the error, and sends the same key again', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/status/500?sig=hidden` });
    expect(await q.process()).toMatchObject({ retry: 1 });
    let item = await q.inspect.get(id);
    expect(item).toMatchObject({ status: 'need_retry', trials: 1 });
    expect(item?.results.webhook.error).toBe(`webhook POST ${base}/status/500 answered 500 Internal Server Error: answer 500`);

    await q.process();
    item = await q.inspect.get(id);
    expect(item).toMatchObject({ status: 'need_retry', trials: 2 });
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual([`${id}:webhook`, `${id}:webhook`]);
  });

  it('goes done on the retry after a 503', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/flaky` });
    await q.process();
    expect((await q.inspect.get(id))?.status).toBe('need_retry');
    await q.process();
    const item = await q.inspect.get(id);
    expect(item).toMatchObject({ status: 'done', trials: 2 });
    expect(item?.results.webhook).toMatchObject({ ok: true, runs: 2 });
  });

  it('waits as long as a 429 Retry-After asks, longer than its backoff', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/rate-limited` });
    const before = Date.now();
    await q.process();
    const item = await q.inspect.get(id);
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
    const item = await q.inspect.get(id);
    expect(item?.status).toBe('need_retry');
    expect(item?.results.webhook.error).toContain(`answered ${status}`);
  });

  it.each([400, 404, 410])('fails permanently on %i, without more trials', async (status) => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/status/${status}` });
    expect(await q.process()).toMatchObject({ error: 1 });
    const item = await q.inspect.get(id);
    expect(item).toMatchObject({ status: 'error', trials: 1 });
    expect(item?.results.webhook.error).toContain(`webhook POST ${base}/status/${status} answered ${status}`);
  });

  it('does not follow a redirect: permanent error naming where it pointed', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', { url: `${base}/redirect` });
    await q.process();
    const item = await q.inspect.get(id);
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
    const item = await q.inspect.get(id);
    expect(item?.status).toBe('need_retry');
    expect(item?.results.webhook.error).toBe(`webhook POST ${base}/slow got no answer within 150 ms`);
  });

  it('fails (and retries) when nothing listens, naming the cause', async () => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const port = await closedPort();
    const { id } = await q.enqueue('webhook', { url: `http://127.0.0.1:${port}/hook` });
    await q.process();
    const item = await q.inspect.get(id);
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
  ])('refuses payload %j at once, naming the value', async (payload, message) => {
    const q = await freshQueue(dialect);
    q.connect(webhook);
    const { id } = await q.enqueue('webhook', payload);
    await q.process();
    const item = await q.inspect.get(id);
    expect(item).toMatchObject({ status: 'error', trials: 1 });
    expect(item?.results.webhook.error).toContain(`webhook item ${id}: ${message}`);
    expect(received).toEqual([]);
  });

  it('calls only hosts in the allow-list', async () => {
    const q = await freshQueue(dialect);
    q.connect(createWebhookHandler({ allowHosts: ['hooks.example.com'] }));
    const { id } = await q.enqueue('webhook', { url: `${base}/ok/a` });
    await q.process();
    const item = await q.inspect.get(id);
    expect(item?.status).toBe('error');
    expect(item?.results.webhook.error).toContain('webhook host 127.0.0.1 is not in SIGNALQ_WEBHOOK_ALLOW_HOSTS (hooks.example.com)');
    expect(received).toEqual([]);

    const allowed = await freshQueue(dialect);
    allowed.connect(createWebhookHandler({ allowHosts: ['hooks.example.com', '127.0.0.1'] }));
    const second = await allowed.enqueue('webhook', { url: `${base}/ok/b` });
    await allowed.process();
    expect((await allowed.inspect.get(second.id))?.status).toBe('done');
    expect(received.map((r) => r.path)).toEqual(['/ok/b']);
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
