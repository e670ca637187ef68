/**
 * Issue 5 "Done when", clicked through in Chromium against the product started exactly as `npm start` starts it
 * (startProduct with no configuration: simulated tenant + bot in local mode + playground), in a temporary DATA_DIR:
 * the requester asks for "set up Opter email", fills the form and submits; the non-admin can neither request nor
 * approve; the approver approves; the progress card finishes; the requester reveals the secret once (a second
 * client's reveal is refused); a sender is added; the audit channel has the story; the tenant panel shows the app,
 * group, members and policy. Screenshots go to artifacts/screenshots/ (two are copied into docs/img/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Product } from '../../src/playground/product';
import { approverView, asPersona, botMessageWith, eventually, FLOW_TIMEOUT_MS, openChannel, openChat, openPage, pin, screenshot, startProductInBrowser, type, type ProductInBrowser } from './browser';


describe('npm start playground: the whole flow in a real browser', () => {
  let dataDir: string;
  let product: Product;
  let browser: Browser;
  let page: Page;
  let domain: string;
  let secret = '';
  const pageErrors: string[] = [];
  const logLines: string[] = [];

  let started: ProductInBrowser;

  beforeAll(async () => {
    const log = (level: string) => (m: string, err?: unknown) => void logLines.push(`${level} ${m}${err instanceof Error ? ` ${err.message}` : ''}`);
    started = await startProductInBrowser('playground-flow-', pageErrors, { logger: { info: log('info'), warn: log('warn'), error: log('error') }, workerIntervalMs: 500 });
    ({ product, browser, page, dataDir } = started);
    domain = product.tenant.simulator!.domain;
  });

  afterAll(() => started?.close());

  it('starts like npm start with no configuration: simulated tenant, local bot, playground, and says what to click first', () => {
    expect(product.mode).toBe('playground');
    expect(product.config.mode).toBe('local');
    expect(product.personas.map((p) => p.upn)).toEqual([`admin@${domain}`, `vd@${domain}`, `ingenbrevlada@${domain}`]);
    expect(product.config.admins).toEqual(product.personas.slice(0, 2).map((p) => p.aadObjectId));
    const banner = product.banner.join('\n');
    expect(banner).toContain(product.playground!.url);
    expect(banner).toContain('What to click first');
    expect(banner).toContain('set up Opter email');
  });

  it('the requester types "set up Opter email", fills in the form and submits it', async () => {
    await asPersona(page, 'requester');
    await openChat(page);
    await type(page, 'set up Opter email');
    const form = await pin(page, botMessageWith(page, 'Sender addresses'));
    await form.getByLabel('Sender addresses (one per line)').fill(`info@${domain}\nfaktura@${domain}`);
    await screenshot(page, '01-requester-form');
    await form.getByRole('button', { name: 'Submit for approval' }).click();
    // The form turns into the submitted view for the requester; the approval card goes to #Requests.
    await eventually('the form to be replaced after submit', async () => !(await form.getByRole('button', { name: 'Submit for approval' }).isVisible()), FLOW_TIMEOUT_MS);
    await expect.poll(() => form.textContent()).toMatch(/approv/i);
    await screenshot(page, '02-requester-submitted');
  });

  it('the non-admin can neither request nor approve', async () => {
    await asPersona(page, 'nonAdmin');
    await openChat(page);
    await type(page, 'set up Opter email');
    await botMessageWith(page, /Only configured admins may do this/).waitFor();
    expect(await page.getByRole('button', { name: 'Submit for approval' }).count()).toBe(0);

    await openChannel(page, 'requests');
    const approval = await pin(page, botMessageWith(page, /Approval needed/));
    await approval.getByRole('button', { name: 'Approve' }).click();
    await approval.getByTestId('notice').filter({ hasText: /approver/i }).waitFor();
    await screenshot(page, '03-non-admin-refused');
  });

  it('the approver approves in #Requests', async () => {
    await asPersona(page, 'approver');
    await openChannel(page, 'requests');
    const approval = await approverView(page, /Approval needed/);
    await approval.getByRole('button', { name: 'Approve' }).scrollIntoViewIfNeeded();
    await screenshot(page, '04-approver-approval-card', 'playground-approval.png');
    await approval.getByRole('button', { name: 'Approve' }).click();
    await approval.getByText(/Approved by/).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
  });

  it('the requester sees the progress card finish', async () => {
    await asPersona(page, 'requester');
    await openChat(page);
    const progress = botMessageWith(page, /Setting up Opter email/);
    await progress.waitFor({ timeout: FLOW_TIMEOUT_MS });
    await progress.getByText('Finished and verified').waitFor({ timeout: FLOW_TIMEOUT_MS });
    await screenshot(page, '05-progress-finished');
  });

  it('reveals the secret once; another client of the same person is refused a second reveal', async () => {
    const ready = await pin(page, botMessageWith(page, /Opter email is ready/));
    await ready.getByRole('button', { name: 'Reveal secret' }).click({ timeout: FLOW_TIMEOUT_MS });
    await ready.getByText('Shown only to you, only now.').waitFor();
    const text = (await ready.textContent()) ?? '';
    secret = /Ms Graph Client Secret\s*:\s*(\S+)/.exec(text)?.[1] ?? '';
    expect(secret.length).toBeGreaterThan(20);
    expect(await ready.getByTestId('card').getAttribute('data-card-view')).toBe('personal');

    // The same person on another device: the message still offers the button, the bot refuses.
    const other = await openPage(browser, product.playground!.url, pageErrors);
    await asPersona(other, 'requester');
    await openChat(other);
    const again = await pin(other, botMessageWith(other, /Opter email is ready/));
    await again.getByRole('button', { name: 'Reveal secret' }).click();
    await eventually('the second reveal to be refused', async () => /already revealed/i.test((await again.textContent()) ?? ''));
    expect((await other.content()).includes(secret)).toBe(false);
    await other.context().close();

    await ready.getByRole('button', { name: 'Done, hide it' }).click();
    await eventually('the secret to leave the page', async () => !(await page.content()).includes(secret));
    await ready.getByText(/Secret revealed/).waitFor();
  });

  it('adds a sender, approved by the other admin', async () => {
    await openChat(page);
    await type(page, `add sender admin@${domain}`);
    // One registration exists, so the bot may go straight to the approval; a chooser would need a click.
    const chooser = botMessageWith(page, /Continue|Submit for approval|approval/i);
    await chooser.waitFor({ timeout: FLOW_TIMEOUT_MS });
    for (const name of ['Continue', 'Submit for approval']) {
      const button = chooser.getByRole('button', { name });
      if (await button.isVisible()) await button.click();
    }
    await asPersona(page, 'approver');
    await openChannel(page, 'requests');
    const approval = await approverView(page, /Approval needed: Add sender/);
    await approval.getByRole('button', { name: 'Approve' }).click();
    await approval.getByText(/Approved by/).first().waitFor({ timeout: FLOW_TIMEOUT_MS });

    await asPersona(page, 'requester');
    await openChat(page);
    await botMessageWith(page, /Adding senders/).getByText('Finished and verified').waitFor({ timeout: FLOW_TIMEOUT_MS });
  });

  it('the audit channel tells the story, without the secret', async () => {
    await openChannel(page, 'audit');
    const audit = page.locator('#conversation');
    await eventually('the audit channel to show the request, approval, reveal and the added sender', async () => {
      const text = (await audit.textContent()) ?? '';
      return /request/i.test(text) && /approv/i.test(text) && /reveal/i.test(text) && /sender/i.test(text);
    }, FLOW_TIMEOUT_MS);
    expect(((await audit.textContent()) ?? '').includes(secret)).toBe(false);
    await screenshot(page, '06-audit-channel');
  });

  it('the tenant panel shows the app, its secret id (never the value), the group, its members and the policy', async () => {
    const side = page.locator('#side');
    const app = side.getByTestId('tenant-app').filter({ hasText: 'OpterMessageProxy' });
    await app.waitFor();
    await app.getByTestId('tenant-secret').first().waitFor();
    const group = side.getByTestId('tenant-group').filter({ hasText: 'OpterMessageProxy' });
    await group.waitFor();
    await eventually('all three senders in the group', async () => {
      const members = (await group.getByTestId('tenant-group-members').textContent()) ?? '';
      return [`info@${domain}`, `faktura@${domain}`, `admin@${domain}`].every((m) => members.includes(m));
    });
    await side.getByTestId('tenant-policy').filter({ hasText: 'RestrictAccess' }).filter({ hasText: 'OpterMessageProxy' }).waitFor();
    await side.getByTestId('tenant-grant').filter({ hasText: 'Mail.Send' }).waitFor();
    expect(((await side.textContent()) ?? '').includes(secret)).toBe(false);

    // The fault knobs reach the simulated tenant (and are put back so the rest stays calm).
    const faults = side.getByTestId('faults');
    await faults.getByTestId('fault-latency').fill('20');
    await faults.getByTestId('fault-throttle').fill('10');
    await faults.getByTestId('fault-apply').click();
    await faults.getByTestId('fault-status').getByText('Applied.').waitFor();
    expect(product.tenant.simulator!.faults()).toMatchObject({ latencyMs: 20, replicationDelayMs: 0, throttle: { share: 0.1 } });
    await faults.getByTestId('fault-latency').fill('0');
    await faults.getByTestId('fault-throttle').fill('0');
    await faults.getByTestId('fault-apply').click();
    await eventually('the faults to be off again', () => product.tenant.simulator!.faults().throttle === null && product.tenant.simulator!.faults().latencyMs === 0);

    await openChat(page);
    await screenshot(page, '07-requester-done-with-tenant-panel', 'playground-done.png');
  });

  it('never lets the secret out: not in the chats, their history file, the logs or any page', async () => {
    expect(secret).not.toBe('');
    for (const m of product.playground!.world.allMessages()) expect(JSON.stringify(m.activity)).not.toContain(secret);
    product.playground!.world.flush();
    const history = join(dataDir, 'playground-chats.json');
    expect(existsSync(history) && statSync(history).size > 0).toBe(true);
    expect(readFileSync(history, 'utf8')).not.toContain(secret);
    expect(logLines.join('\n')).not.toContain(secret);
    expect(await page.content()).not.toContain(secret);
    expect(pageErrors).toEqual([]);
  });
});
