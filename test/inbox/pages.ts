// What the inbox tests do in the browser: sign in as a demo user, open pages, read what the page shows.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openPage, type WatchedPage } from '../helpers/browser.js';
import { ROOT } from '../../src/config/load.js';

export const SHOTS = process.env.AIRLOCK_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : undefined;

/** Saves a 1280 px screenshot for the README, only with AIRLOCK_SCREENSHOTS=1 (normal runs leave the tree alone). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A new browser context signed in through the development sign-in page. */
export async function signedIn(browser: Browser, apiUrl: string, user: string, width = 1280): Promise<WatchedPage> {
  const w = await openPage(browser, width);
  await w.page.goto(`${apiUrl}/inbox/`);
  await w.page.getByRole('heading', { name: 'Development sign-in' }).waitFor();
  await w.page.getByRole('button', { name: `Sign in as ${user}`, exact: true }).click();
  await w.page.getByTestId('signed-in-as').getByText(user, { exact: true }).waitFor();
  return w;
}

export async function go(page: Page, apiUrl: string, hash: string): Promise<void> {
  await page.goto(`${apiUrl}/inbox/#${hash}`);
  await page.locator('main h1').first().waitFor();
}

/** The page has not reloaded since `mark` (the marker lives in the window). */
export async function mark(page: Page): Promise<void> {
  await page.evaluate(() => Object.assign(window, { __inboxMark: true }));
}
export async function assertNotReloaded(page: Page): Promise<void> {
  assert.equal(await page.evaluate(() => (window as unknown as { __inboxMark?: boolean }).__inboxMark), true, 'the page was reloaded');
}

/** The document is no wider than the viewport: nothing scrolls sideways. */
export async function assertNoHorizontalOverflow(page: Page, what: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${what}: the page is ${scroll} px wide in a ${width} px viewport`);
}

/** Edits the approval's args in the JSON editor: `change` gets the proposed args and returns the edited ones (or raw text). */
export async function editArgs(page: Page, change: (args: Record<string, unknown>) => Record<string, unknown> | string): Promise<void> {
  await page.getByRole('button', { name: 'Edit args…' }).click();
  const editor = page.getByLabel(/Edited args/);
  const edited = change(JSON.parse(await editor.inputValue()) as Record<string, unknown>);
  await editor.fill(typeof edited === 'string' ? edited : JSON.stringify(edited, null, 2));
  await page.getByRole('button', { name: 'Approve with these args' }).click();
}
