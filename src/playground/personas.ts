/**
 * The three people the playground lets you be. In simulator mode they are real users of the simulated tenant (their
 * Entra object ids are what ADMINS / APPROVERS hold), so the bot's roster and directory look-ups agree with Teams.
 */
import { DIRECTORY_ROLES } from '../sim/catalog';
import { SEEDED_USER_ROLES } from '../sim/tenant';
import { mriFor, type WorldUser } from './world';

export type PersonaKey = 'requester' | 'approver' | 'nonAdmin';

export interface Persona extends WorldUser {
  key: PersonaKey;
  /** What the page says about the persona's rights. */
  role: string;
  /** Entra directory role names the persona holds in the simulated tenant (empty or absent for a real tenant: unknown). */
  directoryRoles?: string[];
}

export const PERSONA_KEYS: readonly PersonaKey[] = ['requester', 'approver', 'nonAdmin'];

/** Seeded users of the simulated tenant (src/sim/tenant.ts) that play each persona, by mailbox alias. */
export const SIMULATOR_PERSONA_ALIASES: Record<PersonaKey, string> = {
  requester: 'admin',
  approver: 'vd',
  nonAdmin: 'ingenbrevlada',
};

const ROLES: Record<PersonaKey, string> = {
  requester: 'Admin · makes requests',
  approver: 'Admin · approves requests',
  nonAdmin: 'Not an admin',
};

/**
 * The Entra roles each simulator persona holds — seeded in every simulated tenant (src/sim/tenant.ts), so that in
 * delegated mode (PROVISIONING_AUTH=delegated) the approver's own tokens can set up a registration and the requester's
 * cannot (docs/simulator.md, "Seeded identities"). In app mode the bot never looks at them.
 */
export const SIMULATOR_PERSONA_ROLES: Record<PersonaKey, readonly string[]> = {
  requester: SEEDED_USER_ROLES[SIMULATOR_PERSONA_ALIASES.requester] ?? [],
  approver: SEEDED_USER_ROLES[SIMULATOR_PERSONA_ALIASES.approver] ?? [],
  nonAdmin: SEEDED_USER_ROLES[SIMULATOR_PERSONA_ALIASES.nonAdmin] ?? [],
};

function roleNames(templateIds: readonly string[]): string[] {
  return templateIds.map((id) => Object.entries(DIRECTORY_ROLES).find(([, v]) => v === id)?.[0] ?? id);
}

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  /** Directory role template ids, as the simulator snapshot lists them. */
  directoryRoles?: string[];
}

/** Personas from the simulated tenant's users. Throws naming the missing user if the seed was changed. */
export function simulatorPersonas(users: readonly DirectoryUser[], tenantId: string, domain: string): Persona[] {
  return PERSONA_KEYS.map((key) => {
    const upn = `${SIMULATOR_PERSONA_ALIASES[key]}@${domain}`.toLowerCase();
    const user = users.find((u) => u.userPrincipalName.toLowerCase() === upn);
    if (!user) throw new Error(`The simulated tenant has no user ${upn} to play the ${key} persona (was the seed changed?)`);
    // The tenant's own record wins (roles changed since with addUser); the seed otherwise.
    const directoryRoles = roleNames(user.directoryRoles ?? SIMULATOR_PERSONA_ROLES[key]);
    return { key, role: ROLES[key], directoryRoles, aadObjectId: user.id.toLowerCase(), mri: mriFor(user.id), name: user.displayName, upn: user.userPrincipalName, tenantId };
  });
}

/**
 * Personas for a playground in front of a real tenant: the first two ADMINS request and approve; the non-admin is a
 * made-up id that is in neither list, so refusals can be shown.
 */
export function configuredPersonas(admins: readonly string[], approvers: readonly string[], tenantId: string): Persona[] {
  const requester = admins[0];
  const approver = approvers.find((a) => a !== requester) ?? admins[1];
  if (!requester || !approver) throw new Error('PLAYGROUND=1 with a real tenant needs two people in ADMINS (or one in ADMINS and another in APPROVERS)');
  const outsider = '00000000-0000-4000-8000-00000000a0a0';
  const make = (key: PersonaKey, aadObjectId: string, name: string): Persona => ({
    key,
    role: ROLES[key],
    directoryRoles: [],
    aadObjectId,
    mri: mriFor(aadObjectId),
    name,
    upn: `${key.toLowerCase()}@playground.invalid`,
    tenantId,
  });
  return [make('requester', requester, 'Requester (ADMINS #1)'), make('approver', approver, 'Approver'), make('nonAdmin', outsider, 'Someone else')];
}
