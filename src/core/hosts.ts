// Host allowlists, one rule for every list of hosts (HTTP MCP servers, URLs in tool definitions).

/** An IP literal (v4 dotted quad, or anything with a colon: v6) is matched exactly, never by suffix. */
function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

const normalize = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/^\*?\./, '')
    .replace(/\.$/, '');

/** `example.com` (or `*.example.com`) allows `example.com` and `api.example.com`; an IP literal must be listed exactly. */
export function hostAllowed(host: string, allowlist: readonly string[]): boolean {
  const h = normalize(host).replace(/^\[|\]$/g, '');
  return allowlist.some((a) => {
    const entry = normalize(a);
    return entry !== '' && (h === entry || (!isIpLiteral(h) && h.endsWith(`.${entry}`)));
  });
}
