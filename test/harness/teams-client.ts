/**
 * Plays the Teams client + Azure Bot Service side: builds activities shaped like the ones Teams delivers
 * (29: user MRIs with aadObjectId, 28: bot id, `channelData.tenant`, personal `a:` and channel
 * `19:…@thread.tacv2;messageid=…` conversations, `<at>` mentions with their entity, `adaptiveCard/action` invokes with
 * `replyToId`) and POSTs them to the bot's `/api/messages`, returning the HTTP status and the parsed invoke body.
 * The builders are exported separately so hostile-input tests can tamper with an otherwise realistic activity.
 */
import { randomUUID } from 'node:crypto';
import { personalConversationIdFor, type FakeConnector, type TeamsMember } from './fake-connector';

export interface Persona {
  /** Entra object id (what ADMINS / APPROVERS hold). */
  aadObjectId: string;
  /** Teams user id, `29:…`. */
  mri: string;
  name: string;
  upn: string;
  tenantId: string;
}

export interface Personas {
  /** An admin who asks for things. */
  requester: Persona;
  /** A second admin who approves them. */
  approver: Persona;
  /** A user in the right tenant who is neither admin nor approver. */
  nonAdmin: Persona;
  /** A user from another tenant. */
  foreigner: Persona;
}

export const DEFAULT_TENANT_ID = '6babcaad-604b-40ac-a9d7-9fd97c0b779f';
export const FOREIGN_TENANT_ID = '0f0f0f0f-1111-4222-8333-444455556666';

function persona(tenantId: string, aadObjectId: string, name: string, login: string, domain: string): Persona {
  // Real MRIs are `29:1` + an opaque base64 string; derive one from the object id so it is stable per persona.
  const mri = `29:1${Buffer.from(aadObjectId.replace(/-/g, ''), 'hex').toString('base64url')}`;
  return { aadObjectId, mri, name, upn: `${login}@${domain}`, tenantId };
}

export function makePersonas(tenantId = DEFAULT_TENANT_ID, foreignTenantId = FOREIGN_TENANT_ID): Personas {
  return {
    requester: persona(tenantId, '11111111-aaaa-4aaa-8aaa-000000000001', 'Rita Requester', 'rita', 'contoso.example'),
    approver: persona(tenantId, '22222222-bbbb-4bbb-8bbb-000000000002', 'Arne Approver', 'arne', 'contoso.example'),
    nonAdmin: persona(tenantId, '33333333-cccc-4ccc-8ccc-000000000003', 'Nils Nobody', 'nils', 'contoso.example'),
    foreigner: persona(foreignTenantId, '44444444-dddd-4ddd-8ddd-000000000004', 'Fiona Foreign', 'fiona', 'fabrikam.example'),
  };
}

/** Env entries making requester + approver admins (and so approvers) and the personas' tenant allowed. */
export function personaEnv(p: Personas): Record<string, string> {
  return { ADMINS: `${p.requester.aadObjectId},${p.approver.aadObjectId}`, AZURE_TENANT_ID: p.requester.tenantId };
}

export function memberOf(p: Persona): TeamsMember {
  return { id: p.mri, name: p.name, aadObjectId: p.aadObjectId, userPrincipalName: p.upn, email: p.upn, tenantId: p.tenantId, userRole: 'user' };
}

export interface BotIdentity {
  /** `28:<Microsoft App ID>`. */
  id: string;
  name: string;
}

export interface TeamsChannel {
  teamId: string;
  teamName: string;
  channelId: string;
  channelName: string;
  tenantId: string;
}

export const DEFAULT_BOT_APP_ID = '9a1b2c3d-0000-4000-8000-00000000b07a';

export function botIdentityFor(appId = DEFAULT_BOT_APP_ID, name = 'Opter Mail'): BotIdentity {
  return { id: `28:${appId}`, name };
}

export function channelFor(tenantId: string, slug = 'ops'): TeamsChannel {
  return {
    teamId: `19:team-${slug}@thread.tacv2`,
    teamName: `Team ${slug}`,
    channelId: `19:${slug}-channel@thread.tacv2`,
    channelName: slug,
    tenantId,
  };
}

export type Activity = Record<string, unknown> & { type: string; id: string; conversation: Record<string, unknown> };

let idCounter = 0;
/** Teams message ids are millisecond timestamps; keep them unique and increasing. */
function newActivityId(): string {
  idCounter += 1;
  return String(Date.now() * 1000 + (idCounter % 1000));
}

interface Envelope {
  from: Persona;
  bot: BotIdentity;
  serviceUrl: string;
}

function base(
  e: Envelope,
  conversation: Record<string, unknown>,
  channelData: Record<string, unknown>,
): Record<string, unknown> & { id: string; conversation: Record<string, unknown> } {
  return {
    id: newActivityId(),
    channelId: 'msteams',
    serviceUrl: e.serviceUrl,
    timestamp: new Date().toISOString(),
    localTimestamp: new Date().toISOString(),
    locale: 'en-US',
    localTimezone: 'Europe/Stockholm',
    from: { id: e.from.mri, name: e.from.name, aadObjectId: e.from.aadObjectId },
    recipient: { id: e.bot.id, name: e.bot.name },
    conversation,
    channelData: { tenant: { id: e.from.tenantId }, ...channelData },
  };
}

export function personalConversation(e: Envelope): Record<string, unknown> {
  return { conversationType: 'personal', tenantId: e.from.tenantId, id: personalConversationIdFor(e.from.tenantId, e.bot.id, e.from.mri) };
}

export function channelConversation(channel: TeamsChannel, threadRootId: string): Record<string, unknown> {
  return { isGroup: true, conversationType: 'channel', tenantId: channel.tenantId, id: `${channel.channelId};messageid=${threadRootId}` };
}

function channelChannelData(channel: TeamsChannel): Record<string, unknown> {
  return {
    teamsTeamId: channel.teamId,
    teamsChannelId: channel.channelId,
    team: { id: channel.teamId, name: channel.teamName },
    channel: { id: channel.channelId, name: channel.channelName },
  };
}

/** A message typed in the 1:1 chat with the bot. */
export function buildPersonalMessage(e: Envelope, text: string): Activity {
  return {
    ...base(e, personalConversation(e), {}),
    type: 'message',
    text,
    textFormat: 'plain',
    attachments: [],
    entities: [{ type: 'clientInfo', locale: 'en-US', country: 'SE', platform: 'Web', timezone: 'Europe/Stockholm' }],
  };
}

/**
 * A channel post that @mentions the bot: text `<at>Bot</at> …` plus the mention entity Teams adds. Without
 * `threadRootId` it starts a new thread (its own id is the thread root); with it, it is a reply in that thread.
 */
export function buildChannelMention(e: Envelope, channel: TeamsChannel, text: string, threadRootId?: string): Activity {
  const id = newActivityId();
  const mentionText = `<at>${e.bot.name}</at>`;
  const activity = {
    ...base(e, channelConversation(channel, threadRootId ?? id), channelChannelData(channel)),
    id,
    type: 'message',
    text: `${mentionText} ${text}`,
    textFormat: 'plain',
    attachments: [{ contentType: 'text/html', content: `<div><div><span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="0">${e.bot.name}</span> ${text}</div></div>` }],
    entities: [
      { type: 'mention', mentioned: { id: e.bot.id, name: e.bot.name }, text: mentionText },
      { type: 'clientInfo', locale: 'en-US', country: 'SE', platform: 'Web', timezone: 'Europe/Stockholm' },
    ],
  };
  return activity;
}

export interface CardActionInput {
  /** The conversation the card lives in (from a message the fake connector holds). */
  conversation: Record<string, unknown>;
  /** Id of the message that carries the card. */
  replyToId: string;
  verb: string;
  data?: Record<string, unknown>;
  /** `manual` = button click, `automatic` = card refresh. */
  trigger?: 'manual' | 'automatic';
  channel?: TeamsChannel;
}

/** An `adaptiveCard/action` invoke for an `Action.Execute` button (or a refresh). */
export function buildCardInvoke(e: Envelope, input: CardActionInput): Activity {
  return {
    ...base(e, input.conversation, input.channel ? channelChannelData(input.channel) : {}),
    id: `f:${randomUUID()}`,
    type: 'invoke',
    name: 'adaptiveCard/action',
    replyToId: input.replyToId,
    value: {
      action: { type: 'Action.Execute', id: randomUUID(), verb: input.verb, data: input.data ?? {} },
      trigger: input.trigger ?? 'manual',
    },
    entities: [{ type: 'clientInfo', locale: 'en-US', country: 'SE', platform: 'Web', timezone: 'Europe/Stockholm' }],
  };
}

export interface PostResult {
  status: number;
  /** Parsed JSON body (invoke responses), or the raw text, or null when empty. */
  body: unknown;
  activity: Activity;
}

export interface TeamsClientOptions {
  /** Base URL of the bot server (BotServer.url). */
  botUrl: string;
  connector: FakeConnector;
  bot?: BotIdentity;
  /** Produces the `Authorization` header for an activity (authenticated mode); undefined → none. */
  authorization?: (activity: Activity) => string | undefined | Promise<string | undefined>;
  /**
   * Teams single sign-on for Universal Actions: the token Teams would get for this person and the bot's resource
   * (`tokenExchangeResource` of the bot's 401 login request). Without it the client never answers a login request.
   */
  sso?: (from: Persona, resource: { id: string; uri: string }) => string | Promise<string>;
}

/** The Universal Actions login request (msteams-docs sso-adaptive-cards-universal-action.md). */
export const LOGIN_REQUEST = 'application/vnd.microsoft.activity.loginRequest';

export class TeamsClient {
  readonly bot: BotIdentity;
  constructor(private readonly options: TeamsClientOptions) {
    this.bot = options.bot ?? botIdentityFor();
  }

  private envelope(from: Persona): Envelope {
    return { from, bot: this.bot, serviceUrl: this.options.connector.url };
  }

  /** The 1:1 conversation id Teams uses for this persona and bot. */
  personalConversationId(from: Persona): string {
    return personalConversationIdFor(from.tenantId, this.bot.id, from.mri);
  }

  /**
   * Makes the connector know a team channel and the team's roster (Teams knows its channels before anyone posts).
   * The team id is itself a conversation — in Teams it is the id of the team's General channel — and botbuilder's
   * TeamsInfo.getMembers asks for the roster under it.
   */
  addChannel(channel: TeamsChannel, members: Persona[]): void {
    const roster = members.map(memberOf);
    this.options.connector.ensureTeam({ id: channel.teamId, name: channel.teamName, channels: [{ id: channel.channelId, name: channel.channelName }] });
    this.options.connector.ensureConversation({ id: channel.teamId, kind: 'channel', tenantId: channel.tenantId, members: roster });
    this.options.connector.ensureConversation({ id: channel.channelId, kind: 'channel', tenantId: channel.tenantId, members: roster });
  }

  /** Sends a 1:1 message from `from`. */
  message(from: Persona, text: string, tamper?: (a: Activity) => void): Promise<PostResult> {
    const activity = buildPersonalMessage(this.envelope(from), text);
    tamper?.(activity);
    return this.send(activity, from);
  }

  /** Posts `<at>Bot</at> text` in a channel (new thread unless threadRootId is given). */
  mention(from: Persona, channel: TeamsChannel, text: string, threadRootId?: string, tamper?: (a: Activity) => void): Promise<PostResult> {
    const activity = buildChannelMention(this.envelope(from), channel, text, threadRootId);
    tamper?.(activity);
    return this.send(activity, from);
  }

  /** Clicks an Action.Execute button (or fires a refresh) on a card. */
  async invoke(from: Persona, input: CardActionInput, tamper?: (a: Activity) => void): Promise<PostResult> {
    const activity = buildCardInvoke(this.envelope(from), input);
    tamper?.(activity);
    const first = await this.send(activity, from);
    // Like Teams: a login request is answered by getting the SSO token silently and sending the same invoke again
    // with `value.authentication` (once; a second login request is the bot's answer to the token).
    const body = first.body as { statusCode?: number; type?: string; value?: { connectionName?: string; tokenExchangeResource?: { id: string; uri: string } } } | null;
    if (!this.options.sso || body?.statusCode !== 401 || body.type !== LOGIN_REQUEST || !body.value?.tokenExchangeResource) return first;
    this.ssoExchanges += 1;
    const resource = body.value.tokenExchangeResource;
    const token = await this.options.sso(from, resource);
    const again = { ...activity, id: `f:${randomUUID()}`, value: { ...(activity.value as Record<string, unknown>), authentication: { id: resource.id, connectionName: body.value.connectionName ?? '', token } } };
    return this.send(again, from);
  }

  /** How many login requests this client answered with a token. */
  ssoExchanges = 0;

  /** Teams would only deliver this activity if the conversation exists on its side; mirror that in the connector. */
  private register(activity: Activity, from: Persona): void {
    const conv = activity.conversation;
    const id = typeof conv.id === 'string' ? conv.id : '';
    if (!id) return;
    if (conv.conversationType === 'channel') {
      const channelId = id.split(';')[0]!;
      this.options.connector.ensureConversation({ id: channelId, kind: 'channel', tenantId: from.tenantId, members: [memberOf(from)] });
    } else {
      const kind = conv.conversationType === 'groupChat' ? 'groupChat' : 'personal';
      this.options.connector.ensureConversation({ id, kind, tenantId: from.tenantId, members: [memberOf(from)] });
    }
  }

  async send(activity: Activity, from?: Persona): Promise<PostResult> {
    if (from) this.register(activity, from);
    return this.post(activity);
  }

  /** POSTs any JSON-able body to /api/messages exactly as given (for malformed-input tests). */
  async post(activity: Activity | unknown, headers: Record<string, string> = {}): Promise<PostResult> {
    const authorization = this.options.authorization && isActivity(activity) ? await this.options.authorization(activity) : undefined;
    const res = await fetch(`${this.options.botUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...headers },
      body: typeof activity === 'string' ? activity : JSON.stringify(activity),
      signal: AbortSignal.timeout(15_000),
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
    return { status: res.status, body, activity: activity as Activity };
  }
}

function isActivity(v: unknown): v is Activity {
  return !!v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string';
}
