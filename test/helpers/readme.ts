// The README as test input: its sections, its shell blocks split at numbered steps, its bullet lists; and a
// bash that runs README commands against a test stack (its API URL for 127.0.0.1:3000, its data dir for `npx airlock`).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/config/load.js';

export const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The text of the `## ` section whose heading starts with `title`, up to the next `## ` heading. */
export function readmeSection(title: string): string {
  const start = README.indexOf(`\n## ${title}`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const next = README.indexOf('\n## ', start + 4);
  return README.slice(start + 1, next < 0 ? undefined : next);
}

/** The first fenced block of `lang` in `text`. */
export function fencedBlock(text: string, lang: string): string {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(text);
  if (!m) throw new Error(`no \`\`\`${lang} block`);
  return m[1]!;
}

/** A shell block split where a comment starts a numbered step (`# 1. …`): the lines before step 1 are step 0. */
export function numberedSteps(block: string): Map<number, string> {
  const steps = new Map<number, string>();
  let n = 0;
  let lines: string[] = [];
  for (const line of block.split('\n')) {
    const m = /^# (\d+)\. /.exec(line);
    if (m) {
      steps.set(n, lines.join('\n'));
      n = Number(m[1]);
      lines = [];
    }
    lines.push(line);
  }
  steps.set(n, lines.join('\n'));
  return steps;
}

/** The bullets of the list that follows the paragraph starting with `lead` in `text`, each joined into one line. */
export function bulletsAfter(text: string, lead: string): string[] {
  const at = text.indexOf(lead);
  if (at < 0) throw new Error(`no "${lead}" paragraph`);
  const lines = text.slice(at).split('\n');
  const first = lines.findIndex((l) => l.startsWith('- '));
  const bullets: string[] = [];
  for (const line of lines.slice(first)) {
    if (line.startsWith('- ')) bullets.push(line.slice(2));
    else if (line.startsWith('  ') && bullets.length) bullets[bullets.length - 1] += ` ${line.trim()}`;
    else break;
  }
  return bullets;
}

/** The inline code spans of a README text. */
export const codeSpans = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/**
 * Runs README shell lines with bash (`set -euo pipefail`) in the repository, with the API address replaced by
 * `apiUrl`; `vars` are exported first, and the values of `keep` after the lines are returned with the output.
 */
export async function runReadmeShell(
  script: string,
  o: { apiUrl: string; env: Record<string, string>; vars?: Record<string, string>; keep?: string[] },
): Promise<{ code: number; out: string; err: string; vars: Record<string, string> }> {
  const host = new URL(o.apiUrl).host;
  const body = script.replaceAll('http://127.0.0.1:3000', o.apiUrl).replaceAll('localhost:3000', host);
  const keep = o.keep ?? [];
  // Each curl's output ends its line, so the answers of consecutive calls can be told apart.
  const full = `set -euo pipefail\ncurl() { command curl "$@"; echo; }\n${body}\n${keep.map((k) => `printf '\\n__VAR__ ${k}=%s\\n' "\${${k}:-}"`).join('\n')}\n`;
  const child = spawn('bash', ['-c', full], { cwd: ROOT, env: { ...o.env, ...o.vars }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const vars: Record<string, string> = {};
  out = out.replace(/\n?__VAR__ (\w+)=(.*)\n/g, (_m, k: string, v: string) => ((vars[k] = v), ''));
  return { code, out, err, vars };
}

/** Each line of `out` that parses as JSON, in order. */
export function jsonLines(out: string): unknown[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{') || l.startsWith('['))
    .map((l) => JSON.parse(l) as unknown);
}
