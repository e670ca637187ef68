import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppSignIn } from '../../src/adapters/app-signin';
import type { ExchangeOnline } from '../../src/adapters/exchange';
import type { GraphDirectory } from '../../src/adapters/graph-directory';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { adaptersFor, eventually, failure, startTestSimulator, uniqueLabel } from './helpers';

let sim: Simulator;
let directory: GraphDirectory;
let exchange: ExchangeOnline;
let signIn: AppSignIn;

beforeAll(async () => {
  sim = await startTestSimulator();
  ({ directory, exchange, appSignIn: signIn } = adaptersFor(sim));
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.setFaults({ secretActivationDelayMs: 0, replicationDelayMs: 0, revokedPermissions: [] });
});

/** Opter's registration as the engine builds it: app, SP, optionally Mail.Send, and a secret. */
async function newApp(opts: { grantMailSend: boolean }): Promise<{ appId: string; secret: string }> {
  const app = await directory.upsertApplicationByUniqueName(uniqueLabel('signin'), { displayName: 'Sign-in Test', signInAudience: 'AzureADMyOrg' });
  if (!app.created) throw new Error('expected a new app');
  const sp = await directory.upsertServicePrincipal(app.value.appId);
  if (!sp.created) throw new Error('expected a new SP');
  if (opts.grantMailSend) {
    const graph = (await directory.getServicePrincipalByAppId(GRAPH_APP_ID))!;
    await directory.assignAppRole({ principalId: sp.value.id, resourceId: graph.id, appRoleId: MAIL_SEND_ROLE_ID });
  }
  const pwd = await directory.addPassword(app.value.id, { displayName: 'signin-secret', endDateTime: '2030-01-01T00:00:00Z' });
  return { appId: app.value.appId, secret: pwd.secretText };
}

describe('AppSignIn — token as the new app', () => {
  it("acquires a Graph token with the new app's own secret and reports its roles", async () => {
    const granted = await newApp({ grantMailSend: true });
    expect(await signIn.acquireGraphToken(granted.appId, granted.secret)).toEqual({ roles: ['Mail.Send'] });
    const bare = await newApp({ grantMailSend: false });
    expect(await signIn.acquireGraphToken(bare.appId, bare.secret)).toEqual({ roles: [] });
  });

  it('treats AADSTS7000215 for a brand-new secret as transient, then succeeds once the secret is active', async () => {
    sim.setFaults({ secretActivationDelayMs: 1500 });
    const app = await newApp({ grantMailSend: true });
    const err = await failure(signIn.acquireGraphToken(app.appId, app.secret));
    expect(err).toMatchObject({ code: 'E_VERIFY_FAILED', transient: true, retryReason: 'waiting for Microsoft to accept the new client secret' });
    expect(err.detail).toMatch(/AADSTS7000215/);
    expect(`${err.message} ${err.detail} ${JSON.stringify(err.cause)}`).not.toContain(app.secret);
    expect(await eventually(() => signIn.acquireGraphToken(app.appId, app.secret))).toEqual({ roles: ['Mail.Send'] });
  });

  it('never caches a token across secrets: a wrong secret fails even right after the right one worked', async () => {
    const app = await newApp({ grantMailSend: true });
    await signIn.acquireGraphToken(app.appId, app.secret);
    const wrong = `${app.secret.slice(0, -4)}XXXX`;
    const err = await failure(signIn.acquireGraphToken(app.appId, wrong));
    expect(err.code).toBe('E_VERIFY_FAILED');
    expect(`${err.message} ${err.detail} ${JSON.stringify(err.cause)}`).not.toContain(wrong);
  });
});

describe('AppSignIn — sendMail as the new app', () => {
  it('sends (202) from a mailbox the access policy covers, and is refused (403) for one outside the group', async () => {
    const app = await newApp({ grantMailSend: true });
    const label = uniqueLabel('mail');
    const group = await exchange.newDistributionGroup({ name: `${label} - MailSend Allowed`, alias: `${label}-mailsend-allowed`, members: [sim.mailboxes.info] });
    await exchange.newApplicationAccessPolicy({ appId: app.appId, policyScopeGroupId: group.primarySmtpAddress, accessRight: 'RestrictAccess', description: ' ' });

    const subject = `Opter test ${label}`;
    await signIn.sendMail(app.appId, app.secret, { from: sim.mailboxes.info, to: sim.mailboxes.faktura, subject, body: 'Hej!' });
    expect(sim.snapshot().sentMail.find((m) => m.subject === subject)).toMatchObject({ appId: app.appId, from: sim.mailboxes.info, to: [sim.mailboxes.faktura], body: 'Hej!' });

    const err = await failure(signIn.sendMail(app.appId, app.secret, { from: sim.mailboxes.outside, to: sim.mailboxes.faktura, subject, body: 'Hej!' }));
    expect(err).toMatchObject({ code: 'E_VERIFY_FAILED', transient: false, status: 403 });
    expect(err.detail).toContain('Access to OData is disabled');
  });

  it('an address without a mailbox → E_SENDER_NOT_MAILBOX', async () => {
    const app = await newApp({ grantMailSend: true });
    const from = `nobody-${uniqueLabel('x')}@${sim.domain}`;
    const err = await failure(signIn.sendMail(app.appId, app.secret, { from, to: sim.mailboxes.faktura, subject: 's', body: 'b' }));
    expect(err).toMatchObject({ code: 'E_SENDER_NOT_MAILBOX', status: 404 });
    expect(err.detail).toContain(from);
  });

  it('without Mail.Send the refusal is the new app’s failed check, not the provisioning identity’s permission', async () => {
    const app = await newApp({ grantMailSend: false });
    const err = await failure(signIn.sendMail(app.appId, app.secret, { from: sim.mailboxes.info, to: sim.mailboxes.faktura, subject: 's', body: 'b' }));
    expect(err).toMatchObject({ code: 'E_VERIFY_FAILED', status: 403 });
  });
});
