/**
 * Audit: every event is appended to the keyed hash chain, put in its thread (one per request) AND queued for the
 * audit channel in one transaction, so an event is either recorded and on its way to Teams, or neither. The outbox
 * worker renders the card from the stored entry at delivery time (auditCardFor), so the post shows exactly what the
 * chain holds — never a secret, because the audit log never holds one (and redacts shapes that look like one).
 * The bot and the `opter-mail` CLI both write through appendAudit.
 */
import { auditEntryCard, type AdaptiveCardJson, type AuditResult as CardAuditResult } from '../cards';
import type { ProgressEvent } from '../core/ports';
import { auditOutboxItem, type AuditActor, type AuditEntry, type AuditInput, type Store } from '../store';

/** The actor of entries the bot writes on its own (sweeps, expiry, deliveries). */
export const SYSTEM_ACTOR = { kind: 'system' as const, name: 'Opter Mail bot' };

export function appendAudit(store: Store, input: AuditInput): AuditEntry {
  return store.transaction(() => {
    const entry = store.audit.append(input);
    store.outbox.enqueue(auditOutboxItem(entry.seq, store.audit.joinThread(entry)));
    return entry;
  });
}

export function userActor(person: { aadObjectId: string; name?: string | null }): AuditActor {
  return { kind: 'user', aadObjectId: person.aadObjectId, name: person.name || person.aadObjectId };
}

const RESULT_FOR_CARD: Record<string, CardAuditResult> = { success: 'ok', failure: 'failed', refused: 'refused', info: 'info' };

/** Who, as the card says it: a terminal user also names the provisioning identity the command signed in as. */
function actorLine(actor: AuditActor): string {
  if (actor.kind !== 'cli') return actor.name;
  return `${actor.name} (opter-mail${actor.identity ? `, as provisioning identity ${actor.identity}` : ''})`;
}

/** Object ids the audit card has rows for, picked by name from the entry's objects. */
export function auditCardFor(entry: AuditEntry): AdaptiveCardJson {
  const o = entry.objects;
  return auditEntryCard({
    seq: entry.seq,
    hash: entry.hash,
    at: entry.at,
    actor: actorLine(entry.actor),
    action: entry.action,
    result: RESULT_FOR_CARD[entry.result] ?? 'info',
    requestId: entry.requestId ?? undefined,
    summary: entry.detail ?? undefined,
    objects: {
      appId: o.appId,
      servicePrincipalId: o.spObjectId,
      group: o.groupSmtp ?? o.group,
      keyId: o.keyId,
      jobId: o.jobId,
    },
  });
}

/** Journal step outputs worth auditing (ids only; the engine never records a secret in the journal). */
const STEP_OBJECT_KEYS = ['appId', 'appObjectId', 'spObjectId', 'groupSmtp', 'groupObjectId', 'policyIdentity', 'keyId', 'assignmentId', 'exoSpObjectId'];

/**
 * The audit entry for an engine progress event, or null for events that are not worth a line of their own: a step
 * starting, a step skipped because it is done, notes, and retries (those are on the live progress card; in the
 * audit channel a throttled tenant would bury the events that matter).
 */
export function auditInputForProgress(
  event: ProgressEvent,
  /** actor: who the engine works for (default the bot; the CLI passes its terminal user). */
  context: { requestId: string | null; stepOutputs?: Record<string, unknown>; waiting?: boolean; actor?: AuditActor },
): AuditInput | null {
  const objects: Record<string, string> = { jobId: event.jobId };
  for (const key of STEP_OBJECT_KEYS) {
    const v = context.stepOutputs?.[key];
    if (typeof v === 'string' && v) objects[key] = v;
  }
  const base = { actor: context.actor ?? SYSTEM_ACTOR, requestId: context.requestId, objects };
  switch (event.type) {
    case 'job-started':
      return { ...base, action: 'job.started', result: 'info', detail: null };
    case 'step-succeeded':
      return { ...base, action: `step.${event.step}.succeeded`, result: 'success', detail: event.summary };
    case 'step-failed':
      // A job that stops on purpose to wait (E_JOB_UNFINISHED) has not failed.
      if (context.waiting) return { ...base, action: `step.${event.step}.waiting`, result: 'info', detail: event.message };
      return { ...base, action: `step.${event.step}.failed`, result: 'failure', detail: `${event.code}: ${event.message}` };
    case 'check':
      // A check that did not run is neither a success nor a failure.
      return { ...base, action: 'verify.check', result: event.skipped ? 'info' : event.ok ? 'success' : 'failure', detail: `${event.name}: ${event.skipped ? `skipped — ${event.detail}` : event.detail}` };
    case 'job-finished':
      if (event.status === 'waiting' || (context.waiting && event.status === 'failed')) return { ...base, action: 'job.waiting', result: 'info', detail: null };
      return { ...base, action: `job.${event.status}`, result: event.status === 'succeeded' ? 'success' : 'failure', detail: null };
    default:
      return null;
  }
}

/**
 * A progress listener that audits an engine run: each event worth a line becomes an entry (see auditInputForProgress)
 * with the step's recorded object ids. Returns the entry it appended, if any. Used by the bot's runner and the CLI,
 * so both write the same entries for the same job.
 */
export function progressAuditor(store: Store, context: { requestId: (jobId: string) => string | null; actor?: AuditActor }): (event: ProgressEvent) => AuditEntry | null {
  let waiting = false;
  return (event) => {
    if (event.type === 'job-started') waiting = false;
    // A job that stops on purpose until a time (E_JOB_UNFINISHED) is waiting, not failing.
    if (event.type === 'step-failed' && event.code === 'E_JOB_UNFINISHED') waiting = true;
    const stepOutputs = 'step' in event ? store.journal.getStep(event.jobId, event.step)?.outputs : undefined;
    const input = auditInputForProgress(event, { requestId: context.requestId(event.jobId), stepOutputs, waiting, actor: context.actor });
    return input ? appendAudit(store, input) : null;
  };
}
