/**
 * Helpers of the console tests: the built console (built here when `dist/console` is missing or
 * older than its sources) and headless Chromium (the Debian `chromium` package through
 * playwright-core; the tests skip, saying why, when it is not installed).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
export const CONSOLE_DIST = path.join(ROOT, 'dist/console');
export const CHROMIUM = process.env.CEJOBS_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = process.env.CEJOBS_SCREENSHOTS === '1';
export const SCREENSHOT_DIR = path.join(ROOT, 'docs/screenshots');

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  if (!fs.existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium): the console's browser tests are skipped`;
  return undefined;
}

function newest(dir: string): number {
  let t = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the console unless `dist/console` is newer than console/, src/client and src/domain. */
export function ensureConsoleBuilt(): void {
  const index = path.join(CONSOLE_DIST, 'index.html');
  const sources = Math.max(newest(path.join(ROOT, 'console')), newest(path.join(ROOT, 'src/client')), newest(path.join(ROOT, 'src/domain')));
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= sources) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

/** Headless Chromium (playwright-core gives every launch a fresh temporary profile). */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => {});
    },
  };
}
