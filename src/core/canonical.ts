// Canonical JSON and the digests built on it: what approvals bind to, what pins and audit records hash.
// SHA-256 comes from @noble/hashes (pure, audited), not node:crypto, so the same digest can be computed
// anywhere, the workflow sandbox included.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** JSON with object keys sorted at every level: the same value always serializes, and hashes, the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Hex SHA-256 of a text (UTF-8). */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** Hex SHA-256 of a value's canonical JSON: equal values, equal digests, whatever their key order. */
export function digestOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** What an approval is bound to: this server, this tool, exactly these args, under this policy version. */
export function callDigest(server: string, tool: string, args: unknown, policyVersion: string): string {
  return digestOf({ server, tool, args, policyVersion });
}
