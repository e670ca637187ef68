/**
 * Which port calls change the tenant, and where they go. In delegated mode (docs/delegated-mode.md) the
 * standing identity may only read: every write of a run goes through the approver's own delegated adapters, and a
 * run without them stops at its first write with E_APPROVER_NEEDED (the job waits for the approver's Continue;
 * the steps before it stay done, so nothing is done twice).
 */
import { OpterError } from '../core/errors';
import type { DirectoryPort, ExchangeLifecyclePort, ExchangePort } from '../core/ports';

type Access = 'read' | 'write';
export type ExchangeAccessPort = ExchangePort & ExchangeLifecyclePort;

/** Every directory call, read or write: a new method that is not listed here does not compile. */
export const DIRECTORY_ACCESS = {
  upsertApplicationByUniqueName: 'write',
  findApplicationsByDisplayName: 'read',
  getApplication: 'read',
  getApplicationByAppId: 'read',
  deleteApplication: 'write',
  upsertServicePrincipal: 'write',
  getServicePrincipalByAppId: 'read',
  listAppRoleAssignments: 'read',
  assignAppRole: 'write',
  removeAppRoleAssignment: 'write',
  addPassword: 'write',
  removePassword: 'write',
  getMaxPasswordLifetime: 'read',
  getSecretPolicy: 'read',
} as const satisfies Record<Exclude<keyof DirectoryPort, 'tenantId'>, Access>;

/** Every Exchange cmdlet call, read (Get-/Test-) or write. */
export const EXCHANGE_ACCESS = {
  getAcceptedDomains: 'read',
  getRecipient: 'read',
  getDistributionGroup: 'read',
  newDistributionGroup: 'write',
  getDistributionGroupMembers: 'read',
  addDistributionGroupMember: 'write',
  removeDistributionGroupMember: 'write',
  getApplicationAccessPolicies: 'read',
  newApplicationAccessPolicy: 'write',
  removeApplicationAccessPolicy: 'write',
  testApplicationAccessPolicy: 'read',
  listMailSecurityGroups: 'read',
  getOrganizationConfig: 'read',
  enableOrganizationCustomization: 'write',
  getExchangeServicePrincipal: 'read',
  listExchangeServicePrincipals: 'read',
  newExchangeServicePrincipal: 'write',
  getManagementRoleAssignments: 'read',
  newManagementRoleAssignment: 'write',
  removeManagementRoleAssignment: 'write',
  testServicePrincipalAuthorization: 'read',
} as const satisfies Record<keyof ExchangeAccessPort, Access>;

/** The approver's delegated adapters for one run: they carry every write of it. */
export interface WriteAccess {
  directory: DirectoryPort;
  exchange: ExchangeAccessPort;
  /** Who signs for the writes (audit and progress notes; never a token). */
  approver: { aadObjectId: string; upn: string | null };
}

function route<T extends object>(read: T, write: T | null, access: Record<string, Access>, service: string): T {
  return new Proxy(read, {
    get(target, prop, receiver) {
      if (typeof prop !== 'string' || access[prop] !== 'write') {
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      if (write) return (write as Record<string, (...a: unknown[]) => unknown>)[prop]!.bind(write);
      return () =>
        Promise.reject(
          new OpterError('E_APPROVER_NEEDED', { detail: `The next step changes ${service} (${prop}); only an approver’s own sign-in may do that.` }),
        );
    },
  });
}

/** Reads go to the standing (read-only) ports; writes to `writes`, or fail with E_APPROVER_NEEDED without them. */
export function routeWrites(
  standing: { directory: DirectoryPort; exchange: ExchangeAccessPort },
  writes: WriteAccess | null,
): { directory: DirectoryPort; exchange: ExchangeAccessPort } {
  return {
    directory: route(standing.directory, writes?.directory ?? null, DIRECTORY_ACCESS, 'Microsoft Entra ID'),
    exchange: route(standing.exchange, writes?.exchange ?? null, EXCHANGE_ACCESS, 'Exchange Online'),
  };
}
