/**
 * Test email ("test email to me from faktura@…"): proves the registration end to end without asking anyone for a
 * secret. A short-lived secret (`<alias>-test`, 1 hour) is created for the test, used in memory to get a token as
 * the app and to `POST /users/{from}/sendMail`, and removed again ALWAYS — also when the sign-in or the send fails,
 * and on resume when a run was killed mid-test. The result is reported per layer:
 *   token  — the app can sign in (and which Graph roles its token carries);
 *   scope  — the configuration lets it send as `from` (Entra grant + access policy, or Exchange RBAC);
 *   send   — Graph accepted the message (202; delivery is then up to Exchange).
 */
import { OpterError, toOpterError } from '../core/errors';
import { findOrphanSecrets } from './activities/common';
import { describePaths, pathsAllow, sendPaths } from './checks';
import { testSecretNameFor } from './identity';
import { addDuration, parseIsoDuration } from './lifetime';
import { namesOf, type LocatedRegistration } from './locate';
import { formatRoundTripUtc, type DerivedNames, type NameOverrides } from './names';
import type { JobRuntime } from './runtime';
import { readMaxLifetime } from './secret';
import { isValidAddress } from './senders';

export const TEST_SECRET_LIFETIME_MS = 60 * 60_000;
export const PROPAGATION_CAVEAT =
  'Microsoft applies permission changes to Graph with a delay: access-policy changes can take longer than 1 hour, RBAC for Applications 30 minutes to 2 hours (the Test-… cmdlets show the new configuration at once). A refused send right after a change is expected; try again later rather than repeatedly.';

export interface TestEmailInput {
  appDisplayName: string;
  overrides?: NameOverrides;
  /** The sender mailbox to test (one of the registration's senders, or any address to prove it is refused). */
  from: string;
  /** Where the test message goes (the requester). */
  to: string;
  subject?: string;
}

export type TestLayerName = 'token' | 'scope' | 'send';

export interface TestLayer {
  layer: TestLayerName;
  ok: boolean;
  detail: string;
}

export interface TestEmailResult {
  kind: 'test-email';
  appId: string;
  from: string;
  to: string;
  /** All three layers passed. */
  ok: boolean;
  layers: TestLayer[];
  /** The temporary secret is gone from the app. */
  temporaryKeyRemoved: boolean;
  notes: string[];
}

export const TEST_EMAIL_STEPS = ['locate', 'testSend'] as const;

export function validateTestEmailInput(input: TestEmailInput): TestEmailInput {
  const appDisplayName = (input.appDisplayName ?? '').trim();
  if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
  namesOf({ appDisplayName, overrides: input.overrides });
  const from = (input.from ?? '').trim();
  const to = (input.to ?? '').trim();
  if (!isValidAddress(from)) throw new OpterError('E_SENDER_INVALID', { detail: `"${from}" is not a valid sender address.`, field: 'from' });
  if (!isValidAddress(to)) throw new OpterError('E_INPUT_INVALID', { detail: `"${to}" is not a valid recipient address.`, field: 'to' });
  const subject = (input.subject ?? '').trim() || 'Test message from Opter Mail';
  return { appDisplayName, from, to, subject, ...(input.overrides ? { overrides: input.overrides } : {}) };
}

/** 1 hour, or less when the tenant's app-management policy allows less (a minute of margin, as for real secrets). */
export function testSecretEnd(now: Date, maxLifetime: string | null): Date {
  const wanted = new Date(now.getTime() + TEST_SECRET_LIFETIME_MS);
  if (!maxLifetime) return wanted;
  const policyEnd = new Date(addDuration(now, parseIsoDuration(maxLifetime)).getTime() - 60_000);
  return policyEnd < wanted ? policyEnd : wanted;
}

/**
 * The test itself, in one step: a temporary secret (journaled before and after addPassword), token, scope and send
 * with it, and the secret removed again whatever happened.
 */
export function sendTestMessage(rt: JobRuntime<TestEmailInput>, loc: LocatedRegistration, names: DerivedNames) {
  const input = rt.input;
  const { directory, journal, clock } = rt.ports;
  const testName = testSecretNameFor(names);
  return rt.step<{ layers: TestLayer[]; ok: boolean; temporaryKeyRemoved: boolean }>('testSend', async (_attempt, record) => {
    const app = await directory.getApplication(loc.appObjectId);
    if (!app) throw new OpterError('E_NOT_FOUND', { detail: `the app registration ${loc.appId} disappeared` });
    // A killed earlier attempt may have left its test secret behind (its plaintext died with it): remove it first.
    for (const keyId of findOrphanSecrets(record.outputs, app.passwordCredentials, testName)) {
      await removeTemporary(rt, loc.appObjectId, keyId);
      rt.note(`Removed a test secret (${keyId}) left by an interrupted run.`);
    }
    const now = clock.now();
    const end = testSecretEnd(now, await readMaxLifetime(rt, app));
    journal.recordStepOutputs(rt.job.id, 'testSend', { pendingSince: now.toISOString(), keyId: null });
    const created = await directory.addPassword(loc.appObjectId, { displayName: testName, endDateTime: formatRoundTripUtc(end) });
    journal.recordStepOutputs(rt.job.id, 'testSend', { keyId: created.keyId });
    let layers: TestLayer[];
    try {
      layers = await testLayers(rt, loc, input, created.secretText);
    } finally {
      // Always, whatever happened above; a failure here fails the step (and a resumed run removes it first).
      await removeTemporary(rt, loc.appObjectId, created.keyId);
      journal.recordStepOutputs(rt.job.id, 'testSend', { temporaryKeyRemoved: true, removedAt: clock.now().toISOString() });
    }
    const ok = layers.every((l) => l.ok);
    return {
      out: { layers, ok, temporaryKeyRemoved: true },
      summary: `${ok ? 'Test message accepted' : 'Test failed'} — ${layers.map((l) => `${l.layer} ${l.ok ? '✓' : '✗'}`).join(', ')}; the temporary secret was removed`,
    };
  });
}

async function removeTemporary(rt: JobRuntime, appObjectId: string, keyId: string): Promise<void> {
  await rt.converge(() => rt.ports.directory.removePassword(appObjectId, keyId));
}

async function testLayers(rt: JobRuntime, loc: LocatedRegistration, input: TestEmailInput, secretText: string): Promise<TestLayer[]> {
  const signIn = rt.ports.appSignIn!;
  const layers: TestLayer[] = [];
  let tokenOk = false;
  try {
    // A new secret is accepted by the token endpoint after a short delay: wait for it (bounded).
    const { roles } = await rt.converge(() => signIn.acquireGraphToken(loc.appId, secretText));
    tokenOk = true;
    layers.push({ layer: 'token', ok: true, detail: `signed in as the app; Graph roles in the token: ${roles.length ? roles.join(', ') : 'none (Exchange RBAC authorizes sending)'}` });
  } catch (e) {
    const err = toOpterError(e);
    layers.push({ layer: 'token', ok: false, detail: `could not sign in as the app: ${err.code} ${err.detail ?? err.message}` });
  }

  let scopeOk = false;
  try {
    const paths = await sendPaths(rt, loc, input.from);
    scopeOk = pathsAllow(paths);
    const unscoped = paths.entra === 'allowed' && loc.scoping === 'unscoped';
    layers.push({
      layer: 'scope',
      ok: scopeOk,
      detail: `${scopeOk ? `${input.from} is allowed` : `${input.from} is NOT allowed`} (${describePaths(paths)})${unscoped ? ' — warning: the app is not limited to its sender group' : ''}`,
    });
  } catch (e) {
    const err = toOpterError(e);
    layers.push({ layer: 'scope', ok: false, detail: `${input.from}: ${err.code} ${err.detail ?? err.message}` });
  }

  if (!tokenOk) {
    layers.push({ layer: 'send', ok: false, detail: 'not attempted: no token' });
    return layers;
  }
  try {
    // One attempt only: probing a refused permission repeatedly can keep Exchange's stale "deny" cached [docs/microsoft-facts.md §9.5].
    await signIn.sendMail(loc.appId, secretText, {
      from: input.from,
      to: input.to,
      subject: input.subject ?? 'Test message from Opter Mail',
      body: `This test message was sent by Opter Mail as ${input.from} through Microsoft Graph (app ${loc.appDisplayName}, client id ${loc.appId}). No reply is needed.`,
    });
    layers.push({ layer: 'send', ok: true, detail: `Microsoft Graph accepted the message (202) from ${input.from} to ${input.to}; delivery is up to Exchange` });
  } catch (e) {
    const err = toOpterError(e);
    const cached = scopeOk && err.status === 403 ? ' — the configuration allows it, so this is most likely Microsoft’s permission propagation delay; try again later' : '';
    layers.push({ layer: 'send', ok: false, detail: `refused: ${err.code} ${err.detail ?? err.message}${cached}` });
  }
  return layers;
}
