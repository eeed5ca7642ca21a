/*
 * Reading the policy directory, failing closed. Every entry that looks like part of the policy set (a
 * `*.cedar` file, or the schema) must be a readable regular file (a symlink to one is fine); anything else
 * (a directory named x.cedar, a dangling symlink, a symlink loop, a file without read permission, a FIFO)
 * is a load error naming the entry and the fix. Skipping it would load a smaller set than the directory
 * holds: replacing the file of the `forbid` rules by a broken link would quietly allow what they forbade.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PolicyError, stripBom } from './location.js';
import { SCHEMA_FILE } from './schema.js';

export const POLICY_SUFFIX = '.cedar';

export interface PolicyDirFile {
  /** Entry name (the file name, used for policies without @id). */
  name: string;
  path: string;
  text: string;
}

export interface PolicyDirContents {
  schema: PolicyDirFile;
  /** The `*.cedar` files, sorted by name. */
  policies: PolicyDirFile[];
}

/** True for the entries that make up the policy set. */
export const isPolicySetEntry = (name: string): boolean => name === SCHEMA_FILE || name.endsWith(POLICY_SUFFIX);

/** Reads the schema and every `*.cedar` file of `dir`; any entry that cannot be read is a PolicyError naming it. */
export function readPolicyDir(dir: string): PolicyDirContents {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    const code = codeOf(err);
    throw new PolicyError(code === 'ENOENT' || code === 'ENOTDIR' ? 'policy directory not found' : `policy directory unreadable (${code})`, dir);
  }
  const schemaPath = join(dir, SCHEMA_FILE);
  if (!names.includes(SCHEMA_FILE)) throw new PolicyError(`schema file not found: the policy directory needs ${SCHEMA_FILE}`, schemaPath);
  const schema = readEntry(dir, SCHEMA_FILE);
  const policies = names.filter((f) => f.endsWith(POLICY_SUFFIX)).map((name) => readEntry(dir, name));
  if (policies.length === 0) throw new PolicyError(`no policy files (*${POLICY_SUFFIX}) in the policy directory`, dir);
  return { schema, policies };
}

function readEntry(dir: string, name: string): PolicyDirFile {
  const path = join(dir, name);
  const what = name === SCHEMA_FILE ? 'the policy schema' : 'a policy file';
  const drop = name === SCHEMA_FILE ? '' : `, or remove the entry (or rename it without the ${POLICY_SUFFIX} suffix) if its policies are meant to go`;
  const fail = (problem: string, fix: string): never => {
    throw new PolicyError(`${problem}: ${what} must be a readable file; ${fix}${drop}. The whole policy set is refused until then`, path);
  };
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOENT') fail('is a symlink whose target does not exist', 'restore its target or point the link at the file');
    if (code === 'ELOOP') fail('is a symlink loop', 'point the link at the file');
    if (code === 'EACCES') fail('cannot be reached (permission denied)', 'give the worker access to it');
    return fail(`cannot be read (${code})`, 'fix the entry');
  }
  if (st.isDirectory()) fail('is a directory', 'put the policy file in its place');
  if (!st.isFile()) fail('is not a regular file', 'put the policy file in its place');
  try {
    return { name, path, text: stripBom(readFileSync(path, 'utf8')) };
  } catch (err) {
    const code = codeOf(err);
    if (code === 'EACCES' || code === 'EPERM') fail('cannot be read (permission denied)', 'make it readable by the worker (e.g. chmod a+r)');
    return fail(`cannot be read (${code})`, 'fix the entry');
  }
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);
}
