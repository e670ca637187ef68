/**
 * The result card of a finished request, for the outbox worker: rendered by the request's action (src/actions)
 * from the stored result at delivery time. Which job an approved request runs, what its progress card lists, what
 * the finished job leaves on the request and what is audited and posted are the action's too (the runner reads
 * them from the registry).
 */
import type { AdaptiveCardJson } from '../../cards';
import { registry } from '../../actions/registry';
import type { RequestRecord } from '../../store';
import type { LifecyclePayload } from '../types';

export function lifecycleResultCardFor(request: RequestRecord<LifecyclePayload>): AdaptiveCardJson {
  const card = registry.actionFor(request.kind)?.settlement.resultCard?.(request);
  if (!card) throw new Error(`request ${request.id} (${request.kind}) has no result card`);
  return card;
}
