/**
 * The playground web server (127.0.0.1 only). One origin serves three things:
 *  - `/teams/` — the Bot Connector the bot talks to (its `serviceUrl`), backed by TeamsWorld;
 *  - `/api/…`  — the page's client API: who you are, what you see, type a message, click a card button, the
 *                simulated tenant and its fault knobs, and a server-sent event stream that says when to look again;
 *  - the page itself and the official `adaptivecards` renderer.
 *
 * The Teams client behaviour lives in the page (static/app.js): it renders cards, validates inputs, keeps each
 * person's user-specific card views locally (as Teams does, per client) and fires `refresh` invokes. Invoke
 * responses pass through here on the way to the page and are never logged or stored: a revealed secret exists only
 * in that one HTTP response and in the clicking person's browser memory.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Simulator } from '../sim';
import { botAddedToPersonalChat, botAddedToTeam, cardInvoke, channelMention, personalMessage, postToBot, type Envelope, type InvokeAuthentication } from './activities';
import { PERSONA_KEYS, type Persona, type PersonaKey } from './personas';
import { playgroundBot, playgroundTeam } from './team';
import { baselineOf, tenantPanel, type Baseline } from './tenant-view';
import { TeamsWorld, type WorldEvent, type WorldMessage } from './world';

export interface PlaygroundLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface StartPlaygroundOptions {
  /** Where the bot's `/api/messages` is, e.g. `http://127.0.0.1:3978`. */
  botUrl: string;
  tenantId: string;
  personas: Persona[];
  /** The embedded simulated tenant (side panel and fault knobs), or null for a real tenant. */
  simulator: Simulator | null;
  /** Default 3979; 0 = any free port. Always bound to 127.0.0.1. */
  port?: number;
  /** Chat history file (kept across restarts), or none. */
  stateFile?: string;
  /** Tell the bot it was installed in the team and in each person's personal scope (first start only). Default true. */
  announceInstall?: boolean;
  logger?: PlaygroundLogger;
  /** How often the tenant panel is re-read while a page is open (default 1000 ms). */
  tenantPollMs?: number;
  /**
   * The bot's SSO app id (the Teams app's webApplicationInfo.id): whose `api://botid-<id>` the page's SSO tokens are
   * for when the bot's loginRequest names no uri. Default: the simulator's seeded bot app.
   */
  ssoAppId?: string;
}

export interface Playground {
  url: string;
  port: number;
  /** What the bot sees as `activity.serviceUrl`. */
  serviceUrl: string;
  world: TeamsWorld;
  personas: Persona[];
  close(): Promise<void>;
}

export const DEFAULT_PLAYGROUND_PORT = 3979;
const MAX_BODY_BYTES = 1024 * 1024;
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const require = createRequire(import.meta.url);

const STATIC_FILES: Record<string, { file: () => string; type: string }> = {
  '/': { file: () => `${STATIC_DIR}index.html`, type: 'text/html; charset=utf-8' },
  '/static/app.js': { file: () => `${STATIC_DIR}app.js`, type: 'text/javascript; charset=utf-8' },
  '/static/markdown.js': { file: () => `${STATIC_DIR}markdown.js`, type: 'text/javascript; charset=utf-8' },
  '/static/host-config.js': { file: () => `${STATIC_DIR}host-config.js`, type: 'text/javascript; charset=utf-8' },
  '/static/app.css': { file: () => `${STATIC_DIR}app.css`, type: 'text/css; charset=utf-8' },
  '/static/favicon.svg': { file: () => `${STATIC_DIR}favicon.svg`, type: 'image/svg+xml' },
  // The official renderer, exactly as published (UMD bundle; exposes window.AdaptiveCards).
  '/vendor/adaptivecards.min.js': { file: () => require.resolve('adaptivecards/dist/adaptivecards.min.js'), type: 'text/javascript; charset=utf-8' },
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** One message as the page draws it. */
export interface MessageView {
  id: string;
  conversationId: string;
  from: { id: string; name: string; isBot: boolean; isMe: boolean };
  createdAt: string;
  updatedAt: string | null;
  version: number;
  deleted: boolean;
  text: string | null;
  textFormat: string | null;
  /** Adaptive Card JSON of each card attachment. */
  cards: Record<string, unknown>[];
  /** Attachments the playground does not draw (content types). */
  otherAttachments: string[];
  /** Bot's HTTP answer when this user message was delivered, if it failed. */
  deliveryError: string | null;
}

export interface ThreadView {
  root: MessageView;
  replies: MessageView[];
}

export interface PersonaView {
  persona: PersonaKey;
  chat: { id: string; title: string; messages: MessageView[] };
  channels: Array<{ key: string; id: string; name: string; threads: ThreadView[] }>;
}

export function messageView(m: WorldMessage, viewer: Persona, deliveryError: string | null = null): MessageView {
  const attachments = Array.isArray(m.activity.attachments) ? (m.activity.attachments as unknown[]).filter(isRecord) : [];
  const cards: Record<string, unknown>[] = [];
  const other: string[] = [];
  for (const a of attachments) {
    if (a.contentType === 'application/vnd.microsoft.card.adaptive' && isRecord(a.content)) cards.push(a.content);
    // Teams clients hide the HTML copy of a mention post; it is the same text.
    else if (a.contentType !== 'text/html') other.push(String(a.contentType));
  }
  return {
    id: m.id,
    conversationId: m.conversationId,
    from: { id: m.from.id, name: m.from.name, isBot: m.from.isBot, isMe: m.from.id === viewer.mri },
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    version: m.version,
    deleted: m.deleted,
    text: m.deleted ? null : typeof m.activity.text === 'string' ? m.activity.text : null,
    textFormat: typeof m.activity.textFormat === 'string' ? m.activity.textFormat : null,
    cards: m.deleted ? [] : cards,
    otherAttachments: m.deleted ? [] : other,
    deliveryError,
  };
}

export function personaView(world: TeamsWorld, viewer: Persona, deliveryErrors: ReadonlyMap<string, string> = new Map()): PersonaView {
  const chat = world.personalConversationOf(viewer);
  const view = (m: WorldMessage) => messageView(m, viewer, deliveryErrors.get(m.id) ?? null);
  const channels = world.team.channels
    .filter((c) => world.canSee(viewer, c.id))
    .map((c) => {
      const messages = world.messagesIn(c.id);
      const threads: ThreadView[] = messages
        .filter((m) => m.threadRootId === m.id)
        .map((root) => ({ root: view(root), replies: messages.filter((m) => m.threadRootId === root.id && m.id !== root.id).map(view) }));
      return { key: c.key, id: c.id, name: c.name, threads };
    });
  return { persona: viewer.key, chat: { id: chat.id, title: world.bot.name, messages: world.messagesIn(chat.id).map(view) }, channels };
}

interface FaultKnobs {
  latencyMs: number;
  replicationDelayMs: number;
  throttleShare: number;
}

function knobsOf(sim: Simulator): FaultKnobs {
  const f = sim.faults();
  return { latencyMs: f.latencyMs, replicationDelayMs: f.replicationDelayMs, throttleShare: f.throttle?.share ?? 0 };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TOKEN_CHARS = 16 * 1024;

/** Which app a tokenExchangeResource uri names: `api://botid-<id>` (Teams SSO's Application ID URI) or the bare id. */
function ssoAudience(uri: string): { botAppId: string; audience: 'uri' | 'id' } {
  const m = /^api:\/\/botid-([0-9a-f-]{36})$/i.exec(uri);
  if (m && GUID.test(m[1]!)) return { botAppId: m[1]!.toLowerCase(), audience: 'uri' };
  if (GUID.test(uri)) return { botAppId: uri.toLowerCase(), audience: 'id' };
  throw new HttpError(400, 'uri must be api://botid-<app id> or the app id');
}

/** `authentication` of a re-sent invoke, checked for shape only: the bot judges the token. */
function authenticationOf(v: unknown): InvokeAuthentication | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v) || typeof v.id !== 'string' || typeof v.token !== 'string' || !v.token || v.token.length > MAX_TOKEN_CHARS) {
    throw new HttpError(400, 'authentication must be { id, connectionName, token }');
  }
  if (v.connectionName !== undefined && typeof v.connectionName !== 'string') throw new HttpError(400, 'authentication.connectionName must be a string');
  return { id: v.id, connectionName: typeof v.connectionName === 'string' ? v.connectionName : '', token: v.token };
}

function numberIn(v: unknown, name: string, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) throw new HttpError(400, `${name} must be a number from ${min} to ${max}`);
  return n;
}

export async function startPlayground(options: StartPlaygroundOptions): Promise<Playground> {
  const logger = options.logger ?? { info: (m: string) => console.log(`[playground] ${m}`), warn: (m: string) => console.warn(`[playground] ${m}`) };
  const bot = playgroundBot();
  const team = playgroundTeam(options.tenantId);
  const world = new TeamsWorld({ tenantId: options.tenantId, bot, team, users: options.personas, stateFile: options.stateFile });
  const personas = new Map(options.personas.map((p) => [p.key, p]));
  const deliveryErrors = new Map<string, string>();
  const sim = options.simulator;
  const baseline: Baseline | null = sim ? baselineOf(sim.snapshot()) : null;
  const sse = new Set<ServerResponse>();
  let envelope: Envelope | null = null;

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of sse) res.write(frame);
  };
  world.on('event', (e: WorldEvent) => broadcast('world', e));

  // The tenant changes underneath us (the bot's worker, other tools); look while someone is watching.
  let lastPanel = '';
  const panelJson = () => (sim && baseline ? JSON.stringify(tenantPanel(sim.snapshot(), baseline)) : '');
  const poll = setInterval(() => {
    if (sse.size === 0 || !sim) return;
    const now = panelJson();
    if (now !== lastPanel) {
      lastPanel = now;
      broadcast('tenant', {});
    }
  }, options.tenantPollMs ?? 1000);
  poll.unref();
  const keepAlive = setInterval(() => {
    for (const res of sse) res.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();

  const personaOf = (key: unknown): Persona => {
    const p = typeof key === 'string' ? personas.get(key as PersonaKey) : undefined;
    if (!p) throw new HttpError(400, `persona must be one of ${PERSONA_KEYS.join(', ')}`);
    return p;
  };

  const deliver = (message: WorldMessage, activity: Record<string, unknown> & { type: string; id: string }) => {
    postToBot(options.botUrl, activity)
      .then((answer) => {
        if (answer.status >= 300) {
          deliveryErrors.set(message.id, `The bot answered HTTP ${answer.status}`);
          broadcast('world', { type: 'update', conversationId: message.conversationId, messageId: message.id, version: message.version });
        }
      })
      .catch((err: unknown) => {
        deliveryErrors.set(message.id, `The bot could not be reached (${err instanceof Error ? err.message : String(err)})`);
        broadcast('world', { type: 'update', conversationId: message.conversationId, messageId: message.id, version: message.version });
      });
  };

  async function api(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'POST') {
      // Cross-site pages may not drive the playground: JSON only (forces a CORS preflight we never answer) and,
      // when the browser says where it comes from, it must be this page.
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'send application/json');
      const origin = req.headers.origin;
      if (origin && origin !== ownOrigin(req)) throw new HttpError(403, 'cross-origin request refused');
    }
    const body = method === 'POST' ? parseJson(await readBody(req)) : null;
    const env = envelope!;

    if (path === '/api/bootstrap' && method === 'GET') {
      return send(res, 200, {
        bot,
        team: { id: team.id, name: team.name },
        channels: team.channels.map((c) => ({ key: c.key, id: c.id, name: c.name })),
        personas: options.personas.map((p) => ({ key: p.key, name: p.name, upn: p.upn, role: p.role, directoryRoles: p.directoryRoles ?? [], mri: p.mri, aadObjectId: p.aadObjectId })),
        tenant: { id: options.tenantId, simulated: !!sim, domain: sim?.domain ?? null },
      });
    }
    if (path === '/api/view' && method === 'GET') {
      return send(res, 200, personaView(world, personaOf(url.searchParams.get('persona')), deliveryErrors));
    }
    if (path === '/api/send' && method === 'POST') {
      if (!isRecord(body)) throw new HttpError(400, 'body must be an object');
      const persona = personaOf(body.persona);
      const text = typeof body.text === 'string' ? body.text.trim() : '';
      if (!text) throw new HttpError(400, 'text is required');
      if (text.length > 4000) throw new HttpError(400, 'text is longer than 4000 characters');
      if (body.channel === undefined || body.channel === null) {
        const message = world.userMessageInChat(persona, text);
        deliver(message, personalMessage(env, persona, message.conversationId, message.id, text));
        return send(res, 200, { id: message.id, delivered: true });
      }
      const channel = world.channel(String(body.channel));
      if (!channel || !world.canSee(persona, channel.id)) throw new HttpError(404, 'no such channel');
      const rootId = typeof body.threadRootId === 'string' && body.threadRootId ? body.threadRootId : null;
      let message: WorldMessage;
      try {
        message = world.userMessageInChannel(persona, channel.key, text, rootId);
      } catch (err) {
        throw new HttpError(404, err instanceof Error ? err.message : String(err));
      }
      // Teams delivers a channel post to a bot only when it @mentions the bot.
      const activity = channelMention(env, persona, team, channel, message.threadRootId!, message.id, text);
      if (activity) deliver(message, activity);
      return send(res, 200, { id: message.id, delivered: !!activity });
    }
    if (path === '/api/invoke' && method === 'POST') {
      if (!isRecord(body) || !isRecord(body.action)) throw new HttpError(400, 'body must be { persona, messageId, action, trigger, authentication? }');
      const persona = personaOf(body.persona);
      const message = typeof body.messageId === 'string' ? world.message(body.messageId) : undefined;
      if (!message || message.deleted || !world.canSee(persona, message.baseConversationId)) throw new HttpError(404, 'no such message');
      const verb = body.action.verb;
      if (typeof verb !== 'string' || !verb) throw new HttpError(400, 'action.verb is required');
      const data = isRecord(body.action.data) ? body.action.data : {};
      const trigger = body.trigger === 'automatic' ? 'automatic' : 'manual';
      const authentication = authenticationOf(body.authentication);
      const conv = world.conversation(message.baseConversationId)!;
      const channel = conv.kind === 'channel' ? team.channels.find((c) => c.id === conv.id) : undefined;
      const activity = cardInvoke(
        env,
        persona,
        { id: message.conversationId, kind: conv.kind },
        message.id,
        { verb, data, id: typeof body.action.id === 'string' ? body.action.id : undefined },
        trigger,
        channel ? { team, channel } : undefined,
        authentication,
      );
      let answer;
      try {
        answer = await postToBot(options.botUrl, activity);
      } catch (err) {
        return send(res, 200, { status: 0, body: null, ms: 0, version: message.version, error: `The bot could not be reached (${err instanceof Error ? err.name : 'error'})` });
      }
      // The version the response belongs to: a card returned here replaces the card only while the message is
      // not edited again (an edit applies to everyone, as in Teams).
      return send(res, 200, { status: answer.status, body: answer.body, ms: answer.ms, version: world.message(message.id)?.version ?? message.version });
    }
    if (path === '/api/sso-token' && method === 'POST') {
      // What a Teams client gets silently for the signed-in person when a bot asks for sign-in (loginRequest): a
      // token for the bot's app, minted here by the simulated tenant. Never logged; the page holds it only for the
      // one re-sent invoke.
      if (!isRecord(body)) throw new HttpError(400, 'body must be { persona, uri? }');
      const persona = personaOf(body.persona);
      if (!sim) throw new HttpError(409, 'Teams SSO tokens exist only on the simulated tenant; this playground cannot sign anyone in to a real one');
      if (body.uri !== undefined && typeof body.uri !== 'string') throw new HttpError(400, 'uri must be a string');
      const uri = typeof body.uri === 'string' && body.uri ? body.uri : `api://botid-${options.ssoAppId ?? sim.botApp.clientId}`;
      const { botAppId, audience } = ssoAudience(uri);
      let token: string;
      try {
        token = sim.teamsSsoToken(persona.aadObjectId, { botAppId, audience, client: 'web' });
      } catch (err) {
        throw new HttpError(404, err instanceof Error ? err.message : String(err));
      }
      return send(res, 200, { token });
    }
    if (path === '/api/tenant' && method === 'GET') {
      if (!sim || !baseline) return send(res, 200, { simulated: false, tenantId: options.tenantId });
      return send(res, 200, { simulated: true, ...tenantPanel(sim.snapshot(), baseline) });
    }
    if (path === '/api/faults') {
      if (!sim) throw new HttpError(404, 'fault knobs exist only for the simulated tenant');
      if (method === 'GET') return send(res, 200, knobsOf(sim));
      if (method === 'POST') {
        if (!isRecord(body)) throw new HttpError(400, 'body must be an object');
        const current = knobsOf(sim);
        const latencyMs = body.latencyMs === undefined ? current.latencyMs : numberIn(body.latencyMs, 'latencyMs', 0, 10_000);
        const replicationDelayMs = body.replicationDelayMs === undefined ? current.replicationDelayMs : numberIn(body.replicationDelayMs, 'replicationDelayMs', 0, 600_000);
        const throttleShare = body.throttleShare === undefined ? current.throttleShare : numberIn(body.throttleShare, 'throttleShare', 0, 1);
        sim.setFaults({ latencyMs, replicationDelayMs, throttle: throttleShare > 0 ? { share: throttleShare, retryAfterSeconds: 1 } : null });
        logger.info(`simulator faults: latency ${latencyMs} ms, replication delay ${replicationDelayMs} ms, throttling ${Math.round(throttleShare * 100)}%`);
        broadcast('faults', knobsOf(sim));
        return send(res, 200, knobsOf(sim));
      }
    }
    if (path === '/api/events' && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      sse.add(res);
      req.on('close', () => sse.delete(res));
      return;
    }
    throw new HttpError(404, `no route ${method} ${path}`);
  }

  let port = 0;
  const ownOrigin = (req: IncomingMessage) => `http://${req.headers.host ?? `127.0.0.1:${port}`}`;
  const allowedHost = (host: string | undefined) => !!host && [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host.toLowerCase());

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A DNS-rebinding page would arrive with its own host name; only loopback names are ours.
    if (!allowedHost(req.headers.host)) return send(res, 421, { error: 'unknown host' });
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const path = url.pathname;

    if (path.startsWith('/teams/')) {
      // Only the bot calls the connector; a browser always says where a cross-site write comes from, so any Origin
      // means a web page trying to post into the chats.
      if (req.headers.origin) return send(res, 403, { error: { code: 'Forbidden', message: 'The connector does not answer web pages' } });
      const raw = path.slice('/teams/'.length).split('/').filter(Boolean);
      let segments: string[];
      try {
        segments = raw.map((s) => decodeURIComponent(s));
      } catch {
        return send(res, 400, { error: { code: 'BadSyntax', message: 'Malformed path' } });
      }
      let text: string;
      try {
        text = await readBody(req);
      } catch (err) {
        if (err instanceof HttpError) return send(res, err.status, { error: { code: 'BadSyntax', message: err.message } });
        throw err;
      }
      const body = parseJson(text);
      const answer = world.handleConnector((req.method ?? 'GET').toUpperCase(), segments, body, Object.fromEntries(url.searchParams));
      return send(res, answer.status, answer.body);
    }
    if (path.startsWith('/api/')) {
      try {
        await api(req, res, path, url);
      } catch (err) {
        if (err instanceof HttpError) return send(res, err.status, { error: err.message });
        logger.warn(`${req.method} ${path} failed: ${err instanceof Error ? err.message : String(err)}`);
        return send(res, 500, { error: 'internal error' });
      }
      return;
    }
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    const asset = STATIC_FILES[path];
    if (asset && (req.method === 'GET' || req.method === 'HEAD')) {
      const content = readFileSync(asset.file());
      res.writeHead(200, {
        'content-type': asset.type,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        ...(path === '/'
          ? {
              'content-security-policy':
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            }
          : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : content);
      return;
    }
    return send(res, 404, { error: 'not found' });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.warn(`request failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PLAYGROUND_PORT, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const serviceUrl = `${url}/teams/`;
  envelope = { serviceUrl, bot, tenantId: options.tenantId };

  if ((options.announceInstall ?? true) && !world.installed) {
    // Teams tells a bot when it is added to a team and to each person's personal scope; the bot may store those
    // conversation references. Only on the first start, as in Teams.
    const [installer] = options.personas;
    try {
      if (installer) await postToBot(options.botUrl, botAddedToTeam(envelope, installer, team), 10_000);
      for (const p of options.personas) await postToBot(options.botUrl, botAddedToPersonalChat(envelope, p, world.personalConversationOf(p).id), 10_000);
      world.markInstalled();
    } catch (err) {
      logger.warn(`could not tell the bot it was installed (${err instanceof Error ? err.message : String(err)}); it will learn the conversations when people write`);
    }
  }

  let closed: Promise<void> | null = null;
  return {
    url,
    port,
    serviceUrl,
    world,
    personas: options.personas,
    close() {
      closed ??= new Promise<void>((resolve) => {
        clearInterval(poll);
        clearInterval(keepAlive);
        for (const res of sse) res.end();
        sse.clear();
        world.flush();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
