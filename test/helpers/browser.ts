// A real browser for the inbox's tests: Debian's Chromium driven by playwright-core. `ensureChromium()` installs
// the distribution package on a fresh machine (as root), which is how `npm test` sets itself up.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Installs Debian's `chromium` package when it is missing (apt-get update first only if the install fails). */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const apt = (...args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  try {
    apt('install', '-y', '--no-install-recommends', 'chromium');
  } catch {
    apt('update');
    apt('install', '-y', '--no-install-recommends', 'chromium');
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is missing`);
  return CHROMIUM;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A page that records what would show as errors in its console: console.error, uncaught exceptions, failed loads. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors so far, except those `allow` matches (expected refusals the page shows). */
  errors(allow?: RegExp[]): string[];
}

export async function openPage(browser: Browser, width = 1280, height = 900): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const seen: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    // The browser's own probe for /favicon.ico on a page that names no icon (the test OIDC provider's sign-in page,
    // now and then) is not an error of the page.
    if (m.type() === 'error' && !/\/favicon\.ico$/.test(m.location().url)) seen.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
  return { page, context, errors: (allow = []) => seen.filter((e) => !allow.some((a) => a.test(e))) };
}
