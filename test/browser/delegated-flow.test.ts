/**
 * Issue 12 in a real browser: `PROVISIONING_AUTH=delegated npm start`. The approver's Approve goes through the
 * Universal Actions sign-in (the playground's Teams client answers the bot's login request with the persona's SSO
 * token), every tenant write is made with the approver's own token, and an approver without the Entra roles is
 * refused — with the roles named — before anything is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Product } from '../../src/playground/product';
import { approverView, asPersona, botMessageWith, FLOW_TIMEOUT_MS, openChannel, openChat, pin, screenshot, startProductInBrowser, type, type ProductInBrowser } from './browser';

describe('npm start in delegated mode: the approver’s own sign-in makes every change', () => {
  let dataDir: string;
  let product: Product;
  let page: Page;
  let domain: string;
  const pageErrors: string[] = [];

  let started: ProductInBrowser;

  beforeAll(async () => {
    started = await startProductInBrowser('delegated-flow-', pageErrors, { env: { PROVISIONING_AUTH: 'delegated' }, workerIntervalMs: 500 });
    ({ product, page, dataDir } = started);
    domain = product.tenant.simulator!.domain;
  });

  afterAll(() => started?.close());

  it('says so at start: the bot stands on the read-only identity', () => {
    expect(product.config.provisioningAuth).toBe('delegated');
    expect(product.tenant.conn.clientId).toBe(product.tenant.simulator!.readOnly.clientId);
    expect(product.banner.join('\n')).toContain('Delegated mode');
  });

  it('setup: the approver approves with their sign-in, and every write is theirs', async () => {
    const sim = product.tenant.simulator!;
    await asPersona(page, 'requester');
    await openChat(page);
    await type(page, 'set up Opter email');
    const form = await pin(page, botMessageWith(page, 'Sender addresses'));
    await form.getByLabel('Sender addresses (one per line)').fill(`info@${domain}`);
    await form.getByRole('button', { name: 'Submit for approval' }).click();
    await form.getByText(/approv/i).first().waitFor({ timeout: FLOW_TIMEOUT_MS });

    sim.clearRequests();
    await asPersona(page, 'approver');
    await openChannel(page, 'requests');
    const approval = await approverView(page, /Approval needed/);
    await approval.getByText('The approver needs').waitFor();
    await approval.getByRole('button', { name: 'Approve' }).click();
    await approval.getByText(/Approved by/).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
    await screenshot(page, 'delegated-01-approved');

    await asPersona(page, 'requester');
    await openChat(page);
    await botMessageWith(page, /Setting up Opter email/).getByText('Finished and verified').waitFor({ timeout: FLOW_TIMEOUT_MS });
    const approverUpn = product.personas[1]!.upn;
    const writes = sim.requests().filter((r) => (r.family === 'graph' && ['POST', 'PATCH', 'DELETE'].includes(r.method)) || (r.family === 'exchange' && r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet)));
    expect(writes.length).toBeGreaterThan(5);
    expect(writes.filter((w) => w.token !== 'user' || w.principal !== approverUpn)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('an approver without the roles is refused before anything is written, and told which roles', async () => {
    const sim = product.tenant.simulator!;
    // The approver persona asks; the requester persona (Global Reader only) tries to approve.
    await asPersona(page, 'approver');
    await openChat(page);
    await type(page, `add sender faktura@${domain}`);
    const ask = botMessageWith(page, /Continue|Submit for approval|approval/i);
    await ask.waitFor({ timeout: FLOW_TIMEOUT_MS });
    for (const name of ['Continue', 'Submit for approval']) {
      const button = ask.getByRole('button', { name });
      if (await button.isVisible()) await button.click();
    }
    sim.clearRequests();
    await asPersona(page, 'requester');
    await openChannel(page, 'requests');
    const approval = await approverView(page, /Approval needed: Add sender/);
    await approval.getByRole('button', { name: 'Approve' }).click();
    const notice = approval.getByTestId('notice').filter({ hasText: /Exchange Administrator/ });
    await notice.waitFor({ timeout: FLOW_TIMEOUT_MS });
    expect(await notice.textContent()).toMatch(/Privileged Identity Management/);
    await screenshot(page, 'delegated-02-refused-roles');
    expect(await approval.getByText(/Approved by/).count()).toBe(0);
    expect(sim.requests().filter((r) => r.family === 'exchange' && r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet))).toEqual([]);
  });

  it('keeps no sign-in at rest: no token in any file of DATA_DIR (store, chat history, simulated tenant) nor in the page', async () => {
    product.playground!.world.flush();
    const jwt = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/;
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) {
      const path = join(f.parentPath, f.name);
      expect(jwt.test(readFileSync(path).toString('latin1')), path).toBe(false);
    }
    expect(jwt.test(await page.content())).toBe(false);
  });
});
