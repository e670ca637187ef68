/**
 * Test support: checks a card the way Teams and our own contract see it. Used by the card unit tests and by the
 * bot's integration tests ("every card the bot sends parses without errors"). Loads the official `adaptivecards`
 * parser with a dynamic import, which works under vitest; plain Node cannot import that package (docs/teams-facts.md §0.3),
 * so production code must not call this.
 */
import { MAX_REFRESH_USER_IDS } from './elements';
import { VERB_DATA_KEYS, isVerb } from './verbs';

type Json = unknown;

/** Teams-only properties the web parser does not know; everything else must survive a parse → toJSON round trip. */
const TEAMS_EXTENSIONS: ReadonlySet<string> = new Set(['/msteams']);
const ALLOWED_ACTION_TYPES: ReadonlySet<string> = new Set(['Action.Execute', 'Action.ShowCard', 'Action.ToggleVisibility']);
const MRI = /^29:\S+$/;

export interface CardCheckOptions {
  /** Require `refresh` to be absent (one-time secret cards: a refresh must never be able to reveal). */
  forbidRefresh?: boolean;
}

/** Returns every problem found; an empty array means the card is fine. */
export async function checkCard(card: Json, options: CardCheckOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  if (!isObject(card)) return ['card is not an object'];
  if (card.type !== 'AdaptiveCard') problems.push(`type is ${String(card.type)}`);
  if (card.version !== '1.5') problems.push(`version is ${String(card.version)}, expected 1.5`);
  if (card.$schema !== 'http://adaptivecards.io/schemas/adaptive-card.json') problems.push('missing or unexpected $schema');
  if (options.forbidRefresh && 'refresh' in card) problems.push('card carries a refresh');

  problems.push(...(await parserProblems(card)));
  problems.push(...contractProblems(card));
  return problems;
}

async function parserProblems(card: Record<string, Json>): Promise<string[]> {
  const AC = await import('adaptivecards');
  const problems: string[] = [];
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    problems.push(`parse: ${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  for (const e of parsed.validateProperties().validationEvents) {
    problems.push(`validate: ${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  // The parser silently drops what it does not understand (a misspelt property, a 1.6 feature); compare the
  // round trip so those show up instead of quietly vanishing in Teams.
  const roundTrip = parsed.toJSON(new AC.SerializationContext(AC.Versions.v1_5)) as Json;
  for (const path of droppedPaths(card, roundTrip, '')) {
    if (!TEAMS_EXTENSIONS.has(path)) problems.push(`parser dropped ${path}`);
  }
  return problems;
}

function droppedPaths(original: Json, roundTrip: Json, path: string): string[] {
  if (Array.isArray(original)) {
    if (!Array.isArray(roundTrip)) return [path];
    const lengthChanged = original.length !== roundTrip.length ? [`${path} (length ${original.length} → ${roundTrip.length})`] : [];
    const common = Math.min(original.length, roundTrip.length);
    return [...lengthChanged, ...original.slice(0, common).flatMap((item, i) => droppedPaths(item, roundTrip[i], `${path}/${i}`))];
  }
  if (isObject(original)) {
    if (!isObject(roundTrip)) return [path];
    return Object.entries(original).flatMap(([key, value]) =>
      key in roundTrip ? droppedPaths(value, roundTrip[key], `${path}/${key}`) : [`${path}/${key}`],
    );
  }
  return original === roundTrip ? [] : [`${path} (${JSON.stringify(original)} → ${JSON.stringify(roundTrip)})`];
}

function contractProblems(card: Record<string, Json>): string[] {
  const problems: string[] = [];
  const dataKeys = new Set<string>(['verb']);
  for (const keys of Object.values(VERB_DATA_KEYS)) for (const k of keys) dataKeys.add(k);

  walk(card, '', (node, path) => {
    if (typeof node.type !== 'string') return;
    if (node.type.startsWith('Action.') && !ALLOWED_ACTION_TYPES.has(node.type)) problems.push(`${path}: ${node.type} is not allowed (Action.Execute only)`);
    if (node.type === 'Action.Execute') problems.push(...executeProblems(node, path));
    // Teams merges input values into action.data by id: an input named like a data key would overwrite it.
    if (node.type.startsWith('Input.') && typeof node.id === 'string' && dataKeys.has(node.id)) {
      problems.push(`${path}: input id "${node.id}" collides with an action data key`);
    }
  });

  if ('refresh' in card) {
    const refresh = card.refresh;
    if (!isObject(refresh) || !isObject(refresh.action) || refresh.action.type !== 'Action.Execute') problems.push('refresh.action is not an Action.Execute');
    const userIds = isObject(refresh) ? refresh.userIds : undefined;
    if (!Array.isArray(userIds)) problems.push('refresh.userIds missing (without it Teams refreshes for every member)');
    else {
      if (userIds.length > MAX_REFRESH_USER_IDS) problems.push(`refresh.userIds has ${userIds.length} entries (max ${MAX_REFRESH_USER_IDS})`);
      for (const id of userIds) if (typeof id !== 'string' || !MRI.test(id)) problems.push(`refresh.userIds entry ${JSON.stringify(id)} is not a user MRI (29:…)`);
    }
  }
  return problems;
}

function executeProblems(node: Record<string, Json>, path: string): string[] {
  const problems: string[] = [];
  if (!isVerb(node.verb)) {
    problems.push(`${path}: verb ${JSON.stringify(node.verb)} is not in VERBS`);
    return problems;
  }
  const allowed: readonly string[] = VERB_DATA_KEYS[node.verb];
  const data = node.data;
  if (data === undefined) {
    if (allowed.length > 0) problems.push(`${path}: ${node.verb} has no data (needs ${allowed.join(', ')})`);
    return problems;
  }
  if (!isObject(data)) return [`${path}: data is not an object`];
  for (const [key, value] of Object.entries(data)) {
    if (!allowed.includes(key)) problems.push(`${path}: ${node.verb} data carries "${key}" (allowed: ${allowed.join(', ') || 'nothing'})`);
    else if (typeof value !== 'string' || value === '') problems.push(`${path}: ${node.verb} data.${key} is not a non-empty string`);
  }
  for (const key of allowed) if (!(key in data)) problems.push(`${path}: ${node.verb} data lacks "${key}"`);
  return problems;
}

function walk(node: Json, path: string, visit: (node: Record<string, Json>, path: string) => void): void {
  if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${path}/${i}`, visit));
  else if (isObject(node)) {
    visit(node, path);
    for (const [key, value] of Object.entries(node)) walk(value, `${path}/${key}`, visit);
  }
}

function isObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every object node in the card (body, actions, ShowCard sub-cards, refresh) that satisfies the predicate. */
export function findNodes(card: Json, predicate: (node: Record<string, Json>) => boolean): Array<Record<string, Json>> {
  const found: Array<Record<string, Json>> = [];
  walk(card, '', (node) => {
    if (predicate(node)) found.push(node);
  });
  return found;
}

/** A markdown field as a reader sees it, as far as the escaping in markdown.ts goes: backslash escapes resolved. */
export function shownMarkdown(text: string): string {
  return text.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

/**
 * Every visible string a card renders (TextBlock text, TextRun text, fact titles/values, choice titles, action
 * titles), as the reader sees it: the markdown fields (TextBlock text, facts) with their backslash escapes resolved.
 */
export function renderedTexts(card: Json): string[] {
  const texts: string[] = [];
  const facts = new WeakSet<object>();
  walk(card, '', (node) => {
    if (node.type === 'FactSet' && Array.isArray(node.facts)) for (const f of node.facts) if (isObject(f)) facts.add(f);
    const markdown = node.type === 'TextBlock' || facts.has(node);
    for (const key of ['text', 'title', 'value', 'label', 'placeholder']) {
      if (typeof node[key] === 'string') texts.push(markdown ? shownMarkdown(node[key] as string) : (node[key] as string));
    }
  });
  return texts;
}

/** Every Action.Execute in the card (including refresh, ShowCard sub-cards and ActionSets). */
export function executeActions(card: Json): Array<{ verb: string; data?: Record<string, unknown>; title?: string; associatedInputs?: string }> {
  const found: Array<{ verb: string; data?: Record<string, unknown>; title?: string; associatedInputs?: string }> = [];
  walk(card, '', (node) => {
    if (node.type === 'Action.Execute') found.push(node as unknown as { verb: string });
  });
  return found;
}

/** Ids of every input in the card (what Teams will merge into action.data). */
export function inputIds(card: Json): string[] {
  const ids: string[] = [];
  walk(card, '', (node) => {
    if (typeof node.type === 'string' && node.type.startsWith('Input.') && typeof node.id === 'string') ids.push(node.id);
  });
  return ids;
}

/** The card's warning boxes (elements.warningBox): warning-styled containers of "⚠ …" lines. */
export function warningBoxes(card: Json): Array<Record<string, Json>> {
  return findNodes(card, (n) => n.type === 'Container' && n.style === 'warning' && renderedTexts(n).every((t) => t.startsWith('⚠')));
}
