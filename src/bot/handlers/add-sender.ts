/**
 * "add sender a@… [b@…]": pick the registration (a chooser card when there are several), validate the addresses
 * against the tenant, and ask for approval with the group's members before → after. The approved request runs the
 * engine's add-sender job (add to the group, then Test-ApplicationAccessPolicy per sender).
 */
import { CHOOSE_REGISTRATION_INPUTS, chooseRegistrationCard, errorCard, noticeCard, type AdaptiveCardJson, type RegistrationChoice } from '../../cards';
import { OpterError, toOpterError } from '../../core/errors';
import { inspectRegistration } from '../../provisioning';
import { deriveNames } from '../../provisioning';
import { readRegistration } from '../../provisioning';
import { checkSenderSyntax, checkSendersInTenant, problemsToError } from '../../provisioning';
import type { Actor } from '../../requests/rules';
import { describeTargets } from './approvals';
import { createRequestWithApprovals, recordReply, replaceForEveryone, requestedWording } from './forms';
import { guardCardAction } from './card-action';
import { createDraft, requesterInfo } from './drafts';
import { cardResult, refusalMessage, type InvokeResult } from '../invoke-result';
import { findRegistration, listRegistrations, mergeAddresses, type KnownRegistration } from './registrations';
import { cardMessage, originOf, type TurnPort } from '../turn-port';
import type { AddSenderPayload, BotServices, Origin } from '../types';

/** Validates the senders for a registration (tenant reads only) and builds the request payload. */
export async function planAddSender(
  services: BotServices,
  registration: KnownRegistration,
  senders: string[],
  origin: Origin,
): Promise<{ payload: AddSenderPayload } | { error: OpterError }> {
  const syntax = checkSenderSyntax(senders);
  if (syntax.length) return { error: problemsToError(syntax) };
  const { directory, exchange } = services.tenant.adapters;
  try {
    const names = deriveNames(registration.appDisplayName, registration.overrides);
    const [check, status, facts] = await Promise.all([
      checkSendersInTenant(exchange, senders),
      inspectRegistration({ directory, exchange, now: services.clock.now() }, registration.appDisplayName, registration.overrides),
      // The scoping model decides what the approval card says the new senders get.
      readRegistration({ directory, exchange }, names, { appId: registration.appId }).catch(() => null),
    ]);
    if (check.problems.length) return { error: problemsToError(check.problems) };
    if (!status.app) return { error: new OpterError('E_NOT_FOUND', { detail: `the app registration “${registration.appDisplayName}” no longer exists` }) };
    if (!status.group) return { error: new OpterError('E_NOT_FOUND', { detail: `the group ${status.names.groupAlias} no longer exists; set up Opter email again to repair it` }) };
    const resolved = senders.map((s) => check.recipients.get(s.toLowerCase())!.primarySmtpAddress);
    const before = status.members;
    const toAdd = mergeAddresses([], resolved).filter((s) => !before.some((m) => m.toLowerCase() === s.toLowerCase()));
    if (toAdd.length === 0) {
      return { error: new OpterError('E_INPUT_INVALID', { detail: `${resolved.join(', ')} may already send through ${registration.appDisplayName}.`, field: 'senders' }) };
    }
    return {
      payload: {
        appName: registration.appDisplayName,
        appId: status.app.appId,
        registrationId: registration.id,
        senders: toAdd,
        membersBefore: before,
        membersAfter: mergeAddresses(before, toAdd),
        groupName: names.groupName,
        groupAlias: names.groupAlias,
        groupSmtp: status.group.smtp,
        scoping: facts?.scoping === 'rbac' ? 'rbac' : 'access-policy',
        origin,
      },
    };
  } catch (e) {
    return { error: toOpterError(e) };
  }
}

function submitted(services: BotServices, actor: Actor, payload: AddSenderPayload, dedupeKey: string, id?: string): AdaptiveCardJson {
  const { request, targets } = createRequestWithApprovals(services, {
    ...(id ? { id } : {}),
    kind: 'add-sender',
    actor,
    appName: payload.appName,
    payload,
    dedupeKey,
    summary: requestedWording('add-sender', payload),
  });
  return noticeCard({
    title: 'Sent for approval',
    text: `Request ${request.id} to add ${payload.senders.join(', ')} to ${payload.appName} went to ${describeTargets(targets)}. Nothing changes until someone other than you approves it.`,
    tone: 'good',
    facts: [
      { title: 'Senders now', value: payload.membersBefore.join(', ') || '(none)' },
      { title: 'After approval', value: payload.membersAfter.join(', ') },
    ],
  });
}

/** Why these addresses cannot be added anywhere (syntax first, then the tenant's domains and mailboxes), or null. */
async function refuseSenders(services: BotServices, addresses: string[]): Promise<OpterError | null> {
  const syntax = checkSenderSyntax(addresses);
  if (syntax.length) return problemsToError(syntax);
  try {
    const check = await checkSendersInTenant(services.tenant.adapters.exchange, addresses);
    return check.problems.length ? problemsToError(check.problems) : null;
  } catch (e) {
    return toOpterError(e);
  }
}

/**
 * The chooser's registrations with the senders their groups have now. The bot's own history knows only what it
 * set up and added; members removed (by the bot or by hand in Exchange) or added outside it show only in the tenant.
 */
async function withSendersNow(services: BotServices, registrations: KnownRegistration[]): Promise<RegistrationChoice[]> {
  const { exchange } = services.tenant.adapters;
  return Promise.all(
    registrations.map(async (r) => {
      const members = await exchange.getDistributionGroupMembers(r.groupSmtp).catch(() => null);
      return { id: r.id, appDisplayName: r.appDisplayName, appId: r.appId, groupSmtp: r.groupSmtp, senders: members ? members.map((m) => m.primarySmtpAddress) : null };
    }),
  );
}

/** The typed command (the caller checked that the actor is an admin). Replies in the same conversation. */
export async function handleAddSenderCommand(services: BotServices, turn: TurnPort, actor: Actor, addresses: string[]): Promise<void> {
  if (addresses.length === 0) {
    await turn.send('Which mailbox should be allowed to send? For example: **add sender faktura@contoso.com** (several addresses are fine).');
    return;
  }
  const registrations = listRegistrations(services.store);
  if (registrations.length === 0) {
    await turn.send(
      cardMessage(noticeCard({ title: 'No Opter registration yet', text: 'I have not set up Opter email here yet. Type “set up Opter email” first; senders can be added after that.', tone: 'warning' })),
    );
    return;
  }
  const origin = originOf(turn, actor.tenantId);
  if (registrations.length > 1) {
    // The addresses are checked before the chooser (a stored draft) exists: a refused address is answered now,
    // and never kept. Which registration they go to does not change whether they are valid mailboxes.
    const refused = await refuseSenders(services, addresses);
    if (refused) {
      await turn.send(cardMessage(errorCard({ code: refused.code, detail: refused.detail })));
      return;
    }
    const draft = createDraft(services, { kind: 'add-sender', requester: requesterInfo(actor), tenantId: actor.tenantId, origin, senders: addresses });
    const choices = await withSendersNow(services, registrations);
    const sentId = await turn.send(cardMessage(chooseRegistrationCard({ requestId: draft.id, senders: addresses, registrations: choices })));
    if (sentId) recordReply(services, turn, draft.id, sentId);
    return;
  }
  const plan = await planAddSender(services, registrations[0]!, addresses, origin);
  if ('error' in plan) {
    await turn.send(cardMessage(errorCard({ code: plan.error.code, detail: plan.error.detail })));
    return;
  }
  // Teams may deliver the same message twice; its id makes the request once.
  await turn.send(cardMessage(submitted(services, actor, plan.payload, `add-sender:message:${turn.activityId}`)));
}

/** The chooser's Continue button. */
export async function handleChooseRegistration(services: BotServices, turn: TurnPort): Promise<InvokeResult> {
  const guarded = guardCardAction(turn, services, { verb: 'choose-registration', card: ['form'], subject: 'draft', draftKind: 'add-sender', access: 'draft-owner' });
  if (guarded.error) return { error: guarded.error };
  const { draft, actor, inputs } = guarded;
  const id = guarded.data.requestId;

  const existing = services.store.requests.get(id);
  if (existing) return cardResult(noticeCard({ title: 'Sent for approval', text: `Request ${id} was already sent to the approvers.`, tone: 'good' }));

  const registrations = listRegistrations(services.store);
  const senders = draft.senders ?? [];
  const chosen = inputs[CHOOSE_REGISTRATION_INPUTS.registration] ?? '';
  const registration = chosen ? findRegistration(services.store, chosen) : null;
  if (!registration) {
    return cardResult(chooseRegistrationCard({ requestId: id, senders, registrations: await withSendersNow(services, registrations), error: 'Choose one of the registrations listed.' }));
  }
  const plan = await planAddSender(services, registration, senders, draft.origin);
  if ('error' in plan) {
    return cardResult(
      chooseRegistrationCard({ requestId: id, senders, registrations: await withSendersNow(services, registrations), selectedId: registration.id, error: refusalMessage(plan.error) }),
    );
  }
  const card = submitted(services, actor, plan.payload, `add-sender:${id}`, id);
  await replaceForEveryone(services, turn, card);
  return cardResult(card);
}
