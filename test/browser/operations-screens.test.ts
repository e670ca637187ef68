/**
 * The lifecycle of docs/operations.md clicked through in Chromium against the product as `npm start` runs it
 * (startProduct: simulated tenant + local bot + playground) in a temporary DATA_DIR, as people would do it: the admin
 * types the request in their chat, the other admin approves in #Requests. Each step asserts what its card shows and
 * saves the card (cropped to the message) to artifacts/screenshots/ops-*.png; with UPDATE_DOCS_SCREENSHOTS=1 also to
 * docs/img/ops-*.png, the images docs/operations.md shows.
 *
 * Order: setup (form with the scoping choice) → remove sender → test email → new secret → "Opter updated" → expiry
 * reminder → migrate to RBAC (plan, approval, waiting) → status. The migration comes last because it waits for
 * Exchange's permission cache (120 minutes by design) and holds the registration meanwhile; we stop at "waiting".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { Product } from '../../src/playground/product';
import { EXPIRY_CHECK_KEY } from '../../src/bot/background/reminders';
import { approverView, asPersona, botMessageWith, eventually, FLOW_TIMEOUT_MS, openChannel, openChat, pin, SCREENSHOT_DIR, startProductInBrowser, type, type ProductInBrowser } from './browser';

const APP = 'OpterMessageProxy';
const DOCS_IMG_DIR = resolve('docs/img');

/** Saves the message (the card, cropped) as artifacts/screenshots/<name>.png, and docs/img/<name>.png when asked. */
async function shoot(message: Locator, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  // A card taller than the window would be shot while scrolled, under the page's sticky headers: make the window
  // tall enough for the whole card (the width stays 1280 px, what a reader's laptop shows), then put it back.
  const page = message.page();
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  const box = await message.boundingBox();
  await page.setViewportSize({ width: before.width, height: Math.max(before.height, Math.ceil((box?.height ?? 0) + 400)) });
  try {
    await message.scrollIntoViewIfNeeded();
    // The page's own animations (typing dots, "new" markers) must not blur the crop.
    await message.screenshot({ path, animations: 'disabled' });
  } finally {
    await page.setViewportSize(before);
  }
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') {
    mkdirSync(DOCS_IMG_DIR, { recursive: true });
    copyFileSync(path, join(DOCS_IMG_DIR, `${name}.png`));
  }
}

type SnapshotApp = { displayName: string; passwordCredentials: Array<{ keyId: string; displayName?: string | null }> };

function appOf(product: Product): SnapshotApp {
  const app = product.tenant.simulator!.snapshot().applications.find((a) => a.displayName === APP);
  if (!app) throw new Error(`${APP} is not in the simulated tenant`);
  return app as unknown as SnapshotApp;
}

/** What a person reads on the card: rendered text, line breaks as spaces. */
const textOf = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ');

describe('docs/operations.md: the lifecycle in the playground, with the cards the doc shows', () => {
  let product: Product;
  let page: Page;
  let domain: string;
  const pageErrors: string[] = [];

  let started: ProductInBrowser;

  beforeAll(async () => {
    started = await startProductInBrowser('operations-screens-', pageErrors, { workerIntervalMs: 500 });
    ({ product, page } = started);
    product.tenant.simulator!.setFaults({ latencyMs: 0, replicationDelayMs: 0, throttle: null });
    domain = product.tenant.simulator!.domain;
  });

  afterAll(() => started?.close());

  /** The approver opens #Requests, checks the approval card, optionally shoots it, approves and waits for the decision. */
  async function approve(title: RegExp, expectText: RegExp[], shot?: string): Promise<void> {
    await asPersona(page, 'approver');
    await openChannel(page, 'requests');
    const approval = await approverView(page, title);
    const text = await textOf(approval);
    for (const re of expectText) expect(text).toMatch(re);
    if (shot) await shoot(approval, shot);
    await approval.getByRole('button', { name: 'Approve' }).click();
    await approval.getByText(/Approved by/).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
    await asPersona(page, 'requester');
    await openChat(page);
  }

  /** The requester's card for the request: the form answer becomes "Sent for approval". */
  async function request(command: string, expectSent: RegExp): Promise<Locator> {
    await asPersona(page, 'requester');
    await openChat(page);
    await type(page, command);
    const sent = await pin(page, botMessageWith(page, expectSent));
    await sent.getByText('Sent for approval').first().waitFor();
    return sent;
  }

  it('setup: the request form offers the scoping choice, explained in one line each', async () => {
    await asPersona(page, 'requester');
    await openChat(page);
    await type(page, 'set up Opter email');
    const form = await pin(page, botMessageWith(page, 'Sender addresses'));
    await form.getByLabel('Sender addresses (one per line)').fill(`info@${domain}\nfaktura@${domain}\nadmin@${domain}`);
    const text = await textOf(form);
    expect(text).toContain('Application Access Policy (default, as in Opter’s script)');
    expect(text).toContain('RBAC for Applications (Microsoft’s recommended model)');
    await shoot(form, 'ops-scoping-form');
    // The default (access policy) — the migration below moves it to RBAC.
    await form.getByRole('button', { name: 'Submit for approval' }).click();
    await eventually('the form to be replaced after submit', async () => !(await form.getByRole('button', { name: 'Submit for approval' }).isVisible()), FLOW_TIMEOUT_MS);

    await approve(/Approval needed/, [/Application Access Policy/]);
    await botMessageWith(page, /Setting up Opter email/).getByText('Finished and verified').waitFor({ timeout: FLOW_TIMEOUT_MS });
    const ready = await pin(page, botMessageWith(page, /Opter email is ready/));
    await ready.getByRole('button', { name: 'Reveal secret' }).click({ timeout: FLOW_TIMEOUT_MS });
    await ready.getByText('Shown only to you, only now.').waitFor();
    await ready.getByRole('button', { name: 'Done, hide it' }).click();
    await ready.getByText(/Secret revealed/).waitFor();
  });

  it('remove sender: the approval card shows the members before and after; the mailbox leaves the group', async () => {
    await request(`remove sender faktura@${domain}`, new RegExp(`remove faktura@${domain.replace(/\./g, '\\.')} from ${APP}`));
    await approve(/Approval needed: Remove sender/, [new RegExp(`Before.*info@.*faktura@.*After`), /Removed.*faktura@/], 'ops-remove-sender-approval');
    await botMessageWith(page, new RegExp(`Removing faktura@${domain.replace(/\./g, '\\.')} from ${APP}`)).getByText('Finished and verified').waitFor({ timeout: FLOW_TIMEOUT_MS });
    // The simulated tenant says so too (the panel reads the same snapshot).
    await eventually('faktura to leave the sender group', () => {
      const group = product.tenant.simulator!.snapshot().groups.find((g) => JSON.stringify(g).includes('mailsend-allowed') && JSON.stringify(g).toLowerCase().includes(APP.toLowerCase()));
      const json = JSON.stringify(group ?? {});
      return !!group && json.includes(`info@${domain}`) && !json.includes(`faktura@${domain}`);
    });
  });

  it('test email: the result card shows token, scope and send, and the temporary secret is gone again', async () => {
    await request(`test email to me from info@${domain}`, /a test email from/);
    await approve(/Approval needed: Test email/, [/Temporary \(60 minutes\)/, /No permission changes/]);
    const result = await pin(page, botMessageWith(page, /Result per layer/));
    await result.getByText(/The temporary secret was removed again/).waitFor({ timeout: FLOW_TIMEOUT_MS });
    const text = await textOf(result);
    expect(text).toMatch(/✅ Token \(sign-in as the app\)/);
    expect(text).toMatch(new RegExp(`✅ Scope \\(may send as this mailbox\\) info@${domain.replace(/\./g, '\\.')} is allowed`));
    expect(text).toMatch(/✅ Send accepted by Microsoft Graph Microsoft Graph accepted the message \(202\)/);
    await shoot(result, 'ops-test-email');
    const app = appOf(product);
    expect(app.passwordCredentials.some((c) => /-test$/.test(c.displayName ?? ''))).toBe(false);
  });

  it('new secret: shown once with the overlap note; "Opter updated" removes exactly the old one', async () => {
    // The tenant's app-management policy allows at most 20 days: the card says the lifetime was shortened, and the
    // secret falls inside the 30-day reminder window used by the next step.
    product.tenant.simulator!.setFaults({ maxPasswordLifetime: 'P20D' });
    const appBefore = () => appOf(product);
    const oldKeys = appBefore().passwordCredentials.map((c) => c.keyId);
    expect(oldKeys).toHaveLength(1);

    await request(`new secret for ${APP}`, /a new client secret for/);
    await approve(/Approval needed: New client secret/, [/The old secrets keep working for now/, /or 7 days after it was created/], 'ops-rotate-approval');
    const card = await pin(page, botMessageWith(page, /Reveal secret/));
    await card.getByRole('button', { name: 'Reveal secret' }).click({ timeout: FLOW_TIMEOUT_MS });
    await card.getByText('Shown only to you, only now.').waitFor();
    const revealed = await card.innerText();
    const secret = /Ms Graph Client Secret\s*:\s*(\S+)/.exec(revealed)?.[1] ?? '';
    expect(secret.length).toBeGreaterThan(20);
    await card.getByRole('button', { name: 'Done, hide it' }).click();
    await eventually('the secret to leave the page', async () => !(await page.content()).includes(secret));

    // Confirming is accepted only after the reveal (Opter cannot have the secret before), so the reveal comes first.
    const rotation = await pin(page, botMessageWith(page, /Opter updated/));
    expect(await textOf(rotation)).toMatch(/the old one still works/);
    await shoot(rotation, 'ops-rotate-overlap');
    await rotation.getByRole('button', { name: 'Opter updated' }).click();
    await eventually('the old secret to be removed', async () => /Old secret removed/i.test(await textOf(rotation)), FLOW_TIMEOUT_MS);
    await shoot(rotation, 'ops-rotate-retired');
    const keysAfter = appBefore().passwordCredentials.map((c) => c.keyId);
    expect(keysAfter).toHaveLength(1);
    expect(keysAfter).not.toContain(oldKeys[0]);
  });

  it('expiry reminder: a secret expiring within 30 days gets one reminder with "Rotate now"', async () => {
    // The daily check already ran when the bot started; forgetting that run stands in for the next day.
    product.bot.store.kv.delete(EXPIRY_CHECK_KEY);
    await product.bot.tick();
    await asPersona(page, 'requester');
    await openChat(page);
    const reminder = await pin(page, botMessageWith(page, /Reminder 30 days before expiry/));
    await reminder.getByRole('button', { name: 'Rotate now' }).waitFor();
    expect(await textOf(reminder)).toMatch(new RegExp(`A client secret of ${APP} expires in (19|20) days`));
    await shoot(reminder, 'ops-expiry-reminder');
  });

  it('migrate to RBAC: the plan on the approval card, then the progress card waits for Exchange and continues by itself', async () => {
    await request(`migrate ${APP} to RBAC`, /migrate OpterMessageProxy to RBAC for Applications/);
    await approve(
      /Approval needed: Migrate Opter email to RBAC/,
      [/Application Access Policy → RBAC for Applications/, /Migration plan, in this order/, /Why this order keeps mail flowing/],
      'ops-migrate-plan',
    );
    const progress = await pin(page, botMessageWith(page, /continues by itself after/));
    await shoot(progress, 'ops-migrate-waiting');
    // Both paths exist while it waits: the policy and the grant are still there, next to the new role assignment.
    const side = page.locator('#side');
    await side.getByTestId('tenant-policy').filter({ hasText: APP }).waitFor();
  });

  it('status: the registration with its scoping, senders, secret expiry, last verification, and the migration waiting with its time', async () => {
    await type(page, 'status');
    const status = await pin(page, botMessageWith(page, /need attention|look healthy/));
    const text = await textOf(status);
    expect(text).toContain(APP);
    expect(text).toMatch(/Scoping/);
    expect(text).toContain(`info@${domain}`);
    expect(text).not.toContain(`faktura@${domain}`);
    // The waiting migration is a planned wait with its time, not drift with a Repair button that would be refused.
    expect(text).toMatch(/waiting for Exchange’s permission cache until .+ UTC/);
    expect(text).not.toMatch(/migration to RBAC (is not finished|stopped)/i);
    expect(await status.getByRole('button', { name: 'Repair' }).count()).toBe(0);
    await status.getByRole('button', { name: 'New secret' }).waitFor();
    await shoot(status, 'ops-status');
    expect(pageErrors).toEqual([]);
  });
});
