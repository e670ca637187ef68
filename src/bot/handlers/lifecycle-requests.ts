/**
 * Requests asked for through an action's request stage (src/actions/<kind>/request.ts), typed or clicked: "new
 * secret for <app>" / "I lost the secret" and the Rotate now / New secret buttons, "remove sender x@…", "migrate <app>
 * to RBAC", "test email to me from x@…", the status card's Repair and Adopt, and any action added later. The action
 * reads the tenant through the RequestContext lent here (never a write) and refuses what cannot work with a reason;
 * otherwise it becomes a pending request with its approval posts — the same four-eyes rules as "set up Opter email":
 * nothing changes until someone other than the requester approves.
 *
 * Buttons carry only a registration id (the app's client id); the registration is looked up again in the tenant.
 */
import { errorCard, submittedRequestCard, type AdaptiveCardJson } from '../../cards';
import { toOpterError, type OpterError } from '../../core/errors';
import { isValidAddress } from '../../provisioning';
import type { Actor } from '../../requests/rules';
import { describeTargets } from './approvals';
import { createRequestWithApprovals } from './forms';
import { cardResult, refusal, type InvokeResult } from '../invoke-result';
import { guardCardAction } from './card-action';
import { migrationView } from './lifecycle-plan';
import { actionFor, registry } from '../../actions/registry';
import type { AnyAction } from '../../actions/types';
import type { RequestContext, RequestPlan } from '../../actions/requests';
import { cardMessage } from '../turn-port';
import { membersOutsideBot, tenantRegistrations } from './tenant-registrations';
import { originOf, type TurnPort } from '../turn-port';
import type { BotServices, LifecyclePayload, Origin, ProvisionPayload } from '../types';

/** A lifecycle request ready to be submitted. */
export interface LifecycleDraft {
  /** An action's kind (a registered action may be newer than the built-in kinds). */
  kind: string;
  payload: LifecyclePayload;
  /** What it does, for the audit entry and the requester's card ("a new client secret for X"). */
  what: string;
  facts: Array<{ title: string; value: string }>;
}

const lower = (s: string) => s.toLowerCase();

/**
 * What may be asked for while a migration to RBAC of the same registration waits for Exchange's permission cache:
 * each action says (`runsBesideAWaitingMigration`, with its reason, in src/actions). The waiting job is parked: it
 * holds nothing, and runs again only after its time. Two jobs never run at the same moment either way: the runner
 * runs one job per registration at a time, so a repair approved just as the wait ends cannot interleave with the
 * migration's removal steps.
 */
const runsBesideAWaitingMigration = (kind: string): boolean => actionFor(kind)?.runsBesideAWaitingMigration ?? false;

/**
 * A request for this app that is still on its way, which a new request of `kind` would race; null when there is
 * none. A migration parked until Exchange has caught up does not count for the kinds that are safe beside it.
 */
function inFlight(services: BotServices, appName: string, kind: string): { id: string; status: string; kind: string } | null {
  const parked = new Set(services.engine.waitingJobs().map((w) => w.job.id));
  const besideWait = runsBesideAWaitingMigration(kind);
  return (
    services.store.requests
      .list({ appName, status: ['pending', 'approved', 'provisioning'] })
      .find((r) => !(besideWait && r.kind === 'migrate-rbac' && r.status === 'provisioning' && r.jobId && parked.has(r.jobId))) ?? null
  );
}

/**
 * Creates the pending request and its approval posts (once per dedupe key) and says so to the requester. `place`:
 * where the answer is shown (a chat reply, or the clicked card replaced for the clicking person).
 */
export function submitLifecycle(services: BotServices, actor: Actor, draft: LifecycleDraft, dedupeKey: string, place: 'chat' | 'card' = 'chat'): AdaptiveCardJson {
  const busy = inFlight(services, draft.payload.appName, draft.kind);
  const existing = services.store.requests.list({ appName: draft.payload.appName }).find((x) => x.dedupeKey === dedupeKey);
  if (busy && !existing) {
    return errorCard({
      code: 'E_INPUT_INVALID',
      detail: `A request for ${draft.payload.appName} is already ${busy.status} (request ${busy.id}, ${busy.kind}); wait until it is done, so the two do not race.`,
      place,
    });
  }
  const { request, targets } = createRequestWithApprovals(services, {
    kind: draft.kind,
    actor,
    appName: draft.payload.appName,
    payload: draft.payload,
    dedupeKey,
    summary: `Asked for ${draft.what}.`,
  });
  return submittedRequestCard({
    requestId: request.id,
    title: 'Sent for approval',
    text: `Request ${request.id} (${draft.what}) went to ${targets.length ? describeTargets(targets) : 'the approvers'}. Nothing changes until someone other than ${request.requester.name ?? 'you'} approves it; the progress will appear here.`,
    facts: draft.facts,
    ...(draft.payload.plan ? { migration: migrationView(draft.payload.plan) } : {}),
    approvalNeededBy: request.expiresAt,
  });
}

/** The requester's own address from the Teams roster (email, else UPN): the only recipient of a test email. */
async function requesterAddress(turn: TurnPort): Promise<string | null> {
  try {
    const member = await turn.member();
    const address = member.email || member.userPrincipalName || '';
    return isValidAddress(address) ? address : null;
  } catch {
    return null;
  }
}

/** What an action's request stage may read: the tenant, our own records, the requester's roster entry. */
export function requestContextOf(services: BotServices, turn: TurnPort): RequestContext {
  const { directory, exchange } = services.tenant.adapters;
  const primaries = new Map<string, Promise<string>>();
  return {
    now: () => services.clock.now(),
    settings: services.settings,
    directory,
    exchange,
    registrations: () => tenantRegistrations(services),
    // Picking the registration and planning the request both ask for the same mailboxes: one Exchange read each.
    primaryOf(address) {
      const key = address.toLowerCase();
      let primary = primaries.get(key);
      if (!primary) {
        primary = isValidAddress(address) ? exchange.getRecipient(address).then((r) => r?.primarySmtpAddress ?? address, () => address) : Promise.resolve(address);
        primaries.set(key, primary);
      }
      return primary;
    },
    requesterAddress: () => requesterAddress(turn),
    setupValidYears(r) {
      const setup = services.store.requests
        .list<ProvisionPayload>({ appName: r.appDisplayName, kind: 'provision', status: 'succeeded' })
        .find((x) => lower(String((x.result as { clientId?: string } | null)?.clientId ?? '')) === lower(r.appId));
      return setup?.payload.validYears ?? null;
    },
    membersOutsideBot: (r) => membersOutsideBot(services, r),
    requestOfJob: (jobId) => services.store.requests.getByJobId(jobId),
  };
}

/** The draft of a planned request, in the words of the action that will run it (which may be another one's). */
function draftOf(action: AnyAction, plan: Exclude<RequestPlan, { error: OpterError } | { ask: string }>, origin: Origin): LifecycleDraft {
  const kind = plan.kind ?? action.kind;
  const payload = { ...plan.payload, origin } as LifecyclePayload;
  return { kind, payload, what: `${(actionFor(kind) ?? action).audit.what(payload)}${plan.whatSuffix ?? ''}`, facts: plan.facts };
}

/** A typed command of an action with a request stage, from an admin (the caller checked that). Replies in the same conversation. */
export async function handleActionCommand(services: BotServices, turn: TurnPort, actor: Actor, action: AnyAction, command: unknown): Promise<void> {
  const fail = (e: OpterError) => turn.send(cardMessage(errorCard({ code: e.code, detail: e.detail })));
  try {
    const plan = await action.request!.fromCommand!(requestContextOf(services, turn), command);
    if ('ask' in plan) return void (await turn.send(plan.ask));
    if ('error' in plan) return void (await fail(plan.error));
    const draft = draftOf(action, plan, originOf(turn, actor.tenantId));
    // Teams may deliver the same message twice; its id makes the request once.
    await turn.send(cardMessage(submitLifecycle(services, actor, draft, `${draft.kind}:message:${turn.activityId}`)));
  } catch (e) {
    await fail(toOpterError(e));
  }
}

/** The registration buttons (status card, reminder, secret card): New secret / Rotate now, Repair, Adopt. */
export async function handleRegistrationAction(services: BotServices, turn: TurnPort, verb: 'rotate-secret' | 'repair' | 'adopt'): Promise<InvokeResult> {
  const guarded = guardCardAction(turn, services, { verb, missingData: 'the card did not say which registration', card: null, subject: 'none', access: 'admin' });
  if (guarded.error) return { error: guarded.error };
  const { actor } = guarded;
  const id = guarded.data.registrationId;
  const action = registry.actionFor(verb);
  const fromRegistration = action?.request?.fromRegistration;
  if (!action || !fromRegistration) return refusal('E_INPUT_INVALID', `nothing can be asked for with ${verb} on a registration.`);
  const regs = await tenantRegistrations(services);
  const r = regs.find((x) => lower(x.appId) === lower(id));
  if (!r) return refusal('E_NOT_FOUND', `the registration ${id} is no longer in the tenant.`);
  const plan = await fromRegistration(requestContextOf(services, turn), r);
  if ('ask' in plan) return { message: plan.ask };
  if ('error' in plan) return { error: plan.error };
  const draft = draftOf(action, plan, originOf(turn, actor.tenantId));
  // A Teams retry of the same click carries the same activity id.
  return cardResult(submitLifecycle(services, actor, draft, `${draft.kind}:${verb}:${r.appId}:${turn.activityId}`, 'card'));
}
