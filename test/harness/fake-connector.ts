/**
 * A fake Bot Connector (the Teams side of `activity.serviceUrl`) on 127.0.0.1, faithful to what botbuilder's
 * ConnectorClient sends: Bot Framework v3 REST paths with URL-encoded ids (`19%3A…%40thread.tacv2%3Bmessageid%3D…`),
 * `{ id }` resource responses, create-conversation semantics (Teams returns the SAME 1:1 conversation for the same
 * user), rosters, and error bodies in the connector's `{ error: { code, message } }` shape. It keeps every request
 * and, per conversation, the current state of each message (updates replace it, deletes mark it), and can inject
 * 429/503 answers.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectorRequest {
  seq: number;
  method: string;
  /** Path with every segment URL-decoded, e.g. `/v3/conversations/19:a@thread.tacv2;messageid=1/activities/1`. */
  path: string;
  /** Path exactly as received (still percent-encoded) — lets tests assert Teams-style encoding. */
  rawPath: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text if it was not JSON, or null. */
  body: unknown;
  /** HTTP status the fake answered with. */
  status: number;
  /** True when the answer was an injected fault. */
  fault: boolean;
  at: number;
}

export interface TeamsMember {
  id: string;
  name: string;
  aadObjectId: string;
  userPrincipalName?: string;
  email?: string;
  tenantId?: string;
  userRole?: 'user' | 'guest' | 'anonymous';
}

export type ConversationKind = 'personal' | 'channel' | 'groupChat';

export interface FakeTeam {
  /** The team id, which is also the id of its General channel. */
  id: string;
  name: string;
  aadGroupId: string | null;
  channels: { id: string; name: string }[];
}

export interface FakeMessage {
  id: string;
  conversationId: string;
  replyToId: string | null;
  /** Current content (the last PUT replaces it). */
  activity: Record<string, unknown>;
  /** Every version, oldest first (the original send, then each update). */
  versions: Record<string, unknown>[];
  deleted: boolean;
}

export interface FakeConversation {
  id: string;
  kind: ConversationKind;
  tenantId: string | null;
  members: TeamsMember[];
  messages: FakeMessage[];
  /** The ConversationParameters body when the bot created this conversation, else null. */
  createdWith: Record<string, unknown> | null;
}

export interface FaultSpec {
  status: 429 | 500 | 502 | 503 | 504;
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number;
  /** Only requests matching this are affected (default: every /v3 request). */
  match?: (req: { method: string; path: string }) => boolean;
}

export interface StartFakeConnectorOptions {
  /** Refuse calls without a valid bot token (authenticated mode). Return false → 401 like the real connector. */
  authorize?: (authorizationHeader: string | undefined) => boolean;
  /** Unknown conversation ids get 404 ConversationNotFound (default true) — catches wrong ids and bad decoding. */
  strictConversations?: boolean;
  /** Seed for the fault-share random generator (reproducible runs). */
  seed?: number;
}

export interface FakeConnector {
  /** The serviceUrl to put on activities (ends with `/`, like Teams' `https://smba.trafficmanager.net/emea/`). */
  readonly url: string;
  readonly requests: ConnectorRequest[];
  /** Requests to /v3 that were answered without a fault. */
  successfulRequests(): ConnectorRequest[];
  /** Declares a team (for /v3/teams/{id} and its channel list). Idempotent; merges channels. */
  ensureTeam(team: { id: string; name: string; aadGroupId?: string | null; channels?: { id: string; name: string }[] }): void;
  /** Declares a conversation (the Teams client does this for every activity it sends). Idempotent; merges members. */
  ensureConversation(c: { id: string; kind: ConversationKind; tenantId: string | null; members?: TeamsMember[] }): FakeConversation;
  conversation(id: string): FakeConversation | undefined;
  conversations(): FakeConversation[];
  /** Messages of a conversation (for a channel thread id, that thread), including deleted ones, in send order. */
  messages(conversationId: string): FakeMessage[];
  /**
   * A channel's messages together with the replies in its threads (`<channelId>;messageid=<rootId>`), in send order.
   * A reply's `conversationId` names its thread; `threadRootOf` gives the top-level message it belongs to.
   */
  channelMessages(channelId: string): FakeMessage[];
  /** The top-level message of a channel thread reply (its own id for a top-level message), or null if unknown. */
  threadRootOf(message: FakeMessage): string | null;
  /** Every message in every conversation, in send order. */
  allMessages(): FakeMessage[];
  message(conversationId: string, activityId: string): FakeMessage | undefined;
  /** Conversations the bot created with POST /v3/conversations, in order. */
  createdConversations(): FakeConversation[];
  /** Answer the next `count` matching calls with a fault. */
  failNext(count: number, fault: FaultSpec): void;
  /** Answer a pseudo-random share (0..1) of matching calls with a fault until cleared. */
  failShare(share: number, fault: FaultSpec): void;
  clearFaults(): void;
  /** Forget recorded requests (conversations and messages stay). */
  clearRequests(): void;
  /**
   * Resolves with the first truthy value `probe` returns, re-checking after every request and every 20 ms;
   * rejects after `timeoutMs` with the last few requests in the message.
   */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Adaptive Card contents of an activity's attachments. */
export function adaptiveCardsOf(activity: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const attachments = Array.isArray(activity?.attachments) ? (activity.attachments as Record<string, unknown>[]) : [];
  return attachments
    .filter((a) => a && a.contentType === 'application/vnd.microsoft.card.adaptive' && a.content && typeof a.content === 'object')
    .map((a) => a.content as Record<string, unknown>);
}

/**
 * Teams gives each (tenant, bot, user) pair one 1:1 conversation whose id starts with `a:1`. Deterministic so the
 * fake Teams client and the fake connector agree on it.
 */
export function personalConversationIdFor(tenantId: string, botId: string, userMri: string): string {
  const digest = createHash('sha256').update(`${tenantId.toLowerCase()}|${botId}|${userMri}`).digest('base64url');
  return `a:1${digest.slice(0, 40)}`;
}

/** mulberry32: tiny deterministic PRNG so fault shares are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A member as the Teams roster APIs return it: the Entra object id is `objectId` (not `aadObjectId`) on /members,
 * /pagedmembers and /members/{id} alike (msteams-docs "Get context for your bot"). botbuilder's
 * TeamsInfo.getMembers copies it to `aadObjectId`; getPagedMembers and getMember do not.
 */
function wireMember(m: TeamsMember): Record<string, unknown> {
  const [givenName, ...rest] = m.name.split(' ');
  return {
    id: m.id,
    name: m.name,
    objectId: m.aadObjectId,
    givenName,
    surname: rest.join(' ') || undefined,
    email: m.email ?? m.userPrincipalName,
    userPrincipalName: m.userPrincipalName,
    tenantId: m.tenantId,
    userRole: m.userRole ?? 'user',
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

function connectorError(status: number, code: string, message: string): HttpAnswer {
  return new HttpAnswer(status, { error: { code, message } });
}

export async function startFakeConnector(options: StartFakeConnectorOptions = {}): Promise<FakeConnector> {
  const strict = options.strictConversations ?? true;
  const random = prng(options.seed ?? 0x5eed);
  const requests: ConnectorRequest[] = [];
  const conversations = new Map<string, FakeConversation>();
  const created: FakeConversation[] = [];
  const order: FakeMessage[] = [];
  let seq = 0;
  let nextMessageId = 1_700_000_000_000;
  const counted: { remaining: number; fault: FaultSpec }[] = [];
  let share: { share: number; fault: FaultSpec } | null = null;
  const waiters = new Set<() => void>();
  const teams = new Map<string, FakeTeam>();

  const newMessageId = () => String(nextMessageId++);

  function ensureConversation(c: { id: string; kind: ConversationKind; tenantId: string | null; members?: TeamsMember[] }): FakeConversation {
    let conv = conversations.get(c.id);
    if (!conv) {
      conv = { id: c.id, kind: c.kind, tenantId: c.tenantId, members: [], messages: [], createdWith: null };
      conversations.set(c.id, conv);
    }
    for (const m of c.members ?? []) {
      if (!conv.members.some((x) => x.id === m.id)) conv.members.push(m);
    }
    return conv;
  }

  /** A channel thread (`19:…;messageid=…`) belongs to its channel: known if the channel is known. */
  function resolveConversation(id: string): FakeConversation | undefined {
    const exact = conversations.get(id);
    if (exact) return exact;
    const [base] = id.split(';');
    const channel = base !== id ? conversations.get(base!) : undefined;
    if (channel && channel.kind === 'channel') {
      return ensureConversation({ id, kind: 'channel', tenantId: channel.tenantId, members: channel.members });
    }
    if (!strict) return ensureConversation({ id, kind: id.startsWith('19:') ? 'channel' : 'personal', tenantId: null });
    return undefined;
  }

  function channelOf(conv: FakeConversation): FakeConversation {
    const [base] = conv.id.split(';');
    return conversations.get(base!) ?? conv;
  }

  function storeMessage(conv: FakeConversation, activity: Record<string, unknown>, replyToId: string | null): FakeMessage {
    const id = newMessageId();
    const stored = { ...activity, id };
    const message: FakeMessage = { id, conversationId: conv.id, replyToId, activity: stored, versions: [stored], deleted: false };
    conv.messages.push(message);
    order.push(message);
    return message;
  }

  function pickFault(method: string, path: string): FaultSpec | null {
    for (const entry of counted) {
      if (entry.remaining > 0 && (!entry.fault.match || entry.fault.match({ method, path }))) {
        entry.remaining -= 1;
        return entry.fault;
      }
    }
    if (share && (!share.fault.match || share.fault.match({ method, path })) && random() < share.share) return share.fault;
    return null;
  }

  function route(method: string, segments: string[], body: unknown, query: Record<string, string>): HttpAnswer {
    if (segments[0] === 'v3' && segments[1] === 'teams' && segments.length >= 3 && method === 'GET') return teamRoute(segments);
    if (segments[0] !== 'v3' || segments[1] !== 'conversations') return connectorError(404, 'NotFound', 'Unknown route');

    // POST /v3/conversations — create a conversation (1:1 or a new channel thread).
    if (segments.length === 2) {
      if (method !== 'POST') return connectorError(405, 'MethodNotAllowed', 'Use POST');
      return createConversation(body);
    }

    const conversationId = segments[2]!;
    const conv = resolveConversation(conversationId);
    if (!conv) return connectorError(404, 'ConversationNotFound', `Conversation not found: ${conversationId}`);
    const rest = segments.slice(3);

    if (rest[0] === 'activities') {
      if (rest.length === 1) {
        if (method !== 'POST') return connectorError(405, 'MethodNotAllowed', 'Use POST');
        return sendActivity(conv, body, null);
      }
      if (rest.length === 2) {
        const activityId = rest[1]!;
        if (method === 'POST') return sendActivity(conv, body, activityId);
        const existing = conv.messages.find((m) => m.id === activityId && !m.deleted);
        if (!existing) return connectorError(404, 'ActivityNotFoundInConversation', `Activity ${activityId} not found in ${conv.id}`);
        if (method === 'PUT') {
          if (!isRecord(body)) return connectorError(400, 'BadSyntax', 'Body must be an activity');
          existing.activity = { ...body, id: activityId };
          existing.versions.push(existing.activity);
          return new HttpAnswer(200, { id: activityId });
        }
        if (method === 'DELETE') {
          existing.deleted = true;
          return new HttpAnswer(200, {});
        }
        return connectorError(405, 'MethodNotAllowed', 'Use POST, PUT or DELETE');
      }
    }

    if (method === 'GET' && rest[0] === 'members') {
      const roster = channelOf(conv).members;
      if (rest.length === 1) return new HttpAnswer(200, roster.map(wireMember));
      // Teams looks a member up by Teams user id, UPN or Entra object id.
      const key = rest[1]!.toLowerCase();
      const member = roster.find((m) => m.id === rest[1] || m.aadObjectId.toLowerCase() === key || m.userPrincipalName?.toLowerCase() === key);
      if (!member) return connectorError(404, 'MemberNotFoundInConversation', `The member ${rest[1]} was not found in the conversation`);
      return new HttpAnswer(200, wireMember(member));
    }
    if (method === 'GET' && rest[0] === 'pagedmembers' && rest.length === 1) {
      const roster = channelOf(conv).members;
      const pageSize = Math.max(1, Math.min(500, Number(query.pageSize) || 200));
      const start = Number(query.continuationToken) || 0;
      const page = roster.slice(start, start + pageSize).map(wireMember);
      const next = start + pageSize < roster.length ? String(start + pageSize) : undefined;
      return new HttpAnswer(200, next ? { members: page, continuationToken: next } : { members: page });
    }
    return connectorError(404, 'NotFound', 'Unknown route');
  }

  // GET /v3/teams/{teamId} (details) and /v3/teams/{teamId}/conversations (channels; General's name is null).
  function teamRoute(segments: string[]): HttpAnswer {
    const team = teams.get(segments[2]!);
    if (!team) return connectorError(404, 'NotFound', `Team not found: ${segments[2]}`);
    if (segments.length === 3) return new HttpAnswer(200, { id: team.id, name: team.name, aadGroupId: team.aadGroupId });
    if (segments.length === 4 && segments[3] === 'conversations') {
      return new HttpAnswer(200, { conversations: [{ id: team.id, name: null }, ...team.channels.filter((c) => c.id !== team.id)] });
    }
    return connectorError(404, 'NotFound', 'Unknown route');
  }

  function sendActivity(conv: FakeConversation, body: unknown, replyToId: string | null): HttpAnswer {
    if (!isRecord(body) || typeof body.type !== 'string') return connectorError(400, 'BadSyntax', 'Body must be an activity with a type');
    // Typing indicators are ephemeral in Teams: acknowledged, never part of the conversation.
    if (body.type === 'typing') return new HttpAnswer(201, {});
    const message = storeMessage(conv, body, replyToId);
    return new HttpAnswer(201, { id: message.id });
  }

  function createConversation(body: unknown): HttpAnswer {
    if (!isRecord(body)) return connectorError(400, 'BadSyntax', 'Body must be ConversationParameters');
    const channelData = isRecord(body.channelData) ? body.channelData : {};
    const tenantId =
      (typeof body.tenantId === 'string' && body.tenantId) ||
      (isRecord(channelData.tenant) && typeof channelData.tenant.id === 'string' && channelData.tenant.id) ||
      null;
    const bot = isRecord(body.bot) ? body.bot : null;
    if (!bot || typeof bot.id !== 'string') return connectorError(400, 'BadSyntax', 'Incorrect conversation creation parameters: bot is required');
    const channelId = isRecord(channelData.channel) && typeof channelData.channel.id === 'string' ? channelData.channel.id : null;

    let conv: FakeConversation;
    if (body.isGroup === true && channelId) {
      // New thread in a channel: the thread id is the channel id plus the id of its first message.
      const channel = conversations.get(channelId);
      if (!channel && strict) return connectorError(404, 'ConversationNotFound', `Channel not found: ${channelId}`);
      const rootId = newMessageId();
      conv = ensureConversation({ id: `${channelId};messageid=${rootId}`, kind: 'channel', tenantId: channel?.tenantId ?? tenantId, members: channel?.members });
      conv.createdWith = body;
      created.push(conv);
      if (isRecord(body.activity)) {
        const root: FakeMessage = { id: rootId, conversationId: conv.id, replyToId: null, activity: { ...body.activity, id: rootId }, versions: [], deleted: false };
        root.versions.push(root.activity);
        conv.messages.push(root);
        order.push(root);
      }
      return new HttpAnswer(201, { id: conv.id, activityId: rootId });
    }

    const members = Array.isArray(body.members) ? body.members.filter(isRecord) : [];
    if (members.length !== 1 || typeof members[0]!.id !== 'string') {
      return connectorError(400, 'BadSyntax', 'Incorrect conversation creation parameters: a 1:1 chat needs exactly one member');
    }
    if (!tenantId) return connectorError(400, 'BadSyntax', 'Incorrect conversation creation parameters: tenant id is required');
    const userId = members[0]!.id as string;
    const id = personalConversationIdFor(tenantId, bot.id, userId);
    const known = conversations.get(id);
    const member: TeamsMember = known?.members.find((m) => m.id === userId) ?? {
      id: userId,
      name: typeof members[0]!.name === 'string' ? (members[0]!.name as string) : userId,
      aadObjectId: typeof members[0]!.aadObjectId === 'string' ? (members[0]!.aadObjectId as string) : '',
      tenantId,
    };
    conv = ensureConversation({ id, kind: 'personal', tenantId, members: [member] });
    conv.createdWith = body;
    created.push(conv);
    let activityId: string | undefined;
    if (isRecord(body.activity)) activityId = storeMessage(conv, body.activity, null).id;
    return new HttpAnswer(201, activityId ? { id, activityId } : { id });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawSegments = url.pathname.split('/').filter(Boolean);
    let segments: string[];
    try {
      segments = rawSegments.map((s) => decodeURIComponent(s));
    } catch {
      segments = rawSegments;
    }
    const path = `/${segments.join('/')}`;
    const text = await readBody(req);
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const record: ConnectorRequest = {
      seq: ++seq,
      method,
      path,
      rawPath: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body,
      status: 0,
      fault: false,
      at: Date.now(),
    };

    let answer: HttpAnswer;
    const authorized = !options.authorize || options.authorize(req.headers.authorization);
    const fault = authorized ? pickFault(method, path) : null;
    if (!authorized) {
      answer = new HttpAnswer(401, { message: 'Authorization has been denied for this request.' });
    } else if (fault) {
      record.fault = true;
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      const code = fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable';
      answer = new HttpAnswer(fault.status, { error: { code, message: `Injected ${fault.status}` } }, headers);
    } else {
      answer = route(method, segments, body, record.query);
    }

    record.status = answer.status;
    requests.push(record);
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
    res.end(payload);
    for (const wake of [...waiters]) wake();
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'FakeConnectorBug', message: String(err) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    ensureTeam(team) {
      const known = teams.get(team.id);
      const channels = [...(known?.channels ?? [])];
      for (const c of team.channels ?? []) if (!channels.some((x) => x.id === c.id)) channels.push(c);
      teams.set(team.id, { id: team.id, name: team.name, aadGroupId: team.aadGroupId ?? known?.aadGroupId ?? null, channels });
    },
    successfulRequests: () => requests.filter((r) => !r.fault && r.status < 400),
    ensureConversation,
    conversation: (id) => conversations.get(id),
    conversations: () => [...conversations.values()],
    messages: (id) => conversations.get(id)?.messages ?? [],
    channelMessages: (channelId) => order.filter((m) => m.conversationId === channelId || m.conversationId.startsWith(`${channelId};messageid=`)),
    threadRootOf(message) {
      const root = /;messageid=([^;]+)$/.exec(message.conversationId)?.[1];
      if (!root) return message.id;
      const [channelId] = message.conversationId.split(';');
      return conversations.get(channelId!)?.messages.some((m) => m.id === root) || message.id === root ? root : null;
    },
    allMessages: () => [...order],
    message: (conversationId, activityId) => conversations.get(conversationId)?.messages.find((m) => m.id === activityId),
    createdConversations: () => [...created],
    failNext(count, fault) {
      counted.push({ remaining: count, fault });
    },
    failShare(s, fault) {
      share = { share: s, fault };
    },
    clearFaults() {
      counted.length = 0;
      share = null;
    },
    clearRequests() {
      requests.length = 0;
    },
    waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 5_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let done = false;
        const finish = (fn: () => void) => {
          if (done) return;
          done = true;
          clearInterval(timer);
          clearTimeout(deadline);
          waiters.delete(check);
          fn();
        };
        const check = () => {
          let value: T | undefined | null | false;
          try {
            value = probe();
          } catch (err) {
            finish(() => reject(err));
            return;
          }
          if (value) finish(() => resolve(value as T));
        };
        const timer = setInterval(check, 20);
        const deadline = setTimeout(() => {
          const last = requests.slice(-5).map((r) => `${r.method} ${r.path} → ${r.status}`);
          finish(() => reject(new Error(`fake connector: condition not met within ${timeoutMs} ms; last requests: ${last.join(' | ') || '(none)'}`)));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
