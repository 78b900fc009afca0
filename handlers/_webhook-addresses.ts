/**
 * The webhook handler's address checks (the leading `_` keeps the loader from taking it for a handler module):
 * whether a host is in the allow-list, and, when a list is set, whether any address the name resolves to is
 * internal (loopback, private, link-local, carrier-grade NAT, multicast, NAT64, …) without the list naming it.
 * The vetted addresses are what the connection then uses, so a name that resolves differently between check and
 * connect gets nowhere.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { PermanentError } from '../src/index.ts';

/**
 * The ranges (as ipaddr.js names them) a webhook must not reach unless the allow-list says so, each with the word
 * used in messages: what an address inside the host's network or the provider's answers on, and the IPv6 forms
 * that carry an IPv4 address onward (NAT64, 6to4, Teredo), which could lead to a private one. ipaddr.js keeps the
 * IANA special-purpose registries; a hand-kept list had missed carrier-grade NAT, multicast and NAT64.
 */
const INTERNAL_RANGES: ReadonlyMap<string, string> = new Map([
  ['loopback', 'loopback'],
  ['private', 'private'],
  ['uniqueLocal', 'private'],
  ['linkLocal', 'link-local'],
  ['unspecified', 'unspecified'],
  ['carrierGradeNat', 'carrier-grade NAT (shared)'],
  ['multicast', 'multicast'],
  ['broadcast', 'broadcast'],
  ['rfc6052', 'NAT64'],
  ['rfc6145', 'NAT64'],
  ['6to4', '6to4 (IPv4-carrying)'],
  ['teredo', 'Teredo (IPv4-carrying)'],
]);

/**
 * Is `hostname` in the allow-list? An entry `*.example.com` matches every subdomain of example.com; an address
 * matches the same address in any spelling (`::1`, `[::1]`, and an IPv4-mapped IPv6 form matches its IPv4 entry).
 * This checks the name only; the handler also checks what the name resolves to.
 */
export function hostAllowed(hostname: string, allowHosts: readonly string[] | null | undefined): boolean {
  if (!allowHosts || allowHosts.length === 0) return true;
  const address = normalizeAddress(hostname);
  if (address) return allowHosts.some((entry) => normalizeAddress(entry) === address);
  const host = hostname.toLowerCase();
  return allowHosts.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? host.endsWith(e.slice(1)) : host === e;
  });
}

/**
 * Resolves the URL's host and checks every address against the allow-list (see the header of this file); returns
 * a lookup function that hands the connection exactly those addresses. Throws `PermanentError` on a refused one.
 */
export async function vetAddresses(url: URL, allowHosts: readonly string[], resolve: (hostname: string) => Promise<LookupAddress[]>, signal: AbortSignal): Promise<LookupFunction> {
  const host = bareHost(url.hostname).toLowerCase();
  const family = isIP(host);
  const addresses: LookupAddress[] = family ? [{ address: host, family }] : await untilAborted(resolve(host), signal, `looking up ${host}`);
  if (addresses.length === 0) throw new Error(`${host} resolves to no address`);
  const exactName = allowHosts.some((entry) => entry.toLowerCase() === host);
  const listed = new Set(allowHosts.map(normalizeAddress).filter(Boolean));
  for (const { address } of addresses) {
    const kind = internalKind(address);
    if (kind && !exactName && !listed.has(normalizeAddress(address))) {
      throw new PermanentError(`webhook host ${host} resolves to ${address}, a ${kind} address, which a wildcard entry of SIGNALQ_WEBHOOK_ALLOW_HOSTS does not cover; list ${host} or ${address} there if it is meant to be called, or fix the item's url`);
    }
  }
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
    if (usable.length === 0) {
      const err: NodeJS.ErrnoException = new Error(`${host} has no IPv${wanted} address among the checked ones (${addresses.map((a) => a.address).join(', ')})`);
      err.code = 'ENOTFOUND';
      return callback(err, '');
    }
    if (options.all) callback(null, usable);
    else callback(null, usable[0].address, usable[0].family);
  };
}

/** Every address of `host` (dns.lookup, as connections use: /etc/hosts included). */
export function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
}

/** `promise`, or a rejection as soon as `signal` aborts (a name lookup cannot be cancelled, only no longer waited for). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error(`${what} was aborted`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The kind of an address the allow-list must name ("loopback", "private", "NAT64", …), else null. */
function internalKind(address: string): string | null {
  const a = normalizeAddress(address);
  if (!a) return null;
  return INTERNAL_RANGES.get(ipaddr.process(a).range()) ?? null;
}

/**
 * An IP address in one spelling (brackets dropped, IPv6 compressed and lower-case, IPv4-mapped IPv6 as IPv4), or
 * '' when `value` is not an address.
 */
function normalizeAddress(value: string): string {
  // A zone (`fe80::1%eth0`) names the interface, not another address.
  const bare = bareHost(value.trim()).replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return '';
  const v6 = bareHost(new URL(`http://[${bare}]/`).hostname);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (!mapped) return v6;
  const [hi, lo] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** A URL's hostname without the brackets of an IPv6 address. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

