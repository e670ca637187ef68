/**
 * "May the app send as this mailbox?" evaluated the way Microsoft does: the UNION of two paths (docs/microsoft-facts.md §9, §10).
 *   Entra path: the app holds Graph Mail.Send; if it has RestrictAccess policies, Test-ApplicationAccessPolicy
 *               must say Granted (policies narrow only this path);
 *   RBAC path:  Test-ServicePrincipalAuthorization says InScope for a role carrying Mail.Send.
 * Both Test-… cmdlets read configuration; Graph enforces changes later (access policies: "longer than 1 hour";
 * RBAC: 30 min – 2 h cache). The checks say so rather than pretend otherwise.
 */
import { OpterError, toOpterError } from '../core/errors';
import { controlMailboxProblem, restrictionNotTested } from './check-results';
import type { LocatedRegistration } from './locate';
import { rbacInScope } from './rbac';
import type { JobRuntime, VerificationCheck } from './runtime';

export * from './check-results';

export interface SendPaths {
  entra: 'allowed' | 'denied' | 'no-grant';
  rbac: 'in-scope' | 'out-of-scope' | 'no-rbac';
}

export function pathsAllow(p: SendPaths): boolean {
  return p.entra === 'allowed' || p.rbac === 'in-scope';
}

export function describePaths(p: SendPaths): string {
  const entra = p.entra === 'no-grant' ? 'no Graph Mail.Send grant' : p.entra === 'allowed' ? 'Graph Mail.Send + access policy: Granted' : 'Graph Mail.Send + access policy: Denied';
  const rbac = p.rbac === 'no-rbac' ? 'no RBAC assignment' : p.rbac === 'in-scope' ? 'RBAC: InScope' : 'RBAC: not in scope';
  return `${entra}; ${rbac}`;
}

/** Both paths for one mailbox, from configuration (what the Test-… cmdlets report). */
export async function sendPaths(rt: JobRuntime, loc: Pick<LocatedRegistration, 'appId' | 'hasGraphMailSend' | 'scoping' | 'exoSpObjectId'>, mailbox: string): Promise<SendPaths> {
  let entra: SendPaths['entra'] = 'no-grant';
  if (loc.hasGraphMailSend) {
    const restricted = loc.scoping === 'access-policy' || loc.scoping === 'mixed';
    // No RestrictAccess policy: the grant reaches every mailbox; otherwise the policy decides.
    entra = !restricted || (await rt.ports.exchange.testApplicationAccessPolicy(loc.appId, mailbox)) === 'Granted' ? 'allowed' : 'denied';
  }
  let rbac: SendPaths['rbac'] = 'no-rbac';
  if (loc.exoSpObjectId) rbac = (await rbacInScope(rt, loc.exoSpObjectId, mailbox)) ? 'in-scope' : 'out-of-scope';
  return { entra, rbac };
}

/** Waits (bounded) until the configuration allows / denies the mailbox, and reports the check with both paths. */
export async function expectSend(
  rt: JobRuntime,
  loc: Pick<LocatedRegistration, 'appId' | 'hasGraphMailSend' | 'scoping' | 'exoSpObjectId'>,
  mailbox: string,
  allowed: boolean,
): Promise<VerificationCheck> {
  const name = `${allowed ? 'May' : 'May not'} send as ${mailbox}`;
  const refusal = allowed ? {} : { provesRestriction: true };
  try {
    const paths = await rt.converge(async () => {
      const p = await sendPaths(rt, loc, mailbox);
      if (pathsAllow(p) !== allowed) {
        throw new OpterError('E_VERIFY_FAILED', {
          transient: true,
          detail: `${pathsAllow(p) ? 'allowed' : 'denied'} (${describePaths(p)}), expected ${allowed ? 'allowed' : 'denied'}`,
          retryReason: 'waiting for Exchange to apply the change',
        });
      }
      return p;
    });
    return rt.check({ name, ok: true, detail: `${allowed ? 'allowed' : 'denied'}: ${describePaths(paths)}`, ...refusal });
  } catch (e) {
    const err = toOpterError(e);
    return rt.check({ name, ok: false, detail: err.detail ?? err.message, ...refusal });
  }
}

/**
 * The control mailbox must be refused (both paths); when there is no usable control mailbox the check is reported
 * as not run, so the summary says the restriction was not verified.
 */
export async function expectControlRefused(
  rt: JobRuntime,
  loc: Pick<LocatedRegistration, 'appId' | 'hasGraphMailSend' | 'scoping' | 'exoSpObjectId'>,
  groupMembers: string[],
): Promise<VerificationCheck> {
  const control = rt.ports.controlMailbox;
  const problem = controlMailboxProblem(control, groupMembers);
  return problem ? rt.check(restrictionNotTested(problem)) : expectSend(rt, loc, control!, false);
}
