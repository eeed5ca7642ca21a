// Who a service account may act on behalf of: subjects the identity provider knows. With the dev issuer,
// its demo users; with any issuer, `identity.directory.subjects` and the list in `identity.directory.file`
// (YAML or JSON, relative to the config file), re-read when the file changes.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { AirlockConfig } from '../config/load.js';
import { DEMO_USERS } from './users.js';

const SubjectListSchema = z.array(z.string().min(1).max(200));

export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
}

export class SubjectDirectory {
  private readonly fixed: Set<string>;
  private readonly file?: string;
  private fromFile: { stamp: string; subjects: Set<string> } = { stamp: '', subjects: new Set() };

  /** Reads the file now: a missing or malformed directory file is a start-up error. */
  constructor(config: Pick<AirlockConfig, 'identity' | 'configFile'>) {
    const users = config.identity.issuer === 'dev' ? Object.entries(DEMO_USERS).filter(([, u]) => u.kind === 'user') : [];
    this.fixed = new Set([...users.map(([name]) => name), ...(config.identity.directory?.subjects ?? [])]);
    const file = config.identity.directory?.file;
    if (file) {
      this.file = resolve(dirname(config.configFile), file);
      this.reload();
    }
  }

  /** Whether the identity provider knows this subject (a file that became unreadable keeps its last good list). */
  knows(subject: string): boolean {
    if (this.fixed.has(subject)) return true;
    if (!this.file) return false;
    try {
      this.reload();
    } catch {
      /* keep the last good list */
    }
    return this.fromFile.subjects.has(subject);
  }

  private reload(): void {
    const file = this.file!;
    let stamp: string;
    let text: string;
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}`;
      if (stamp === this.fromFile.stamp) return;
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new DirectoryError(`identity.directory.file: cannot read ${file}: ${(err as Error).message}`);
    }
    let list: unknown;
    try {
      list = parse(text);
    } catch (err) {
      throw new DirectoryError(`identity.directory.file: ${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    }
    const parsed = SubjectListSchema.safeParse(list);
    if (!parsed.success) throw new DirectoryError(`identity.directory.file: ${file} must be a list of subjects (strings)`);
    this.fromFile = { stamp, subjects: new Set(parsed.data) };
  }
}
