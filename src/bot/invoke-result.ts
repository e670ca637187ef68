/**
 * What a card-action handler decides, and the invoke body Teams gets for it — SDK-free, so handlers can decide
 * without botbuilder; host/invoke.ts writes the body. Refusals are answered the same way everywhere: HTTP 200 with an
 * `application/vnd.microsoft.error` body carrying the catalogue code (4xx by category, 500 only for our own bugs).
 */
import type { AdaptiveCardJson } from '../cards';
import { ERROR_CATALOGUE, OpterError, type CatalogueEntry, type ErrorCode, type ErrorPlace } from '../core/errors';

export type InvokeBody =
  | { statusCode: 200; type: 'application/vnd.microsoft.card.adaptive'; value: AdaptiveCardJson }
  | { statusCode: 200; type: 'application/vnd.microsoft.activity.message'; value: string }
  | { statusCode: number; type: 'application/vnd.microsoft.error'; value: { code: string; message: string } };

/** What a card-action handler decides; `respond` turns it into the invoke body. */
export type InvokeResult = { card: AdaptiveCardJson } | { message: string } | { error: OpterError };

export function cardResult(card: AdaptiveCardJson): InvokeResult {
  return { card };
}

export function refusal(code: ErrorCode, detail?: string): InvokeResult {
  return { error: new OpterError(code, { detail }) };
}

/** HTTP-like status inside the body, by catalogue category. */
export function statusCodeFor(code: ErrorCode): number {
  switch (ERROR_CATALOGUE[code].category) {
    case 'permission':
      return 403;
    case 'input':
    case 'policy':
      return 400;
    case 'conflict':
    case 'unfinished':
      return code === 'E_REQUEST_NOT_FOUND' ? 404 : 409;
    case 'transient':
      return 503;
    default:
      return 500;
  }
}

/**
 * The human message of a refusal: title, what went wrong when the catalogue action does not already say it (e.g.
 * which card or request was refused), then what to do. Never contains a secret (catalogue text + detail).
 */
export function refusalMessage(error: OpterError, place: ErrorPlace = 'card'): string {
  const entry: CatalogueEntry = ERROR_CATALOGUE[error.code];
  const action = entry.actionIn?.[place] ?? entry.action;
  const detail = error.detail && !action.includes('{detail}') ? `: ${error.detail}` : '';
  return `${entry.title}${detail}. ${error.actionIn(place)}`.replace(/\.\s*\./g, '.').trim();
}

export function invokeBody(result: InvokeResult): InvokeBody {
  if ('card' in result) {
    // A per-user answer must never carry `refresh` (see host/invoke.ts); drop it rather than edit for all.
    const { refresh: _refresh, ...card } = result.card;
    return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card as AdaptiveCardJson };
  }
  if ('message' in result) return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: result.message };
  return {
    statusCode: statusCodeFor(result.error.code),
    type: 'application/vnd.microsoft.error',
    value: { code: result.error.code, message: refusalMessage(result.error) },
  };
}
