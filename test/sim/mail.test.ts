/**
 * The whole regmsgraph.ps1 procedure against the simulator through the real clients, then sendMail as the new
 * app: the access policy decides which mailboxes it may send as.
 */
import type { GraphError } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { credential, exchangeToken, graphClient, invoke, startTestSimulator } from './helpers';

let sim: Simulator;
let app: { id: string; appId: string; secret: string; spId: string };

beforeAll(async () => {
  sim = await startTestSimulator();
  const g = graphClient(sim);
  // 1a/1b: idempotent app and service principal.
  const created = await g.api("/applications(uniqueName='opter-message-proxy')").header('Prefer', 'create-if-missing').patch({
    displayName: 'OpterMessageProxy',
    signInAudience: 'AzureADMyOrg',
    requiredResourceAccess: [{ resourceAppId: GRAPH_APP_ID, resourceAccess: [{ id: MAIL_SEND_ROLE_ID, type: 'Role' }] }],
  });
  const sp = await g.api(`/servicePrincipals(appId='${created.appId}')`).header('Prefer', 'create-if-missing').patch({});
  // 3: grant Mail.Send.
  const graphSp = await g.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).select('id,appRoles').get();
  const mailSend = graphSp.appRoles.find((r: { value: string; allowedMemberTypes: string[] }) => r.value === 'Mail.Send' && r.allowedMemberTypes.includes('Application'));
  await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: mailSend.id });
  // 4: mail-enabled security group + access policy.
  const exo = await exchangeToken(sim);
  const group = await invoke(sim, exo, 'New-DistributionGroup', {
    Name: 'OpterMessageProxy senders',
    Alias: 'optermessageproxy-senders',
    Type: 'Security',
    Members: [sim.mailboxes.info, sim.mailboxes.faktura],
  });
  expect(group.status).toBe(200);
  const policy = await invoke(sim, exo, 'New-ApplicationAccessPolicy', {
    AppId: [created.appId],
    PolicyScopeGroupId: group.json.value[0].PrimarySmtpAddress,
    AccessRight: 'RestrictAccess',
    Description: ' ',
  });
  expect(policy.status).toBe(200);
  // 2 (last, so failed runs leave no orphan secrets): the client secret.
  const pw = await g.api(`/applications/${created.id}/addPassword`).post({ passwordCredential: { displayName: 'Opter', endDateTime: '2035-01-01T00:00:00Z' } });
  app = { id: created.id, appId: created.appId, secret: pw.secretText, spId: sp.id };
});
afterAll(async () => {
  await sim.close();
});

async function sendAs(from: string, client = graphClient(sim, credential(sim, app.appId, app.secret))) {
  return client.api(`/users/${from}/sendMail`).post({
    message: {
      subject: 'Test från Opter',
      body: { contentType: 'Text', content: 'Hej!' },
      toRecipients: [{ emailAddress: { address: 'kund@example.com' } }],
    },
    saveToSentItems: 'false',
  });
}

async function failure(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (e) {
    return e as GraphError;
  }
  throw new Error('expected sendMail to fail');
}

describe('sendMail as the new app', () => {
  test('a group member can send: 202 with an empty body, recorded in the sent-mail log', async () => {
    const token = (await credential(sim, app.appId, app.secret).getToken(`${sim.graphEndpoint}/.default`)).token;
    const res = await fetch(`${sim.graphEndpoint}/v1.0/users/${encodeURIComponent(sim.mailboxes.info)}/sendMail`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { subject: 'Direct', body: { contentType: 'Text', content: 'x' }, toRecipients: [{ emailAddress: { address: 'a@b.example' } }] } }),
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    await sendAs(sim.mailboxes.faktura);
    const sent = sim.snapshot().sentMail;
    expect(sent.map((m) => [m.from, m.appId, m.subject])).toEqual([
      [sim.mailboxes.info, app.appId, 'Direct'],
      [sim.mailboxes.faktura, app.appId, 'Test från Opter'],
    ]);
    expect(sent[1]!.saveToSentItems).toBe(false);
  });

  test('a mailbox outside the group: 403 ErrorAccessDenied "Access to OData is disabled."', async () => {
    const e = await failure(sendAs(sim.mailboxes.outside));
    expect(e.statusCode).toBe(403);
    expect(e.code).toBe('ErrorAccessDenied');
    expect(e.message).toBe('Access to OData is disabled.');
  });

  test('Test-ApplicationAccessPolicy agrees with what sendMail enforces', async () => {
    const exo = await exchangeToken(sim);
    const check = async (mbx: string) => (await invoke(sim, exo, 'Test-ApplicationAccessPolicy', { Identity: mbx, AppId: app.appId })).json.value[0].AccessCheckResult;
    expect(await check(sim.mailboxes.info)).toBe('Granted');
    expect(await check(sim.mailboxes.outside)).toBe('Denied');
  });

  test('adding the shared mailbox to the group lets the app send as it; the user object id works as well as the UPN', async () => {
    expect((await failure(sendAs(sim.mailboxes.shared))).statusCode).toBe(403);
    const exo = await exchangeToken(sim);
    await invoke(sim, exo, 'Add-DistributionGroupMember', { Identity: 'optermessageproxy-senders', Member: sim.mailboxes.shared, BypassSecurityGroupManagerCheck: true });
    await sendAs(sim.mailboxes.shared);
    const userId = sim.snapshot().users.find((u) => u.userPrincipalName === sim.mailboxes.shared)!.id;
    await sendAs(userId);
  });

  test('unknown user → 404 ErrorInvalidUser; user without a mailbox → 404 MailboxNotEnabledForRESTAPI', async () => {
    const unknown = await failure(sendAs('nobody@exempel.se'));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.code).toBe('ErrorInvalidUser');
    expect(unknown.message).toBe("The requested user 'nobody@exempel.se' is invalid.");
    const noMailbox = await failure(sendAs(sim.mailboxes.noMailbox));
    expect(noMailbox.statusCode).toBe(404);
    expect(noMailbox.code).toBe('MailboxNotEnabledForRESTAPI');
  });

  test('an app without Mail.Send gets 403 "Access is denied"', async () => {
    const e = await failure(sendAs(sim.mailboxes.info, graphClient(sim)));
    expect(e.statusCode).toBe(403);
    expect(e.code).toBe('ErrorAccessDenied');
    expect(e.message).toBe('Access is denied. Check credentials and try again.');
  });

  test('with policyPropagationDelayMs, a new policy is reported by Test-ApplicationAccessPolicy at once but enforced by sendMail only later', async () => {
    const exo = await exchangeToken(sim);
    const g = graphClient(sim);
    const other = await g.api('/applications').post({ displayName: 'Late policy' });
    const otherSp = await g.api('/servicePrincipals').post({ appId: other.appId });
    const graphSp = await g.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).get();
    await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: otherSp.id, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID });
    const pw = await g.api(`/applications/${other.id}/addPassword`).post({});
    const client = graphClient(sim, credential(sim, other.appId, pw.secretText));

    sim.setFaults({ policyPropagationDelayMs: 400 });
    try {
      await invoke(sim, exo, 'New-ApplicationAccessPolicy', { AppId: [other.appId], PolicyScopeGroupId: 'optermessageproxy-senders', AccessRight: 'RestrictAccess' });
      const check = await invoke(sim, exo, 'Test-ApplicationAccessPolicy', { Identity: sim.mailboxes.outside, AppId: other.appId });
      expect(check.json.value[0].AccessCheckResult).toBe('Denied');
      await sendAs(sim.mailboxes.outside, client); // not enforced yet: still 202
      await new Promise((r) => setTimeout(r, 450));
      expect((await failure(sendAs(sim.mailboxes.outside, client))).message).toBe('Access to OData is disabled.');
    } finally {
      sim.setFaults({ policyPropagationDelayMs: 0 });
    }
  });

  test('a message with no recipients is 400 ErrorInvalidRecipients', async () => {
    const client = graphClient(sim, credential(sim, app.appId, app.secret));
    const e = await failure(client.api(`/users/${sim.mailboxes.info}/sendMail`).post({ message: { subject: 'x', body: { contentType: 'Text', content: 'x' } } }));
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('ErrorInvalidRecipients');
  });
});
