/**
 * Headless Chromium (Debian's `chromium`, driven by playwright-core) for the dashboard's browser tests: one
 * browser per test file, a fresh context per page, screenshots under test-output/dashboard/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'test-output', 'dashboard');

let browser: Browser;

/** Launches the browser before the file's tests and closes it after them. */
export function useBrowser(): void {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`chromium is missing at ${CHROMIUM}: the browser tests need Debian's chromium package (apt-get install chromium; .ci/run installs it)`);
    }
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
}

/** A page in a context of its own (its own cookies). */
export async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return page;
}

/** Saves a full-page screenshot as test-output/dashboard/NAME.png. */
export const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
