import { isGrpcServiceError, type Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { SA } from '../../workflows/definitions.js';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const TYPES: Record<string, (typeof IndexedValueType)[keyof typeof IndexedValueType]> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** gRPC status codes (google.rpc.Code). */
const UNIMPLEMENTED = 12;
const PERMISSION_DENIED = 7;
const ALREADY_EXISTS = 6;

export type SearchAttributeSetup = { added: string[] } | { unmanaged: string };

/** The CLI commands an operator runs to register Airlock's search attributes by hand. */
export function searchAttributeCommands(namespace: string): string[] {
  return Object.values(SA).map(
    (k) => `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type ${k.type === 'KEYWORD_LIST' ? 'KeywordList' : k.type[0] + k.type.slice(1).toLowerCase()}`,
  );
}

function refused(err: unknown): err is Error & { code: number; details: string } {
  return isGrpcServiceError(err) && (err.code === UNIMPLEMENTED || err.code === PERMISSION_DENIED);
}

/**
 * Registers the custom search attributes Airlock uses, if missing. Idempotent.
 * A server that cannot list them (the time-skipping test server) gets them added blindly; one that
 * refuses the operator service to this caller (Temporal Cloud, a locked-down cluster) is reported as
 * unmanaged rather than failing startup.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<SearchAttributeSetup> {
  let missing = Object.values(SA);
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    missing = missing.filter((k) => !have.has(k.name));
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === UNIMPLEMENTED)) {
      if (refused(err)) return { unmanaged: err.details || err.message };
      throw err;
    }
  }
  if (missing.length === 0) return { added: [] };
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, TYPES[k.type]!])),
    });
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === ALREADY_EXISTS) return { added: [] };
    if (refused(err)) return { unmanaged: err.details || err.message };
    throw err;
  }
  return { added: missing.map((k) => k.name) };
}
