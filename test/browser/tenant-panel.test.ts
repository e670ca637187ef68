/**
 * The playground's tenant panel as a new user first sees it, with the product started the way `npm start` starts it
 * (startProduct with Microsoft-like delays on the embedded tenant): the mailboxes that exist are listed (so the
 * senders to type are known before the form asks), and the fault knobs show the latency the tenant runs with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { MICROSOFT_LIKE_DELAYS, type Product } from '../../src/playground/product';
import { screenshot, startProductInBrowser, type ProductInBrowser } from './browser';

describe('the tenant panel on first sight', () => {
  let product: Product;
  let page: Page;
  const pageErrors: string[] = [];

  let started: ProductInBrowser;

  beforeAll(async () => {
    started = await startProductInBrowser('tenant-panel-', pageErrors, { simulatorDelays: 'microsoft-like' });
    ({ product, page } = started);
  });

  afterAll(() => started?.close());

  it('lists the simulated tenant’s mailboxes, with the shared one marked', async () => {
    const domain = product.tenant.simulator!.domain;
    const section = page.locator('#side').getByTestId('tenant-mailboxes');
    await section.waitFor();
    const rows = section.getByTestId('tenant-mailbox');
    await expect.poll(() => rows.count()).toBe(5);
    const texts = await rows.allTextContents();
    for (const alias of ['admin', 'faktura', 'info', 'kundtjanst', 'vd']) expect(texts.some((t) => t.includes(`${alias}@${domain}`)), alias).toBe(true);
    expect(texts.find((t) => t.includes(`kundtjanst@${domain}`))).toContain('Kundtjänst · shared mailbox');
    // Not a mailbox: the contact and the user without one are not offered.
    expect(texts.join(' ')).not.toMatch(/leverantor|ingenbrevlada/);
    await screenshot(page, 'tenant-panel-mailboxes');
  });

  it('shows the Microsoft-like latency the playground’s tenant runs with', async () => {
    const faults = page.locator('#side').getByTestId('faults');
    await expect.poll(() => faults.getByTestId('fault-latency').inputValue()).toBe(String(MICROSOFT_LIKE_DELAYS.latencyMs));
    expect(await faults.getByTestId('fault-replication').inputValue()).toBe(String(MICROSOFT_LIKE_DELAYS.replicationDelayMs));
    expect(pageErrors).toEqual([]);
  });
});
