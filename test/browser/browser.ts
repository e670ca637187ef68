/**
 * Debian's Chromium driven by playwright-core, plus the small helpers the browser tests share: bounded waits,
 * screenshots into artifacts/screenshots/, and page locators that mean the same thing in every test.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startProduct, type Product, type StartProductOptions } from '../../src/playground/product';
import { DEFAULT_TEST_TLS_DIR } from '../../src/sim';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** How long a step of a whole flow may take on a loaded CI machine. */
export const FLOW_TIMEOUT_MS = 120_000;
export const SCREENSHOT_DIR = resolve('artifacts/screenshots');
const DOCS_IMG_DIR = resolve('docs/img');

/**
 * A fresh DATA_DIR for startProduct whose embedded simulator serves the certificate the vitest workers already trust
 * (test/setup/global-setup.ts), instead of re-launching to trust a new one as npm start does.
 */
export function productDataDir(prefix: string): string {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dataDir, 'sim-tls'));
  for (const f of readdirSync(DEFAULT_TEST_TLS_DIR).filter((f) => f.endsWith('.pem') && f !== 'ca-bundle.pem')) copyFileSync(join(DEFAULT_TEST_TLS_DIR, f), join(dataDir, 'sim-tls', f));
  return dataDir;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    timeout: 60_000,
  });
}

/** A laptop-sized page that fails the test on any uncaught page error. */
export async function openPage(browser: Browser, url: string, pageErrors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
  });
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
  return page;
}

/**
 * Saves `artifacts/screenshots/<name>.png`. With `docsName` and UPDATE_DOCS_SCREENSHOTS=1 it also refreshes
 * `docs/img/<docsName>` (the images docs/playground.md and the README show).
 */
export async function screenshot(page: Page, name: string, docsName?: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  if (docsName && process.env.UPDATE_DOCS_SCREENSHOTS === '1') {
    mkdirSync(DOCS_IMG_DIR, { recursive: true });
    copyFileSync(path, join(DOCS_IMG_DIR, docsName));
  }
  return path;
}

export async function asPersona(page: Page, key: 'requester' | 'approver' | 'nonAdmin'): Promise<void> {
  await page.getByTestId(`persona-${key}`).click();
  await page.locator(`[data-testid="persona-${key}"][aria-selected="true"]`).waitFor();
}

export async function openChat(page: Page): Promise<void> {
  await page.getByTestId('nav-chat').click();
}

export async function openChannel(page: Page, key: string): Promise<void> {
  await page.getByTestId(`nav-channel-${key}`).click();
}

/** The composer at the bottom of the open conversation. */
export async function type(page: Page, text: string): Promise<void> {
  const input = page.locator('#conversation > .composer-area').getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/** Messages in the open conversation. */
export function messages(page: Page): Locator {
  return page.locator('#conversation [data-testid="message"]');
}

/** The last message from the bot whose text or card contains `text`. */
export function botMessageWith(page: Page, text: string | RegExp): Locator {
  return page.locator('#conversation [data-testid="message"][data-from="bot"]').filter({ hasText: text }).last();
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pinned message a locator found first (cards change text; the message id does not). */
export async function pin(page: Page, found: Locator): Promise<Locator> {
  await found.waitFor({ timeout: FLOW_TIMEOUT_MS });
  return page.locator(`#conversation [data-message-id="${await found.getAttribute('data-message-id')}"]`);
}

/**
 * An approval card as an approver sees it. Approvers are on the card's refresh list: their client fetches their own
 * view and replaces the shared one, so acting on the shared view would race its replacement (the button detaches).
 */
export async function approverView(page: Page, title: RegExp): Promise<Locator> {
  const approval = await pin(page, botMessageWith(page, title));
  await approval.locator('[data-testid="card"][data-card-view="personal"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
  return approval;
}

export interface ProductInBrowser {
  product: Product;
  browser: Browser;
  page: Page;
  dataDir: string;
  /** Closes the browser and the product and deletes the data directory. */
  close(): Promise<void>;
}

/**
 * The product started as `npm start` starts it (with `env` on top: ports 0), in a fresh data directory, and a
 * browser page on its playground. Quiet unless the test passes its own logger; page errors go to `pageErrors`.
 */
export async function startProductInBrowser(prefix: string, pageErrors: string[], options: Omit<StartProductOptions, 'dataDir'> = {}): Promise<ProductInBrowser> {
  const dataDir = productDataDir(prefix);
  const quiet = () => undefined;
  const product = await startProduct({ logger: { info: quiet, warn: quiet, error: quiet }, ...options, env: { PORT: '0', PLAYGROUND_PORT: '0', ...options.env }, dataDir });
  const browser = await launchBrowser();
  const page = await openPage(browser, product.playground!.url, pageErrors);
  return {
    product,
    browser,
    page,
    dataDir,
    close: async () => {
      await browser.close();
      await product.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
