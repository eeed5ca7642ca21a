// A server's effective registry status, and whether it may be called. The pool, the API and the
// readiness report all ask here.

export type ServerStatus = 'proposed' | 'approved' | 'quarantined' | 'retired';

/** An admin decision taken at run time (REST or CLI), which overrides the catalog's status. */
export interface StatusChange {
  status: 'approved' | 'quarantined' | 'retired';
  by: string;
  at: string;
  reason: string;
}

/** A catalog retirement wins; else the runtime decision; else the catalog's status. */
export function effectiveStatus(catalog: ServerStatus, change?: StatusChange | null): ServerStatus {
  if (catalog === 'retired') return 'retired';
  return change?.status ?? catalog;
}

/** Why the server may not be called, or undefined when it may (only approved servers are ever called). */
export function admissionRefusal(serverId: string, catalog: ServerStatus, change?: StatusChange | null): string | undefined {
  const status = effectiveStatus(catalog, change);
  if (status === 'approved') return undefined;
  if (catalog === 'retired') return `MCP server "${serverId}" is retired in the catalog`;
  if (change) return `MCP server "${serverId}" was ${change.status} by ${change.by} at ${change.at}: ${change.reason}`;
  return `MCP server "${serverId}" is ${catalog} in the catalog; only approved servers are called`;
}

/** Whether the catalog lets agents use a tool (a server entry without a `tools` list allows all its pinned tools). */
export function catalogAllows(allowedTools: readonly string[] | undefined, tool: string): boolean {
  return !allowedTools || allowedTools.includes(tool);
}
