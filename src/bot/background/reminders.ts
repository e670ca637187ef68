/**
 * Expiry reminders: once a day (by the bot's clock) the worker reads every registration's secrets from the tenant
 * and, at 30, 7 and 1 day(s) before a secret expires (and once when it has expired), posts a reminder card with
 * "Rotate now" to the owners' 1:1 chats and to the audit channel.
 *
 * Exactly once per (app, secret, threshold): the engine's dueExpiryReminders offers each candidate to
 * `kv.markOnce`, and the markers, the audit entry and the outbox posts are written in one transaction, so neither a
 * restart nor a second process on the same DATA_DIR fires a threshold again — and a marked reminder is never lost.
 */
import { expiryReminderCard, type AdaptiveCardJson } from '../../cards';
import { dueExpiryReminders, type ExpiryReminder } from '../../provisioning';
import type { RequestKind, RequestRecord } from '../../store';
import { appendAudit } from '../handlers/audit';
import { describeError } from '../describe-error';
import { tenantSurvey } from '../handlers/tenant-registrations';
import type { BotServices, OutboxPayload, RequestResult } from '../types';
import { SYSTEM_ACTOR } from '../types';

export const EXPIRY_CHECK_KEY = 'expiry-check:last-run';

/**
 * The people a registration's reminders go to: whoever set it up, rotated its secret or adopted it through the bot
 * (newest request per person, whose origin opens their 1:1 chat if the bot does not know it yet).
 */
export function ownerRequests(services: BotServices, appId: string, appName: string): RequestRecord[] {
  const kinds = ['provision', 'rotate-secret', 'adopt'] as RequestKind[];
  const seen = new Set<string>();
  const out: RequestRecord[] = [];
  for (const r of services.store.requests.list({ appName, status: 'succeeded', kind: kinds })) {
    const clientId = (r.result as Partial<RequestResult> | null)?.clientId;
    if (!clientId || clientId.toLowerCase() !== appId.toLowerCase()) continue;
    const who = r.requester.aadObjectId.toLowerCase();
    if (seen.has(who)) continue;
    seen.add(who);
    out.push(r);
  }
  return out;
}

/** The daily check. Returns the reminders fired now (none when the last check is less than the interval ago). */
export async function sweepExpiryReminders(services: BotServices): Promise<ExpiryReminder[]> {
  const { store, clock, settings, log } = services;
  const now = clock.now();
  const last = store.kv.get<{ at: string }>(EXPIRY_CHECK_KEY)?.value;
  if (last && now.getTime() - new Date(last.at).getTime() < settings.expiryCheckIntervalMs) return [];
  let regs;
  let unchecked: string[];
  try {
    ({ registrations: regs, unchecked } = await tenantSurvey(services));
  } catch (e) {
    // Not marked as run: the next sweep tries again.
    log.warn(`expiry check could not read the registrations (will retry): ${describeError(e)}`);
    return [];
  }
  const candidates = regs.map((r) => ({
    appId: r.appId,
    appDisplayName: r.appDisplayName,
    secrets: r.secrets.map((s) => ({ keyId: s.keyId, displayName: s.displayName, endDateTime: s.endDateTime })),
  }));
  // A least-privilege identity still gets its reminders; what it could not look at is said, once per distinct gap.
  if (unchecked.length) log.warn(`expiry check: ${unchecked.join(' ')}`);
  const fired = store.transaction(() => {
    store.kv.set(EXPIRY_CHECK_KEY, { at: now.toISOString(), ...(unchecked.length ? { unchecked } : {}) });
    if (unchecked.length && store.kv.markOnce(`expiry-check:unchecked:${unchecked.join('|')}`, { at: now.toISOString() })) {
      appendAudit(store, { actor: SYSTEM_ACTOR, action: 'expiry-check.incomplete', requestId: null, result: 'info', objects: {}, detail: `The daily expiry check ran without: ${unchecked.join(' ')}` });
    }
    const due = dueExpiryReminders(candidates, now, (key) => store.kv.markOnce(key, { at: now.toISOString() }));
    for (const reminder of due) {
      const owners = ownerRequests(services, reminder.appId, reminder.appDisplayName);
      appendAudit(store, {
        actor: SYSTEM_ACTOR,
        action: 'secret.expiry-reminder',
        requestId: null,
        result: reminder.expired ? 'failure' : 'info',
        objects: { appId: reminder.appId, keyId: reminder.keyId },
        detail: `${reminder.appDisplayName}: secret ${reminder.keyId} ${reminder.expired ? 'has expired' : `expires ${reminder.endDateTime} (${reminder.thresholdDays}-day reminder)`}; sent to ${owners.length ? owners.map((o) => o.requester.name ?? o.requester.aadObjectId).join(', ') : 'no known owner'} and the audit channel.`,
      });
      for (const owner of owners) {
        const payload: OutboxPayload = { kind: 'reminder', reminder, to: { owner: owner.requester.aadObjectId, requestId: owner.id } };
        store.outbox.enqueue({ kind: 'reminder', target: { appId: reminder.appId }, payload, dedupeKey: `reminder:${reminder.key}:${owner.requester.aadObjectId.toLowerCase()}` });
      }
      const toAudit: OutboxPayload = { kind: 'reminder', reminder, to: 'audit' };
      store.outbox.enqueue({ kind: 'reminder', target: { appId: reminder.appId }, payload: toAudit, dedupeKey: `reminder:${reminder.key}:audit` });
    }
    return due;
  });
  if (fired.length) {
    log.info(`${fired.length} expiry reminder(s) fired`);
    services.poke();
  }
  return fired;
}

export function reminderCard(services: BotServices, r: ExpiryReminder): AdaptiveCardJson {
  return expiryReminderCard({
    registrationId: r.appId,
    appDisplayName: r.appDisplayName,
    clientId: r.appId,
    keyId: r.keyId,
    secretName: r.secretDisplayName,
    expiresAt: r.endDateTime,
    thresholdDays: r.thresholdDays,
    daysLeft: r.daysLeft,
    expired: r.expired,
    newerSecretExists: r.newerSecretExists,
    generatedAt: services.clock.now().toISOString(),
  });
}
