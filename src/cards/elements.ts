/**
 * Small constructors shared by the card builders. They keep the JSON to what Adaptive Cards 1.5 (the newest schema
 * Teams renders) defines, and never emit a property at its default value, so a card round-trips through the
 * official `adaptivecards` parser unchanged (card-check.ts relies on that to catch typos).
 */
import { escapeMarkdown } from './markdown';
import { VERB_DATA_KEYS, type ActionData, type Verb } from './verbs';
import type { AdaptiveCardJson, CardAction, CardElement, ExecuteAction, RefreshDefinition } from './types';

export const CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const CARD_VERSION = '1.5';
export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
/** Teams shows at most this many user-specific views per card (`refresh.userIds`). */
export const MAX_REFRESH_USER_IDS = 60;

export type TextColor = 'Default' | 'Accent' | 'Good' | 'Warning' | 'Attention';
export type ContainerStyle = 'emphasis' | 'good' | 'attention' | 'warning' | 'accent';

export function adaptiveCard(body: CardElement[], actions: CardAction[] = [], refresh?: RefreshDefinition): AdaptiveCardJson {
  const card: AdaptiveCardJson = { type: 'AdaptiveCard', $schema: CARD_SCHEMA, version: CARD_VERSION, msteams: { width: 'Full' }, body };
  if (actions.length > 0) card.actions = actions;
  if (refresh) card.refresh = refresh;
  return card;
}

/** The attachment shape botbuilder sends; the content type is the one Teams accepts (not `…adaptive.card`). */
export function cardAttachment(card: AdaptiveCardJson): { contentType: typeof CARD_CONTENT_TYPE; content: AdaptiveCardJson } {
  return { contentType: CARD_CONTENT_TYPE, content: card };
}

export function execute<V extends Verb>(
  verb: V,
  title: string,
  data: ActionData<V>,
  options: { inputs?: 'auto' | 'none'; style?: 'positive' | 'destructive' } = {},
): ExecuteAction {
  const action: ExecuteAction = { type: 'Action.Execute', title, verb, associatedInputs: options.inputs ?? 'none' };
  // Copy only the verb's declared keys, so a caller can never smuggle more into the card than the contract allows.
  const allowed: readonly string[] = VERB_DATA_KEYS[verb];
  const picked: Record<string, string> = {};
  for (const key of allowed) picked[key] = (data as Record<string, string>)[key];
  if (allowed.length > 0) action.data = picked;
  if (options.style) action.style = options.style;
  return action;
}

/** Keeps valid user MRIs (`29:…`), de-duplicated, at most 60 (Teams' limit). Anything else is dropped, never sent. */
export function refreshUserIds(ids: readonly string[]): string[] {
  const out: string[] = [];
  for (const id of ids) {
    if (typeof id !== 'string' || !/^29:\S+$/.test(id) || out.includes(id)) continue;
    out.push(id);
    if (out.length === MAX_REFRESH_USER_IDS) break;
  }
  return out;
}

export function heading(title: string, subtitle?: string): CardElement[] {
  const out: CardElement[] = [{ type: 'TextBlock', text: title, size: 'Large', weight: 'Bolder', wrap: true, style: 'heading' }];
  if (subtitle) out.push({ type: 'TextBlock', text: subtitle, isSubtle: true, wrap: true, spacing: 'None' });
  return out;
}

export function textBlock(
  text: string,
  options: { color?: TextColor; size?: 'Small' | 'Medium' | 'Large'; weight?: 'Bolder'; subtle?: boolean; spacing?: 'None' | 'Small' | 'Medium' | 'Large'; separator?: boolean } = {},
): CardElement {
  const el: CardElement = { type: 'TextBlock', text, wrap: true };
  if (options.color && options.color !== 'Default') el.color = options.color;
  if (options.size) el.size = options.size;
  if (options.weight) el.weight = options.weight;
  if (options.subtle) el.isSubtle = true;
  if (options.spacing) el.spacing = options.spacing;
  if (options.separator) el.separator = true;
  return el;
}

export function sectionTitle(text: string): CardElement {
  return { type: 'TextBlock', text, weight: 'Bolder', wrap: true, spacing: 'Medium' };
}

/**
 * Text that must appear exactly as given (ids, secrets, user-typed reasons): a TextRun is never parsed as markdown,
 * so underscores or brackets in a value cannot turn into italics or links (never pass it escaped text).
 */
export function plainText(
  text: string,
  options: { monospace?: boolean; color?: TextColor; size?: 'Small' | 'Medium' | 'Large'; weight?: 'Bolder'; spacing?: 'None' | 'Small'; id?: string } = {},
): CardElement {
  const run: Record<string, unknown> = { type: 'TextRun', text };
  if (options.monospace) run.fontType = 'Monospace';
  if (options.color && options.color !== 'Default') run.color = options.color;
  if (options.size) run.size = options.size;
  if (options.weight) run.weight = options.weight;
  const el: CardElement = { type: 'RichTextBlock', inlines: [run] };
  if (options.id) el.id = options.id;
  if (options.spacing) el.spacing = options.spacing;
  return el;
}

/** Facts are data, never formatting: every title and value is shown literally (callers pass them unescaped). */
export function factSet(facts: Array<[string, string | null | undefined]>): CardElement {
  return {
    type: 'FactSet',
    facts: facts
      .filter((f): f is [string, string] => typeof f[1] === 'string' && f[1] !== '')
      .map(([title, value]) => ({ title: escapeMarkdown(title), value: escapeMarkdown(value) })),
  };
}

export function container(items: CardElement[], options: { style?: ContainerStyle; id?: string; hidden?: boolean; spacing?: 'None' | 'Small' | 'Medium' | 'Large'; bleed?: boolean } = {}): CardElement {
  const el: CardElement = { type: 'Container', items };
  if (options.id) el.id = options.id;
  if (options.style) el.style = options.style;
  if (options.hidden) el.isVisible = false;
  if (options.spacing) el.spacing = options.spacing;
  if (options.bleed) el.bleed = true;
  return el;
}

/** Warnings in plain words (a name that mixes scripts), in a warning box; as TextRuns, so shown exactly as given. */
export function warningBox(lines: readonly string[]): CardElement[] {
  if (lines.length === 0) return [];
  return [container(lines.map((line) => plainText(line, { color: 'Warning', weight: 'Bolder' })), { style: 'warning', spacing: 'Medium' })];
}

/** A coloured banner line, the Teams way of showing a status. */
export function banner(text: string, style: ContainerStyle, detail?: string): CardElement {
  const color: TextColor = style === 'good' ? 'Good' : style === 'attention' ? 'Attention' : style === 'warning' ? 'Warning' : style === 'accent' ? 'Accent' : 'Default';
  const items = [textBlock(text, { weight: 'Bolder', color })];
  if (detail) items.push(textBlock(detail, { spacing: 'None', size: 'Small' }));
  return container(items, { style, bleed: true });
}

export function actionSet(actions: CardAction[], spacing?: 'Small' | 'Medium'): CardElement {
  const el: CardElement = { type: 'ActionSet', actions };
  if (spacing) el.spacing = spacing;
  return el;
}

export function bulletList(lines: string[]): string {
  return lines.map((l) => `- ${l}`).join('\n');
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2 March 2026, 14:05 UTC" — written out so every client shows the same time, whatever its locale. */
export function formatUtc(value: string | Date): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) return String(value);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

/** "in 3 days" / "2 days ago" relative to `now`, for expiry lines (whole days, hours under a day). */
export function relativeTo(value: string, now: string): string {
  const ms = new Date(value).getTime() - new Date(now).getTime();
  if (Number.isNaN(ms)) return '';
  const abs = Math.abs(ms);
  const hours = Math.round(abs / 3_600_000);
  const days = Math.floor(abs / 86_400_000);
  const span = days >= 1 ? `${days} day${days === 1 ? '' : 's'}` : `${hours} hour${hours === 1 ? '' : 's'}`;
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}

export function listOrNone(values: readonly string[], none = '(none)'): string {
  return values.length > 0 ? values.join(', ') : none;
}
