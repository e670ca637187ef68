/**
 * Drafts: a form in progress (the setup form, the add-sender chooser) lives in kv (`draft:<id>`) until submitted,
 * and its id becomes the request id, so a re-submitted form finds its request. A draft belongs to the admin who
 * asked for it.
 */
import { randomUUID } from 'node:crypto';
import { OpterError } from '../../core/errors';
import { checkIsRequester, checkMayRequest, type Actor, type RoleConfig } from '../../requests/rules';
import type { BotServices, Draft, RequesterInfo } from '../types';

const DRAFT_PREFIX = 'draft:';

export function requesterInfo(actor: Actor): RequesterInfo {
  return { aadObjectId: actor.aadObjectId, name: actor.name, mri: actor.mri };
}

export function createDraft(services: Pick<BotServices, 'store' | 'clock'>, input: Omit<Draft, 'id' | 'createdAt'>): Draft {
  const draft: Draft = { ...input, id: randomUUID(), createdAt: services.clock.now().toISOString() };
  services.store.kv.set(`${DRAFT_PREFIX}${draft.id}`, draft);
  return draft;
}

export function getDraft(services: Pick<BotServices, 'store'>, id: string): Draft | null {
  return services.store.kv.get<Draft>(`${DRAFT_PREFIX}${id}`)?.value ?? null;
}

export function deleteDraft(services: Pick<BotServices, 'store'>, id: string): void {
  services.store.kv.delete(`${DRAFT_PREFIX}${id}`);
}

/** Who may use a draft's buttons: its own admin only (and still an admin). */
export function checkDraftOwner(actor: Actor | null, draft: Draft, roles: RoleConfig): OpterError | null {
  if (!actor) return new OpterError('E_NOT_REQUESTER');
  return (
    checkIsRequester(actor, { id: draft.id, status: 'pending', requester: draft.requester, tenantId: draft.tenantId, expiresAt: '' }, roles) ??
    checkMayRequest(actor, roles)
  );
}
