// Where Airlock may send a request for an HTTP MCP server: hosts on the registry's allowlist, and no
// private, loopback, link-local or otherwise non-public address unless that server explicitly allows
// it (the demo servers on 127.0.0.1 do). The same rule guards every URL used for a server: its MCP
// endpoint, its OAuth token endpoint, and any other URL fetched on its behalf. Redirects are refused.
import ipaddr from 'ipaddr.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { hostAllowed } from '../core/hosts.js';

/** Non-public blocks ipaddr.js does not name (it rates them `unicast`). */
const EXTRA_V4 = ['198.18.0.0/15' /* benchmarking (RFC 2544) */].map((c) => ipaddr.IPv4.parseCIDR(c));
const EXTRA_V6 = [
  'fec0::/10', // deprecated site-local
  '100::/64', // discard-only
  '64:ff9b:1::/48', // local-use NAT64 (RFC 8215): its embedding depends on a local prefix length
].map((c) => ipaddr.IPv6.parseCIDR(c));

/**
 * The IPv4 addresses an IPv6 address carries, for the forms that reach them through a translator or
 * tunnel. ipaddr.js names these ranges but does not extract the embedded address, so it is done here.
 */
function embeddedIPv4(a: ipaddr.IPv6): ipaddr.IPv4[] {
  const b = a.toByteArray();
  const v4 = (o: number[]) => new ipaddr.IPv4(o);
  switch (a.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
    case 'rfc6052': // NAT64 64:ff9b::a.b.c.d
      return [v4(b.slice(12))];
    case '6to4': // 2002:AABB:CCDD::/48
      return [v4(b.slice(2, 6))];
    case 'teredo': // 2001:0:SERVER:…:~CLIENT
      return [v4(b.slice(4, 8)), v4(b.slice(12).map((x) => x ^ 0xff))];
  }
  // IPv4-compatible ::a.b.c.d (deprecated; some stacks still route it to IPv4). `::` and `::1` are rated on their own.
  if (b.slice(0, 12).every((x) => x === 0) && !(b[12] === 0 && b[13] === 0 && b[14] === 0 && b[15]! <= 1)) return [v4(b.slice(12))];
  return [];
}

function isPublicIPv4(a: ipaddr.IPv4): boolean {
  return a.range() === 'unicast' && !EXTRA_V4.some((cidr) => a.match(cidr));
}

/** Whether an address is anything but a public unicast address. Not an address at all: non-public (fail closed). */
export function isPrivateAddress(address: string): boolean {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''); // a zone id (fe80::1%eth0) is link-local anyway
  const family = isIP(text);
  if (family === 0) return true;
  // The WHATWG URL parser writes any IPv6 spelling (dotted tails included) in the hex form ipaddr.js 1.x parses.
  const a = ipaddr.parse(family === 6 ? new URL(`http://[${text}]/`).hostname.slice(1, -1) : text);
  if (a.kind() === 'ipv4') return !isPublicIPv4(a as ipaddr.IPv4);
  const v6 = a as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded.length) return !embedded.every(isPublicIPv4);
  return v6.range() !== 'unicast' || EXTRA_V6.some((cidr) => v6.match(cidr));
}

export class NetworkPolicyError extends Error {
  override readonly name = 'NetworkPolicyError';
}

/** The network rule of one server. Without `allowedHosts` (pools built for tests) any host is listed; the address rule still holds. */
export interface NetworkRule {
  allowedHosts?: readonly string[];
  allowPrivateNetwork: boolean;
}

/** Throws NetworkPolicyError unless the URL's host is allowed and resolves only to permitted addresses. */
export async function checkServerUrl(url: URL, opts: NetworkRule): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new NetworkPolicyError(`unsupported scheme ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (opts.allowedHosts && !hostAllowed(host, opts.allowedHosts)) throw new NetworkPolicyError(`host ${host} is not in registry.allowedHosts`);
  if (opts.allowPrivateNetwork) return;
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch (err) {
    throw new NetworkPolicyError(`host ${host} does not resolve: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const blocked = addresses.filter(isPrivateAddress);
  if (blocked.length || !addresses.length) throw new NetworkPolicyError(`host ${host} resolves to a private address (${blocked.join(', ')}); set allowPrivateNetwork on the server to allow it`);
}

/**
 * A fetch that checks every URL against the server's rule before anything is sent, and refuses
 * redirects (a 3xx is never followed, so a redirect cannot lead a request or its credentials elsewhere).
 */
export function guardedFetch(rule: NetworkRule, fetchImpl: typeof fetch = fetch): FetchLike {
  return async (input, init) => {
    const url = new URL(input instanceof URL ? input.href : String(input));
    await checkServerUrl(url, rule);
    const res = await fetchImpl(url, { ...init, redirect: 'manual' });
    if (res.status >= 300 && res.status < 400) {
      void res.body?.cancel().catch(() => undefined);
      throw new NetworkPolicyError(`${url.host} answered with a redirect (HTTP ${res.status}); redirects are refused`);
    }
    return res;
  };
}
