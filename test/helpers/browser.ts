/**
 * Debian's Chromium for the browser tests (test/e2e/): one launch with one set of flags, and the lab
 * served and opened in it. The browser and the server are closed in `finally` whatever the test
 * does, so a failed assertion (or a failed launch) never leaves a process that keeps the run alive.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { loadFashionMnistRaw, type FashionMnistRaw } from '../../src/node/data/fashionMnistFiles.js';
import { startLabServer } from '../../src/node/labServer.js';

/** Debian's Chromium (`apt-get install chromium`); playwright-core downloads no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The built lab (`vite build`), which the lab server serves. */
export const APP_DIR = join(ROOT, 'dist', 'web');

/** What a browser test asks of Chromium. */
export interface ChromiumOptions {
  /** Expose WebGPU (a software adapter under headless) instead of disabling the GPU. */
  readonly webgpu?: boolean;
}

/**
 * Runs `fn` with a headless Chromium (no sandbox, so it runs as root in CI; no background networking
 * or component updates, so it reaches nothing beyond the test's own server). Closed in `finally`.
 */
export async function withChromium<T>(
  fn: (browser: Browser) => Promise<T>,
  opts: ChromiumOptions = {},
): Promise<T> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      opts.webgpu === true ? '--enable-unsafe-webgpu' : '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

/** Builds the lab into dist/web when it is missing (a test run straight after a clone). */
export function ensureLabApp(): void {
  if (existsSync(join(APP_DIR, 'index.html'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
    cwd: ROOT,
    stdio: 'ignore',
  });
}

/** The lab in a browser: Chromium and the URL of a lab server with the test's data. */
export interface Lab {
  readonly browser: Browser;
  readonly url: string;
}

/**
 * Serves the built lab with `data` on a free loopback port and runs `fn` with Chromium and the lab's
 * URL; the browser and the server are both closed in `finally`.
 */
export async function launchLab<T>(
  data: FashionMnistRaw,
  fn: (lab: Lab) => Promise<T>,
  opts: ChromiumOptions = {},
): Promise<T> {
  ensureLabApp();
  const server = await startLabServer({ data, appDir: APP_DIR });
  try {
    return await withChromium((browser) => fn({ browser, url: server.url }), opts);
  } finally {
    await server.close();
  }
}

/** The installed Fashion-MNIST without downloading, or why it cannot be loaded. */
export async function loadOfflineData(): Promise<FashionMnistRaw | string> {
  try {
    return await loadFashionMnistRaw({ download: false });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
