/**
 * The provision workflow: regmsgraph.ps1 as orchestration of idempotent activities (activities/).
 *
 * The Graph chain (app → service principal → Mail.Send grant) and the Exchange chain (validate → group + members)
 * are independent and run concurrently; they meet at the access policy. The secret is created last so a failed run
 * never leaves a secret behind; verification runs after it. With `scoping: 'rbac'` the access policy and the Graph
 * grant are replaced by RBAC for Applications (rbac.ts).
 */
import { z } from 'zod';
import { OpterError } from '../../core/errors';
import type { StepRecord } from '../../core/ports';
import { ensureApp, ensureGraphGrant, ensureSecret, ensureServicePrincipal, signInProof } from '../activities/directory';
import { ensureAccessPolicy, ensureGroup, validateSenders } from '../activities/exchange';
import { verifyAccessPolicy } from '../activities/verify';
import { deriveNames, typedNameProblem, DEFAULT_SECRET_VALID_YEARS, type DerivedNames, type NameOverrides } from '../names';
import { RBAC_PROPAGATION_NOTE, stepExchangeServicePrincipal, stepOrganization, stepRemoveGraphGrant, stepRoleAssignment, stepVerifyRbac, type RbacTarget } from '../rbac';
import { SCOPING_MODELS, type JobRuntime, type ScopingModel, type VerificationCheck } from '../runtime';
import { checkSenderSyntax, problemsToError } from '../senders';
import { nameOverridesSchema, type Workflow } from './workflow';

export interface ProvisionInput {
  appDisplayName: string;
  senders: string[];
  secretValidYears?: number;
  overrides?: NameOverrides;
  /** Create a secret even when the app already has a live one (the script always made one; re-runs don't). */
  newSecret?: boolean;
  /** How the app is limited to the sender group: `access-policy` (the script's, default) or `rbac`. */
  scoping?: ScopingModel;
}

/** A provision job's input as the journal holds it (validateProvisionInput filled in the defaults). */
export type StoredProvisionInput = ProvisionInput & { secretValidYears: number };

const storedProvisionInput: z.ZodType<StoredProvisionInput> = z.looseObject({
  appDisplayName: z.string(),
  senders: z.array(z.string()),
  secretValidYears: z.number(),
  overrides: nameOverridesSchema.optional(),
  newSecret: z.boolean().optional(),
  scoping: z.enum(SCOPING_MODELS).optional(),
});

export interface ProvisionResult {
  jobId: string;
  tenantId: string;
  names: DerivedNames;
  appObjectId: string;
  clientId: string;
  spObjectId: string;
  groupSmtp: string;
  groupObjectId: string | null;
  senders: string[];
  created: { app: boolean; servicePrincipal: boolean; grant: boolean; group: boolean; policy: boolean };
  membersAdded: string[];
  secret: { keyId: string; endDateTime: string; clamped: boolean; maxLifetime: string | null; displayName: string } | null;
  checks: VerificationCheck[];
  notes: string[];
  /** The scoping model set up (absent on results of jobs from before RBAC existed: access-policy). */
  scoping?: ScopingModel;
  /** What the job could not check because the provisioning identity may not run the read (least privilege). */
  unchecked?: string[];
  /** RBAC for Applications objects (scoping 'rbac' only). */
  rbac?: { exchangeServicePrincipalCreated: boolean; roleAssignmentName: string; roleAssignmentCreated: boolean; graphGrantRemoved: boolean; organizationCustomized: boolean };
}

const derivedNames: z.ZodType<DerivedNames> = z.looseObject({
  appDisplayName: z.string(),
  baseName: z.string(),
  aliasBase: z.string(),
  secretDisplayName: z.string(),
  groupName: z.string(),
  groupAlias: z.string(),
});

const verificationCheck: z.ZodType<VerificationCheck> = z.looseObject({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  skipped: z.boolean().optional(),
  provesRestriction: z.boolean().optional(),
});

/** A provision, add-sender or repair job's stored result (JobRecord.result). */
export const provisionResultSchema: z.ZodType<ProvisionResult> = z.looseObject({
  jobId: z.string(),
  tenantId: z.string(),
  names: derivedNames,
  appObjectId: z.string(),
  clientId: z.string(),
  spObjectId: z.string(),
  groupSmtp: z.string(),
  groupObjectId: z.string().nullable(),
  senders: z.array(z.string()),
  created: z.looseObject({ app: z.boolean(), servicePrincipal: z.boolean(), grant: z.boolean(), group: z.boolean(), policy: z.boolean() }),
  membersAdded: z.array(z.string()),
  secret: z.looseObject({ keyId: z.string(), endDateTime: z.string(), clamped: z.boolean(), maxLifetime: z.string().nullable(), displayName: z.string() }).nullable(),
  checks: z.array(verificationCheck),
  notes: z.array(z.string()),
  scoping: z.enum(SCOPING_MODELS).optional(),
  unchecked: z.array(z.string()).optional(),
  rbac: z
    .looseObject({
      exchangeServicePrincipalCreated: z.boolean(),
      roleAssignmentName: z.string(),
      roleAssignmentCreated: z.boolean(),
      graphGrantRemoved: z.boolean(),
      organizationCustomized: z.boolean(),
    })
    .optional(),
});

/** What provisionRegistration sets up: the senders, the scoping model, and the secret to create (null: none). */
export interface ProvisionPlan {
  names: DerivedNames;
  senders: string[];
  scoping?: ScopingModel;
  secret: { secretValidYears: number; newSecret?: boolean } | null;
}

export const PROVISION_STEPS = ['validate', 'app', 'servicePrincipal', 'grant', 'group', 'policy', 'secret', 'verify'] as const;
export const PROVISION_RBAC_STEPS = ['validate', 'app', 'servicePrincipal', 'group', 'organization', 'exchangeServicePrincipal', 'roleAssignment', 'removeGraphGrant', 'secret', 'verify'] as const;

export const ENFORCEMENT_NOTE =
  'Microsoft notes that access-policy changes can take longer than 1 hour to take effect for Graph calls, even when Test-ApplicationAccessPolicy already shows the expected result.';

/** Validates and normalises provisioning input before any call is made. Throws input-category OpterErrors. */
export function validateProvisionInput(input: ProvisionInput): Required<Pick<ProvisionInput, 'appDisplayName' | 'senders' | 'secretValidYears'>> & ProvisionInput {
  const appDisplayName = (input.appDisplayName ?? '').trim();
  if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
  if (appDisplayName.length > 120) {
    throw new OpterError('E_INPUT_INVALID', { detail: `The app display name is ${appDisplayName.length} characters; use at most 120.`, field: 'appName' });
  }
  // Every typed name, by one rule (names.ts): no control, invisible or blank characters, no links.
  const typedNames: Array<[string, string, string | undefined]> = [
    ['app display name', 'appName', appDisplayName],
    ['group name', 'groupName', input.overrides?.groupName],
    ['group alias', 'groupAlias', input.overrides?.groupAlias],
    ['secret name', 'secretDisplayName', input.overrides?.secretDisplayName],
  ];
  for (const [label, field, value] of typedNames) {
    const problem = typedNameProblem(label, value ?? '');
    if (problem) throw new OpterError('E_INPUT_INVALID', { detail: problem, field });
  }
  const years = input.secretValidYears ?? DEFAULT_SECRET_VALID_YEARS;
  if (!Number.isInteger(years) || years < 1 || years > 100) {
    throw new OpterError('E_INPUT_INVALID', { detail: `Secret validity must be a whole number of years from 1 (got ${years}).`, field: 'secretValidYears' });
  }
  if (input.scoping !== undefined && !SCOPING_MODELS.includes(input.scoping)) {
    throw new OpterError('E_INPUT_INVALID', { detail: `Scoping must be one of ${SCOPING_MODELS.join(', ')} (got ${String(input.scoping)}).`, field: 'scoping' });
  }
  const names = deriveNames(appDisplayName, input.overrides); // throws E_ALIAS_EMPTY
  // Exchange limits Name and Alias to 64 characters (New-DistributionGroup); the script would fail there mid-way.
  if (names.groupName.length > 64) {
    throw new OpterError('E_INPUT_INVALID', {
      detail: `The derived group name "${names.groupName.slice(0, 40)}…" is ${names.groupName.length} characters; Exchange allows 64. Use a shorter app name or set a group name.`,
      field: 'groupName',
    });
  }
  if (input.overrides?.groupAlias !== undefined && input.overrides.groupAlias !== '' && !/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/.test(input.overrides.groupAlias)) {
    throw new OpterError('E_INPUT_INVALID', { detail: 'The group alias may only contain letters, digits and -_ characters.', field: 'groupAlias' });
  }
  const senders = input.senders.map((s) => s.trim()).filter(Boolean);
  if (senders.length === 0) throw new OpterError('E_INPUT_INVALID', { detail: 'Give at least one sender address.', field: 'senders' });
  const problems = checkSenderSyntax(senders);
  if (problems.length) throw problemsToError(problems);
  return { ...input, appDisplayName, senders, secretValidYears: years };
}

/**
 * The script, step for step, for one registration. Repair runs it too, with the senders and scoping model taken from
 * the registration's journal and no secret (`secret: null`).
 */
export async function provisionRegistration(rt: JobRuntime, plan: ProvisionPlan): Promise<ProvisionResult> {
  const { names, secret: wantSecret } = plan;
  const createSecret = wantSecret !== null;
  // The group's owner (and, for a new secret, the tenant's secret policy) is checked with the senders, before
  // either chain writes anything.
  const validated = await validateSenders(rt, plan.senders, { groupFor: names, ...(wantSecret ? { secret: { names, newSecret: wantSecret.newSecret } } : {}) });
  const senders = validated.senders;
  if (plan.scoping === 'rbac') return provisionRbac(rt, names, senders, wantSecret);

  // The two chains only meet at the access policy; settle both so the journal is complete whichever fails.
  const [graph, group] = await settleBoth(
    (async () => {
      const app = await ensureApp(rt, names);
      const sp = await ensureServicePrincipal(rt, app.appId);
      const grant = await ensureGraphGrant(rt, sp.spObjectId);
      return { app, sp, grant };
    })(),
    ensureGroup(rt, names, senders),
  );
  const policy = await ensureAccessPolicy(rt, graph.app.appId, group);
  const secret = wantSecret ? await ensureSecret(rt, names, graph.app, wantSecret) : {};
  const verify = await verifyAccessPolicy(rt, graph.app.appId, senders, createSecret ? signInProof(rt, secret) : null, group.members ?? senders, { names, groupIdentity: group.groupIdentity });
  rt.notes.push(ENFORCEMENT_NOTE);

  const frame = resultFrame(rt, names, senders, { app: graph.app, sp: graph.sp, group, secret, checks: verify.checks });
  return { ...frame, created: { ...frame.created, grant: !!graph.grant.created, policy: !!policy.created }, scoping: 'access-policy' };
}

/**
 * The script with RBAC for Applications instead of the Graph grant + access policy: app and service principal,
 * group (+ organization customization), Exchange pointer, scoped role assignment, THEN removal of any Graph
 * Mail.Send grant (after the assignment, so an existing registration keeps a path), secret, verification.
 */
async function provisionRbac(rt: JobRuntime, names: DerivedNames, senders: string[], wantSecret: ProvisionPlan['secret']): Promise<ProvisionResult> {
  const createSecret = wantSecret !== null;
  const [graph, exo] = await settleBoth(
    (async () => {
      const app = await ensureApp(rt, names);
      const sp = await ensureServicePrincipal(rt, app.appId);
      return { app, sp };
    })(),
    (async () => {
      const group = await ensureGroup(rt, names, senders);
      const org = await stepOrganization(rt);
      return { group, org };
    })(),
  );
  const group = exo.group;
  const target: RbacTarget = {
    names,
    appId: graph.app.appId,
    appDisplayName: names.appDisplayName,
    spObjectId: graph.sp.spObjectId,
    spIsNew: !!graph.sp.created,
    group: {
      identity: group.groupIdentity,
      smtp: group.groupSmtp,
      name: group.groupName,
      alias: names.groupAlias,
      guid: typeof group.groupGuid === 'string' ? group.groupGuid : '',
      externalDirectoryObjectId: group.groupObjectId,
      recipientTypeDetails: 'MailUniversalSecurityGroup',
    },
    groupIsNew: !!group.created,
  };
  const exoSp = await stepExchangeServicePrincipal(rt, target);
  const assignment = await stepRoleAssignment(rt, target, exoSp.exoSpObjectId, exoSp.created);
  const removed = await stepRemoveGraphGrant(rt, graph.sp.spObjectId);
  if (removed.removedAssignmentIds.length && !graph.app.created) {
    rt.note('This registration had the Graph grant until now: its senders may get 403 for up to 2 hours while Exchange’s permission cache catches up. "migrate" switches a live registration without that gap.');
  }
  const policies = (await rt.ports.exchange.getApplicationAccessPolicies()).filter((p) => p.appId.toLowerCase() === graph.app.appId.toLowerCase());
  if (policies.length) {
    rt.note(`The app still has ${policies.length} Application Access Polic${policies.length === 1 ? 'y' : 'ies'}; they only narrow the Graph grant, which RBAC scoping removed, so they no longer matter ("migrate" removes them).`);
  }
  const secret = wantSecret ? await ensureSecret(rt, names, graph.app, wantSecret) : {};
  const verify = await stepVerifyRbac(rt, {
    exoSpIdentity: exoSp.exoSpObjectId,
    spObjectId: graph.sp.spObjectId,
    appId: graph.app.appId,
    senders,
    groupMembers: group.members ?? senders,
    signIn: createSecret ? signInProof(rt, secret) : null,
    ownGroup: { names, groupIdentity: group.groupIdentity },
  });
  rt.note(RBAC_PROPAGATION_NOTE);
  return {
    ...resultFrame(rt, names, senders, { app: graph.app, sp: graph.sp, group, secret, checks: verify.checks }),
    scoping: 'rbac',
    rbac: {
      exchangeServicePrincipalCreated: !!exoSp.created,
      roleAssignmentName: assignment.name,
      roleAssignmentCreated: !!assignment.created,
      graphGrantRemoved: removed.removedAssignmentIds.length > 0,
      organizationCustomized: !!exo.org.enabled,
    },
  };
}


export const provisionWorkflow: Workflow<StoredProvisionInput, ProvisionResult, ProvisionInput> = {
  kind: 'provision',
  input: storedProvisionInput,
  result: provisionResultSchema,
  prepare: (input) => ({ input: validateProvisionInput(input) }),
  run: (rt) =>
    provisionRegistration(rt, {
      names: deriveNames(rt.input.appDisplayName, rt.input.overrides),
      senders: rt.input.senders,
      scoping: rt.input.scoping,
      secret: { secretValidYears: rt.input.secretValidYears, newSecret: rt.input.newSecret },
    }),
};

/** Both chains to their end, so the journal is complete whichever fails; then the first failure. */
/** What both scoping models report the same way; the caller adds what only its path creates. */
function resultFrame(
  rt: JobRuntime,
  names: DerivedNames,
  senders: string[],
  made: {
    app: { appObjectId: string; appId: string; created?: boolean };
    sp: { spObjectId: string; created?: boolean };
    group: { groupSmtp: string; groupObjectId: string | null; created?: boolean; membersAdded: string[] };
    secret: { keyId?: string; endDateTime?: string; clamped?: boolean; maxLifetime?: string | null };
    checks: VerificationCheck[];
  },
): Omit<ProvisionResult, 'scoping'> {
  const { app, sp, group, secret } = made;
  return {
    jobId: rt.job.id,
    tenantId: rt.ports.directory.tenantId,
    names,
    appObjectId: app.appObjectId,
    clientId: app.appId,
    spObjectId: sp.spObjectId,
    groupSmtp: group.groupSmtp,
    groupObjectId: group.groupObjectId,
    senders,
    created: { app: !!app.created, servicePrincipal: !!sp.created, grant: false, group: !!group.created, policy: false },
    membersAdded: group.membersAdded,
    secret: secret.keyId
      ? { keyId: secret.keyId, endDateTime: secret.endDateTime!, clamped: !!secret.clamped, maxLifetime: secret.maxLifetime ?? null, displayName: names.secretDisplayName }
      : null,
    checks: made.checks,
    notes: [...new Set([...collectNotes(rt.ports.journal.getSteps(rt.job.id)), ...rt.notes])],
  };
}

export async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

function collectNotes(steps: StepRecord[]): string[] {
  return steps.flatMap((s) => (Array.isArray(s.outputs.notes) ? s.outputs.notes.filter((n): n is string => typeof n === 'string') : []));
}
