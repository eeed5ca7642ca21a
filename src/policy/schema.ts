// The Cedar schema, normalized into the few types Airlock converts requests into, and checked against
// what Airlock supplies: an entity attribute or context field Airlock does not supply (or supplies with
// another type) is a load error in schema.cedarschema, located at its line.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { escapeRe, findLine, locateIn, PolicyError, throwLocated } from './location.js';

export const NS = 'Airlock';
export const USER = `${NS}::User`;
export const SERVICE = `${NS}::ServiceAccount`;
export const AGENT = `${NS}::Agent`;
export const TOOL = `${NS}::Tool`;
export const ACTION = `${NS}::Action`;
export const SCHEMA_FILE = 'schema.cedarschema';

export type PrincipalType = typeof USER | typeof SERVICE;

// ───────────────────────────── Cedar types, normalized ─────────────────────────────

type ExtName = 'decimal' | 'datetime' | 'duration' | 'ipaddr';
export interface RecordT {
  kind: 'Record';
  attrs: Map<string, { type: CType; required: boolean }>;
}
export type CType = { kind: 'String' } | { kind: 'Long' } | { kind: 'Bool' } | { kind: 'Ext'; name: ExtName } | { kind: 'Set'; element: CType } | RecordT | { kind: 'Entity'; name: string };

const T = {
  String: { kind: 'String' } as CType,
  Long: { kind: 'Long' } as CType,
  Bool: { kind: 'Bool' } as CType,
  SetOfString: { kind: 'Set', element: { kind: 'String' } } as CType,
  datetime: { kind: 'Ext', name: 'datetime' } as CType,
  Agent: { kind: 'Entity', name: AGENT } as CType,
};

function typeName(t: CType): string {
  switch (t.kind) {
    case 'Ext':
      return t.name;
    case 'Set':
      return `Set<${typeName(t.element)}>`;
    case 'Entity':
      return t.name;
    case 'Record':
      return `{ ${[...t.attrs].map(([k, a]) => `${k}${a.required ? '' : '?'}: ${typeName(a.type)}`).join(', ')} }`;
    default:
      return t.kind;
  }
}

function sameType(a: CType, b: CType): boolean {
  return typeName(a) === typeName(b);
}

/** What Airlock supplies for each entity type: attribute → type, and whether it is always present. */
const SUPPLIED_ATTRS: Record<string, Record<string, { type: CType; always: boolean }>> = {
  [USER]: { groups: { type: T.SetOfString, always: true }, onBehalfOf: { type: T.String, always: false } },
  [SERVICE]: { groups: { type: T.SetOfString, always: true }, onBehalfOf: { type: T.String, always: false } },
  [AGENT]: { name: { type: T.String, always: true } },
  [TOOL]: {
    server: { type: T.String, always: true },
    name: { type: T.String, always: true },
    readOnly: { type: T.Bool, always: true },
    destructive: { type: T.Bool, always: true },
    idempotent: { type: T.Bool, always: true },
    classification: { type: T.String, always: true },
    // The classification's rank (public 0 … restricted 3) and the catalog's trust of its results (trusted | untrusted).
    level: { type: T.Long, always: true },
    trust: { type: T.String, always: true },
  },
};
/** Context fields Airlock supplies besides `args`. */
const BASE_CONTEXT: Record<string, CType> = {
  agent: T.Agent,
  phase: T.String,
  runId: T.String,
  now: T.datetime,
  hourUtc: T.Long,
  weekdayUtc: T.String,
};
/** The attributes of `context.labels` (core/labels.ts LabelsContext), all always supplied: a schema declares any of them. */
export const LABELS_ATTRS: Record<string, CType> = {
  classification: T.String,
  level: T.Long,
  servers: T.SetOfString,
  untrusted: T.Bool,
  untrustedSources: T.SetOfString,
  sensitive: T.Bool,
};
/** Every context field Airlock can supply, for error messages. */
const SUPPLIED_CONTEXT = [...Object.keys(BASE_CONTEXT), 'args', 'edit', 'facts', 'labels'];

/** A tool Airlock may ask about: an action of the schema with `appliesTo`. */
export interface ActionInfo {
  principalTypes: Set<string>;
  context: RecordT;
}

export interface LoadedSchema {
  /** Tool actions by `server.tool`. Action groups (no principals or resources) are not tools. */
  actions: Map<string, ActionInfo>;
  /** Declared attributes of the entity types Airlock supplies. */
  shapes: Map<string, RecordT>;
  /** Cedar's JSON form of the schema, serialized: what the version hashes, so comments and layout do not count. */
  canonical: string;
  /** The schema to hand back to cedar-wasm: its JSON form, which it reads about twice as fast as the text. */
  schema: cedar.Schema;
}

/**
 * A Cedar schema node as this module reads it: structurally what cedar-wasm's `Type<string>` is, with a
 * plain `type` string to switch on (cedar-wasm's union also holds `{ type: N }`, which defeats narrowing).
 */
interface SchemaJsonType {
  type: string;
  name?: string;
  element?: SchemaJsonType;
  attributes?: Record<string, SchemaJsonType & { required?: boolean }>;
}

// ───────────────────────────── loading ─────────────────────────────

/** Parses `text` (the file at `path`) and checks it against what Airlock supplies; problems are PolicyErrors at their line. */
export function loadSchema(path: string, text: string): LoadedSchema {
  const parsed = cedar.checkParseSchema(text);
  if (parsed.type === 'failure')
    throwLocated(
      parsed.errors.map((e) => locateIn(path, text, e)),
      'schema error',
    );
  const resolved = cedar.schemaToJsonWithResolvedTypes(text);
  if (resolved.type === 'failure')
    throwLocated(
      resolved.errors.map((e) => locateIn(path, text, e)),
      'schema error',
    );
  const plain = cedar.schemaToJson(text);
  const canonical = plain.type === 'success' ? JSON.stringify(plain.json) : text;
  const schema = plain.type === 'success' ? plain.json : text;
  const json = resolved.json;
  const ns = json[NS];
  if (!ns) throw new PolicyError(`the schema must declare \`namespace ${NS} { ... }\``, path);

  const common = new Map<string, SchemaJsonType>();
  for (const [n, def] of Object.entries(json)) {
    for (const [c, t] of Object.entries(def.commonTypes ?? {})) common.set(n ? `${n}::${c}` : c, t);
  }
  const fail = (message: string, pattern?: RegExp, then?: RegExp): never => {
    throw new PolicyError(message, path, pattern ? findLine(text, pattern, then) : undefined);
  };
  const norm = (t: SchemaJsonType, where: string, depth = 0): CType => {
    if (depth > 64) fail(`type of ${where} nests too deeply (recursive common type?)`);
    switch (t.type) {
      case 'Record': {
        const attrs = new Map<string, { type: CType; required: boolean }>();
        for (const [k, a] of Object.entries(t.attributes ?? {})) attrs.set(k, { type: norm(a, `${where}.${k}`, depth + 1), required: a.required !== false });
        return { kind: 'Record', attrs };
      }
      case 'Set':
        return { kind: 'Set', element: norm(t.element!, `${where}[]`, depth + 1) };
      case 'Entity':
        return { kind: 'Entity', name: t.name! };
      case 'Extension':
        return builtin(t.name!) ?? fail(`unknown extension type ${t.name} in ${where}`);
      case 'EntityOrCommon':
        return norm({ type: t.name! }, where, depth + 1);
      default: {
        const name = t.type;
        if (!name.startsWith('__cedar::') && common.has(name)) return norm(common.get(name)!, where, depth + 1);
        const b = builtin(name.replace(/^__cedar::/, ''));
        if (b) return b;
        if (common.has(`${NS}::${name}`)) return norm(common.get(`${NS}::${name}`)!, where, depth + 1);
        return fail(`cannot resolve type ${name} in ${where}`);
      }
    }
  };

  // Entity types Airlock supplies: each must be declared, with only attributes Airlock supplies.
  const shapes = new Map<string, RecordT>();
  for (const [qualified, supplied] of Object.entries(SUPPLIED_ATTRS)) {
    const short = qualified.slice(NS.length + 2);
    const entityRe = new RegExp(`\\bentity\\b[^;{]*\\b${short}\\b`);
    const def = ns.entityTypes?.[short];
    if (!def) return fail(`the schema must declare \`entity ${short}\` in namespace ${NS} (attributes Airlock can supply: ${Object.keys(supplied).join(', ')})`, /\bnamespace\s+Airlock\b/);
    if ('enum' in def) return fail(`entity ${short} must not be an enumerated entity type`, entityRe);
    const declared = def.shape ? norm(def.shape, `entity ${short}`) : undefined;
    if (declared && declared.kind !== 'Record') fail(`entity ${short}: its attributes must be a record`, entityRe);
    const shape: RecordT = (declared as RecordT | undefined) ?? { kind: 'Record', attrs: new Map() };
    for (const [attr, a] of shape.attrs) {
      const s = supplied[attr];
      const attrRe = new RegExp(`\\b${escapeRe(attr)}\\s*\\??\\s*:`);
      if (!s) return fail(`entity ${short} declares attribute ${attr}, which Airlock does not supply (it supplies: ${Object.keys(supplied).join(', ')})`, entityRe, attrRe);
      if (!sameType(a.type, s.type)) fail(`entity ${short} attribute ${attr} must have type ${typeName(s.type)}, not ${typeName(a.type)}`, entityRe, attrRe);
      if (a.required && !s.always) fail(`entity ${short} attribute ${attr} is not always supplied: declare it optional (${attr}?)`, entityRe, attrRe);
    }
    shapes.set(qualified, shape);
  }

  // Actions: every action with appliesTo is a tool Airlock may ask about.
  const actions = new Map<string, ActionInfo>();
  for (const [name, def] of Object.entries(ns.actions ?? {})) {
    const applies = def.appliesTo;
    if (!applies || (applies.principalTypes ?? []).length === 0 || (applies.resourceTypes ?? []).length === 0) continue; // an action group
    const actionRe = new RegExp(`\\baction\\b[^;]*?("${escapeRe(name)}"|\\b${escapeRe(name)}\\b)`);
    for (const p of applies.principalTypes ?? []) {
      if (p !== USER && p !== SERVICE) fail(`action "${name}": principals must be User and/or ServiceAccount, not ${p}`, actionRe);
    }
    if (!(applies.resourceTypes ?? []).includes(TOOL)) fail(`action "${name}": the resource must be Tool`, actionRe);
    const ctx = applies.context ? norm(applies.context, `context of action "${name}"`) : ({ kind: 'Record', attrs: new Map() } as RecordT);
    if (ctx.kind !== 'Record') return fail(`action "${name}": context must be a record`, actionRe);
    for (const [k, a] of ctx.attrs) {
      const fieldRe = new RegExp(`\\b${escapeRe(k)}\\s*\\??\\s*:`);
      if (k === 'args') {
        if (a.type.kind !== 'Record') fail(`action "${name}": context.args must be a record type, not ${typeName(a.type)}`, actionRe, fieldRe);
        continue;
      }
      if (k === 'edit') {
        // The args as first proposed, present only while an approver's edit is decided: optional, typed like args.
        const args = ctx.attrs.get('args');
        if (a.required) fail(`action "${name}": context.edit is present only when an edit is decided; declare it optional (edit?: …)`, actionRe, fieldRe);
        if (!args || !sameType(a.type, args.type)) fail(`action "${name}": context.edit must have the same type as context.args`, actionRe, fieldRe);
        continue;
      }
      if (k === 'facts') {
        // What the run learned earlier, as its agent declares it: always supplied (possibly empty), a fact only once its step ran.
        if (a.type.kind !== 'Record') fail(`action "${name}": context.facts must be a record type, not ${typeName(a.type)}`, actionRe, fieldRe);
        continue;
      }
      if (k === 'labels') {
        // What the run has touched (core/labels.ts): a record of some of LABELS_ATTRS, each with its own type.
        if (a.type.kind !== 'Record') fail(`action "${name}": context.labels must be a record type (of ${Object.keys(LABELS_ATTRS).join(', ')}), not ${typeName(a.type)}`, actionRe, fieldRe);
        checkLabels(name, (a.type as RecordT).attrs, labelsDeclaration(text, actionRe), fail);
        continue;
      }
      const want = BASE_CONTEXT[k];
      if (!want) return fail(`action "${name}": context field ${k} is not supplied by Airlock (it supplies: ${SUPPLIED_CONTEXT.join(', ')})`, actionRe, fieldRe);
      if (!sameType(a.type, want)) fail(`action "${name}": context.${k} must have type ${typeName(want)}, not ${typeName(a.type)}`, actionRe, fieldRe);
    }
    actions.set(name, { principalTypes: new Set(applies.principalTypes), context: ctx });
  }
  return { actions, shapes, canonical, schema };
}

type Fail = (message: string, pattern?: RegExp, then?: RegExp) => never;

/** Each declared attribute of `context.labels` must be one Airlock supplies, with its type; `decl` finds where they are declared. */
function checkLabels(action: string, attrs: RecordT['attrs'], decl: RegExp, fail: Fail): void {
  for (const [attr, a] of attrs) {
    const attrRe = new RegExp(`\\b${escapeRe(attr)}\\s*\\??\\s*:`);
    const want = LABELS_ATTRS[attr];
    if (!want) fail(`action "${action}": context.labels declares attribute ${attr}, which Airlock does not supply (labels has: ${Object.keys(LABELS_ATTRS).join(', ')})`, decl, attrRe);
    else if (!sameType(a.type, want)) fail(`action "${action}": context.labels.${attr} must have type ${typeName(want)}, not ${typeName(a.type)}`, decl, attrRe);
  }
}

/**
 * Where an action's `labels` attributes are declared: in the action itself (`labels: { ... }`), or in the
 * common type it names (`labels: Labels` → `type Labels = { ... }`). A pattern for findLine; approximate, like every location here.
 */
function labelsDeclaration(text: string, actionRe: RegExp): RegExp {
  const field = new RegExp(`${actionRe.source}[^;]*?\\blabels\\s*\\??\\s*:`);
  const named = new RegExp(`${field.source}\\s*(?:${NS}::)?([A-Za-z_]\\w*)`).exec(text);
  return named ? new RegExp(`\\btype\\s+${escapeRe(named[named.length - 1])}\\s*=`) : field;
}

function builtin(name: string): CType | undefined {
  switch (name) {
    case 'String':
      return T.String;
    case 'Long':
      return T.Long;
    case 'Bool':
    case 'Boolean':
      return T.Bool;
    case 'decimal':
    case 'datetime':
    case 'duration':
    case 'ipaddr':
      return { kind: 'Ext', name };
    default:
      return undefined;
  }
}
