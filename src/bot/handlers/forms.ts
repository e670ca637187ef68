/**
 * "set up Opter email": the form, its server-side validation against the tenant (field-level messages, the
 * name-conflict choice, the derived-names preview) and the submit that turns a draft into a pending request with
 * its approval posts — exactly once, however often the form is submitted.
 *
 * A draft (kv `draft:<id>`) belongs to the admin who asked for the form; its id becomes the request id on submit,
 * so the request's dedupe key is the draft, and a second submit finds the first request instead of making one.
 */
import {
  formatUtc,
  noticeCard,
  readRequestForm,
  requestFormCard,
  formErrorFor,
  type AdaptiveCardJson,
  type RequestFormField,
  type RequestFormModel,
} from '../../cards';
import { describeAction, OpterError, toOpterError } from '../../core/errors';
import { validateProvisionInput } from '../../provisioning';
import { inspectRegistration } from '../../provisioning';
import { groupOwnership, ownershipRefusal, type GroupOwnership } from '../../provisioning';
import { secretLifetime } from '../../provisioning';
import { checkSecretPolicy, secretsBlockedError } from '../../provisioning';
import { DEFAULT_SECRET_VALID_YEARS, deriveNames, formatRoundTripUtc, type DerivedNames, type NameOverrides } from '../../provisioning';
import { checkSendersInTenant, describeSenderProblems } from '../../provisioning';
import type { Actor } from '../../requests/rules';
import type { RequestRecord } from '../../store';
import { describeTargets, enqueueApprovalPosts, enqueueApprovalSync } from './approvals';
import { appendAudit, userActor } from './audit';
import { cardResult, refusal, refusalMessage, type InvokeResult } from '../invoke-result';
import { inFlightFor, listRegistrations } from './registrations';
import { cardMessage, originOf, type TurnPort } from '../turn-port';
import { checkInvokedCardRole, guardCardAction, recordInvokedCard } from './card-action';
import { createDraft, deleteDraft, requesterInfo } from './drafts';
import { actionFor } from '../../actions/registry';
import type { BotRequestKind, BotServices, Draft, Origin, ProvisionDetails, ProvisionPayload } from '../types';

function existingNames(services: BotServices): string[] {
  return listRegistrations(services.store).map((r) => r.appDisplayName);
}

/** The empty form for a new draft. */
export function blankForm(services: BotServices, draft: Draft): AdaptiveCardJson {
  return requestFormCard({ requestId: draft.id, existingRegistrations: existingNames(services) });
}

/** "set up Opter email" typed by an admin: a new draft and its form, as a reply in the same conversation. */
export async function postSetupForm(services: BotServices, turn: TurnPort, actor: Actor): Promise<void> {
  const draft = createDraft(services, { kind: 'setup', requester: requesterInfo(actor), tenantId: actor.tenantId, origin: originOf(turn, actor.tenantId) });
  const sentId = await turn.send(cardMessage(blankForm(services, draft)));
  if (sentId) recordReply(services, turn, draft.id, sentId);
}

/** Records a card the bot just sent as a reply in this turn (so clicks on it can be bound to the draft). */
export function recordReply(services: BotServices, turn: TurnPort, requestId: string, activityId: string): void {
  const origin = originOf(turn, '');
  services.store.cards.recordCard({
    requestId,
    role: 'form',
    conversationId: turn.conversation.id,
    activityId,
    serviceUrl: turn.serviceUrl,
    reference: origin.reference,
  });
}

/** The help card's "Set up Opter email" button: the form replaces the help card for the clicker. */
export function handleStartSetup(services: BotServices, turn: TurnPort): InvokeResult {
  // The help card is not a recorded card; the form it becomes is (below), so its message must not be another's card.
  const guarded = guardCardAction(turn, services, { verb: 'start-setup', card: null, subject: 'none', access: 'admin' });
  if (guarded.error) return { error: guarded.error };
  const { actor } = guarded;
  const taken = checkInvokedCardRole(services.store, turn, 'form');
  if (taken) return { error: taken };
  const draft = createDraft(services, { kind: 'setup', requester: requesterInfo(actor), tenantId: actor.tenantId, origin: originOf(turn, actor.tenantId) });
  recordInvokedCard(services.store, turn, draft.id, 'form');
  return cardResult(blankForm(services, draft));
}

// ---------------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------------

interface SetupValidation {
  model: RequestFormModel;
  payload: ProvisionDetails | null;
}

function hasErrors(model: RequestFormModel): boolean {
  return !!model.generalError || Object.values(model.errors ?? {}).some(Boolean);
}

/**
 * Validates the form against our rules and the tenant (reads only). Returns the form to show again — with
 * field errors, the name-conflict choice or the derived names — and, when everything is fine, the payload.
 */
export async function validateSetupForm(services: BotServices, draft: Draft, inputs: Record<string, string>): Promise<SetupValidation> {
  const { directory, exchange } = services.tenant.adapters;
  const { values, errors } = readRequestForm(inputs);
  const model: RequestFormModel = { requestId: draft.id, values, errors, existingRegistrations: existingNames(services) };
  const setError = (field: RequestFormField | null, message: string) => {
    if (field) errors[field] ??= message;
    else model.generalError ??= message;
  };

  const appDisplayName = values.appDisplayName ?? '';
  const senders = values.senders ?? [];
  const years = values.secretValidYears ?? DEFAULT_SECRET_VALID_YEARS;
  const overrides: NameOverrides = {
    ...(values.secretDisplayName ? { secretDisplayName: values.secretDisplayName } : {}),
    ...(values.groupName ? { groupName: values.groupName } : {}),
    ...(values.groupAlias ? { groupAlias: values.groupAlias } : {}),
  };

  let names: DerivedNames | null = null;
  if (!errors.appDisplayName && !errors.senders && !errors.secretValidYears) {
    try {
      validateProvisionInput({ appDisplayName, senders, secretValidYears: years, overrides });
      names = deriveNames(appDisplayName.trim(), overrides);
    } catch (e) {
      const err = toOpterError(e);
      const where = formErrorFor(err);
      setError(where.field, where.message);
      if (where.field !== 'appDisplayName' && err.code !== 'E_ALIAS_EMPTY') {
        try {
          names = deriveNames(appDisplayName.trim(), overrides);
        } catch {
          names = null;
        }
      }
    }
  }
  if (!names) return { model, payload: null };

  // Tenant reads, in parallel: senders (accepted domain + mailbox), apps with this name, the group alias, policy.
  let tenantFailure: OpterError | null = null;
  const guard = <T>(p: Promise<T>, fallback: T): Promise<T> =>
    p.catch((e: unknown) => {
      tenantFailure ??= toOpterError(e);
      return fallback;
    });
  const ownershipPorts = { directory, exchange, journal: services.store.journal };
  const [senderCheck, apps, group, ownership, maxLifetime, secretPolicy] = await Promise.all([
    errors.senders ? Promise.resolve(null) : guard(checkSendersInTenant(exchange, senders), null),
    guard(directory.findApplicationsByDisplayName(names.appDisplayName), []),
    guard(exchange.getDistributionGroup(names.groupAlias), null),
    guard<GroupOwnership>(groupOwnership(ownershipPorts, names), { kind: 'none' }),
    directory.getMaxPasswordLifetime().catch(() => null),
    // The whole app management policy, so a tenant that forbids client secrets is refused here, not at the last step.
    checkSecretPolicy(directory, names, services.clock.now()).catch(() => null),
  ]);
  if (tenantFailure) {
    model.generalError = `Could not check the tenant: ${refusalMessage(tenantFailure, 'form')}`;
    return { model, payload: null };
  }
  if (senderCheck && senderCheck.problems.length) setError('senders', describeSenderProblems(senderCheck.problems));
  if (secretPolicy?.verdict?.blocked) {
    const blocked = secretsBlockedError(secretPolicy.verdict, names.appDisplayName);
    setError(null, `${blocked.summary}. ${describeAction(blocked.code)}`);
  }

  // Name checks: our own requests in flight, then the tenant's registrations.
  const busy = inFlightFor(services.store, names.appDisplayName, draft.id);
  if (busy) setError('appDisplayName', `A request for “${names.appDisplayName}” is already ${busy.status} (request ${busy.id}); wait for it or use another name.`);
  const exact = apps.filter((a) => a.displayName === names.appDisplayName);
  let reuse: ProvisionPayload['reuse'] = null;
  if (exact.length > 1) {
    setError('appDisplayName', new OpterError('E_APP_NAME_AMBIGUOUS', { detail: `${exact.length} registrations are named “${names.appDisplayName}”` }).actionIn('form'));
  } else if (exact.length === 1) {
    const existing = exact[0]!;
    const status = await inspectRegistration({ directory, exchange, now: services.clock.now() }, names.appDisplayName, overrides).catch(() => null);
    if (values.nameChoice === 'reuse' && status) {
      const live = status.secrets.filter((c) => c.displayName === names!.secretDisplayName && new Date(c.endDateTime) > services.clock.now());
      reuse = { appId: existing.appId, membersBefore: status.members, groupExists: !!status.group, createsCredential: live.length === 0 };
    } else {
      model.nameConflict = { existingName: existing.displayName, appId: existing.appId, senders: status?.members };
      if (values.nameChoice === 'new') setError('appDisplayName', `“${existing.displayName}” is taken. Type a different app name, or choose to reuse it.`);
      else setError('nameChoice', 'This name belongs to an existing registration: reuse it, or type a new name.');
    }
  }
  // A group belongs to exactly one registration: another's (or one nobody recorded) is refused here, as the engine
  // would; an existing group of this registration is shown on the approval card with its current members.
  let existingGroup: ProvisionDetails['existingGroup'] = null;
  if (ownership.kind === 'other' || ownership.kind === 'unrecorded') {
    const where = formErrorFor(await ownershipRefusal(ownershipPorts, names, ownership));
    setError(where.field ?? 'appDisplayName', where.message);
  } else if (ownership.kind === 'ours') {
    const members = await guard(exchange.getDistributionGroupMembers(ownership.group.identity), []);
    existingGroup = { members: members.map((m) => m.primarySmtpAddress) };
  }
  // A group with our alias that is not ours would stop the setup half-way: say so now.
  if (group && !reuse) {
    const ours = group.recipientTypeDetails === 'MailUniversalSecurityGroup' && (group.name === names.groupName || group.displayName === names.groupName);
    if (!ours) {
      setError(
        overrides.groupAlias ? 'groupAlias' : 'appDisplayName',
        new OpterError('E_GROUP_CONFLICT', { detail: `${group.primarySmtpAddress} is the ${group.recipientTypeDetails} “${group.name}”` }).actionIn('form'),
      );
    }
  }

  const defaultDomain = senderCheck?.acceptedDomains.find((d) => d.isDefault)?.domainName ?? null;
  const groupSmtp = group?.primarySmtpAddress ?? (defaultDomain ? `${names.groupAlias}@${defaultDomain}` : null);
  const life = secretLifetime(services.clock.now(), years, maxLifetime);
  model.tenantMaxSecretLifetime = maxLifetime;
  model.derived = {
    groupName: names.groupName,
    groupAlias: names.groupAlias,
    secretDisplayName: names.secretDisplayName,
    ...(groupSmtp ? { groupSmtp } : {}),
    secretExpiresAt: life.endDateTime.toISOString(),
    secretClamped: life.clamped,
  };
  if (hasErrors(model)) return { model, payload: null };

  // Senders as Exchange knows them (primary SMTP), so the approval card shows what will really be added.
  const resolved = senders.map((s) => senderCheck?.recipients.get(s.toLowerCase())?.primarySmtpAddress ?? s);
  return {
    model,
    payload: {
      appName: names.appDisplayName,
      senders: [...new Map(resolved.map((s) => [s.toLowerCase(), s])).values()],
      validYears: years,
      overrides,
      names: { groupName: names.groupName, groupAlias: names.groupAlias, credentialName: names.secretDisplayName },
      groupSmtp,
      credentialExpiresAt: formatRoundTripUtc(life.endDateTime),
      credentialClamped: life.clamped,
      reuse,
      existingGroup,
      scoping: values.scoping ?? 'access-policy',
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Form actions
// ---------------------------------------------------------------------------------------------------------------

function submittedCard(request: RequestRecord, where: string): AdaptiveCardJson {
  const p = request.payload as Partial<ProvisionPayload> & { appName?: string; senders?: string[] };
  return noticeCard({
    title: 'Sent for approval',
    text: `Request ${request.id} went to ${where}. Nothing is created until someone other than ${request.requester.name ?? 'you'} approves it; the progress will appear here.`,
    tone: 'good',
    facts: [
      { title: 'App', value: p.appName ?? request.appName ?? '' },
      { title: 'Senders', value: (p.senders ?? []).join(', ') },
      { title: 'Scoping', value: p.scoping === 'rbac' ? 'RBAC for Applications' : 'Application Access Policy' },
      { title: 'Approval needed by', value: formatUtc(request.expiresAt) },
    ],
  });
}

export async function handleFormAction(services: BotServices, turn: TurnPort, verb: 'check-request' | 'submit-request'): Promise<InvokeResult> {
  const guarded = guardCardAction(turn, services, { verb, missingData: 'the form did not say which request', card: ['form'], subject: 'draft', access: 'draft-owner' });
  if (guarded.error) return { error: guarded.error };
  const { draft, inputs } = guarded;
  const id = guarded.data.requestId;

  // Submitted already (a double click, a Teams retry, or Check after Submit): show what was submitted.
  const existing = services.store.requests.get(id);
  if (existing) return cardResult(submittedCard(existing, 'the approvers'));

  const { model, payload } = await validateSetupForm(services, draft, inputs);
  if (!payload || verb === 'check-request') return cardResult(requestFormCard(model));
  return submitProvision(services, turn, draft, guarded.actor, payload);
}

async function submitProvision(
  services: BotServices,
  turn: TurnPort,
  draft: Draft,
  actor: Actor,
  payload: ProvisionDetails,
): Promise<InvokeResult> {
  const { request, targets } = createRequestWithApprovals(services, {
    id: draft.id,
    kind: 'provision',
    actor,
    appName: payload.appName,
    payload: { ...payload, origin: draft.origin },
    dedupeKey: `form:${draft.id}`,
    summary: requestedWording('provision', { ...payload, origin: draft.origin }),
  });
  const card = submittedCard(request, describeTargets(targets));
  await replaceForEveryone(services, turn, card);
  return cardResult(card);
}

/** The `request.created` detail, in the action's words (src/actions). */
export function requestedWording(kind: BotRequestKind, payload: Record<string, unknown>): string {
  const action = actionFor(kind);
  return action?.audit.requested?.(payload) ?? `Asked for ${action?.audit.what(payload) ?? kind}.`;
}

/** Creates the pending request, its audit entry and its approval posts in one transaction (dedupe-safe). */
export function createRequestWithApprovals(
  services: BotServices,
  input: {
    id?: string;
    /** A built-in kind or a registered action's. */
    kind: BotRequestKind | (string & {});
    actor: Actor;
    /** null for a request about no app (a channel change). */
    appName: string | null;
    payload: Record<string, unknown> & { origin: Origin };
    dedupeKey: string;
    summary: string;
  },
): { request: RequestRecord; created: boolean; targets: ReturnType<typeof enqueueApprovalPosts> } {
  const { store, clock, config } = services;
  const now = clock.now();
  const result = store.transaction(() => {
    const made = store.requests.create({
      ...(input.id ? { id: input.id } : {}),
      kind: input.kind,
      tenantId: input.actor.tenantId,
      requester: { aadObjectId: input.actor.aadObjectId, name: input.actor.name, mri: input.actor.mri },
      appName: input.appName,
      payload: input.payload,
      expiresAt: new Date(now.getTime() + config.approvalTtlHours * 3_600_000),
      dedupeKey: input.dedupeKey,
      now,
    });
    let targets: ReturnType<typeof enqueueApprovalPosts> = [];
    if (made.created) {
      appendAudit(store, {
        actor: userActor(input.actor),
        action: 'request.created',
        requestId: made.request.id,
        result: 'info',
        detail: input.summary,
      });
      targets = enqueueApprovalPosts(services, made.request);
    }
    return { ...made, targets };
  });
  services.poke();
  return result;
}

/** Edits the clicked message for everyone (the invoke response alone changes it only for the clicker). */
export async function replaceForEveryone(services: BotServices, turn: TurnPort, card: AdaptiveCardJson): Promise<void> {
  const id = turn.invokedMessage;
  if (!id) return;
  try {
    await turn.update(id, cardMessage(card));
  } catch (e) {
    services.log.warn(`could not update message ${id} for everyone: ${toOpterError(e).message}`);
  }
}

export async function handleCancel(services: BotServices, turn: TurnPort): Promise<InvokeResult> {
  const guarded = guardCardAction(turn, services, { verb: 'cancel-request', card: ['form'], subject: 'draft', access: 'draft-owner' });
  if (guarded.error) return { error: guarded.error };
  const id = guarded.data.requestId;
  const existing = services.store.requests.get(id);
  if (existing) {
    const changed = services.store.transaction(() => {
      const r = services.store.requests.setStatus(id, 'cancelled', { from: 'pending' });
      if (r.changed) {
        appendAudit(services.store, { actor: userActor(guarded.actor), action: 'request.cancelled', requestId: id, result: 'info', detail: null });
        enqueueApprovalSync(services, id, 'cancelled');
      }
      return r.changed;
    });
    services.poke();
    if (!changed) return refusal('E_REQUEST_NOT_PENDING', `It is ${existing.status}.`);
  }
  deleteDraft(services, id);
  const card = noticeCard({ title: 'Cancelled', text: existing ? `Request ${id} was cancelled; the approvers’ cards say so.` : 'Nothing was requested.', tone: 'info' });
  await replaceForEveryone(services, turn, card);
  return cardResult(card);
}
