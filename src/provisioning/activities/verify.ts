/**
 * Verification activities for the access-policy model: each sender Granted, the control mailbox and other
 * registrations' senders Denied, and a token as the new app when this run made its secret.
 */
import { OpterError, toOpterError } from '../../core/errors';
import { controlMailboxProblem, expectControlRefused, expectSend, restrictionNotTested, skippedCheck, verdict } from '../checks';
import type { LocatedRegistration } from '../locate';
import type { DerivedNames } from '../names';
import { sendersOfOtherRegistrations } from '../ownership';
import type { SignInProof } from '../rbac';
import type { JobRuntime, VerificationCheck } from '../runtime';

/**
 * `groupMembers`: everyone in the group after the job (the control mailbox must not be one of them). `own`: the
 * registration's group, so that senders of other registrations can be proven Denied for this app.
 */
export async function verifyAccessPolicy(rt: JobRuntime, appId: string, senders: string[], signIn: SignInProof, groupMembers: string[], own: { names: DerivedNames; groupIdentity: string }) {
  return rt.step<{ checks: VerificationCheck[] }>('verify', async () => {
    const checks: VerificationCheck[] = [];
    const record = (c: VerificationCheck) => checks.push(rt.check(c));
    for (const s of senders) record(await expectAccess(rt, appId, s, 'Granted'));
    const problem = controlMailboxProblem(rt.ports.controlMailbox, groupMembers);
    record(problem ? restrictionNotTested(problem) : await expectAccess(rt, appId, rt.ports.controlMailbox!, 'Denied'));
    // The other direction: this app may not send as another registration's senders (a group shared by mistake).
    const control = rt.ports.controlMailbox;
    for (const f of await sendersOfOtherRegistrations(rt.ports, { ...own, appId })) {
      if (f.mailbox.toLowerCase() !== control?.toLowerCase()) record(await expectAccess(rt, appId, f.mailbox, 'Denied', ` (sender of "${f.owner}")`));
    }
    if (signIn?.secretText && rt.ports.appSignIn) record(await checkSignIn(rt, appId, signIn.secretText));
    else if (signIn) record(skippedCheck('Token as the new app', signIn.notRunBecause));
    return { out: { checks }, summary: verdict(checks) };
  });
}

export async function expectAccess(rt: JobRuntime, appId: string, mailbox: string, expected: 'Granted' | 'Denied', label = ''): Promise<VerificationCheck> {
  const name = `Test-ApplicationAccessPolicy ${mailbox}${label}`;
  const refusal = expected === 'Denied' ? { provesRestriction: true } : {};
  try {
    const result = await rt.converge(async () => {
      const r = await rt.ports.exchange.testApplicationAccessPolicy(appId, mailbox);
      if (r !== expected) {
        throw new OpterError('E_VERIFY_FAILED', { transient: true, detail: `${r}, expected ${expected}`, retryReason: 'waiting for Exchange to apply the access policy' });
      }
      return r;
    });
    return { name, ok: true, detail: `${result} (expected ${expected})`, ...refusal };
  } catch (e) {
    const err = toOpterError(e);
    return { name, ok: false, detail: err.detail ?? err.message, ...refusal };
  }
}

export async function checkSignIn(rt: JobRuntime, appId: string, secretText: string): Promise<VerificationCheck> {
  const name = 'Token as the new app';
  try {
    const { roles } = await rt.converge(() => rt.ports.appSignIn!.acquireGraphToken(appId, secretText));
    const ok = roles.includes('Mail.Send');
    return { name, ok, detail: ok ? 'signed in with the new secret; token carries Mail.Send' : `signed in, but the token lacks Mail.Send (roles: ${roles.join(', ') || 'none'})` };
  } catch (e) {
    const err = toOpterError(e);
    return { name, ok: false, detail: `${err.code}: ${err.detail ?? err.message}` };
  }
}

/**
 * The senders allowed and the control mailbox refused on the union of both paths (half-way through a migration, or
 * a registration being adopted, either path may carry the mail).
 */
export function verifyEitherPath(rt: JobRuntime, loc: Pick<LocatedRegistration, 'appId' | 'hasGraphMailSend' | 'scoping' | 'exoSpObjectId'>, senders: string[], groupMembers: string[]) {
  return rt.step<{ checks: VerificationCheck[] }>('verify', async () => {
    const checks: VerificationCheck[] = [];
    for (const s of senders) checks.push(await expectSend(rt, loc, s, true));
    checks.push(await expectControlRefused(rt, loc, groupMembers));
    return { out: { checks }, summary: verdict(checks) };
  });
}
