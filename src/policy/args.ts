/*
 * JSON → Cedar values, by the type the schema declares: what a tool call's args, the principal and the
 * tool become in the authorization request. Exact or refused: nothing is rounded or guessed.
 *
 * `context.args` is typed per action in the schema. JSON args are converted by their declared type:
 *   String ← string · Bool ← boolean · Long ← integer number (a fraction is an error) · Set<T> ← array
 *   decimal ← number or numeric string, exactly: 500.01 becomes {"__extn":{"fn":"decimal","arg":"500.01"}}.
 *     JS numbers are printed shortest-round-trip (so the JSON literal 500.01 stays "500.01"); more than 4
 *     fractional digits (Cedar's decimal precision), exponent forms and values outside Cedar's range are
 *     errors, never rounded. Policies compare with decimal methods: amount.lessThanOrEqual(decimal("500.00")).
 *   datetime / duration / ipaddr ← string (Cedar checks the format) · entity type T ← string id · record ← object.
 * Undeclared arg fields are DROPPED (a tool may take fields no policy cares about). A declared field
 * that is missing (and not optional) or has the wrong type makes the call a DENY with the problem in
 * `errors` ("request does not fit the policy schema ...: args.amount ..."): fail closed.
 */
import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { CType, RecordT } from './schema.js';

/** Cedar decimals are i64 with 4 fractional digits. */
const DECIMAL_MAX = 9223372036854775807n;
const DECIMAL_MIN = -9223372036854775808n;

/** A value that does not fit the type the schema declares: the call is denied with this message. */
export class ArgsError extends Error {}

/** What Airlock converts into the context by the declared type (the rest of the context is pre-encoded). */
export interface ContextValues {
  args: unknown;
  /** Present only while an approver's edit is decided. */
  edit?: unknown;
  /** Absent: the run learned nothing yet (an empty record). */
  facts?: unknown;
  /** The run's labels (always supplied). */
  labels: unknown;
}

/**
 * The context the action declares: the base fields are pre-encoded (their types were checked at load); args,
 * edit, facts and labels are converted by their declared type, so undeclared fields (of args, or of labels) are dropped.
 */
export function conformContext(base: Record<string, CedarValueJson>, shape: RecordT, v: ContextValues): Record<string, CedarValueJson> {
  const out: Record<string, CedarValueJson> = {};
  for (const [k, a] of shape.attrs) {
    if (k === 'args') out.args = toCedar(v.args ?? {}, a.type, 'args');
    else if (k === 'facts') out.facts = toCedar(v.facts ?? {}, a.type, 'facts');
    else if (k === 'labels') out.labels = toCedar(v.labels, a.type, 'labels');
    else if (k === 'edit') {
      if (v.edit !== undefined) out.edit = toCedar(v.edit, a.type, 'edit');
    } else out[k] = base[k];
  }
  return out;
}

/** Entity attributes, keeping only those the schema declares for the entity type. */
export function conformAttrs(attrs: Record<string, unknown>, shape: RecordT | undefined, what: string): Record<string, CedarValueJson> {
  if (!shape) return {};
  return toCedar(attrs, shape, what) as Record<string, CedarValueJson>;
}

/** JSON → Cedar JSON by declared type; undeclared record fields are dropped; mismatches throw ArgsError. */
export function toCedar(v: unknown, t: CType, path: string): CedarValueJson {
  const bad = (want: string): never => {
    throw new ArgsError(`${path} must be ${want}, got ${describe(v)}`);
  };
  switch (t.kind) {
    case 'String':
      return typeof v === 'string' ? v : bad('a string');
    case 'Bool':
      return typeof v === 'boolean' ? v : bad('a boolean');
    case 'Long':
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : bad('an integer (Long)');
    case 'Ext':
      if (t.name === 'decimal') return { __extn: { fn: 'decimal', arg: toDecimalString(v, path) } };
      if (typeof v !== 'string') return bad(`a ${t.name} string`);
      return { __extn: { fn: t.name === 'ipaddr' ? 'ip' : t.name, arg: v } };
    case 'Entity':
      return typeof v === 'string' ? { __entity: { type: t.name, id: v } } : bad(`an id of ${t.name}`);
    case 'Set':
      if (!Array.isArray(v)) return bad('an array');
      return v.map((x, i) => toCedar(x, t.element, `${path}[${i}]`));
    case 'Record': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('an object');
      const o = v as Record<string, unknown>;
      const out: Record<string, CedarValueJson> = {};
      for (const [k, a] of t.attrs) {
        const x = Object.hasOwn(o, k) ? o[k] : undefined;
        if (x === undefined || x === null) {
          if (a.required) throw new ArgsError(`${path}.${k} is required by the policy schema`);
          continue;
        }
        out[k] = toCedar(x, a.type, `${path}.${k}`);
      }
      return out;
    }
  }
}

/**
 * The exact Cedar decimal literal for a JSON number or numeric string: "500.01", "500.0".
 * Throws ArgsError past 4 fractional digits, for exponent forms, non-finite numbers and out-of-range values.
 */
export function toDecimalString(v: unknown, path = 'value'): string {
  let s: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ArgsError(`${path} must be a finite number, got ${v}`);
    s = String(v);
  } else if (typeof v === 'string') s = v.trim();
  else throw new ArgsError(`${path} must be a decimal number, got ${describe(v)}`);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new ArgsError(`${path} is not a plain decimal number: ${JSON.stringify(s)} (at most 4 fractional digits)`);
  const [, sign, int, frac = ''] = m;
  const fracTrim = frac.replace(/0+$/, '');
  if (fracTrim.length > 4) throw new ArgsError(`${path} has more than 4 fractional digits (Cedar decimal precision): ${s}`);
  const scaled = BigInt(`${sign}${int}${fracTrim.padEnd(4, '0')}`);
  if (scaled > DECIMAL_MAX || scaled < DECIMAL_MIN) throw new ArgsError(`${path} is out of Cedar's decimal range: ${s}`);
  const intNorm = int.replace(/^0+(?=\d)/, '');
  return `${sign && scaled !== 0n ? '-' : ''}${intNorm}.${fracTrim || '0'}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `a ${typeof v}`;
}
