/**
 * The Teams client + Azure Bot Service half of the playground: activities shaped like the ones Teams delivers to a
 * bot (29: MRIs with aadObjectId, `channelData.tenant`, personal `a:1…` and channel-thread conversations, `<at>`
 * mentions with their entity, `adaptiveCard/action` invokes carrying `replyToId` and `trigger`), and the POST to the
 * bot's `/api/messages`. Shapes: docs/teams-facts.md §2.2 and §4.3.
 */
import { randomUUID } from 'node:crypto';
import { threadConversationId, type WorldBot, type WorldChannel, type WorldTeam, type WorldUser } from './world';

export interface Envelope {
  serviceUrl: string;
  bot: WorldBot;
  tenantId: string;
}

type Activity = Record<string, unknown> & { type: string; id: string };

const CLIENT_INFO = { type: 'clientInfo', locale: 'en-US', country: 'SE', platform: 'Web', timezone: 'Europe/Stockholm' };

function base(e: Envelope, from: WorldUser, id: string, conversation: Record<string, unknown>, channelData: Record<string, unknown>): Activity {
  const now = new Date().toISOString();
  return {
    type: 'message',
    id,
    channelId: 'msteams',
    serviceUrl: e.serviceUrl,
    timestamp: now,
    localTimestamp: now,
    locale: 'en-US',
    localTimezone: 'Europe/Stockholm',
    from: { id: from.mri, name: from.name, aadObjectId: from.aadObjectId },
    recipient: { id: e.bot.id, name: e.bot.name },
    conversation,
    channelData: { tenant: { id: e.tenantId }, ...channelData },
  };
}

function channelData(team: WorldTeam, channel: WorldChannel): Record<string, unknown> {
  return {
    teamsTeamId: team.id,
    teamsChannelId: channel.id,
    team: { id: team.id, name: team.name, aadGroupId: team.aadGroupId },
    channel: { id: channel.id, name: channel.name },
  };
}

function channelConversation(e: Envelope, channel: WorldChannel, rootId: string): Record<string, unknown> {
  return { isGroup: true, conversationType: 'channel', tenantId: e.tenantId, id: threadConversationId(channel.id, rootId) };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A message typed in the 1:1 chat with the bot (`id` = the id the message has in the chat). */
export function personalMessage(e: Envelope, from: WorldUser, conversationId: string, id: string, text: string): Activity {
  return {
    ...base(e, from, id, { conversationType: 'personal', tenantId: e.tenantId, id: conversationId }, {}),
    text,
    textFormat: 'plain',
    attachments: [],
    entities: [CLIENT_INFO],
  };
}

/**
 * Where `@<bot name>` appears in a channel post. Teams sends the mention as `<at>Name</at>` in the text plus a
 * mention entity naming the bot; without one the bot never receives a channel message.
 */
export function findBotMention(text: string, botName: string): { before: string; after: string } | null {
  const needle = `@${botName}`;
  const at = text.toLowerCase().indexOf(needle.toLowerCase());
  if (at < 0) return null;
  return { before: text.slice(0, at), after: text.slice(at + needle.length) };
}

/** A channel post that @mentions the bot (new thread when `rootId === id`, else a reply in that thread). */
export function channelMention(e: Envelope, from: WorldUser, team: WorldTeam, channel: WorldChannel, rootId: string, id: string, text: string): Activity | null {
  const mention = findBotMention(text, e.bot.name);
  if (!mention) return null;
  const mentionText = `<at>${e.bot.name}</at>`;
  const wireText = `${mention.before}${mentionText}${mention.after}`;
  return {
    ...base(e, from, id, channelConversation(e, channel, rootId), channelData(team, channel)),
    text: wireText,
    textFormat: 'plain',
    attachments: [
      {
        contentType: 'text/html',
        content: `<div><div>${escapeHtml(mention.before)}<span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="0">${escapeHtml(e.bot.name)}</span>${escapeHtml(mention.after)}</div></div>`,
      },
    ],
    entities: [{ type: 'mention', mentioned: { id: e.bot.id, name: e.bot.name }, text: mentionText }, CLIENT_INFO],
  };
}

export interface CardAction {
  verb: string;
  /** Card data merged with the input values, as the renderer prepared it. */
  data: Record<string, unknown>;
  /** The action's `id` in the card, if it has one. */
  id?: string;
}

/**
 * What a Teams client adds to an `adaptiveCard/action` invoke it re-sends after the bot answered a loginRequest:
 * the tokenExchangeResource id, the connection name and the user's SSO token (docs/simulator.md, "Teams SSO in
 * the playground").
 */
export interface InvokeAuthentication {
  id: string;
  connectionName: string;
  token: string;
}

/** An `adaptiveCard/action` invoke: a button click (`manual`) or a card refresh (`automatic`). */
export function cardInvoke(
  e: Envelope,
  from: WorldUser,
  conversation: { id: string; kind: 'personal' | 'channel' },
  replyToId: string,
  action: CardAction,
  trigger: 'manual' | 'automatic',
  channel?: { team: WorldTeam; channel: WorldChannel },
  authentication?: InvokeAuthentication,
): Activity {
  const conv =
    conversation.kind === 'channel'
      ? { isGroup: true, conversationType: 'channel', tenantId: e.tenantId, id: conversation.id }
      : { conversationType: 'personal', tenantId: e.tenantId, id: conversation.id };
  return {
    ...base(e, from, `f:${randomUUID()}`, conv, channel ? channelData(channel.team, channel.channel) : {}),
    type: 'invoke',
    name: 'adaptiveCard/action',
    replyToId,
    value: { action: { type: 'Action.Execute', id: action.id ?? randomUUID(), verb: action.verb, data: action.data }, trigger, ...(authentication ? { authentication } : {}) },
    entities: [CLIENT_INFO],
  };
}

/** What Teams sends when the app is added to a team (the bot learns the team and its General channel). */
export function botAddedToTeam(e: Envelope, by: WorldUser, team: WorldTeam): Activity {
  const general = team.channels.find((c) => c.id === team.id) ?? team.channels[0]!;
  return {
    ...base(e, by, `f:${randomUUID()}`, { isGroup: true, conversationType: 'channel', tenantId: e.tenantId, id: team.id }, { ...channelData(team, general), eventType: 'teamMemberAdded' }),
    type: 'conversationUpdate',
    membersAdded: [{ id: e.bot.id }],
  };
}

/** What Teams sends when a user installs the app for themselves (personal scope). */
export function botAddedToPersonalChat(e: Envelope, user: WorldUser, conversationId: string): Activity {
  return {
    ...base(e, user, `f:${randomUUID()}`, { conversationType: 'personal', tenantId: e.tenantId, id: conversationId }, {}),
    type: 'conversationUpdate',
    membersAdded: [{ id: e.bot.id }],
  };
}

export interface BotAnswer {
  status: number;
  /** Parsed JSON (invoke responses), raw text, or null when empty. */
  body: unknown;
  ms: number;
}

/**
 * POSTs an activity to the bot as Azure Bot Service would. Teams gives an invoke about 5 s; we wait longer so a slow
 * bot is visible as slow rather than as a failure, and report how long it took.
 */
export async function postToBot(botUrl: string, activity: Activity, timeoutMs = 15_000): Promise<BotAnswer> {
  const started = Date.now();
  const res = await fetch(`${botUrl.replace(/\/$/, '')}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(activity),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, body, ms: Date.now() - started };
}
