/**
 * The result card of a finished request, for the outbox worker (a `result-post`): rendered by the request's action
 * (src/actions) from the stored result at delivery time. Which job an approved request runs, what its progress card lists, what
 * the finished job leaves on the request and what is audited and posted are the action's too (the runner reads
 * them from the registry).
 */
import type { AdaptiveCardJson } from '../../cards';
import { registry as defaultRegistry, type Registry } from '../../actions/registry';
import type { RequestRecord } from '../../store';
import type { Origin } from '../types';

/** The result card of a finished request and where it goes; null when its action has none (or no action knows the kind). */
export function resultCardFor(request: RequestRecord, registry: Registry = defaultRegistry): { card: AdaptiveCardJson; origin: Origin } | null {
  const card = registry.actionFor(request.kind)?.settlement.resultCard?.(request);
  return card ? { card, origin: (request.payload as { origin: Origin }).origin } : null;
}
