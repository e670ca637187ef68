/**
 * Flows shared by the lifecycle tests (issue 6 through the bot): a registration set up the way an admin does it in
 * Teams (form → approval → progress → reveal), typed commands answered with a card, approvals clicked by the other
 * admin, and questions to the simulated tenant through the production adapters.
 */
import { expect } from 'vitest';
import { createTenantAdapters, type TenantAdapters } from '../../src/adapters';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import type { Persona } from '../harness/teams-client';
import type { FakeMessage } from '../harness/fake-connector';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  dataOf,
  formInputs,
  hasVerb,
  messagesWithCard,
  openForm,
  personalId,
  progressCardIn,
  secretCardIn,
  textOf,
  waitForCard,
  type Card,
  type TestBot,
} from '../bot/helpers';

export * from '../bot/helpers';

export const DAY = 86_400_000;

export function adaptersFor(sim: Simulator): TenantAdapters {
  return createTenantAdapters({
    tenantId: sim.tenantId,
    clientId: sim.provisioning.clientId,
    clientSecret: sim.provisioning.clientSecret,
    authorityHost: sim.authorityHost,
    graphEndpoint: sim.graphEndpoint,
    exchangeEndpoint: sim.exchangeEndpoint,
  });
}

export interface Registration {
  requestId: string;
  appId: string;
  spId: string;
  groupSmtp: string;
  /** The revealed client secret (test-only: to prove which secrets work). */
  secret: string;
}

/** Sets up a registration through the form, approves it as the other admin, reveals and hides the secret. */
export async function setUpRegistration(
  t: TestBot,
  sim: Simulator,
  input: { appName: string; senders: string[]; scoping?: 'access-policy' | 'rbac'; years?: number },
): Promise<Registration & { approvalText: string }> {
  const { requester, approver } = t.personas;
  const form = await openForm(t);
  const requestId = String(dataOf(cardOf(form), 'submit-request').requestId);
  const submitted = bodyOf(await click(t, requester, form, 'submit-request', { ...formInputs(input), scoping: input.scoping ?? 'access-policy' }));
  expect(textOf(submitted.value)).toContain('Sent for approval');
  const copy = await approvalCopy(t, requestId, personalId(t, approver));
  const approvalText = textOf(cardOf(copy));
  await click(t, approver, copy, 'approve');
  await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
  const secret = await revealSecret(t, requestId);
  const snap = sim.snapshot();
  const app = snap.applications.find((a) => a.displayName === input.appName)!;
  const sp = snap.servicePrincipals.find((s) => s.appId === app.appId)!;
  const group = snap.groups.find((g) => g.name === `${input.appName} - MailSend Allowed`)!;
  return { requestId, appId: String(app.appId), spId: String(sp.id), groupSmtp: group.primarySmtpAddress, secret, approvalText };
}

/** Reveals a request's one-time secret as its requester and hides it again; returns the plaintext. */
export async function revealSecret(t: TestBot, requestId: string, who: Persona = t.personas.requester): Promise<string> {
  const msg = await secretCardIn(t, personalId(t, who), requestId);
  const revealed = bodyOf(await click(t, who, msg, 'reveal'));
  expect(revealed.type).toBe('application/vnd.microsoft.card.adaptive');
  const secret = /^Ms Graph Client Secret\s+: (\S+)$/m.exec(textOf(revealed.value))![1]!;
  await click(t, who, msg, 'hide-secret', {}, { data: dataOf(revealed.value, 'hide-secret') });
  return secret;
}

/** Types a message in the 1:1 chat and waits for a card (new or edited) that matches, after the message. */
export async function say(t: TestBot, text: string, match: (card: Card, m: FakeMessage) => boolean, who: Persona = t.personas.requester): Promise<FakeMessage> {
  const conversationId = personalId(t, who);
  const before = new Set(messagesWithCard(t.connector, conversationId, () => true).map((m) => m.id));
  await t.teams.message(who, text);
  return t.connector.waitFor(() => messagesWithCard(t.connector, conversationId, (c, m) => !before.has(m.id) && match(c, m)).at(-1), 20_000);
}

/** The newest request of a kind (the bot's store). */
export function latestRequest(t: TestBot, kind: string) {
  const r = t.bot.store.requests.list().find((x) => x.kind === kind);
  if (!r) throw new Error(`no ${kind} request; requests: ${t.bot.store.requests.list().map((x) => `${x.kind}/${x.status}`).join(', ')}`);
  return r;
}

/** The approver approves the request on their copy of the approval card; returns the card's text before. */
export async function approve(t: TestBot, requestId: string): Promise<string> {
  const { approver } = t.personas;
  const copy = await approvalCopy(t, requestId, personalId(t, approver));
  const text = textOf(cardOf(copy));
  const res = bodyOf(await click(t, approver, copy, 'approve'));
  expect(textOf(res.value)).toContain(`Approved by ${approver.name}`);
  return text;
}

export function hasGraphMailSend(sim: Simulator, appId: string): boolean {
  const snap = sim.snapshot();
  const sp = snap.servicePrincipals.find((s) => s.appId === appId);
  const graph = snap.servicePrincipals.find((s) => s.appId === GRAPH_APP_ID)!;
  return snap.appRoleAssignments.some((a) => a.principalId === sp?.id && a.resourceId === graph.id && a.appRoleId === MAIL_SEND_ROLE_ID);
}

export function credentialsOf(sim: Simulator, appId: string): Array<{ keyId: string; displayName: string; endDateTime: string }> {
  const app = sim.snapshot().applications.find((a) => a.appId === appId);
  return (app?.passwordCredentials as Array<{ keyId: string; displayName: string; endDateTime: string }>) ?? [];
}

/** Sends as the app with a secret: 'sent' (202) or the refusal's HTTP status. */
export async function trySend(adapters: TenantAdapters, appId: string, secret: string, from: string): Promise<'sent' | number> {
  try {
    await adapters.appSignIn.sendMail(appId, secret, { from, to: 'kund@example.com', subject: 'probe', body: 'probe' });
    return 'sent';
  } catch (e) {
    return (e as { status?: number }).status ?? -1;
  }
}

/** Signs in as the app with a secret: true when the token endpoint accepts it. */
export async function canSignIn(adapters: TenantAdapters, appId: string, secret: string): Promise<boolean> {
  try {
    await adapters.appSignIn.acquireGraphToken(appId, secret);
    return true;
  } catch {
    return false;
  }
}

/** No secret in any request the bot made to Teams, nor in any log line. */
export function expectNoSecretLeaked(t: TestBot, secrets: string[]): void {
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(10);
    for (const r of t.connector.requests) expect(JSON.stringify(r.body ?? '')).not.toContain(secret);
    for (const line of t.logLines) expect(line).not.toContain(secret);
  }
}

/** The requester's newest card in their 1:1 chat that has `verb`. */
export function cardWithVerb(t: TestBot, verb: string, who: Persona = t.personas.requester): Promise<FakeMessage> {
  return waitForCard(t, personalId(t, who), (c) => hasVerb(c, verb));
}
