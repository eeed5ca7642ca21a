// Where an HTTP MCP server may live: hosts on the registry's allowlist, and no private, loopback or
// link-local address unless that server explicitly allows it (the demo servers on 127.0.0.1 do).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { hostAllowed } from '../core/hosts.js';

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true; // not an address: treat as unsafe
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class NetworkPolicyError extends Error {
  override readonly name = 'NetworkPolicyError';
}

/** Throws NetworkPolicyError unless the URL's host is allowed and resolves only to permitted addresses. */
export async function checkServerUrl(url: URL, opts: { allowedHosts: string[]; allowPrivateNetwork: boolean }): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new NetworkPolicyError(`unsupported scheme ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!hostAllowed(host, opts.allowedHosts)) throw new NetworkPolicyError(`host ${host} is not in registry.allowedHosts`);
  if (opts.allowPrivateNetwork) return;
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  const blocked = addresses.filter(isPrivateAddress);
  if (blocked.length) throw new NetworkPolicyError(`host ${host} resolves to a private address (${blocked.join(', ')}); set allowPrivateNetwork on the server to allow it`);
}
