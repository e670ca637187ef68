/**
 * Small activity helpers shared by the provisioning engine and the lifecycle jobs (moved out of engine.ts so both
 * can use them without a circular import).
 */
import { OpterError, toOpterError } from '../../core/errors';
import type { DistributionGroup } from '../../core/ports';
import type { DerivedNames } from '../names';

/** A group found by our alias must be our mail-enabled security group, not someone else's recipient. */
export function assertOurGroup(group: DistributionGroup, names: DerivedNames): void {
  if (group.recipientTypeDetails !== 'MailUniversalSecurityGroup') {
    throw new OpterError('E_GROUP_CONFLICT', {
      detail: `${group.primarySmtpAddress} exists but is a ${group.recipientTypeDetails}, not a mail-enabled security group`,
      field: 'groupAlias',
    });
  }
  if (group.name !== names.groupName && group.displayName !== names.groupName) {
    throw new OpterError('E_GROUP_CONFLICT', {
      detail: `the alias ${names.groupAlias} belongs to the group "${group.name}", not "${names.groupName}"`,
      field: 'groupAlias',
    });
  }
}

/**
 * Reads and dependent writes on an object created moments ago may hit a replica that has not seen it
 * (docs/microsoft-facts.md §1.5, §8.2). While the object is new, a "not found" is a reason to wait, not a failure.
 */
export async function newObjectRead<T>(fn: () => Promise<T>, objectIsNew: boolean, reason: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = toOpterError(e);
    if (objectIsNew && err.code === 'E_NOT_FOUND' && !err.transient) {
      throw new OpterError('E_NOT_FOUND', { transient: true, detail: err.detail, retryReason: reason, cause: err });
    }
    throw err;
  }
}

/** Secrets this job created (or may have created) that never reached the sink. */
export function findOrphanSecrets(
  outputs: Record<string, unknown>,
  credentials: { keyId: string; displayName: string | null; startDateTime: string }[],
  secretDisplayName: string,
): string[] {
  const orphans = new Set<string>();
  if (typeof outputs.keyId === 'string') orphans.add(outputs.keyId);
  if (typeof outputs.pendingSince === 'string') {
    // addPassword may have succeeded without us recording the keyId (killed mid-call): match by name and time.
    // One minute of tolerance for clock skew between us and Microsoft.
    const since = new Date(outputs.pendingSince).getTime() - 60_000;
    for (const c of credentials) {
      if (c.displayName === secretDisplayName && new Date(c.startDateTime).getTime() >= since) orphans.add(c.keyId);
    }
  }
  const present = new Set(credentials.map((c) => c.keyId));
  return [...orphans].filter((k) => present.has(k));
}
