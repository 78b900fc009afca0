/**
 * `webhook` items: sends a JSON request to a URL, once per item, with an `Idempotency-Key` header so the receiver
 * can drop a repeat delivery (a retry after a timeout, or a rerun after a crash, sends the same key).
 *
 * Payload: `{ url, body?, headers?, method? }`
 * - `url`: the http(s) URL to call, without a user name or password (results show the URL; use `headers`).
 * - `body`: any JSON value; the request body is `{ "id": <item id>, "type": "webhook", "body": <body or null> }`.
 * - `headers`: extra request headers, e.g. `Authorization`. `Content-Type` and `Idempotency-Key` are always the
 *   handler's own; `Host`, `Content-Length` and the connection headers are refused (they would change where the
 *   request goes or how it is framed).
 * - `method`: `"POST"` (default) or `"PUT"`.
 *
 * Outcome:
 * - 2xx: success.
 * - 408, 429, 5xx, network error or no answer in time: failure; the queue tries again after its backoff, or
 *   after the answer's `Retry-After` when that is later.
 * - 3xx and other 4xx: `PermanentError`; the same request would get the same answer. Redirects are not followed:
 *   a POST that is redirected is usually turned into a GET, and it could lead outside the allow-list.
 * - A payload that is not as above, or a host the allow-list refuses (below): `PermanentError`.
 *
 * The timeout covers the whole exchange: name lookup, connecting, the answer's head and reading its body. Only
 * the first few KB of an error answer are read (its first 200 characters go into the message): a receiver that
 * answers with a huge or endless body must not fill the worker's memory or hold it past the timeout. The timer is
 * our own setTimeout on an AbortController the handler holds, not `AbortSignal.any([..., AbortSignal.timeout()])`,
 * whose combined signal Node 20 can garbage-collect mid-request, losing the timeout.
 *
 * Environment (all optional):
 * - `SIGNALQ_WEBHOOK_TIMEOUT_MS`: milliseconds for the whole exchange. Default 10000.
 * - `SIGNALQ_WEBHOOK_ALLOW_HOSTS`: comma-separated hosts that may be called: names (`hooks.example.com`),
 *   `*.example.com` for every subdomain of example.com, or addresses (`10.0.0.7`, `::1`).
 *   Unset or empty: ANY host, internal ones included (cloud metadata at 169.254.169.254, admin ports on
 *   localhost, the private network): whoever can enqueue an item can make the worker call them. Loading the
 *   module without a list prints a warning on stderr; set the list whenever items' URLs come from anyone else.
 *
 * With an allow-list, the host name must match it AND every address the name resolves to is checked: a
 * loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), unspecified (0/8,
 * ::), carrier-grade NAT (100.64/10), multicast, broadcast or IPv4-carrying IPv6 address (NAT64 64:ff9b::/96, 6to4,
 * Teredo), IPv4-mapped forms included (the ranges as ipaddr.js keeps them), is refused unless the list names that
 * address itself or names the host exactly. A wildcard entry vouches for public addresses only, since anyone who
 * may create names under it can point them anywhere. So `*.example.com` does not reach `intranet.example.com` at 10.1.2.3, while listing
 * `intranet.example.com` (or `10.1.2.3`) does; `localhost` is reached only when `localhost` or its addresses are
 * listed. The connection then goes to the checked address, not to a second lookup, so a name that changes its
 * answer between the check and the connect (DNS rebinding) cannot slip past.
 *
 * Example: `npx signalq enqueue webhook '{"url":"https://example.com/hooks/order","body":{"order":42}}'`
 */
import type { LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { PermanentError, RetryLaterError, defineHandler, type Handler } from '../src/index.ts';
import { preview } from './_preview.ts';
import { bareHost, hostAllowed, lookupAll, vetAddresses } from './_webhook-addresses.ts';

export { hostAllowed };

/** What a `webhook` item carries. */
export interface WebhookPayload {
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  method?: 'POST' | 'PUT';
}

/** How the webhook handler behaves; `webhookOptionsFromEnv` reads them from the environment. */
export interface WebhookOptions {
  /** Milliseconds for the whole exchange, body included. Default 10 000. */
  timeoutMs?: number;
  /**
   * Hosts that may be called: names, `*.example.com` for subdomains, or addresses. Null or empty: any host,
   * internal ones included. Default null. See the header of this file for how resolved addresses are checked.
   */
  allowHosts?: readonly string[] | null;
  /**
   * How a host name is resolved to the addresses that are checked and then connected to. Default: node:dns
   * `lookup` with every address, as connections use (/etc/hosts included). Only used with an allow-list.
   */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const METHODS = ['POST', 'PUT'] as const;
/** Statuses that say "try again later" rather than "this request is wrong". */
const RETRYABLE_4XX = new Set([408, 429]);
/** How much of an error answer's body is read: enough for the 200 characters shown, never the whole of a huge one. */
const SNIPPET_BYTES = 4096;
/** How much of a 2xx answer's body is drained so its connection can be reused; past that the connection is closed. */
const DRAIN_BYTES = 64 * 1024;
/** Payload headers that would change where the request goes or how it is framed. */
const REFUSED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer', 'expect']);

/**
 * Reads `SIGNALQ_WEBHOOK_TIMEOUT_MS` and `SIGNALQ_WEBHOOK_ALLOW_HOSTS`. Throws on a timeout that is not a whole
 * number above 0: a worker should refuse to start rather than fail every webhook.
 */
export function webhookOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Required<Pick<WebhookOptions, 'timeoutMs' | 'allowHosts'>> {
  const rawTimeout = env.SIGNALQ_WEBHOOK_TIMEOUT_MS?.trim();
  const timeoutMs = rawTimeout ? Number(rawTimeout) : DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`SIGNALQ_WEBHOOK_TIMEOUT_MS is ${JSON.stringify(env.SIGNALQ_WEBHOOK_TIMEOUT_MS)}; use a whole number of milliseconds above 0, or unset it for ${DEFAULT_TIMEOUT_MS}`);
  }
  const hosts = (env.SIGNALQ_WEBHOOK_ALLOW_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return { timeoutMs, allowHosts: hosts.length ? hosts : null };
}

/**
 * The warning to print when a worker starts with these options, or null: without an allow-list any item can make
 * the worker call any address, internal ones included.
 */
export function webhookStartupWarning(options: WebhookOptions): string | null {
  if (options.allowHosts?.length) return null;
  return 'webhook: no SIGNALQ_WEBHOOK_ALLOW_HOSTS set: items may call any address, including internal ones; set it to the hosts you expect';
}

/** A `webhook` handler with the given options; the module's default export uses the environment's. */
export function createWebhookHandler(options: WebhookOptions = {}): Handler<WebhookPayload> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const allowHosts = options.allowHosts?.length ? options.allowHosts : null;
  const resolve = options.resolve ?? lookupAll;
  // Our own connection pools: a connection another handler opened under other rules is never reused by this one.
  const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };
  return defineHandler<WebhookPayload>({
    name: 'webhook',
    types: ['webhook'],
    async handle(item, ctx) {
      const req = parsePayload(item.payload, item.id);
      if (!hostAllowed(req.url.hostname, allowHosts)) {
        throw new PermanentError(`webhook host ${req.url.hostname} is not in SIGNALQ_WEBHOOK_ALLOW_HOSTS (${allowHosts!.join(', ')}); add it there or fix the item's url`);
      }
      // The handler's own headers win: the receiver's dedupe depends on the key, and the body is always JSON.
      req.headers.set('content-type', 'application/json');
      req.headers.set('idempotency-key', ctx.idempotencyKey);
      const where = `webhook ${req.method} ${shownUrl(req.url)}`;

      // One controller for the whole exchange, held here (and by the timer's closure) until the finally below.
      // The queue's own timeout (ctx.signal) is the outer bound; ours is the shorter one for one request.
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      const onOuterAbort = () => controller.abort();
      ctx.signal.addEventListener('abort', onOuterAbort);
      if (ctx.signal.aborted) controller.abort();
      const { signal } = controller;
      const stopped = () =>
        new Error(timedOut ? `${where} got no answer within ${timeoutMs} ms` : `${where} was stopped: ${ctx.signal.reason?.message ?? 'the run was aborted'}`);
      try {
        let res: IncomingMessage;
        try {
          const lookup = allowHosts ? await vetAddresses(req.url, allowHosts, resolve, signal) : undefined;
          res = await send(req, JSON.stringify({ id: item.id, type: item.type, body: req.body ?? null }), agents, lookup, signal);
        } catch (err) {
          if (err instanceof PermanentError) throw err;
          if (signal.aborted) throw stopped();
          throw new Error(`${where} failed: ${networkCause(err)}`);
        }

        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          // Drained (a little, within the timeout) so the connection can serve the next webhook; the status decided.
          await readUpTo(res, DRAIN_BYTES, signal);
          return { status };
        }
        const answer = `${where} answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${await snippet(res, signal)}`;
        if (status >= 500 || RETRYABLE_4XX.has(status)) {
          // A rate limit or an overloaded receiver may say when to come back; the queue then waits at least that long.
          const retryAfterMs = parseRetryAfter(headerValue(res.headers['retry-after']), Date.now());
          throw retryAfterMs != null ? new RetryLaterError(`${answer} (retry after ${Math.round(retryAfterMs / 1000)} s)`, retryAfterMs) : new Error(answer);
        }
        if (status >= 300 && status < 400) {
          throw new PermanentError(`${answer}; redirects are not followed, put the final URL (${headerValue(res.headers.location) ?? 'no Location given'}) in the item`);
        }
        throw new PermanentError(answer);
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onOuterAbort);
      }
    },
  });
}

/**
 * A `Retry-After` header (seconds, or an HTTP date) as milliseconds from `now`; null when absent or unreadable.
 * Capped at a day, so a receiver cannot park an item for ever.
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), 86_400_000) : null;
}

interface ParsedRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: unknown;
}

/** The payload checked and normalized; anything wrong is a `PermanentError` naming the field and its value. */
function parsePayload(payload: unknown, id: number): ParsedRequest {
  const bad = (what: string) => new PermanentError(`webhook item ${id}: ${what}`);
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw bad(`payload must be an object { url, body?, headers?, method? }, got ${preview(payload)}`);
  }
  const p = payload as Record<string, unknown>;
  let url: URL | null = null;
  try {
    if (typeof p.url === 'string') url = new URL(p.url);
  } catch {
    // Not a URL at all: reported below with the value.
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw bad(`"url" must be an http or https URL, got ${preview(p.url)}`);
  }
  // Not shown: the value would put the password in the item's results.
  if (url.username || url.password) throw bad(`"url" must not carry a user name or password (${shownUrl(url)}); send credentials in "headers", e.g. Authorization`);
  const method = p.method ?? 'POST';
  if (!METHODS.includes(method as (typeof METHODS)[number])) throw bad(`"method" must be POST or PUT, got ${preview(method)}`);
  let headers: Headers;
  try {
    if (p.headers !== undefined && (!p.headers || typeof p.headers !== 'object' || Array.isArray(p.headers))) throw new Error('not an object');
    for (const v of Object.values((p.headers ?? {}) as object)) if (typeof v !== 'string') throw new Error('values must be strings');
    headers = new Headers(p.headers as Record<string, string> | undefined);
  } catch (err) {
    throw bad(`"headers" must be an object of header names to string values (${(err as Error).message}), got ${preview(p.headers)}`);
  }
  for (const name of headers.keys()) {
    if (REFUSED_HEADERS.has(name)) throw bad(`"headers" must not set ${preview(name)}: the handler sets where the request goes and how it is framed; remove it`);
  }
  return { url, method: method as string, headers, body: p.body };
}

/**
 * Sends the request; resolves with the answer once its head is in (the body is left to the caller).
 * `lookup`, when given, is the only name resolution the connection uses (the addresses already vetted).
 */
function send(req: ParsedRequest, body: string, agents: { 'http:': HttpAgent; 'https:': HttpsAgent }, lookup: LookupFunction | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  const protocol = req.url.protocol as 'http:' | 'https:';
  const headers: OutgoingHttpHeaders = { accept: '*/*', 'user-agent': 'signalq-webhook', ...Object.fromEntries(req.headers) };
  headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const request = (protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        protocol,
        hostname: bareHost(req.url.hostname),
        port: req.url.port || undefined,
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method,
        headers,
        agent: agents[protocol],
        // Aborting destroys the request and its socket, which also ends the answer's body if it is being read.
        signal,
        ...(lookup ? { lookup } : {}),
      },
      resolve,
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The URL for messages: without credentials or query string, which often carry secrets (item results are shown to operators). */
function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** A header's first value, or null. */
function headerValue(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/**
 * Reads at most `maxBytes` of an answer's body, within `signal`. Past the limit, on abort or on an error it stops
 * and destroys the answer (closing its connection), so a huge or endless body costs neither memory nor time.
 * Never rejects: `complete` says whether the whole body arrived.
 */
function readUpTo(res: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<{ bytes: Buffer; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (complete: boolean) => {
      if (settled) return;
      settled = true;
      res.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (!complete) res.destroy();
      const bytes = Buffer.concat(chunks);
      resolve({ bytes: bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes, complete });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = () => finish(false);
    const onClose = () => finish(res.complete);
    const onAbort = () => finish(false);
    res.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
  });
}

/** A short, one-line excerpt of an error answer's body (receivers often say why there), or ''. Reads a few KB at most. */
async function snippet(res: IncomingMessage, signal: AbortSignal): Promise<string> {
  const { bytes } = await readUpTo(res, SNIPPET_BYTES, signal);
  // stream: true leaves out a character cut in half at the end of what was read.
  const text = new TextDecoder().decode(bytes, { stream: true }).replace(/\s+/g, ' ').trim();
  return text ? `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}` : '';
}

/** A connection error's reason (ECONNREFUSED, DNS, TLS); trying several addresses gives an AggregateError of them. */
function networkCause(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  if (Array.isArray(e?.errors) && e.errors.length) return e.errors.map((x) => x?.message ?? String(x)).join('; ');
  return e?.message || e?.code || String(err);
}

const fromEnv = webhookOptionsFromEnv();
const warning = webhookStartupWarning(fromEnv);
// Once per process: the module is evaluated once however often it is imported.
if (warning) process.stderr.write(`signalq: warning: ${warning}\n`);

/** The `webhook` handler, configured from the environment (see the header of this file). */
export default createWebhookHandler(fromEnv);
