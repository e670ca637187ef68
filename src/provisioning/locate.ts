/**
 * The first step of every lifecycle job: find the registration (app, service principal, sender group, scoping
 * objects) and journal the ids, so later steps and a resumed run work on exactly these objects.
 */
import { z } from 'zod';
import { OpterError } from '../core/errors';
import { deriveNames, type DerivedNames, type NameOverrides } from './names';
import { assertGroupIsOurs } from './ownership';
import { readRegistration, type GroupFacts, type RegistrationFacts, type ScopingState } from './registration';
import type { JobRuntime } from './runtime';

export interface LocatedRegistration {
  [key: string]: unknown;
  appObjectId: string;
  appId: string;
  appDisplayName: string;
  managedByUs: boolean;
  spObjectId: string | null;
  groupIdentity: string | null;
  groupSmtp: string | null;
  groupName: string | null;
  groupAlias: string | null;
  groupGuid: string | null;
  groupObjectId: string | null;
  members: string[];
  /** Members that are mailboxes (nested groups left out): the addresses that can send. */
  senders: string[];
  scoping: ScopingState;
  hasGraphMailSend: boolean;
  exoSpObjectId: string | null;
  roleAssignmentName: string | null;
  restrictPolicyIdentity: string | null;
}

/**
 * The registration a lifecycle job found, as its typed result carries it (the request's result and audit entries
 * name these objects): the located app, its service principal and sender group, and the scoping seen.
 */
export interface LocatedFacts {
  appId: string;
  appObjectId: string;
  spObjectId: string | null;
  groupSmtp: string | null;
  senders: string[];
  scoping: ScopingState;
}

export const locatedFactsSchema: z.ZodType<LocatedFacts> = z.looseObject({
  appId: z.string(),
  appObjectId: z.string(),
  spObjectId: z.string().nullable(),
  groupSmtp: z.string().nullable(),
  senders: z.array(z.string()),
  scoping: z.enum(['access-policy', 'rbac', 'mixed', 'unscoped']),
});

export function locatedFacts(loc: LocatedRegistration): LocatedFacts {
  return { appId: loc.appId, appObjectId: loc.appObjectId, spObjectId: loc.spObjectId, groupSmtp: loc.groupSmtp, senders: loc.senders, scoping: loc.scoping };
}

export interface LocateOptions {
  /**
   * Fail when the sender group is missing (jobs that change membership or scoping need it), or when it is not this
   * registration's (ownership.ts).
   */
  requireGroup?: boolean;
  /** Adopting: a group nobody recorded is accepted (adopting makes it ours); another registration's never is. */
  adopting?: boolean;
}

export function locatedFrom(f: RegistrationFacts): LocatedRegistration {
  return {
    appObjectId: f.app.objectId,
    appId: f.app.appId,
    appDisplayName: f.app.displayName,
    managedByUs: f.app.managedByUs,
    spObjectId: f.servicePrincipal?.objectId ?? null,
    groupIdentity: f.group?.identity ?? null,
    groupSmtp: f.group?.smtp ?? null,
    groupName: f.group?.name ?? null,
    groupAlias: f.group?.alias ?? null,
    groupGuid: f.group?.guid ?? null,
    groupObjectId: f.group?.externalDirectoryObjectId ?? null,
    members: f.members,
    senders: f.members.filter((m) => !f.nestedGroups.includes(m)),
    scoping: f.scoping,
    hasGraphMailSend: !!f.graphMailSend,
    exoSpObjectId: f.exchangeServicePrincipal?.objectId ?? null,
    roleAssignmentName: f.scopedRoleAssignment?.name ?? null,
    restrictPolicyIdentity: f.restrictPolicy?.identity ?? null,
  };
}

/** Reads the registration now (not journaled); E_NOT_FOUND when there is no app registration of that name. */
export async function requireRegistration(rt: JobRuntime, names: DerivedNames): Promise<RegistrationFacts> {
  const facts = await readRegistration(rt.ports, names);
  if (!facts) throw new OpterError('E_NOT_FOUND', { detail: `no app registration named "${names.appDisplayName}" — set it up first.` });
  return facts;
}

export function stepLocate(rt: JobRuntime, names: DerivedNames, opts: LocateOptions = {}): Promise<LocatedRegistration> {
  return rt.step<LocatedRegistration>('locate', async () => {
    const facts = await requireRegistration(rt, names);
    if (opts.requireGroup && !facts.group) {
      throw new OpterError('E_NOT_FOUND', { detail: `the group ${names.groupAlias} does not exist — run repair (or set up again) to recreate it.` });
    }
    if (opts.requireGroup) await assertGroupIsOurs(rt.ports, names, opts.adopting ? 'adopt' : 'use');
    const located = locatedFrom(facts);
    for (const u of facts.unchecked) rt.note(u);
    return {
      out: located,
      summary: `Found ${facts.app.displayName} (client id ${facts.app.appId})${facts.group ? `, group ${facts.group.smtp}` : ''}; scoping: ${describeScoping(facts.scoping)}`,
    };
  });
}

/**
 * The group's sender mailboxes as they are now (nested groups left out). A job that continues later (a migration
 * after its wait) checks these, not the members it found at the start: a sender may have been removed or added
 * through the bot meanwhile.
 */
export async function currentSenders(rt: JobRuntime, loc: LocatedRegistration): Promise<string[]> {
  if (!loc.groupIdentity) return loc.senders;
  const members = await rt.ports.exchange.getDistributionGroupMembers(loc.groupIdentity);
  return members.filter((m) => !/Group$/i.test(m.recipientTypeDetails)).map((m) => m.primarySmtpAddress);
}

/** The sender group as the RBAC and policy helpers need it (from the journaled locate outputs). */
export function groupOf(loc: LocatedRegistration): GroupFacts | null {
  if (!loc.groupIdentity || !loc.groupSmtp) return null;
  return {
    identity: loc.groupIdentity,
    smtp: loc.groupSmtp,
    name: loc.groupName ?? '',
    alias: loc.groupAlias ?? '',
    guid: loc.groupGuid ?? '',
    externalDirectoryObjectId: loc.groupObjectId,
    recipientTypeDetails: 'MailUniversalSecurityGroup',
  };
}

export function namesOf(input: { appDisplayName: string; overrides?: NameOverrides }): DerivedNames {
  return deriveNames(input.appDisplayName, input.overrides);
}

export function describeScoping(s: ScopingState): string {
  switch (s) {
    case 'access-policy':
      return 'Application Access Policy';
    case 'rbac':
      return 'RBAC for Applications';
    case 'mixed':
      return 'both (access policy and RBAC: a migration in progress)';
    case 'unscoped':
      return 'NONE — the app is not limited to the sender group';
  }
}
