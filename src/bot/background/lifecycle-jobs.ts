/**
 * The engine side of a lifecycle request, for the runner: which job an approved request runs, what its progress
 * card lists, what the finished job leaves on the request (read back from the journal, so a job that finished while
 * the bot was down is settled the same way), and what the requester and the audit channel are told.
 */
import { lifecycleResultCard, type AdaptiveCardJson, type LifecycleResultModel } from '../../cards';
import type { JobRecord } from '../../core/ports';
import {
  ADOPT_STEPS,
  MIGRATE_STEPS,
  PROVISION_RBAC_STEPS,
  REMOVE_SENDER_STEPS,
  REPAIR_STEPS,
  ROTATE_STEPS,
  TEST_EMAIL_STEPS,
  type ProvisioningEngine,
} from '../../provisioning';
import { checkLine, checkState, unverifiedNotice } from '../../provisioning';
import { PROPAGATION_CAVEAT } from '../../provisioning';
import type { RequestRecord, Store } from '../../store';
import { appendAudit } from '../handlers/audit';
import type { BotSettings, LifecycleKind, LifecyclePayload, LifecycleRequestResult, OutboxPayload } from '../types';
import { SYSTEM_ACTOR } from '../types';

type LifecycleRequest = RequestRecord<LifecyclePayload>;

const kindOf = (r: LifecycleRequest) => r.kind as LifecycleKind;

/** The approved request's job (idempotent on the request id: a retried start finds the same job). */
export function createLifecycleJob(engine: ProvisioningEngine, request: LifecycleRequest, settings: BotSettings): JobRecord {
  const p = request.payload;
  const target = { appDisplayName: p.appName, ...(Object.keys(p.overrides ?? {}).length ? { overrides: p.overrides } : {}) };
  const key = { idempotencyKey: request.id };
  switch (kindOf(request)) {
    case 'rotate-secret':
      return engine.createRotateSecretJob({ ...target, secretValidYears: p.validYears, overlapDays: p.overlapDays ?? settings.rotationOverlapDays }, key);
    case 'remove-sender':
      return engine.createRemoveSenderJob({ ...target, senders: p.remove ?? [] }, key);
    case 'migrate-rbac':
      return engine.createMigrateJob({ ...target, settleMinutes: p.settleMinutes ?? settings.migrationSettleMinutes }, key);
    case 'test-email':
      return engine.createTestEmailJob({ ...target, from: p.from ?? '', to: p.to ?? '' }, key);
    case 'repair':
      return engine.createRepairJob(target, key);
    case 'adopt':
      return engine.createAdoptJob(target, key);
  }
}

export function lifecycleTitle(request: LifecycleRequest): string {
  const p = request.payload;
  switch (kindOf(request)) {
    case 'rotate-secret':
      return `New client secret for ${p.appName}`;
    case 'remove-sender':
      return `${p.repairOf ? 'Repair: removing' : 'Removing'} ${(p.remove ?? []).join(', ')} from ${p.appName}`;
    case 'migrate-rbac':
      return `Migrating ${p.appName} to RBAC for Applications`;
    case 'test-email':
      return `Test email from ${p.from} through ${p.appName}`;
    case 'repair':
      return `Repairing ${p.appName}`;
    case 'adopt':
      return `Adopting ${p.appName}`;
  }
}

export function lifecycleSteps(request: LifecycleRequest): readonly string[] {
  switch (kindOf(request)) {
    case 'rotate-secret':
      return ROTATE_STEPS;
    case 'remove-sender':
      return REMOVE_SENDER_STEPS;
    case 'migrate-rbac':
      return MIGRATE_STEPS;
    case 'test-email':
      return TEST_EMAIL_STEPS;
    case 'repair':
      // Repair re-runs the ensure steps of the registration's model (never a secret).
      return request.payload.scoping === 'rbac' ? ['locate', ...PROVISION_RBAC_STEPS.filter((s) => s !== 'secret')] : REPAIR_STEPS;
    case 'adopt':
      return ADOPT_STEPS;
  }
}

type Checks = LifecycleRequestResult['checks'];

/** What a finished lifecycle job leaves on its request, from the journal's step outputs (never a secret). */
export function lifecycleResultFromJournal(store: Store, tenantId: string, request: LifecycleRequest, job: JobRecord, notes: string[] = []): LifecycleRequestResult {
  const steps = new Map(store.journal.getSteps(job.id).map((s) => [s.step, s.outputs]));
  const str = (step: string, key: string) => (typeof steps.get(step)?.[key] === 'string' ? (steps.get(step)![key] as string) : '');
  const list = <T>(step: string, key: string): T[] => (Array.isArray(steps.get(step)?.[key]) ? (steps.get(step)![key] as T[]) : []);
  const p = request.payload;
  const kind = kindOf(request);
  const secret = steps.get('secret');
  const delivered = kind === 'rotate-secret' && typeof secret?.keyId === 'string' && secret.delivered === true;
  const located = steps.get('locate');
  const members = kind === 'remove-sender' ? list<string>('members', 'members') : ((located?.senders as string[] | undefined) ?? p.senders);
  const scoping = kind === 'migrate-rbac' ? 'rbac' : located?.scoping === 'rbac' ? 'rbac' : p.scoping === 'rbac' ? 'rbac' : 'access-policy';
  const result: LifecycleRequestResult = {
    kind,
    tenantId,
    clientId: str('locate', 'appId') || p.appId,
    appObjectId: str('locate', 'appObjectId'),
    spObjectId: str('locate', 'spObjectId'),
    groupSmtp: str('locate', 'groupSmtp') || (p.groupSmtp ?? ''),
    senders: members,
    membersAdded: [],
    keyId: delivered ? (secret!.keyId as string) : null,
    credentialEndDateTime: delivered && typeof secret!.endDateTime === 'string' ? secret!.endDateTime : null,
    checks: list<Checks[number]>('verify', 'checks'),
    scoping,
    notes,
  };
  if (kind === 'rotate-secret') {
    result.previous = list<{ keyId: string; endDateTime: string }>('secret', 'previous').map((x) => ({ keyId: x.keyId, endDateTime: x.endDateTime }));
    result.overlapEndsAt = str('secret', 'overlapEndsAt');
  }
  if (kind === 'remove-sender') {
    result.removed = list<string>('members', 'removed');
    result.notMembers = list<string>('members', 'notMembers');
  }
  if (kind === 'test-email') {
    result.layers = list<{ layer: string; ok: boolean; detail: string }>('testSend', 'layers');
    result.testOk = steps.get('testSend')?.ok === true;
    result.temporaryKeyRemoved = steps.get('testSend')?.temporaryKeyRemoved === true;
    if (!notes.includes(PROPAGATION_CAVEAT)) result.notes = [...notes, PROPAGATION_CAVEAT];
  }
  if (kind === 'migrate-rbac') {
    result.removedGraphGrant = list<string>('removeGraphGrant', 'removedAssignmentIds').length > 0;
    result.removedPolicies = list<string>('removePolicy', 'removedPolicies');
  }
  return result;
}

function checkLines(checks: Checks): string {
  return checks.map(checkLine).join('; ');
}

/**
 * Inside the transaction that marks the request succeeded: the kind's own audit entries and what goes to Teams
 * (the secret card and the rotation card for a new secret; a result card for the others).
 */
export function settleLifecycle(store: Store, request: LifecycleRequest, result: LifecycleRequestResult): void {
  const p = request.payload;
  const requestId = request.id;
  const objects = { appId: result.clientId, groupSmtp: result.groupSmtp };
  const enqueue = (payload: OutboxPayload, dedupeKey: string) => store.outbox.enqueue({ kind: payload.kind, target: { requestId }, payload, dedupeKey });
  switch (kindOf(request)) {
    case 'rotate-secret': {
      const previous = result.previous ?? [];
      appendAudit(store, {
        actor: SYSTEM_ACTOR,
        action: 'secret.rotated',
        requestId,
        result: 'success',
        objects: { ...objects, ...(result.keyId ? { keyId: result.keyId } : {}) },
        detail: `New secret ${result.keyId ?? '(not delivered)'}; ${previous.length ? `${previous.map((x) => x.keyId).join(', ')} keep working until ${result.overlapEndsAt} or until Opter is confirmed updated` : 'there was no older secret'}.`,
      });
      if (result.keyId) enqueue({ kind: 'secret-post', requestId }, `secret-post:${requestId}:${result.keyId}`);
      if (previous.length) enqueue({ kind: 'rotation-post', requestId }, `rotation-post:${requestId}`);
      return;
    }
    case 'remove-sender':
      for (const sender of result.removed ?? []) {
        appendAudit(store, {
          actor: SYSTEM_ACTOR,
          action: 'sender.removed',
          requestId,
          result: 'success',
          objects: { ...objects, sender },
          detail: `${sender} may no longer send through ${p.appName}${p.repairOf ? ' (it had been added outside the bot)' : ''}. ${checkLines(result.checks.filter((c) => c.name.includes(sender)))}`,
        });
      }
      break;
    case 'migrate-rbac':
      appendAudit(store, {
        actor: SYSTEM_ACTOR,
        action: 'registration.migrated',
        requestId,
        result: 'success',
        objects,
        detail: `Now RBAC for Applications only: Graph grant ${result.removedGraphGrant ? 'removed' : 'was not there'}, ${result.removedPolicies?.length ?? 0} access polic${result.removedPolicies?.length === 1 ? 'y' : 'ies'} removed. ${checkLines(result.checks)}`,
      });
      break;
    case 'test-email':
      appendAudit(store, {
        actor: SYSTEM_ACTOR,
        action: 'test-email.finished',
        requestId,
        result: result.testOk ? 'success' : 'failure',
        objects,
        detail: `From ${p.from} to ${p.to}: ${(result.layers ?? []).map((l) => `${l.layer} ${l.ok ? '✓' : '✗'}`).join(', ')}; temporary secret ${result.temporaryKeyRemoved ? 'removed' : 'NOT confirmed removed'}.`,
      });
      break;
    case 'repair':
      appendAudit(store, { actor: SYSTEM_ACTOR, action: 'registration.repaired', requestId, result: 'success', objects, detail: checkLines(result.checks) || null });
      break;
    case 'adopt':
      appendAudit(store, {
        actor: SYSTEM_ACTOR,
        action: 'registration.adopted',
        requestId,
        result: 'success',
        objects,
        detail: `Baseline: ${result.senders.join(', ') || 'no senders'} (${result.scoping === 'rbac' ? 'RBAC for Applications' : 'Application Access Policy'}). ${checkLines(result.checks)}`,
      });
      break;
  }
  enqueue({ kind: 'result-post', requestId }, `result-post:${requestId}`);
}

/** The result card of a finished lifecycle request (rendered from the stored result at delivery time). */
export function lifecycleResultCardFor(request: LifecycleRequest): AdaptiveCardJson {
  const p = request.payload;
  const r = (request.result ?? {}) as Partial<LifecycleRequestResult>;
  const checks = r.checks ?? [];
  const model: LifecycleResultModel = { requestId: request.id, title: '', ok: checks.every((c) => checkState(c) !== 'failed'), summary: '', checks, notes: (r.notes ?? []).slice(-4) };
  const notice = unverifiedNotice(checks);
  switch (kindOf(request)) {
    case 'remove-sender': {
      const removed = r.removed ?? [];
      model.title = removed.length ? `${removed.join(', ')} can no longer send through ${p.appName}` : `Nobody was removed from ${p.appName}`;
      model.summary = `${removed.length ? `Removed from ${r.groupSmtp}; each address now tests as refused.` : ''}${r.notMembers?.length ? ` Not members: ${r.notMembers.join(', ')}.` : ''}`.trim() || 'Nothing changed.';
      model.facts = [{ title: 'Senders now', value: (r.senders ?? []).join(', ') || '(none)' }];
      break;
    }
    case 'migrate-rbac':
      model.title = `${p.appName} now uses RBAC for Applications`;
      model.summary = `The Graph Mail.Send grant ${r.removedGraphGrant ? 'was removed' : 'was already gone'} and ${r.removedPolicies?.length ? 'the Application Access Policy was removed' : 'no access policy was left'}; the Exchange role assignment scoped to ${r.groupSmtp} carries the mail.`;
      break;
    case 'test-email': {
      const layers = r.layers ?? [];
      const label: Record<string, string> = { token: 'Token (sign-in as the app)', scope: 'Scope (may send as this mailbox)', send: 'Send accepted by Microsoft Graph' };
      model.ok = r.testOk === true;
      model.title = model.ok ? `Test email sent from ${p.from}` : `Test email from ${p.from} did not go through`;
      model.summary = `${model.ok ? `Check the inbox of ${p.to}.` : 'See which layer failed below.'} The temporary secret ${r.temporaryKeyRemoved ? 'was removed again' : 'could not be confirmed removed'}; no secret was shown to anyone.`;
      model.checksTitle = 'Result per layer';
      model.checks = layers.map((l) => ({ name: label[l.layer] ?? l.layer, ok: l.ok, detail: l.detail }));
      model.facts = [
        { title: 'From', value: p.from ?? '' },
        { title: 'To', value: p.to ?? '' },
      ];
      break;
    }
    case 'repair':
      model.title = `${p.appName} was repaired`;
      model.summary = notice ? 'Everything that was approved before is in place again.' : 'Everything that was approved before is in place again and verified.';
      break;
    case 'adopt':
      model.title = `${p.appName} is now managed by the bot`;
      model.summary = `Baseline recorded: ${(r.senders ?? []).join(', ') || 'no senders'}. From now on “status” reports drift, expiring secrets are reminded, and repair restores this state.`;
      break;
    case 'rotate-secret':
      model.title = `New secret for ${p.appName} is ready`;
      model.summary = 'Reveal it on the secret card in your 1:1 chat with me.';
      break;
  }
  // A check that did not run is said, not passed over (the test email reports its layers instead).
  if (notice && kindOf(request) !== 'test-email') model.summary = `${model.summary} ${notice}`;
  return lifecycleResultCard(model);
}
