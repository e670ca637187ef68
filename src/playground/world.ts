/**
 * The Teams side of the playground: one tenant's team, its channels, each person's 1:1 chat with the bot, and
 * every message in them. It answers the Bot Connector v3 REST calls botbuilder makes at `serviceUrl` exactly the way
 * Teams does (URL-encoded ids, `{ id }` resource responses, one 1:1 chat per user, channel threads
 * `19:…@thread.tacv2;messageid=<root>`, rosters with `objectId`, `{ error: { code, message } }` failures), and it
 * records what people type, so the page can show a conversation the way Teams shows it.
 *
 * Facts: docs/teams-facts.md §3 (channels, threads, proactive create) and §4.4 (wire protocol).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface WorldUser {
  /** Teams user id (MRI), `29:…`. */
  mri: string;
  /** Entra object id. */
  aadObjectId: string;
  name: string;
  upn: string;
  tenantId: string;
}

export interface WorldBot {
  /** `28:<Microsoft App ID>`. */
  id: string;
  name: string;
}

export interface WorldChannel {
  /** Stable handle the page uses ("general", "requests", "audit"). */
  key: string;
  /** `19:…@thread.tacv2`; General's id is the team id. */
  id: string;
  name: string;
}

export interface WorldTeam {
  id: string;
  name: string;
  aadGroupId: string;
  channels: WorldChannel[];
}

export type ConversationKind = 'personal' | 'channel';

export interface WorldConversation {
  /** For channels: the channel id (threads live inside it). For 1:1 chats: `a:1…`. */
  id: string;
  kind: ConversationKind;
  tenantId: string;
  /** Personal: the one user. Channel: the team roster. */
  members: WorldUser[];
  channelKey: string | null;
}

export interface WorldMessage {
  id: string;
  /** The conversation id the message is addressed by: the 1:1 id, or `<channel>;messageid=<root>` in a channel. */
  conversationId: string;
  /** The base conversation (1:1 id or channel id). */
  baseConversationId: string;
  /** Channel messages: the id of the thread's first message (the root's own id for the root). */
  threadRootId: string | null;
  replyToId: string | null;
  from: { id: string; name: string; aadObjectId: string | null; isBot: boolean };
  /** Current content; an update replaces it for everyone. */
  activity: Record<string, unknown>;
  /** 1 for the original, +1 per update. */
  version: number;
  createdAt: string;
  updatedAt: string | null;
  deleted: boolean;
}

export type WorldEvent =
  | { type: 'message'; conversationId: string; messageId: string }
  | { type: 'update'; conversationId: string; messageId: string; version: number }
  | { type: 'delete'; conversationId: string; messageId: string }
  | { type: 'typing'; conversationId: string; from: string };

export interface ConnectorAnswer {
  status: number;
  body: unknown;
}

export interface WorldOptions {
  tenantId: string;
  bot: WorldBot;
  team: WorldTeam;
  users: WorldUser[];
  /** Persist conversations here (JSON, written atomically after changes); loaded at start when present. */
  stateFile?: string;
  now?: () => Date;
}

interface PersistedWorld {
  version: 1;
  tenantId: string;
  nextMessageId: number;
  installed: boolean;
  conversations: Array<Omit<WorldConversation, 'members'> & { memberMris: string[] }>;
  messages: WorldMessage[];
}

/**
 * Teams gives each (tenant, bot, user) one 1:1 conversation, `a:1…`; deterministic so the page, the connector and a
 * re-created conversation all agree on it.
 */
export function personalConversationId(tenantId: string, botId: string, userMri: string): string {
  const digest = createHash('sha256').update(`${tenantId.toLowerCase()}|${botId}|${userMri}`).digest('base64url');
  return `a:1${digest.slice(0, 40)}`;
}

/** Real MRIs are `29:1` + an opaque base64 string; derive a stable one from the Entra object id. */
export function mriFor(aadObjectId: string): string {
  return `29:1${Buffer.from(aadObjectId.replace(/-/g, ''), 'hex').toString('base64url')}`;
}

export function threadConversationId(channelId: string, rootId: string): string {
  return `${channelId};messageid=${rootId}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function connectorError(status: number, code: string, message: string): ConnectorAnswer {
  return { status, body: { error: { code, message } } };
}

/** A roster entry as Teams returns it: the Entra object id is `objectId`. */
function wireMember(u: WorldUser): Record<string, unknown> {
  const [givenName, ...rest] = u.name.split(' ');
  return {
    id: u.mri,
    name: u.name,
    objectId: u.aadObjectId,
    givenName,
    surname: rest.join(' ') || undefined,
    email: u.upn,
    userPrincipalName: u.upn,
    tenantId: u.tenantId,
    userRole: 'user',
  };
}

export class TeamsWorld extends EventEmitter {
  readonly tenantId: string;
  readonly bot: WorldBot;
  readonly team: WorldTeam;
  readonly users: WorldUser[];
  private readonly conversations = new Map<string, WorldConversation>();
  private readonly messages: WorldMessage[] = [];
  private readonly byId = new Map<string, WorldMessage>();
  private nextMessageId: number;
  private readonly now: () => Date;
  private readonly stateFile: string | null;
  private saveTimer: NodeJS.Timeout | null = null;
  /** True once the bot was told it was installed (persisted, so a restart does not "install" it again). */
  installed = false;

  constructor(options: WorldOptions) {
    super();
    this.tenantId = options.tenantId;
    this.bot = options.bot;
    this.team = options.team;
    this.users = options.users;
    this.now = options.now ?? (() => new Date());
    this.stateFile = options.stateFile ?? null;
    // Teams message ids are millisecond timestamps; keep them increasing across restarts.
    this.nextMessageId = this.now().getTime();

    for (const channel of this.team.channels) {
      this.conversations.set(channel.id, { id: channel.id, kind: 'channel', tenantId: this.tenantId, members: [...this.users], channelKey: channel.key });
    }
    for (const user of this.users) this.ensurePersonal(user);
    if (this.stateFile && existsSync(this.stateFile)) this.load(this.stateFile);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Reading
  // ------------------------------------------------------------------------------------------------------------

  conversation(id: string): WorldConversation | undefined {
    return this.conversations.get(id);
  }

  personalConversationOf(user: WorldUser): WorldConversation {
    return this.ensurePersonal(user);
  }

  channel(key: string): WorldChannel | undefined {
    return this.team.channels.find((c) => c.key === key);
  }

  user(mriOrObjectId: string): WorldUser | undefined {
    const key = mriOrObjectId.toLowerCase();
    return this.users.find((u) => u.mri === mriOrObjectId || u.aadObjectId.toLowerCase() === key);
  }

  message(id: string): WorldMessage | undefined {
    return this.byId.get(id);
  }

  /** Messages of a base conversation (1:1 id or channel id), oldest first. */
  messagesIn(baseConversationId: string): WorldMessage[] {
    return this.messages.filter((m) => m.baseConversationId === baseConversationId);
  }

  allMessages(): WorldMessage[] {
    return [...this.messages];
  }

  /** True when `user` can see messages of this base conversation. */
  canSee(user: WorldUser, baseConversationId: string): boolean {
    const conv = this.conversations.get(baseConversationId);
    return !!conv && conv.members.some((m) => m.mri === user.mri);
  }

  // ------------------------------------------------------------------------------------------------------------
  // What people type (the page calls these; the result is the activity to deliver to the bot)
  // ------------------------------------------------------------------------------------------------------------

  /** Stores a message typed in `user`'s 1:1 chat with the bot. */
  userMessageInChat(user: WorldUser, text: string, extra: Record<string, unknown> = {}): WorldMessage {
    const conv = this.ensurePersonal(user);
    return this.store({
      conversationId: conv.id,
      baseConversationId: conv.id,
      threadRootId: null,
      replyToId: null,
      from: { id: user.mri, name: user.name, aadObjectId: user.aadObjectId, isBot: false },
      activity: { type: 'message', text, ...extra },
    });
  }

  /** Stores a channel post: a new thread, or a reply when `threadRootId` names an existing thread. */
  userMessageInChannel(user: WorldUser, channelKey: string, text: string, threadRootId: string | null, extra: Record<string, unknown> = {}): WorldMessage {
    const channel = this.channel(channelKey);
    if (!channel) throw new Error(`unknown channel ${channelKey}`);
    if (threadRootId !== null) {
      const root = this.byId.get(threadRootId);
      if (!root || root.baseConversationId !== channel.id || root.threadRootId !== root.id) throw new Error(`no thread ${threadRootId} in ${channelKey}`);
    }
    const id = this.newMessageId();
    const rootId = threadRootId ?? id;
    return this.store(
      {
        conversationId: threadConversationId(channel.id, rootId),
        baseConversationId: channel.id,
        threadRootId: rootId,
        replyToId: threadRootId,
        from: { id: user.mri, name: user.name, aadObjectId: user.aadObjectId, isBot: false },
        activity: { type: 'message', text, ...extra },
      },
      id,
    );
  }

  // ------------------------------------------------------------------------------------------------------------
  // The Bot Connector (what the bot calls at serviceUrl)
  // ------------------------------------------------------------------------------------------------------------

  /**
   * One connector call. `segments` are the URL-decoded path segments after the serviceUrl, e.g.
   * `['v3', 'conversations', '19:a@thread.tacv2;messageid=1', 'activities', '1']`.
   */
  handleConnector(method: string, segments: string[], body: unknown, query: Record<string, string>): ConnectorAnswer {
    if (segments[0] !== 'v3') return connectorError(404, 'NotFound', 'Unknown route');
    if (segments[1] === 'teams' && segments.length >= 3) {
      if (method !== 'GET') return connectorError(405, 'MethodNotAllowed', 'Use GET');
      return this.teamRoute(segments);
    }
    if (segments[1] !== 'conversations') return connectorError(404, 'NotFound', 'Unknown route');
    if (segments.length === 2) {
      if (method !== 'POST') return connectorError(405, 'MethodNotAllowed', 'Use POST');
      return this.createConversation(body);
    }

    const conversationId = segments[2]!;
    const target = this.resolve(conversationId);
    if (!target) return connectorError(404, 'ConversationNotFound', `Conversation not found: ${conversationId}`);
    const rest = segments.slice(3);

    if (rest[0] === 'activities' && rest.length <= 2) {
      if (rest.length === 1) {
        if (method !== 'POST') return connectorError(405, 'MethodNotAllowed', 'Use POST');
        return this.botSend(target, body, null);
      }
      const activityId = rest[1]!;
      if (method === 'POST') return this.botSend(target, body, activityId);
      const existing = this.byId.get(activityId);
      if (!existing || existing.deleted || existing.baseConversationId !== target.conv.id) {
        return connectorError(404, 'ActivityNotFoundInConversation', `Activity ${activityId} not found in ${conversationId}`);
      }
      // Teams lets a bot edit or delete only what it sent itself.
      if (!existing.from.isBot) return connectorError(403, 'Forbidden', 'The bot can only update or delete its own messages');
      if (method === 'PUT') {
        if (!isRecord(body) || typeof body.type !== 'string') return connectorError(400, 'BadSyntax', 'Body must be an activity');
        existing.activity = this.cleanActivity(body);
        existing.version += 1;
        existing.updatedAt = this.now().toISOString();
        this.changed({ type: 'update', conversationId: existing.conversationId, messageId: existing.id, version: existing.version });
        return { status: 200, body: { id: existing.id } };
      }
      if (method === 'DELETE') {
        existing.deleted = true;
        existing.updatedAt = this.now().toISOString();
        this.changed({ type: 'delete', conversationId: existing.conversationId, messageId: existing.id });
        return { status: 200, body: {} };
      }
      return connectorError(405, 'MethodNotAllowed', 'Use POST, PUT or DELETE');
    }

    if (method === 'GET' && rest[0] === 'members') {
      const roster = target.conv.members;
      if (rest.length === 1) return { status: 200, body: roster.map(wireMember) };
      // Teams finds a member by Teams user id, UPN or Entra object id.
      const key = rest[1]!.toLowerCase();
      const member = roster.find((m) => m.mri === rest[1] || m.aadObjectId.toLowerCase() === key || m.upn.toLowerCase() === key);
      if (!member) return connectorError(404, 'MemberNotFoundInConversation', `The member ${rest[1]} was not found in the conversation`);
      return { status: 200, body: wireMember(member) };
    }
    if (method === 'GET' && rest[0] === 'pagedmembers' && rest.length === 1) {
      const roster = target.conv.members;
      const pageSize = Math.max(1, Math.min(500, Number(query.pageSize) || 200));
      const start = Number(query.continuationToken) || 0;
      const page = roster.slice(start, start + pageSize).map(wireMember);
      const next = start + pageSize < roster.length ? String(start + pageSize) : undefined;
      return { status: 200, body: next ? { members: page, continuationToken: next } : { members: page } };
    }
    return connectorError(404, 'NotFound', 'Unknown route');
  }

  /** Marks the install as announced (see markInstalled callers). */
  markInstalled(): void {
    this.installed = true;
    this.scheduleSave();
  }

  /** Writes pending state now (used at shutdown). */
  flush(): void {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    this.save();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Internals
  // ------------------------------------------------------------------------------------------------------------

  private ensurePersonal(user: WorldUser): WorldConversation {
    const id = personalConversationId(user.tenantId, this.bot.id, user.mri);
    let conv = this.conversations.get(id);
    if (!conv) {
      conv = { id, kind: 'personal', tenantId: user.tenantId, members: [user], channelKey: null };
      this.conversations.set(id, conv);
    }
    return conv;
  }

  /** A conversation id as the bot addresses it: a 1:1 id, a channel id, or a channel thread id. */
  private resolve(conversationId: string): { conv: WorldConversation; threadRootId: string | null } | null {
    const exact = this.conversations.get(conversationId);
    if (exact) return { conv: exact, threadRootId: null };
    const match = /^(.*);messageid=(\d+)$/.exec(conversationId);
    if (!match) return null;
    const conv = this.conversations.get(match[1]!);
    const root = this.byId.get(match[2]!);
    if (!conv || conv.kind !== 'channel' || !root || root.baseConversationId !== conv.id || root.threadRootId !== root.id) return null;
    return { conv, threadRootId: root.id };
  }

  private botSend(target: { conv: WorldConversation; threadRootId: string | null }, body: unknown, replyToId: string | null): ConnectorAnswer {
    if (!isRecord(body) || typeof body.type !== 'string') return connectorError(400, 'BadSyntax', 'Body must be an activity with a type');
    if (body.type === 'typing') {
      // Typing indicators are shown for a moment and never become part of the conversation.
      this.emit('event', { type: 'typing', conversationId: target.conv.id, from: this.bot.name } satisfies WorldEvent);
      return { status: 201, body: {} };
    }
    const { conv } = target;
    let threadRootId = target.threadRootId;
    if (conv.kind === 'channel' && threadRootId === null) {
      // Posted to the channel itself: a reply when it names an existing thread root, otherwise a new thread.
      const root = replyToId ? this.byId.get(replyToId) : undefined;
      if (root && root.baseConversationId === conv.id && root.threadRootId === root.id) threadRootId = root.id;
    }
    const id = this.newMessageId();
    const rootId = conv.kind === 'channel' ? (threadRootId ?? id) : null;
    const message = this.store(
      {
        conversationId: rootId ? threadConversationId(conv.id, rootId) : conv.id,
        baseConversationId: conv.id,
        threadRootId: rootId,
        replyToId: replyToId && this.byId.has(replyToId) ? replyToId : null,
        from: { id: this.bot.id, name: this.bot.name, aadObjectId: null, isBot: true },
        activity: this.cleanActivity(body),
      },
      id,
    );
    return { status: 201, body: { id: message.id } };
  }

  private createConversation(body: unknown): ConnectorAnswer {
    if (!isRecord(body)) return connectorError(400, 'BadSyntax', 'Body must be ConversationParameters');
    const channelData = isRecord(body.channelData) ? body.channelData : {};
    const bot = isRecord(body.bot) ? body.bot : null;
    if (!bot || typeof bot.id !== 'string') return connectorError(400, 'BadSyntax', 'Incorrect conversation creation parameters: bot is required');
    const tenantId =
      (typeof body.tenantId === 'string' && body.tenantId) ||
      (isRecord(channelData.tenant) && typeof channelData.tenant.id === 'string' && channelData.tenant.id) ||
      null;
    if (tenantId && tenantId.toLowerCase() !== this.tenantId.toLowerCase()) {
      return connectorError(403, 'Forbidden', `The bot is not installed in tenant ${tenantId}`);
    }
    const channelId = isRecord(channelData.channel) && typeof channelData.channel.id === 'string' ? channelData.channel.id : null;

    if (body.isGroup === true) {
      // Bots can start a new thread in a channel, never a new group chat (msteams-docs send-proactive-messages).
      if (!channelId) return connectorError(400, 'BadSyntax', 'Incorrect conversation creation parameters: bots cannot create group chats');
      const conv = this.conversations.get(channelId);
      if (!conv || conv.kind !== 'channel') return connectorError(404, 'ConversationNotFound', `Channel not found: ${channelId}`);
      const rootId = this.newMessageId();
      const threadId = threadConversationId(channelId, rootId);
      if (isRecord(body.activity)) {
        this.store(
          {
            conversationId: threadId,
            baseConversationId: channelId,
            threadRootId: rootId,
            replyToId: null,
            from: { id: this.bot.id, name: this.bot.name, aadObjectId: null, isBot: true },
            activity: this.cleanActivity(body.activity),
          },
          rootId,
        );
        return { status: 201, body: { id: threadId, activityId: rootId } };
      }
      // A thread with no first message does not exist in Teams; keep the id so the first send becomes its root.
      return { status: 201, body: { id: channelId } };
    }

    const members = Array.isArray(body.members) ? body.members.filter(isRecord) : [];
    if (members.length !== 1 || typeof members[0]!.id !== 'string') {
      return connectorError(400, 'BadSyntax', 'Incorrect conversation creation parameters: a 1:1 chat needs exactly one member');
    }
    if (!tenantId) return connectorError(400, 'BadSyntax', 'Incorrect conversation creation parameters: tenant id is required');
    const user = this.user(members[0]!.id as string);
    if (!user) return connectorError(404, 'MemberNotFoundInConversation', `User ${String(members[0]!.id)} is not in this tenant's roster`);
    const conv = this.ensurePersonal(user);
    if (isRecord(body.activity)) {
      const message = this.store({
        conversationId: conv.id,
        baseConversationId: conv.id,
        threadRootId: null,
        replyToId: null,
        from: { id: this.bot.id, name: this.bot.name, aadObjectId: null, isBot: true },
        activity: this.cleanActivity(body.activity),
      });
      return { status: 201, body: { id: conv.id, activityId: message.id } };
    }
    return { status: 201, body: { id: conv.id } };
  }

  private teamRoute(segments: string[]): ConnectorAnswer {
    if (segments[2] !== this.team.id) return connectorError(404, 'NotFound', `Team not found: ${segments[2]}`);
    if (segments.length === 3) return { status: 200, body: { id: this.team.id, name: this.team.name, aadGroupId: this.team.aadGroupId } };
    if (segments.length === 4 && segments[3] === 'conversations') {
      // General's name is null in this API.
      return { status: 200, body: { conversations: this.team.channels.map((c) => ({ id: c.id, name: c.id === this.team.id ? null : c.name })) } };
    }
    return connectorError(404, 'NotFound', 'Unknown route');
  }

  /** What the page needs of a bot activity; routing fields are ours, not the sender's. */
  private cleanActivity(body: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { type: body.type };
    for (const key of ['text', 'textFormat', 'attachments', 'attachmentLayout', 'summary', 'entities', 'suggestedActions', 'importance', 'channelData'] as const) {
      if (body[key] !== undefined) out[key] = body[key];
    }
    return out;
  }

  private newMessageId(): string {
    this.nextMessageId = Math.max(this.nextMessageId + 1, this.now().getTime());
    return String(this.nextMessageId);
  }

  private store(m: Omit<WorldMessage, 'id' | 'version' | 'createdAt' | 'updatedAt' | 'deleted'>, id = this.newMessageId()): WorldMessage {
    const message: WorldMessage = { ...m, id, version: 1, createdAt: this.now().toISOString(), updatedAt: null, deleted: false };
    this.messages.push(message);
    this.byId.set(id, message);
    this.changed({ type: 'message', conversationId: message.conversationId, messageId: id });
    return message;
  }

  private changed(event: WorldEvent): void {
    this.scheduleSave();
    this.emit('event', event);
  }

  private scheduleSave(): void {
    if (!this.stateFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save();
    }, 200);
    this.saveTimer.unref();
  }

  private save(): void {
    if (!this.stateFile) return;
    const state: PersistedWorld = {
      version: 1,
      tenantId: this.tenantId,
      nextMessageId: this.nextMessageId,
      installed: this.installed,
      conversations: [...this.conversations.values()].map(({ members, ...c }) => ({ ...c, memberMris: members.map((m) => m.mri) })),
      messages: this.messages,
    };
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    renameSync(tmp, this.stateFile);
  }

  private load(file: string): void {
    let state: PersistedWorld;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as PersistedWorld;
    } catch {
      return; // A damaged history file only costs the chat history; the bot's own store is the record.
    }
    // A different tenant (DATA_DIR reused with another simulator state) makes the old chats meaningless.
    if (state.version !== 1 || state.tenantId !== this.tenantId) return;
    this.installed = state.installed === true;
    this.nextMessageId = Math.max(this.nextMessageId, state.nextMessageId);
    for (const c of state.conversations) {
      if (this.conversations.has(c.id)) continue;
      const members = c.memberMris.map((mri) => this.user(mri)).filter((u): u is WorldUser => !!u);
      this.conversations.set(c.id, { id: c.id, kind: c.kind, tenantId: c.tenantId, channelKey: c.channelKey, members });
    }
    for (const m of state.messages) {
      if (!this.conversations.has(m.baseConversationId) || this.byId.has(m.id)) continue;
      this.messages.push(m);
      this.byId.set(m.id, m);
    }
  }
}
