/**
 * Lifecycle requests (issue 6), typed or clicked: "new secret for <app>" / "I lost the secret" and the Rotate now /
 * New secret buttons, "remove sender x@…", "migrate <app> to RBAC", "test email to me from x@…", and the status
 * card's Repair and Adopt. Each one reads the tenant (never writes), refuses what cannot work with a reason, and
 * otherwise becomes a pending request with its approval posts — the same four-eyes rules as "set up Opter email":
 * nothing changes until someone other than the requester approves.
 *
 * Buttons carry only a registration id (the app's client id); the registration is looked up again in the tenant.
 */
import { errorCard, submittedRequestCard, type AdaptiveCardJson } from '../../cards';
import { OpterError, toOpterError } from '../../core/errors';
import { secretLifetime } from '../../provisioning';
import { inspectMigration } from '../../provisioning';
import { DEFAULT_SECRET_VALID_YEARS, deriveNames, formatRoundTripUtc } from '../../provisioning';
import { checkSenderSyntax, isValidAddress, problemsToError } from '../../provisioning';
import type { Actor } from '../../requests/rules';
import { describeTargets } from './approvals';
import type { Command } from './commands';
import { createRequestWithApprovals } from './forms';
import { cardResult, refusal, type InvokeResult } from '../invoke-result';
import { guardCardAction } from './card-action';
import { migrationView } from './lifecycle-plan';
import { actionFor } from '../../actions/registry';
import { cardMessage } from '../turn-port';
import { membersOutsideBot, pickRegistration, targetOf, tenantRegistrations, type RegistrationSummary } from './tenant-registrations';
import { originOf, type TurnPort } from '../turn-port';
import type { BotRequestKind, BotServices, LifecycleKind, LifecyclePayload, Origin, ProvisionPayload } from '../types';

/** A lifecycle request ready to be submitted. */
export interface LifecycleDraft {
  kind: LifecycleKind;
  payload: LifecyclePayload;
  /** What it does, for the audit entry and the requester's card ("a new client secret for X"). */
  what: string;
  facts: Array<{ title: string; value: string }>;
}

type Planned = LifecycleDraft | { error: OpterError };

/** Drift the engine's repair job fixes (the rest needs another action, see planRepair). */
const REPAIRABLE = new Set(['member-missing', 'grant-missing', 'policy-missing', 'group-missing', 'service-principal-missing', 'rbac-assignment-missing', 'tenant-wide-grant']);

const lower = (s: string) => s.toLowerCase();

/** Whether the status card offers Repair for it: only when planRepair would make a request of it. */
export function canRepair(r: RegistrationSummary): boolean {
  return r.managed && r.drift.some((d) => REPAIRABLE.has(d.kind) || d.kind === 'member-outside-bot');
}

/**
 * What may be asked for while a migration to RBAC of the same registration waits for Exchange's permission cache:
 * each action says (`runsBesideAWaitingMigration`, with its reason, in src/actions). The waiting job is parked: it
 * holds nothing, and runs again only after its time. Two jobs never run at the same moment either way: the runner
 * runs one job per registration at a time, so a repair approved just as the wait ends cannot interleave with the
 * migration's removal steps.
 */
const runsBesideAWaitingMigration = (kind: BotRequestKind): boolean => actionFor(kind)?.runsBesideAWaitingMigration ?? false;

/**
 * A request for this app that is still on its way, which a new request of `kind` would race; null when there is
 * none. A migration parked until Exchange has caught up does not count for the kinds that are safe beside it.
 */
function inFlight(services: BotServices, appName: string, kind: BotRequestKind): { id: string; status: string; kind: string } | null {
  const parked = new Set(services.engine.waitingJobs().map((w) => w.job.id));
  const besideWait = runsBesideAWaitingMigration(kind);
  return (
    services.store.requests
      .list({ appName, status: ['pending', 'approved', 'provisioning'] })
      .find((r) => !(besideWait && r.kind === 'migrate-rbac' && r.status === 'provisioning' && r.jobId && parked.has(r.jobId))) ?? null
  );
}

/** What the request does, in its action's words ("remove a@x from App"). */
function what(kind: LifecycleKind, payload: LifecyclePayload): string {
  return actionFor(kind)!.audit.what(payload);
}

function base(r: RegistrationSummary, origin: Origin): LifecyclePayload {
  return { ...targetOf(r), origin };
}

export async function planNewSecret(services: BotServices, r: RegistrationSummary, origin: Origin): Promise<Planned> {
  const { directory } = services.tenant.adapters;
  // The validity the registration was set up with (the script's default otherwise), clamped to the tenant policy.
  const setup = services.store.requests
    .list<ProvisionPayload>({ appName: r.appDisplayName, kind: 'provision', status: 'succeeded' })
    .find((x) => lower(String((x.result as { clientId?: string } | null)?.clientId ?? '')) === lower(r.appId));
  const years = setup?.payload.validYears ?? DEFAULT_SECRET_VALID_YEARS;
  const maxLifetime = await directory.getMaxPasswordLifetime().catch(() => null);
  const life = secretLifetime(services.clock.now(), years, maxLifetime);
  const overlapDays = services.settings.rotationOverlapDays;
  const payload: LifecyclePayload = {
    ...base(r, origin),
    validYears: years,
    overlapDays,
    oldSecrets: r.secrets.map((s) => ({ keyId: s.keyId, expiresAt: s.endDateTime })),
    // The registration's own secret name (derived like the script does, or its override).
    credentialName: deriveNames(r.appDisplayName, r.overrides).secretDisplayName,
    credentialExpiresAt: formatRoundTripUtc(life.endDateTime),
    credentialClamped: life.clamped,
  };
  return {
    kind: 'rotate-secret',
    payload,
    what: what('rotate-secret', payload),
    facts: [
      { title: 'App', value: r.appDisplayName },
      { title: 'Old secrets', value: r.secrets.length ? `${r.secrets.length}, kept working until Opter uses the new one (at most ${overlapDays} days)` : 'none' },
    ],
  };
}

export async function planRemoveSender(services: BotServices, r: RegistrationSummary, addresses: string[], origin: Origin, repairOf?: 'member-outside-bot'): Promise<Planned> {
  const syntax = checkSenderSyntax(addresses);
  if (syntax.length) return { error: problemsToError(syntax) };
  const { exchange } = services.tenant.adapters;
  const remove: string[] = [];
  for (const a of addresses) {
    // The address typed may be a secondary one: compare by the mailbox's primary address.
    const recipient = await exchange.getRecipient(a);
    const primary = recipient?.primarySmtpAddress ?? a;
    const member = r.senders.find((s) => lower(s) === lower(primary));
    if (!member) return { error: new OpterError('E_INPUT_INVALID', { detail: `${a} is not a sender of ${r.appDisplayName} (senders: ${r.senders.join(', ') || 'none'}).`, field: 'senders' }) };
    if (!remove.some((x) => lower(x) === lower(member))) remove.push(member);
  }
  const after = r.senders.filter((s) => !remove.some((x) => lower(x) === lower(s)));
  const payload: LifecyclePayload = { ...base(r, origin), remove, membersAfter: after, ...(repairOf ? { repairOf } : {}) };
  return {
    kind: 'remove-sender',
    payload,
    what: what('remove-sender', payload),
    facts: [
      { title: 'Senders now', value: r.senders.join(', ') },
      { title: 'After approval', value: after.join(', ') || '(none: nothing can send)' },
    ],
  };
}

export async function planMigrate(services: BotServices, r: RegistrationSummary, origin: Origin): Promise<Planned> {
  const { directory, exchange } = services.tenant.adapters;
  const settleMinutes = services.settings.migrationSettleMinutes;
  const { plan } = await inspectMigration({ directory, exchange }, { appDisplayName: r.appDisplayName, overrides: r.overrides, settleMinutes });
  if (plan.blockers.length) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} cannot be migrated yet: ${plan.blockers.join(' ')}` }) };
  if (plan.nothingToDo) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} already uses RBAC for Applications only; there is nothing to migrate.` }) };
  const payload: LifecyclePayload = { ...base(r, origin), plan, settleMinutes };
  return {
    kind: 'migrate-rbac',
    payload,
    what: what('migrate-rbac', payload),
    facts: [
      { title: 'App', value: r.appDisplayName },
      { title: 'Adds', value: plan.adds.join('; ') || 'nothing (already in place)' },
      { title: 'Removes', value: plan.removes.join('; ') || 'nothing' },
    ],
  };
}

export async function planTestEmail(services: BotServices, r: RegistrationSummary, from: string, to: string, origin: Origin): Promise<Planned> {
  if (!isValidAddress(from)) return { error: new OpterError('E_SENDER_INVALID', { detail: `"${from}" is not a valid sender address.` }) };
  const recipient = await services.tenant.adapters.exchange.getRecipient(from);
  const primary = recipient?.primarySmtpAddress ?? from;
  const isSender = r.senders.some((s) => lower(s) === lower(primary));
  const payload: LifecyclePayload = { ...base(r, origin), from: primary, to };
  return {
    kind: 'test-email',
    payload,
    what: what('test-email', payload),
    facts: [
      { title: 'From', value: `${primary}${isSender ? '' : ' (not a sender of this registration: the test shows it is refused)'}` },
      { title: 'To', value: to },
    ],
  };
}

/**
 * Repair from the status card: the ensure steps for drift the engine repairs; members added outside the bot are
 * removed (they never went through approval — "add sender" is the way to keep one); the rest is explained.
 */
export async function planRepair(services: BotServices, r: RegistrationSummary, origin: Origin): Promise<Planned> {
  if (!r.managed) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} is not managed by the bot yet; adopt it first (the repair needs the approved state to go back to).` }) };
  const repairable = r.drift.filter((d) => REPAIRABLE.has(d.kind));
  if (repairable.length) {
    const payload: LifecyclePayload = { ...base(r, origin), drift: repairable.map((d) => d.description) };
    return {
      kind: 'repair',
      payload,
      what: what('repair', payload),
      facts: [{ title: 'Drift', value: repairable.map((d) => d.description).join(' ') }],
    };
  }
  if (r.drift.some((d) => d.kind === 'member-outside-bot')) {
    const strangers = membersOutsideBot(services, r);
    if (strangers.length) return planRemoveSender(services, r, strangers, origin, 'member-outside-bot');
  }
  if (r.drift.some((d) => d.kind === 'migration-unfinished')) {
    const request = r.migration ? services.store.requests.getByJobId(r.migration.jobId) : null;
    return {
      error: new OpterError('E_INPUT_INVALID', {
        detail: `the migration of ${r.appDisplayName} to RBAC stopped on an error; ${request ? `press Retry on its progress card (request ${request.id})` : 'run “opter-mail resume”'} to continue it. Mail keeps flowing meanwhile.`,
      }),
    };
  }
  if (r.migration?.state === 'waiting') {
    return {
      error: new OpterError('E_INPUT_INVALID', {
        detail: `${r.appDisplayName} shows no drift: its migration to RBAC waits for Exchange’s permission cache${r.migration.until ? ` until ${r.migration.until}` : ''} as planned and continues by itself.`,
      }),
    };
  }
  if (r.drift.some((d) => d.kind === 'no-live-secret')) {
    return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} has no valid secret: ask for a new one (“new secret for ${r.appDisplayName}”).` }) };
  }
  if (r.drift.length === 0) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} shows no drift; there is nothing to repair.` }) };
  return { error: new OpterError('E_INPUT_INVALID', { detail: `this needs a manual fix in Entra ID or Exchange: ${r.drift.map((d) => d.description).join(' ')}` }) };
}

export function planAdopt(r: RegistrationSummary, origin: Origin): Planned {
  if (r.managed) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} is already managed by the bot.` }) };
  if (!r.adoptable) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} does not look like a registration made by Opter’s script (derived group and a scope on it).` }) };
  const payload = base(r, origin);
  return {
    kind: 'adopt',
    payload,
    what: what('adopt', payload),
    facts: [
      { title: 'App', value: r.appDisplayName },
      { title: 'Senders', value: r.senders.join(', ') || '(none)' },
    ],
  };
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

type LifecycleCommand = Extract<Command, { kind: 'new-secret' | 'remove-sender' | 'migrate' | 'test-email' }>;

/** A typed lifecycle command from an admin (the caller checked that). Replies in the same conversation. */
export async function handleLifecycleCommand(services: BotServices, turn: TurnPort, actor: Actor, command: LifecycleCommand): Promise<void> {
  const reply = (card: AdaptiveCardJson) => turn.send(cardMessage(card));
  const fail = (e: OpterError) => reply(errorCard({ code: e.code, detail: e.detail }));
  if (command.kind === 'remove-sender' && command.addresses.length === 0) {
    await turn.send('Which mailbox should no longer send? For example: **remove sender old@contoso.com** (add **from <app name>** when there are several registrations).');
    return;
  }
  if (command.kind === 'test-email' && !command.from) {
    await turn.send('Which sender should the test come from? For example: **test email to me from faktura@contoso.com**.');
    return;
  }
  try {
    const regs = await tenantRegistrations(services);
    const origin = originOf(turn, actor.tenantId);
    let planned: Planned;
    switch (command.kind) {
      case 'new-secret': {
        const picked = pickRegistration(regs, { app: command.app, example: (n) => `new secret for ${n}` });
        if ('error' in picked) return void (await fail(picked.error));
        planned = await planNewSecret(services, picked.registration, origin);
        if (command.lost && !('error' in planned)) planned.what += ' (the current one was lost)';
        break;
      }
      case 'remove-sender': {
        const picked = pickRegistration(regs, { app: command.app, sender: await primaryOf(services, command.addresses[0]!), example: (n) => `remove sender ${command.addresses[0]} from ${n}` });
        if ('error' in picked) return void (await fail(picked.error));
        planned = await planRemoveSender(services, picked.registration, command.addresses, origin);
        break;
      }
      case 'migrate': {
        const picked = pickRegistration(regs, { app: command.app, example: (n) => `migrate ${n} to RBAC` });
        if ('error' in picked) return void (await fail(picked.error));
        planned = await planMigrate(services, picked.registration, origin);
        break;
      }
      case 'test-email': {
        if (command.to !== 'me') {
          return void (await fail(new OpterError('E_INPUT_INVALID', { detail: 'I send test messages only to you, the person asking: write “test email to me from …”.' })));
        }
        const to = await requesterAddress(turn);
        if (!to) return void (await fail(new OpterError('E_INPUT_INVALID', { detail: 'Teams did not tell me your email address, so I cannot send you a test message.' })));
        const from = command.from!;
        const picked = pickRegistration(regs, { app: command.app, sender: await primaryOf(services, from), example: (n) => `test email to me from ${from} via ${n}` });
        if ('error' in picked) return void (await fail(picked.error));
        planned = await planTestEmail(services, picked.registration, from, to, origin);
        break;
      }
    }
    if ('error' in planned) return void (await fail(planned.error));
    // Teams may deliver the same message twice; its id makes the request once.
    await reply(submitLifecycle(services, actor, planned, `${planned.kind}:message:${turn.activityId}`));
  } catch (e) {
    await fail(toOpterError(e));
  }
}

async function primaryOf(services: BotServices, address: string): Promise<string> {
  if (!isValidAddress(address)) return address;
  const r = await services.tenant.adapters.exchange.getRecipient(address).catch(() => null);
  return r?.primarySmtpAddress ?? address;
}

/** The registration buttons (status card, reminder, secret card): New secret / Rotate now, Repair, Adopt. */
export async function handleRegistrationAction(services: BotServices, turn: TurnPort, verb: 'rotate-secret' | 'repair' | 'adopt'): Promise<InvokeResult> {
  const guarded = guardCardAction(turn, services, { verb, missingData: 'the card did not say which registration', card: null, subject: 'none', access: 'admin' });
  if (guarded.error) return { error: guarded.error };
  const { actor } = guarded;
  const id = guarded.data.registrationId;
  const regs = await tenantRegistrations(services);
  const r = regs.find((x) => lower(x.appId) === lower(id));
  if (!r) return refusal('E_NOT_FOUND', `the registration ${id} is no longer in the tenant.`);
  const origin = originOf(turn, actor.tenantId);
  const planned = verb === 'rotate-secret' ? await planNewSecret(services, r, origin) : verb === 'repair' ? await planRepair(services, r, origin) : planAdopt(r, origin);
  if ('error' in planned) return { error: planned.error };
  // A Teams retry of the same click carries the same activity id.
  return cardResult(submitLifecycle(services, actor, planned, `${planned.kind}:${verb}:${r.appId}:${turn.activityId}`, 'card'));
}
