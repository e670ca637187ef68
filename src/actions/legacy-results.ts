/**
 * The one place that still reads a finished job's step outputs by name: jobs that succeeded before the engine stored
 * their typed result (the journal migration that added `jobs.result` left it empty on older rows). A request whose
 * job finished like that, while nobody listened, is settled from its journal here; every other job is settled from
 * its typed result (results.ts). Built-in kinds only: a kind added later never ran before results were stored.
 */
import type { LifecycleRequestResult, LifecyclePayload, RequestResult } from './common';
import { PROPAGATION_CAVEAT, registrationInputOf } from '../provisioning';
import type { ActionRequest } from './common';

type Steps = ReadonlyMap<string, Record<string, unknown>>;
type Checks = RequestResult['checks'];

function reader(steps: Steps) {
  const out = (step: string, key: string): unknown => steps.get(step)?.[key];
  return {
    out,
    str: (step: string, key: string) => {
      const v = out(step, key);
      return typeof v === 'string' ? v : '';
    },
    list: <T>(step: string, key: string): T[] => {
      const v = out(step, key);
      return Array.isArray(v) ? (v as T[]) : [];
    },
  };
}

/** provision, add-sender: the facts rebuilt from the steps of the provision chain (or of locate, for add-sender). */
function provisionFromSteps(tenantId: string, job: { input: unknown }, steps: Steps): RequestResult {
  const { out, str, list } = reader(steps);
  const located = steps.has('locate');
  const delivered = typeof out('secret', 'keyId') === 'string' && out('secret', 'delivered') === true;
  const scoping = registrationInputOf(job)?.scoping === 'rbac' || str('locate', 'scoping') === 'rbac' ? 'rbac' : 'access-policy';
  const unchecked = list<string>('locate', 'unchecked');
  return {
    tenantId,
    clientId: located ? str('locate', 'appId') : str('app', 'appId'),
    appObjectId: located ? str('locate', 'appObjectId') : str('app', 'appObjectId'),
    spObjectId: located ? str('locate', 'spObjectId') : str('servicePrincipal', 'spObjectId'),
    groupSmtp: located ? str('locate', 'groupSmtp') : str('group', 'groupSmtp'),
    senders: list<string>('validate', 'senders'),
    membersAdded: located ? list<string>('members', 'membersAdded') : list<string>('group', 'membersAdded'),
    keyId: delivered ? str('secret', 'keyId') : null,
    credentialEndDateTime: str('secret', 'endDateTime') || null,
    checks: list<Checks[number]>('verify', 'checks'),
    scoping,
    ...(unchecked.length ? { unchecked } : {}),
  };
}

/** A lifecycle kind: the common facts from `locate` and `verify`, then what the kind's own step recorded. */
function lifecycleFromSteps(request: ActionRequest<LifecyclePayload>, tenantId: string, steps: Steps): LifecycleRequestResult {
  const { out, str, list } = reader(steps);
  const p = request.payload;
  const delivered = request.kind === 'rotate-secret' && typeof out('secret', 'keyId') === 'string' && out('secret', 'delivered') === true;
  const located = steps.get('locate');
  const base: LifecycleRequestResult = {
    kind: request.kind,
    tenantId,
    clientId: str('locate', 'appId') || p.appId,
    appObjectId: str('locate', 'appObjectId'),
    spObjectId: str('locate', 'spObjectId'),
    groupSmtp: str('locate', 'groupSmtp') || (p.groupSmtp ?? ''),
    senders: Array.isArray(located?.senders) ? list<string>('locate', 'senders') : p.senders,
    membersAdded: [],
    keyId: delivered ? str('secret', 'keyId') : null,
    credentialEndDateTime: delivered ? str('secret', 'endDateTime') || null : null,
    checks: list<Checks[number]>('verify', 'checks'),
    scoping: request.kind === 'migrate-rbac' || located?.scoping === 'rbac' || p.scoping === 'rbac' ? 'rbac' : 'access-policy',
    // The notes of a run are in its result only.
    notes: [],
  };
  switch (request.kind) {
    case 'rotate-secret':
      return { ...base, previous: list<{ keyId: string; endDateTime: string }>('secret', 'previous').map((x) => ({ keyId: x.keyId, endDateTime: x.endDateTime })), overlapEndsAt: str('secret', 'overlapEndsAt') };
    case 'remove-sender':
      return { ...base, senders: list<string>('members', 'members'), removed: list<string>('members', 'removed'), notMembers: list<string>('members', 'notMembers') };
    case 'migrate-rbac':
      return { ...base, removedGraphGrant: list<string>('removeGraphGrant', 'removedAssignmentIds').length > 0, removedPolicies: list<string>('removePolicy', 'removedPolicies') };
    case 'test-email':
      return {
        ...base,
        layers: list<{ layer: string; ok: boolean; detail: string }>('testSend', 'layers'),
        testOk: out('testSend', 'ok') === true,
        temporaryKeyRemoved: out('testSend', 'temporaryKeyRemoved') === true,
        notes: [PROPAGATION_CAVEAT],
      };
    default:
      return base;
  }
}

/**
 * `request.result` of a request whose job succeeded before typed results were stored, from the journal's step
 * outputs; null for a kind that has no such jobs.
 */
export function legacyRequestResult(request: ActionRequest<unknown>, tenantId: string, job: { input: unknown }, steps: Steps): RequestResult | null {
  switch (request.kind) {
    case 'provision':
    case 'add-sender':
      return provisionFromSteps(tenantId, job, steps);
    case 'retire-secrets': {
      const { str } = reader(steps);
      return { tenantId, clientId: str('locate', 'appId'), appObjectId: str('locate', 'appObjectId'), spObjectId: str('locate', 'spObjectId'), groupSmtp: '', senders: [], membersAdded: [], keyId: null, credentialEndDateTime: null, checks: [] };
    }
    case 'rotate-secret':
    case 'remove-sender':
    case 'migrate-rbac':
    case 'test-email':
    case 'repair':
    case 'adopt':
      return lifecycleFromSteps(request as ActionRequest<LifecyclePayload>, tenantId, steps);
    default:
      return null;
  }
}
