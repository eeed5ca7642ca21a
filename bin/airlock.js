#!/usr/bin/env node
// `npx airlock …`: runs the TypeScript CLI through tsx (no build step).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runForwarding } from '../scripts/forward.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.exit(await runForwarding(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...process.argv.slice(2)]));
