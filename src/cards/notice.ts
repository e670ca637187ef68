/** Error cards (from the one catalogue) and plain notices. */
import { ERROR_CATALOGUE, describeAction, type CatalogueEntry, type ErrorCode } from '../core/errors';
import { adaptiveCard, banner, factSet, heading, plainText, textBlock } from './elements';
import { escapeMarkdown } from './markdown';
import type { AdaptiveCardJson, CardElement, ErrorCardModel, NoticeCardModel } from './types';

export function errorCard(model: ErrorCardModel): AdaptiveCardJson {
  const place = model.place ?? 'chat';
  const entry: CatalogueEntry | null = model.code in ERROR_CATALOGUE ? ERROR_CATALOGUE[model.code as ErrorCode] : null;
  const title = entry ? entry.title : 'Something went wrong';
  // The catalogue action fills {detail}; for an unknown code the detail is shown as is.
  const action = entry ? describeAction(model.code as ErrorCode, model.detail, place) : model.detail ?? 'Try again; if it persists, check the bot log.';
  // Codes whose action text does not carry the detail show it on its own line (e.g. which address was refused).
  const detailLine = entry && model.detail && !(entry.actionIn?.[place] ?? entry.action).includes('{detail}') ? [plainText(model.detail)] : [];
  const body: CardElement[] = [
    banner(title, 'attention'),
    ...detailLine,
    textBlock('What to do', { weight: 'Bolder', size: 'Small' }),
    plainText(action, { spacing: 'None' }),
    factSet([
      ['Code', model.code],
      ['Request', model.requestId],
    ]),
  ];
  return adaptiveCard(body);
}

export function noticeCard(model: NoticeCardModel): AdaptiveCardJson {
  const tone = model.tone ?? 'info';
  // Notices are sentences the bot composes around names, addresses and reasons: all shown literally.
  const title = escapeMarkdown(model.title);
  const body: CardElement[] = tone === 'info' ? [...heading(title)] : [banner(title, tone === 'good' ? 'good' : tone === 'warning' ? 'warning' : 'attention')];
  body.push(textBlock(escapeMarkdown(model.text)));
  if (model.facts && model.facts.length > 0) body.push(factSet(model.facts.map((f) => [f.title, f.value])));
  return adaptiveCard(body);
}
