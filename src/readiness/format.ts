// Plain-text rendering of a readiness report for the CLI: each question with its answer, the config
// that makes it true (`file:line  path`), and its gaps; a summary line first.
import { isAbsolute, relative } from 'node:path';
import type { ReadinessGap, ReadinessLink, ReadinessReport } from './report.js';

export interface FormatOptions {
  /** Paths are shown relative to this directory when they lie under it (default: process.cwd()). */
  cwd?: string;
  /** Wrap prose at this width (default 100). */
  width?: number;
}

export function formatReadiness(report: ReadinessReport, opts: FormatOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const width = opts.width ?? 100;
  const where = (l: ReadinessLink) => {
    const rel = relative(cwd, l.file);
    const file = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : l.file;
    return `${file}${l.line !== undefined ? `:${l.line}` : ''}`;
  };
  const gapLine = (g: ReadinessGap) => `   ${g.severity === 'error' ? '[ERROR]' : '[WARN] '} ${g.code}: ${g.message}\n${' '.repeat(12)}at ${where(g.link)}`;

  const errors = report.gaps.filter((g) => g.severity === 'error').length;
  const warnings = report.gaps.length - errors;
  const out = [
    `Airlock governance readiness: ${where({ file: report.configFile, path: '' })}`,
    `Policy version ${report.policyVersion ?? 'unavailable'}; generated ${report.generatedAt}`,
    `${report.ok ? 'READY' : 'NOT READY'}: ${errors} error(s), ${warnings} warning(s)`,
  ];
  report.questions.forEach((q, i) => {
    out.push('', `${i + 1}. ${q.question}`, ...wrap(q.answer, width - 3).map((l) => `   ${l}`));
    if (q.links.length) {
      out.push('   Config:');
      for (const l of q.links) out.push(`     ${where(l)}  ${l.path}${l.defaulted ? ' (not set: default)' : ''}`);
    }
    for (const g of q.gaps) out.push(gapLine(g));
  });
  return out.join('\n') + '\n';
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
