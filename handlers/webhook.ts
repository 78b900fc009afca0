/**
 * `webhook` items: sends a JSON request to a URL, once per item, with an `Idempotency-Key` header so the receiver
 * can drop a repeat delivery (a retry after a timeout, or a rerun after a crash, sends the same key).
 *
 * Payload: `{ url, body?, headers?, method? }`
 * - `url`: the http(s) URL to call.
 * - `body`: any JSON value; the request body is `{ "id": <item id>, "type": "webhook", "body": <body or null> }`.
 * - `headers`: extra request headers, e.g. `Authorization`. `Content-Type` and `Idempotency-Key` are always the
 *   handler's own.
 * - `method`: `"POST"` (default) or `"PUT"`.
 *
 * Outcome:
 * - 2xx: success.
 * - 408, 429, 5xx, network error or no answer in time: failure; the queue tries again after its backoff, or
 *   after the answer's `Retry-After` when that is later.
 * - 3xx and other 4xx: `PermanentError`; the same request would get the same answer. Redirects are not followed:
 *   a POST that is redirected is usually turned into a GET, and it could lead outside the allow-list.
 * - A payload that is not as above, or a host not in the allow-list: `PermanentError`.
 *
 * Environment (all optional):
 * - `SIGNALQ_WEBHOOK_TIMEOUT_MS`: milliseconds to wait for the answer. Default 10000.
 * - `SIGNALQ_WEBHOOK_ALLOW_HOSTS`: comma-separated host names that may be called; `*.example.com` also matches
 *   every subdomain of example.com. Unset or empty: any host.
 *
 * Example: `npx signalq enqueue webhook '{"url":"https://example.com/hooks/order","body":{"order":42}}'`
 */
import { PermanentError, RetryLaterError, defineHandler, type Handler } from '../src/index.ts';
import { preview } from './_preview.ts';

/** What a `webhook` item carries. */
export interface WebhookPayload {
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  method?: 'POST' | 'PUT';
}

/** How the webhook handler behaves; `webhookOptionsFromEnv` reads them from the environment. */
export interface WebhookOptions {
  /** Milliseconds to wait for the answer. Default 10 000. */
  timeoutMs?: number;
  /** Host names that may be called (`*.example.com` for subdomains); null or empty: any host. Default null. */
  allowHosts?: readonly string[] | null;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const METHODS = ['POST', 'PUT'] as const;
/** Statuses that say "try again later" rather than "this request is wrong". */
const RETRYABLE_4XX = new Set([408, 429]);

/**
 * Reads `SIGNALQ_WEBHOOK_TIMEOUT_MS` and `SIGNALQ_WEBHOOK_ALLOW_HOSTS`. Throws on a timeout that is not a whole
 * number above 0: a worker should refuse to start rather than fail every webhook.
 */
export function webhookOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Required<WebhookOptions> {
  const rawTimeout = env.SIGNALQ_WEBHOOK_TIMEOUT_MS?.trim();
  const timeoutMs = rawTimeout ? Number(rawTimeout) : DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`SIGNALQ_WEBHOOK_TIMEOUT_MS is ${JSON.stringify(env.SIGNALQ_WEBHOOK_TIMEOUT_MS)}; use a whole number of milliseconds above 0, or unset it for ${DEFAULT_TIMEOUT_MS}`);
  }
  const hosts = (env.SIGNALQ_WEBHOOK_ALLOW_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return { timeoutMs, allowHosts: hosts.length ? hosts : null };
}

/** Is `hostname` in the allow-list? An entry `*.example.com` matches every subdomain of example.com. */
export function hostAllowed(hostname: string, allowHosts: readonly string[] | null | undefined): boolean {
  if (!allowHosts || allowHosts.length === 0) return true;
  const host = hostname.toLowerCase();
  return allowHosts.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? host.endsWith(e.slice(1)) : host === e;
  });
}

/** A `webhook` handler with the given options; the module's default export uses the environment's. */
export function createWebhookHandler(options: WebhookOptions = {}): Handler<WebhookPayload> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const allowHosts = options.allowHosts ?? null;
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

      let res: Response;
      try {
        res = await fetch(req.url, {
          method: req.method,
          headers: req.headers,
          body: JSON.stringify({ id: item.id, type: item.type, body: req.body ?? null }),
          redirect: 'manual',
          // The queue's own timeout (ctx.signal) is the outer bound; ours is the shorter one for one request.
          signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
        });
      } catch (err) {
        if ((err as Error)?.name === 'TimeoutError') throw new Error(`${where} got no answer within ${timeoutMs} ms`);
        throw new Error(`${where} failed: ${networkCause(err)}`);
      }

      if (res.ok) {
        // Not reading the answer would keep its connection busy until garbage collection.
        await res.body?.cancel().catch(() => {});
        return { status: res.status };
      }
      const answer = `${where} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${await snippet(res)}`;
      if (res.status >= 500 || RETRYABLE_4XX.has(res.status)) {
        // A rate limit or an overloaded receiver may say when to come back; the queue then waits at least that long.
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
        throw retryAfterMs != null ? new RetryLaterError(`${answer} (retry after ${Math.round(retryAfterMs / 1000)} s)`, retryAfterMs) : new Error(answer);
      }
      if (res.status >= 300 && res.status < 400) {
        throw new PermanentError(`${answer}; redirects are not followed, put the final URL (${res.headers.get('location') ?? 'no Location given'}) in the item`);
      }
      throw new PermanentError(answer);
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

/** The payload checked and normalized; anything wrong is a `PermanentError` naming the field and its value. */
function parsePayload(payload: unknown, id: number): { url: URL; method: string; headers: Headers; body: unknown } {
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
  return { url, method: method as string, headers, body: p.body };
}

/** The URL for messages: without credentials or query string, which often carry secrets (item results are shown to operators). */
function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** A short, one-line excerpt of an error answer's body (receivers often say why there), or ''. */
async function snippet(res: Response): Promise<string> {
  try {
    const text = (await res.text()).replace(/\s+/g, ' ').trim();
    return text ? `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}` : '';
  } catch {
    return '';
  }
}

/** fetch() reports "fetch failed" and hides the reason (ECONNREFUSED, DNS, TLS) in `cause`. */
function networkCause(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  return e?.cause?.message || e?.cause?.code || e?.message || String(err);
}


/** The `webhook` handler, configured from the environment (see the header of this file). */
export default createWebhookHandler(webhookOptionsFromEnv());
