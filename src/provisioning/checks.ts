/**
 * "May the app send as this mailbox?" evaluated the way Microsoft does: the UNION of two paths (docs/microsoft-facts.md §9, §10).
 *   Entra path: the app holds Graph Mail.Send; if it has RestrictAccess policies, Test-ApplicationAccessPolicy
 *               must say Granted (policies narrow only this path);
 *   RBAC path:  Test-ServicePrincipalAuthorization says InScope for a role carrying Mail.Send.
 * Both Test-… cmdlets read configuration; Graph enforces changes later (access policies: "longer than 1 hour";
 * RBAC: 30 min – 2 h cache). The checks say so rather than pretend otherwise.
 */
import { OpterError, toOpterError } from '../core/errors';
import type { LocatedRegistration } from './locate';
import { rbacInScope } from './rbac';
import type { JobRuntime, VerificationCheck } from './runtime';

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
    return rt.check({ name, ok: true, detail: `${allowed ? 'allowed' : 'denied'}: ${describePaths(paths)}` });
  } catch (e) {
    const err = toOpterError(e);
    return rt.check({ name, ok: false, detail: err.detail ?? err.message });
  }
}

/** Throws E_VERIFY_FAILED naming every failed check; otherwise the step summary. */
export function verdict(checks: VerificationCheck[]): string {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) throw new OpterError('E_VERIFY_FAILED', { detail: failed.map((c) => `${c.name}: ${c.detail}`).join('; ') });
  return `${checks.length} check${checks.length === 1 ? '' : 's'} passed`;
}
