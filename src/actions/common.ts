/**
 * What several actions share: the request as the actions see it, the stored payload shapes (with their zod
 * schemas, used to decode a payload read back from the store) and the result a finished job leaves on its request.
 * Payload keys are chosen so that none looks like a credential to the store's redaction (no `secret`, `password`, …
 * suffixes): nothing here ever holds one.
 */
import { z } from 'zod';
import { lifecycleResultCard, type AdaptiveCardJson, type ApprovalPlan, type LifecycleResultModel, type MigrationPlanView } from '../cards';
import { checkLine, checkState, unverifiedNotice } from '../provisioning';
import type { MigrationPlan } from '../provisioning';
import type { NameOverrides } from '../provisioning';
import type { ScopingState } from '../provisioning';
import type { ScopingModel } from '../provisioning';
import type { ResultContext } from './types';

/** A stored request, as far as an action reads it (the store's RequestRecord fits). */
export interface ActionRequest<P> {
  id: string;
  kind: string;
  payload: P;
  result: unknown;
  requester: { name: string | null };
}

/** The bot's settings an action's job input reads (BotSettings fits). */
export interface ActionSettings {
  rotationOverlapDays: number;
  migrationSettleMinutes: number;
}

/** Where a request was made (the bot's Origin: a conversation reference and how to reach it). Opaque here. */
export interface ActionOrigin {
  reference: unknown;
  isChannel: boolean;
}

const originSchema = z.looseObject({ reference: z.looseObject({}), isChannel: z.boolean() });

const scopingModel = z.enum(['access-policy', 'rbac']);
const scopingState = z.enum(['access-policy', 'rbac', 'mixed', 'unscoped']);
const overridesSchema = z.looseObject({ secretDisplayName: z.string().optional(), groupName: z.string().optional(), groupAlias: z.string().optional() });
const strings = z.array(z.string());

/** What the form decided for a `provision` request ("set up Opter email"). */
export interface ProvisionDetails {
  appName: string;
  senders: string[];
  validYears: number;
  overrides: NameOverrides;
  names: { groupName: string; groupAlias: string; credentialName: string };
  groupSmtp: string | null;
  credentialExpiresAt: string | null;
  credentialClamped: boolean;
  /** Set when the admin chose to reuse an existing registration of the same name. */
  reuse: { appId: string; membersBefore: string[]; groupExists: boolean; createsCredential: boolean } | null;
  /** The sender group already exists and is this registration's (ownership.ts): its members when the form was checked. */
  existingGroup?: { members: string[] } | null;
  /** How the app is limited to the sender group (absent on requests from before the choice existed: access-policy). */
  scoping?: ScopingModel;
}

/** Payload of a `provision` request. */
export type ProvisionPayload<O = ActionOrigin> = ProvisionDetails & { origin: O; [key: string]: unknown };

export const provisionPayloadSchema: z.ZodType<ProvisionPayload> = z.looseObject({
  appName: z.string(),
  senders: strings,
  validYears: z.number(),
  overrides: overridesSchema,
  names: z.looseObject({ groupName: z.string(), groupAlias: z.string(), credentialName: z.string() }),
  groupSmtp: z.string().nullable(),
  credentialExpiresAt: z.string().nullable(),
  credentialClamped: z.boolean(),
  reuse: z.looseObject({ appId: z.string(), membersBefore: strings, groupExists: z.boolean(), createsCredential: z.boolean() }).nullable(),
  existingGroup: z.looseObject({ members: strings }).nullable().optional(),
  scoping: scopingModel.optional(),
  origin: originSchema,
});

/** Payload of an `add-sender` request. */
export interface AddSenderPayload<O = ActionOrigin> {
  [key: string]: unknown;
  appName: string;
  appId: string | null;
  registrationId: string | null;
  senders: string[];
  membersBefore: string[];
  membersAfter: string[];
  groupName: string;
  groupAlias: string;
  groupSmtp: string | null;
  /** The registration's scoping model when asked (absent on requests from before: access-policy). */
  scoping?: ScopingModel;
  origin: O;
}

export const addSenderPayloadSchema: z.ZodType<AddSenderPayload> = z.looseObject({
  appName: z.string(),
  appId: z.string().nullable(),
  registrationId: z.string().nullable(),
  senders: strings,
  membersBefore: strings,
  membersAfter: strings,
  groupName: z.string(),
  groupAlias: z.string(),
  groupSmtp: z.string().nullable(),
  scoping: scopingModel.optional(),
  origin: originSchema,
});

/** The registration a lifecycle request is about, as the tenant showed it when the request was made. */
export interface LifecycleTarget {
  appName: string;
  appId: string;
  overrides: NameOverrides;
  groupName: string;
  groupAlias: string;
  groupSmtp: string | null;
  /** The group's members when the request was made. */
  senders: string[];
  scoping: ScopingState;
}

/** Payload of a lifecycle request (new secret, remove sender, migrate, test email, repair, adopt). */
export interface LifecyclePayload<O = ActionOrigin> extends LifecycleTarget {
  [key: string]: unknown;
  origin: O;
  /** rotate-secret */
  validYears?: number;
  overlapDays?: number;
  oldSecrets?: Array<{ keyId: string; expiresAt: string }>;
  credentialName?: string;
  credentialExpiresAt?: string | null;
  credentialClamped?: boolean;
  /** remove-sender: the addresses to remove and the members after. */
  remove?: string[];
  membersAfter?: string[];
  /** migrate-rbac */
  plan?: MigrationPlan;
  settleMinutes?: number;
  /** test-email */
  from?: string;
  to?: string;
  /** repair: the drift seen when asked. */
  drift?: string[];
  /** remove-sender made by "Repair" for members added outside the bot. */
  repairOf?: 'member-outside-bot';
}

const migrationPlanSchema = z.looseObject({
  appDisplayName: z.string(),
  appId: z.string(),
  steps: z.array(z.looseObject({ id: z.string(), action: z.enum(['add', 'check', 'wait', 'remove']), title: z.string(), detail: z.string(), alreadyDone: z.boolean() })),
  adds: strings,
  removes: strings,
  keeps: strings,
  whyThisOrder: strings,
  blockers: strings,
  warnings: strings,
  nothingToDo: z.boolean(),
  settleMinutes: z.number(),
});

/** Every lifecycle payload: the target plus the optional fields of each kind (a kind's schema narrows it). */
export const lifecyclePayloadSchema = z.looseObject({
  appName: z.string(),
  appId: z.string(),
  overrides: overridesSchema,
  groupName: z.string(),
  groupAlias: z.string(),
  groupSmtp: z.string().nullable(),
  senders: strings,
  scoping: scopingState,
  origin: originSchema,
  validYears: z.number().optional(),
  overlapDays: z.number().optional(),
  oldSecrets: z.array(z.looseObject({ keyId: z.string(), expiresAt: z.string() })).optional(),
  credentialName: z.string().optional(),
  credentialExpiresAt: z.string().nullable().optional(),
  credentialClamped: z.boolean().optional(),
  remove: strings.optional(),
  membersAfter: strings.optional(),
  plan: migrationPlanSchema.optional(),
  settleMinutes: z.number().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  drift: strings.optional(),
  repairOf: z.literal('member-outside-bot').optional(),
});

export const lifecyclePayload: z.ZodType<LifecyclePayload> = lifecyclePayloadSchema as z.ZodType<LifecyclePayload>;

/** What a finished job leaves on its request (`request.result`). */
export interface RequestResult {
  tenantId: string;
  clientId: string;
  appObjectId: string;
  spObjectId: string;
  groupSmtp: string;
  senders: string[];
  membersAdded: string[];
  /** Key id and end of the credential created by this request, if one was. */
  keyId: string | null;
  credentialEndDateTime: string | null;
  /** `skipped`: the check did not run (never a pass; see provisioning/check-results.ts). */
  checks: Array<{ name: string; ok: boolean; detail: string; skipped?: boolean; provesRestriction?: boolean }>;
  /** The scoping model of the registration after the job (absent on results from before: access-policy). */
  scoping?: ScopingModel;
  /** What the job could not check because the provisioning identity may not run the read (least privilege). */
  unchecked?: string[];
}

/** `request.result` of a lifecycle request: the common facts plus what that kind of job produced. */
export interface LifecycleRequestResult extends RequestResult {
  kind: string;
  /** rotate-secret: the secrets that keep working until retired, and when the overlap ends. */
  previous?: Array<{ keyId: string; endDateTime: string }>;
  overlapEndsAt?: string;
  /** remove-sender */
  removed?: string[];
  notMembers?: string[];
  /** test-email */
  layers?: Array<{ layer: string; ok: boolean; detail: string }>;
  testOk?: boolean;
  temporaryKeyRemoved?: boolean;
  /** migrate-rbac */
  removedGraphGrant?: boolean;
  removedPolicies?: string[];
  notes: string[];
}

export type Checks = RequestResult['checks'];

export function checkLines(checks: Checks): string {
  return checks.map(checkLine).join('; ');
}

/** Step outputs read back from the journal, by name. */
export function stepReader(steps: ReadonlyMap<string, Record<string, unknown>>) {
  return {
    str: (step: string, key: string) => (typeof steps.get(step)?.[key] === 'string' ? (steps.get(step)![key] as string) : ''),
    list: <T>(step: string, key: string): T[] => (Array.isArray(steps.get(step)?.[key]) ? (steps.get(step)![key] as T[]) : []),
  };
}

/** The engine target of a lifecycle job: the app, and its name overrides when it has any. */
export function lifecycleTarget(p: LifecyclePayload): { appDisplayName: string; overrides?: NameOverrides } {
  return { appDisplayName: p.appName, ...(Object.keys(p.overrides ?? {}).length ? { overrides: p.overrides } : {}) };
}

/** The approval plan every lifecycle request starts from: the registration as it is, nothing created. */
export function lifecycleBasePlan(p: LifecyclePayload): ApprovalPlan {
  return {
    appDisplayName: p.appName,
    appId: p.appId,
    createsApp: false,
    group: { name: p.groupName, alias: p.groupAlias, smtp: p.groupSmtp ?? undefined, exists: true },
    members: { before: p.senders, after: p.senders },
    scoping: p.scoping === 'rbac' ? 'rbac' : 'access-policy',
  };
}

export function migrationView(plan: MigrationPlan): MigrationPlanView {
  return {
    steps: plan.steps.map((s) => ({ action: s.action, title: s.title, detail: s.detail, alreadyDone: s.alreadyDone })),
    whyThisOrder: plan.whyThisOrder,
    warnings: plan.warnings,
    keeps: plan.keeps,
  };
}

/**
 * The common facts of a finished lifecycle job, from the journal's step outputs (never a secret); each kind adds
 * its own. `members`: where the group's members after the job are (default: what `locate` saw).
 */
export function lifecycleResultFromSteps(
  ctx: ResultContext<LifecyclePayload>,
  options: { secretDelivered?: boolean; members?: string[]; scoping?: ScopingModel } = {},
): LifecycleRequestResult {
  const { request, steps, tenantId } = ctx;
  const { str, list } = stepReader(steps);
  const p = request.payload;
  const secret = steps.get('secret');
  const delivered = !!options.secretDelivered && typeof secret?.keyId === 'string' && secret.delivered === true;
  const located = steps.get('locate');
  const scoping = options.scoping ?? (located?.scoping === 'rbac' ? 'rbac' : p.scoping === 'rbac' ? 'rbac' : 'access-policy');
  return {
    kind: request.kind,
    tenantId,
    clientId: str('locate', 'appId') || p.appId,
    appObjectId: str('locate', 'appObjectId'),
    spObjectId: str('locate', 'spObjectId'),
    groupSmtp: str('locate', 'groupSmtp') || (p.groupSmtp ?? ''),
    senders: options.members ?? (located?.senders as string[] | undefined) ?? p.senders,
    membersAdded: [],
    keyId: delivered ? (secret!.keyId as string) : null,
    credentialEndDateTime: delivered && typeof secret!.endDateTime === 'string' ? secret!.endDateTime : null,
    checks: list<Checks[number]>('verify', 'checks'),
    scoping,
    notes: ctx.outcome.lifecycle?.notes ?? [],
  };
}

/**
 * The facts a provision or add-sender job leaves on its request: from the live outcome, or (the job finished in an
 * earlier process) rebuilt from the journal's step outputs.
 */
export function engineResult<P>(ctx: ResultContext<P>): RequestResult {
  const r = ctx.outcome.result;
  if (r) {
    return {
      tenantId: r.tenantId,
      clientId: r.clientId,
      appObjectId: r.appObjectId,
      spObjectId: r.spObjectId,
      groupSmtp: r.groupSmtp,
      senders: r.senders,
      membersAdded: r.membersAdded,
      keyId: r.secret?.keyId ?? null,
      credentialEndDateTime: r.secret?.endDateTime ?? null,
      checks: r.checks,
      scoping: r.scoping ?? 'access-policy',
      ...(r.unchecked?.length ? { unchecked: r.unchecked } : {}),
    };
  }
  const { steps } = ctx;
  const { str } = stepReader(steps);
  const located = steps.has('locate');
  const checks = (steps.get('verify')?.checks as RequestResult['checks'] | undefined) ?? [];
  const secretOut = steps.get('secret');
  return {
    tenantId: ctx.tenantId,
    clientId: located ? str('locate', 'appId') : str('app', 'appId'),
    appObjectId: located ? str('locate', 'appObjectId') : str('app', 'appObjectId'),
    spObjectId: located ? str('locate', 'spObjectId') : str('servicePrincipal', 'spObjectId'),
    groupSmtp: located ? str('locate', 'groupSmtp') : str('group', 'groupSmtp'),
    senders: (steps.get('validate')?.senders as string[] | undefined) ?? [],
    membersAdded: ((located ? steps.get('members')?.membersAdded : steps.get('group')?.membersAdded) as string[] | undefined) ?? [],
    keyId: typeof secretOut?.keyId === 'string' && secretOut.delivered === true ? secretOut.keyId : null,
    credentialEndDateTime: typeof secretOut?.endDateTime === 'string' ? secretOut.endDateTime : null,
    checks,
    scoping: (ctx.outcome.job.input as { scoping?: string } | null)?.scoping === 'rbac' || str('locate', 'scoping') === 'rbac' ? 'rbac' : 'access-policy',
    ...(Array.isArray(steps.get('locate')?.unchecked) && (steps.get('locate')!.unchecked as string[]).length ? { unchecked: steps.get('locate')!.unchecked as string[] } : {}),
  };
}

export function union(a: string[], b: string[]): string[] {
  const out = [...a];
  for (const x of b) if (!out.some((y) => y.toLowerCase() === x.toLowerCase())) out.push(x);
  return out;
}

/**
 * The result card of a finished lifecycle request, rendered from the stored result at delivery time: `fill` sets
 * the kind's title, summary and facts. A check that did not run is said, not passed over (unless `ownChecks`: the
 * test email reports its layers instead).
 */
export function lifecycleResultCardOf(
  request: ActionRequest<LifecyclePayload>,
  fill: (model: LifecycleResultModel, r: Partial<LifecycleRequestResult>, notice: string | null) => void,
  options: { ownChecks?: boolean } = {},
): AdaptiveCardJson {
  const r = (request.result ?? {}) as Partial<LifecycleRequestResult>;
  const checks = r.checks ?? [];
  const model: LifecycleResultModel = { requestId: request.id, title: '', ok: checks.every((c) => checkState(c) !== 'failed'), summary: '', checks, notes: (r.notes ?? []).slice(-4) };
  const notice = unverifiedNotice(checks);
  fill(model, r, notice);
  if (notice && !options.ownChecks) model.summary = `${model.summary} ${notice}`;
  return lifecycleResultCard(model);
}
