// The playground page: a small Teams client for three people in one tab. It draws conversations from the server's
// view (/api/view), renders cards with the official Adaptive Cards renderer, and behaves like a Teams client:
//  - an Action.Execute click posts an `adaptiveCard/action` invoke as the current person (inputs validated first);
//  - a card returned in the invoke response replaces the card for that person only, in this client only, until the
//    message is edited (an edit applies to everyone);
//  - a card with `refresh` fires an automatic invoke for each listed person (userIds = MRIs) when they look at it,
//    again after an edit, and again when their view is older than a minute;
//  - channel posts reach the bot only when they @mention it;
//  - when the bot answers an invoke with a loginRequest (Universal Actions SSO), it fetches the person's Teams SSO
//    token silently and re-sends the same invoke with `value.authentication`, as Teams does.
import { renderMarkdown } from './markdown.js';
import { teamsHostConfig } from './host-config.js';

const AC = window.AdaptiveCards;
const hostConfig = new AC.HostConfig(teamsHostConfig);
AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = renderMarkdown(text);
  result.didProcess = true;
};

const CARD_TYPE = 'application/vnd.microsoft.card.adaptive';
const MESSAGE_TYPE = 'application/vnd.microsoft.activity.message';
const LOGIN_REQUEST_TYPE = 'application/vnd.microsoft.activity.loginRequest';
const PRECONDITION_FAILED_TYPE = 'application/vnd.microsoft.error.preconditionFailed';
const REFRESH_AFTER_MS = 60_000;
const MAX_AUTO_REFRESH_MEMBERS = 60;
const SUGGESTED_COMMANDS = ['set up Opter email', 'add sender', 'help'];

const state = {
  boot: null,
  persona: localStorage.getItem('playground.persona') || 'requester',
  locations: {}, // persona -> where that person is looking (each person has their own client)
  views: {}, // persona -> PersonaView
  userCards: {}, // persona -> messageId -> { card, version, at, stamp }
  autoInvoked: {}, // persona -> messageId -> { version, at }
  notices: {}, // persona -> messageId -> { kind, text }
  pending: {}, // persona -> Set(messageId)
  seen: {}, // persona -> Set(messageId)
  typingUntil: {}, // base conversation id -> ms
  tenant: null,
  faults: null,
  tenantSeen: new Set(),
  stamp: 0,
};

const $ = (sel, root = document) => root.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/** replaceChildren, skipping the null/false placeholders conditional children leave. */
function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function per(map, persona) {
  return (map[persona] ??= {});
}

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

async function postJson(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || `HTTP ${res.status}`);
  return json;
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------------------------

function initials(name) {
  const parts = String(name).split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}

const AVATAR_COLOURS = ['#5b5fc7', '#c239b3', '#0f6cbd', '#13a10e', '#ca5010', '#4f6bed', '#038387'];
function avatar(name, isBot) {
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const node = el('div', { class: `avatar${isBot ? ' bot' : ''}`, 'aria-hidden': 'true', text: initials(name) });
  node.style.background = isBot ? '#5b5fc7' : AVATAR_COLOURS[h % AVATAR_COLOURS.length];
  return node;
}

function formatTime(iso) {
  const d = new Date(iso);
  const now = new Date();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 10);
}

function textWithMentions(text) {
  const bot = state.boot.bot.name;
  const frag = document.createDocumentFragment();
  const needle = `@${bot}`;
  let rest = String(text);
  for (;;) {
    const at = rest.toLowerCase().indexOf(needle.toLowerCase());
    if (at < 0) break;
    frag.append(rest.slice(0, at), el('span', { class: 'mention', text: bot }));
    rest = rest.slice(at + needle.length);
  }
  frag.append(rest);
  return frag;
}

// ---------------------------------------------------------------------------------------------------------------
// Cards and invokes
// ---------------------------------------------------------------------------------------------------------------

function currentLocation() {
  return state.locations[state.persona] ?? { kind: 'chat' };
}

/** The card this person sees for a message: their own invoke-response view while the message is unedited. */
function effectiveCard(persona, m) {
  const view = per(state.userCards, persona)[m.id];
  if (view && view.version === m.version) {
    // A bot that edits the message for everyone and answers with the same card (teams-ai's REPLACE_FOR_ALL) shows
    // nothing private.
    if (view.same === undefined) view.same = JSON.stringify(view.card) === JSON.stringify(m.cards[0]);
    if (!view.same) return { card: view.card, personal: true, stamp: view.stamp };
  }
  return { card: m.cards[0], personal: false, stamp: 0 };
}

function renderCard(json, persona, message) {
  const card = new AC.AdaptiveCard();
  card.hostConfig = hostConfig;
  card.onExecuteAction = (action) => onCardAction(action, persona, message.id);
  const ctx = new AC.SerializationContext();
  try {
    card.parse(json, ctx);
    const node = card.render();
    if (!node) throw new Error('the renderer returned nothing');
    for (let i = 0; i < ctx.eventCount; i++) console.warn('card parse:', ctx.getEventAt(i).message);
    return node;
  } catch (err) {
    return el('div', { class: 'card-error', text: `This card could not be shown (${err.message}).` });
  }
}

function onCardAction(action, persona, messageId) {
  const type = action.getJsonTypeName();
  if (type === 'Action.Execute') {
    // The renderer has validated the associated inputs and merged their values into action.data.
    invoke(persona, messageId, { verb: action.verb, data: action.data ?? {}, id: action.id }, 'manual');
  } else if (type === 'Action.OpenUrl') {
    window.open(action.url, '_blank', 'noopener,noreferrer');
  } else if (type === 'Action.Submit') {
    setNotice(persona, messageId, 'error', 'Action.Submit is not supported here; the bot uses Action.Execute.');
    render();
  }
}

function setNotice(persona, messageId, kind, text) {
  const notices = per(state.notices, persona);
  if (text) notices[messageId] = { kind, text };
  else delete notices[messageId];
}

/** Teams gives an action without an `id` one per click; a sign-in re-send must carry the same one. */
function actionId() {
  return typeof window.crypto?.randomUUID === 'function' ? window.crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

async function invoke(persona, messageId, clicked, trigger) {
  const action = { ...clicked, id: clicked.id ?? actionId() };
  const pending = (state.pending[persona] ??= new Set());
  if (trigger === 'manual') setNotice(persona, messageId, null, null);
  pending.add(messageId);
  render();
  let result;
  try {
    result = await postJson('/api/invoke', { persona, messageId, action, trigger });
    const login = loginRequestOf(result);
    if (login) result = await signInAndResend(persona, messageId, action, trigger, login);
  } catch (err) {
    result = { status: 0, error: err.message };
  } finally {
    pending.delete(messageId);
  }
  applyInvokeResult(persona, messageId, result, trigger);
  await refreshViews();
}

/**
 * The bot's "sign in first" answer to an invoke: `{statusCode: 401, type: loginRequest, value: {connectionName?,
 * tokenExchangeResource: {id, uri}}}` (Universal Actions SSO; docs/simulator.md, "Teams SSO in the playground").
 */
function loginRequestOf(r) {
  const body = r && r.body && typeof r.body === 'object' ? r.body : null;
  if (!body || body.statusCode !== 401 || body.type !== LOGIN_REQUEST_TYPE) return null;
  const v = body.value && typeof body.value === 'object' ? body.value : {};
  const resource = v.tokenExchangeResource && typeof v.tokenExchangeResource === 'object' ? v.tokenExchangeResource : null;
  return {
    id: resource && typeof resource.id === 'string' ? resource.id : null,
    uri: resource && typeof resource.uri === 'string' ? resource.uri : undefined,
    connectionName: typeof v.connectionName === 'string' ? v.connectionName : '',
  };
}

/**
 * Teams' silent SSO: get the person's token for the bot's app, re-send the SAME invoke carrying it once. The token
 * lives only in this call (never logged, shown or stored); a second loginRequest is a failed sign-in, not a loop.
 */
async function signInAndResend(persona, messageId, action, trigger, login) {
  if (!login.id) return { status: 200, error: 'the bot asked for sign-in without a tokenExchangeResource, so Teams cannot sign you in silently' };
  let token;
  try {
    ({ token } = await postJson('/api/sso-token', { persona, uri: login.uri }));
  } catch (err) {
    return { status: 0, error: `Teams could not sign you in silently (${err.message})` };
  }
  // Nothing keeps a reference to the token once this returns: not the state, the DOM or a notice.
  const again = await postJson('/api/invoke', { persona, messageId, action, trigger, authentication: { id: login.id, connectionName: login.connectionName, token } });
  if (loginRequestOf(again)) return { status: 200, error: 'the bot asked for sign-in again after Teams sent your token' };
  return again;
}

/** What a Teams client does with an invoke response (docs/teams-facts.md §2.3). */
function applyInvokeResult(persona, messageId, r, trigger) {
  const body = r.body && typeof r.body === 'object' ? r.body : null;
  const slow = r.ms > 5000 ? ` (the bot took ${(r.ms / 1000).toFixed(1)} s; Teams gives up after about 5 s)` : '';
  if (r.error || r.status !== 200) {
    if (trigger === 'manual') setNotice(persona, messageId, 'error', `Something went wrong: ${r.error ?? `the bot answered HTTP ${r.status}`}.`);
    return;
  }
  if (body?.type === CARD_TYPE && body.value && typeof body.value === 'object') {
    per(state.userCards, persona)[messageId] = { card: body.value, version: r.version, at: Date.now(), stamp: ++state.stamp };
    if (slow) setNotice(persona, messageId, 'warn', `Updated${slow}.`);
    return;
  }
  if (body?.type === MESSAGE_TYPE) {
    if (trigger === 'manual') setNotice(persona, messageId, slow ? 'warn' : 'info', `${String(body.value ?? '')}${slow}`);
    return;
  }
  if (body?.type === PRECONDITION_FAILED_TYPE) {
    // The bot could not use the SSO token (e.g. the On-Behalf-Of exchange failed): its message says why.
    const v = body.value && typeof body.value === 'object' ? body.value : {};
    if (trigger === 'manual') setNotice(persona, messageId, 'error', v.message ? String(v.message) : `Sign-in failed (${body.statusCode ?? 412}).`);
    return;
  }
  if (body && typeof body.statusCode === 'number' && body.statusCode >= 400) {
    const v = body.value && typeof body.value === 'object' ? body.value : {};
    if (trigger === 'manual') setNotice(persona, messageId, 'error', v.message ? String(v.message) : `The bot refused (${body.statusCode}).`);
    return;
  }
  if (slow && trigger === 'manual') setNotice(persona, messageId, 'warn', `Done${slow}.`);
}

/** Teams' refresh rule: listed MRIs (or everyone in a small conversation when userIds is absent). */
function maybeAutoRefresh(persona, m, memberCount) {
  const card = m.cards[0];
  const refresh = card && typeof card === 'object' ? card.refresh : null;
  const action = refresh?.action;
  if (!action || action.type !== 'Action.Execute' || m.deleted) return;
  const mri = state.boot.personas.find((p) => p.key === persona).mri;
  if (Array.isArray(refresh.userIds)) {
    if (!refresh.userIds.includes(mri)) return;
  } else if (memberCount > MAX_AUTO_REFRESH_MEMBERS) return;
  const now = Date.now();
  const view = per(state.userCards, persona)[m.id];
  if (view && view.version === m.version && now - view.at < REFRESH_AFTER_MS) return;
  const last = per(state.autoInvoked, persona)[m.id];
  if (last && last.version === m.version && now - last.at < REFRESH_AFTER_MS) return;
  per(state.autoInvoked, persona)[m.id] = { version: m.version, at: now };
  invoke(persona, m.id, { verb: action.verb, data: action.data ?? {}, id: action.id }, 'automatic');
}

// ---------------------------------------------------------------------------------------------------------------
// Messages (DOM kept per person and conversation, so typed card inputs survive updates of other messages)
// ---------------------------------------------------------------------------------------------------------------

const panes = new Map(); // `${persona}|${locationKey}` -> { root, list, nodes: Map }

function locationKey(loc) {
  return loc.kind === 'chat' ? 'chat' : `channel:${loc.key}`;
}

function messageNode(pane, persona, m) {
  let entry = pane.nodes.get(m.id);
  if (!entry) {
    const body = el('div', { class: 'msg-body' });
    const foot = el('div', { class: 'msg-foot' });
    const head = el('div', { class: 'msg-head' });
    const root = el(
      'div',
      { class: `msg${m.from.isBot ? ' from-bot' : ''}${m.from.isMe ? ' mine' : ''}`, 'data-testid': 'message', 'data-message-id': m.id, 'data-from': m.from.isBot ? 'bot' : 'person' },
      m.from.isMe ? null : avatar(m.from.name, m.from.isBot),
      el('div', { class: 'msg-main' }, head, body, foot),
    );
    entry = { root, head, body, foot, cardKey: null, headKey: null, textKey: null, cardHost: null };
    pane.nodes.set(m.id, entry);
  }

  const headKey = `${m.from.name}|${m.createdAt}|${m.updatedAt}|${m.deleted}`;
  if (entry.headKey !== headKey) {
    entry.headKey = headKey;
    fill(entry.head,
      m.from.isMe ? null : el('span', { class: 'author', text: m.from.name }),
      el('time', { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString(), text: formatTime(m.createdAt) }),
      m.updatedAt && !m.deleted ? el('span', { class: 'edited', title: `Edited ${new Date(m.updatedAt).toLocaleString()}`, text: 'Edited' }) : null,
    );
  }

  const { card, personal, stamp } = effectiveCard(persona, m);
  const textKey = `${m.version}|${m.deleted}|${m.text}`;
  const cardKey = `${m.version}|${m.deleted}|${stamp}`;
  if (entry.textKey !== textKey || entry.cardKey !== cardKey) {
    const parts = [];
    if (m.deleted) parts.push(el('div', { class: 'msg-text deleted', text: 'This message has been deleted.' }));
    else {
      if (m.text) {
        const text = el('div', { class: 'msg-text' });
        if (m.from.isBot) text.innerHTML = renderMarkdown(m.text);
        else text.append(textWithMentions(m.text));
        parts.push(text);
      }
      if (card) {
        const host = el('div', { class: `card-host${personal ? ' personal' : ''}`, 'data-testid': 'card', 'data-card-view': personal ? 'personal' : 'shared' });
        host.append(renderCard(card, persona, m));
        entry.cardHost = host;
        parts.push(host);
      } else entry.cardHost = null;
      for (const extra of m.cards.slice(1)) parts.push(el('div', { class: 'card-host', 'data-testid': 'card' }, renderCard(extra, persona, m)));
      for (const type of m.otherAttachments) parts.push(el('div', { class: 'msg-text subtle', text: `(attachment ${type} is not shown in the playground)` }));
    }
    fill(entry.body, ...parts);
    entry.textKey = textKey;
    entry.cardKey = cardKey;
  }

  const busy = state.pending[persona]?.has(m.id) ?? false;
  if (entry.cardHost) entry.cardHost.classList.toggle('busy', busy);
  const notice = per(state.notices, persona)[m.id];
  fill(entry.foot,
    personal && !m.deleted ? el('div', { class: 'private-note', 'data-testid': 'private-note', text: 'Only you can see this version of the card.' }) : null,
    busy ? el('div', { class: 'working', text: 'Working…' }) : null,
    notice ? el('div', { class: `notice notice-${notice.kind}`, 'data-testid': 'notice', role: notice.kind === 'error' ? 'alert' : 'status', text: notice.text }) : null,
    m.deliveryError ? el('div', { class: 'notice notice-error', 'data-testid': 'delivery-error', text: m.deliveryError }) : null,
  );
  return entry.root;
}

function placeChildren(parent, nodes) {
  // Only move what is out of place: moving a node would blur an input someone is typing in.
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}

function paneFor(persona, loc) {
  const key = `${persona}|${locationKey(loc)}`;
  let pane = panes.get(key);
  if (!pane) {
    const list = el('div', { class: 'messages', 'data-testid': 'messages' });
    pane = { key, list, nodes: new Map(), threadNodes: new Map(), scroller: null };
    panes.set(key, pane);
  }
  return pane;
}

// ---------------------------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------------------------

function renderPersonas() {
  const host = $('#personas');
  fill(host,
    el('span', { class: 'personas-label', text: 'You are' }),
    ...state.boot.personas.map((p) =>
      el(
        'button',
        {
          class: `persona${p.key === state.persona ? ' active' : ''}`,
          role: 'tab',
          'aria-selected': p.key === state.persona ? 'true' : 'false',
          'data-testid': `persona-${p.key}`,
          // The Entra roles matter only in delegated mode (the bot acts with the clicker's own rights).
          title: `${p.name} <${p.upn}>${p.directoryRoles?.length ? `\nEntra roles: ${p.directoryRoles.join(', ')}` : ''}`,
          'data-directory-roles': (p.directoryRoles ?? []).join(', '),
          onclick: () => switchPersona(p.key),
        },
        avatar(p.name, false),
        el('span', { class: 'persona-text' }, el('span', { class: 'persona-name', text: p.name }), el('span', { class: 'persona-role', text: p.role })),
      ),
    ),
  );
}

function messagesOfLocation(view, loc) {
  if (loc.kind === 'chat') return view.chat.messages;
  const channel = view.channels.find((c) => c.key === loc.key);
  return channel ? channel.threads.flatMap((t) => [t.root, ...t.replies]) : [];
}

function unreadCount(persona, loc) {
  const view = state.views[persona];
  if (!view) return 0;
  const seen = (state.seen[persona] ??= new Set());
  return messagesOfLocation(view, loc).filter((m) => !m.from.isMe && !seen.has(m.id)).length;
}

function renderList() {
  const view = state.views[state.persona];
  if (!view) return;
  const item = (loc, label, testid, icon) => {
    const active = locationKey(loc) === locationKey(currentLocation());
    const unread = active ? 0 : unreadCount(state.persona, loc);
    return el(
      'button',
      { class: `list-item${active ? ' active' : ''}${unread ? ' unread' : ''}`, 'data-testid': testid, onclick: () => navigate(loc) },
      icon,
      el('span', { class: 'list-label', text: label }),
      unread ? el('span', { class: 'count', 'data-testid': 'unread', text: String(unread) }) : null,
    );
  };
  const visibleChannels = view.channels.filter((c) => c.key !== 'general' || c.threads.length > 0);
  fill($('#list'),
    el('h2', { text: 'Chat' }),
    item({ kind: 'chat' }, state.boot.bot.name, 'nav-chat', avatar(state.boot.bot.name, true)),
    el('h2', { text: 'Teams' }),
    el('div', { class: 'team-name' }, el('span', { class: 'team-tile', text: 'OA' }), state.boot.team.name),
    ...visibleChannels.map((c) => item({ kind: 'channel', key: c.key }, c.name, `nav-channel-${c.key}`, el('span', { class: 'hash', text: '#' }))),
    el('p', { class: 'list-hint', text: 'Switch person at the top right. Each person has their own chat with the bot; the team channels are shared.' }),
  );
}

function composer(placeholder, onSend, { channel = false, testid = 'composer' } = {}) {
  const input = el('textarea', { class: 'composer-input', rows: '1', placeholder, 'data-testid': `${testid}-input`, 'aria-label': placeholder });
  const popup = el('div', { class: 'mention-popup', hidden: true });
  const hint = el('div', { class: 'composer-hint', 'data-testid': `${testid}-hint` });
  const send = async () => {
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    popup.hidden = true;
    try {
      const r = await onSend(text);
      hint.textContent = channel && r && r.delivered === false ? `Posted. ${state.boot.bot.name} only reads channel posts that @mention it.` : '';
    } catch (err) {
      hint.textContent = `Not sent: ${err.message}`;
      input.value = text;
    }
  };
  const mentionFragment = () => {
    const before = input.value.slice(0, input.selectionStart);
    const m = /(^|\s)@([^@\n]{0,20})$/.exec(before);
    if (!m) return null;
    return state.boot.bot.name.toLowerCase().startsWith(m[2].toLowerCase()) ? { start: before.length - m[2].length - 1, end: before.length } : null;
  };
  const insertMention = () => {
    const f = mentionFragment();
    const text = `@${state.boot.bot.name} `;
    if (f) input.value = input.value.slice(0, f.start) + text + input.value.slice(f.end);
    else input.value = `${input.value}${input.value && !input.value.endsWith(' ') ? ' ' : ''}${text}`;
    popup.hidden = true;
    input.focus();
  };
  popup.append(el('button', { class: 'mention-option', 'data-testid': 'mention-option', onmousedown: (e) => (e.preventDefault(), insertMention()) }, avatar(state.boot.bot.name, true), state.boot.bot.name));
  input.addEventListener('input', () => {
    if (channel) popup.hidden = !mentionFragment();
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  });
  input.addEventListener('keydown', (e) => {
    if (channel && !popup.hidden && (e.key === 'Tab' || e.key === 'Enter')) {
      e.preventDefault();
      insertMention();
    } else if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  });
  const box = el(
    'div',
    { class: 'composer', 'data-testid': testid },
    popup,
    el(
      'div',
      { class: 'composer-row' },
      input,
      channel ? el('button', { class: 'icon-button', title: `Mention ${state.boot.bot.name}`, 'data-testid': `${testid}-mention`, onclick: insertMention, text: '@' }) : null,
      el('button', { class: 'send-button', title: 'Send', 'data-testid': `${testid}-send`, onclick: send }, el('span', { text: 'Send' })),
    ),
    hint,
  );
  box.input = input;
  return box;
}

function suggestions(onPick) {
  return el(
    'div',
    { class: 'suggestions' },
    el('span', { text: 'Try:' }),
    ...SUGGESTED_COMMANDS.map((c) => el('button', { class: 'chip', 'data-testid': 'suggestion', onclick: () => onPick(c), text: c })),
  );
}

const composers = new Map(); // pane key -> composer element (kept so a half-typed message survives re-renders)

function renderConversation() {
  const view = state.views[state.persona];
  if (!view) return;
  const loc = currentLocation();
  const pane = paneFor(state.persona, loc);
  const host = $('#conversation');
  const wasNearBottom = pane.scroller ? pane.scroller.scrollHeight - pane.scroller.scrollTop - pane.scroller.clientHeight < 120 : true;

  let header;
  let members;
  let messages;
  if (loc.kind === 'chat') {
    messages = view.chat.messages;
    members = 2;
    header = el('div', { class: 'conv-header' }, avatar(state.boot.bot.name, true), el('div', {}, el('h1', { text: view.chat.title }), el('div', { class: 'sub', text: 'Chat · the bot and you' })));
    const nodes = messages.map((m) => messageNode(pane, state.persona, m));
    if (messages.length === 0) {
      nodes.push(
        el(
          'div',
          { class: 'empty' },
          el('h3', { text: `Say hello to ${state.boot.bot.name}` }),
          el('p', { text: 'Type “set up Opter email” below to register Opter in the simulated tenant. Another admin approves it in the Requests channel.' }),
        ),
      );
    }
    placeChildren(pane.list, nodes);
  } else {
    const channel = view.channels.find((c) => c.key === loc.key);
    members = state.boot.personas.length;
    messages = channel.threads.flatMap((t) => [t.root, ...t.replies]);
    header = el('div', { class: 'conv-header' }, el('span', { class: 'team-tile big', text: 'OA' }), el('div', {}, el('h1', { text: channel.name }), el('div', { class: 'sub', text: `${state.boot.team.name} · ${members} members` })));
    const threadNodes = channel.threads.map((t) => {
      let entry = pane.threadNodes.get(t.root.id);
      if (!entry) {
        const replies = el('div', { class: 'replies' });
        const replyArea = el('div', { class: 'reply-area' });
        const node = el('div', { class: 'thread', 'data-testid': 'thread', 'data-thread-id': t.root.id }, el('div', { class: 'thread-root' }), replies, replyArea);
        entry = { node, replies, replyArea, composer: null };
        const openReply = () => {
          entry.composer ??= composer('Reply', (text) => postJson('/api/send', { persona: state.persona, channel: loc.key, threadRootId: t.root.id, text }), { channel: true, testid: 'reply' });
          fill(entry.replyArea, entry.composer);
          entry.composer.input.focus();
        };
        replyArea.append(el('button', { class: 'reply-button', 'data-testid': 'reply-open', onclick: openReply, text: 'Reply' }));
        pane.threadNodes.set(t.root.id, entry);
      }
      placeChildren(entry.node.firstElementChild, [messageNode(pane, state.persona, t.root)]);
      placeChildren(entry.replies, t.replies.map((m) => messageNode(pane, state.persona, m)));
      return entry.node;
    });
    if (channel.threads.length === 0) {
      threadNodes.push(el('div', { class: 'empty' }, el('h3', { text: `Welcome to #${channel.name}` }), el('p', { text: `Mention @${state.boot.bot.name} in a post to talk to the bot here.` })));
    }
    placeChildren(pane.list, threadNodes);
  }

  if (!pane.scroller) {
    pane.scroller = el('div', { class: 'scroller' }, pane.list);
    const typing = el('div', { class: 'typing', 'data-testid': 'typing' });
    pane.typing = typing;
    let box;
    if (loc.kind === 'chat') {
      box = composer(`Type a message to ${state.boot.bot.name}`, (text) => postJson('/api/send', { persona: state.persona, text }));
      pane.composerArea = el('div', { class: 'composer-area' }, suggestions((c) => ((box.input.value = c), box.input.focus())), box);
    } else {
      box = composer(`Start a post — type @ to mention ${state.boot.bot.name}`, (text) => postJson('/api/send', { persona: state.persona, channel: loc.key, text }), { channel: true });
      pane.composerArea = el('div', { class: 'composer-area' }, box);
    }
    composers.set(pane.key, box);
    pane.body = [pane.scroller, typing, pane.composerArea];
  }
  const typingUntil = state.typingUntil[loc.kind === 'chat' ? view.chat.id : view.channels.find((c) => c.key === loc.key)?.id] ?? 0;
  pane.typing.textContent = typingUntil > Date.now() ? `${state.boot.bot.name} is typing…` : '';

  const current = host.dataset.pane;
  if (current !== pane.key) {
    fill(host, header, ...pane.body);
    host.dataset.pane = pane.key;
    pane.scroller.scrollTop = pane.scroller.scrollHeight;
  } else {
    host.firstElementChild.replaceWith(header);
    if (wasNearBottom) pane.scroller.scrollTop = pane.scroller.scrollHeight;
  }

  // Looking at a conversation marks it read and lets Teams-style refresh fire for cards in it.
  const seen = (state.seen[state.persona] ??= new Set());
  const persona = state.persona;
  for (const m of messages) seen.add(m.id);
  // After this render, not during it: an invoke re-renders.
  queueMicrotask(() => {
    for (const m of messages) maybeAutoRefresh(persona, m, members);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Tenant panel and fault knobs
// ---------------------------------------------------------------------------------------------------------------

/** What the bot made comes first; the seeded tenant follows. */
function newFirst(list) {
  return [...list].sort((a, b) => Number(b.isNew) - Number(a.isNew));
}

function section(title, testid, items, empty) {
  return el(
    'section',
    { class: 'panel-section', 'data-testid': testid },
    el('h3', {}, title, el('span', { class: 'section-count', text: String(items.length) })),
    items.length ? el('ul', { class: 'panel-list' }, ...items) : el('p', { class: 'panel-empty', text: empty }),
  );
}

function fresh(id, isNew) {
  const flash = isNew && !state.tenantSeen.has(id);
  state.tenantSeen.add(id);
  return `${isNew ? 'new' : ''}${flash ? ' flash' : ''}`;
}

function renderSide() {
  const side = $('#side');
  const t = state.tenant;
  if (!t) return;
  if (!t.simulated) {
    fill(side, el('div', { class: 'panel-head' }, el('h2', { text: 'Tenant' })), el('p', { class: 'panel-empty', text: `Real tenant ${t.tenantId}: the side panel shows only the embedded simulated tenant.` }));
    return;
  }
  const newBadge = (isNew) => (isNew ? el('span', { class: 'new-badge', text: 'new' }) : null);
  const apps = newFirst(t.apps).map((a) =>
    el(
      'li',
      { class: fresh(a.id, a.isNew), 'data-testid': 'tenant-app' },
      el('div', { class: 'item-title' }, a.displayName, newBadge(a.isNew)),
      el('div', { class: 'item-sub mono', title: 'Application (client) ID', text: a.appId }),
      a.requestedPermissions.length ? el('div', { class: 'item-sub', text: `Requests: ${a.requestedPermissions.join(', ')}` }) : null,
      ...a.secrets.map((s) =>
        el('div', { class: 'secret-line', 'data-testid': 'tenant-secret' }, el('span', { class: 'key', text: 'Secret ' }), el('span', { text: s.displayName ?? '' }), el('span', { class: 'mono', title: 'Secret id (the value is never shown)', text: ` ${s.keyId.slice(0, 8)}…` }), ` expires ${formatDate(s.endDateTime)}`),
      ),
      a.certificates ? el('div', { class: 'item-sub', text: `${a.certificates} certificate(s)` }) : null,
    ),
  );
  const sps = newFirst(t.servicePrincipals)
    .filter((s) => !s.firstParty)
    .map((s) => el('li', { class: fresh(s.id, s.isNew), 'data-testid': 'tenant-sp' }, el('div', { class: 'item-title' }, s.displayName, newBadge(s.isNew)), el('div', { class: 'item-sub mono', text: s.id })));
  const grants = newFirst(t.grants).map((g) =>
    el('li', { class: fresh(g.id, g.isNew), 'data-testid': 'tenant-grant' }, el('div', { class: 'item-title' }, `${g.resource}: ${g.permission}`, newBadge(g.isNew)), el('div', { class: 'item-sub', text: `to ${g.principal}` })),
  );
  const groups = newFirst(t.groups).map((g) =>
    el(
      'li',
      { class: fresh(g.guid, g.isNew), 'data-testid': 'tenant-group' },
      el('div', { class: 'item-title' }, g.displayName, newBadge(g.isNew), g.replicated ? null : el('span', { class: 'warn-badge', text: 'replicating' })),
      el('div', { class: 'item-sub mono', text: g.primarySmtpAddress }),
      el('div', { class: 'item-sub', text: g.type === 'MailUniversalSecurityGroup' ? 'Mail-enabled security group' : 'Distribution group' }),
      el('div', { class: 'members', 'data-testid': 'tenant-group-members' }, ...(g.members.length ? g.members.map((m) => el('span', { class: 'member', text: m })) : [el('span', { class: 'subtle', text: 'no members' })])),
    ),
  );
  const policies = newFirst(t.policies).map((p) =>
    el(
      'li',
      { class: fresh(p.identity, p.isNew), 'data-testid': 'tenant-policy' },
      el('div', { class: 'item-title' }, `${p.accessRight} · ${p.appName ?? p.appId}`, newBadge(p.isNew)),
      el('div', { class: 'item-sub', text: `Only as members of ${p.scope}` }),
    ),
  );
  const mailboxKind = { UserMailbox: 'user mailbox', SharedMailbox: 'shared mailbox', RoomMailbox: 'room mailbox', EquipmentMailbox: 'equipment mailbox' };
  const mailboxes = t.mailboxes.map((m) =>
    el('li', { 'data-testid': 'tenant-mailbox' }, el('div', { class: 'item-title mono', text: m.address }), el('div', { class: 'item-sub', text: `${m.displayName} · ${mailboxKind[m.type] ?? m.type}` })),
  );
  const mail = t.mail.map((m) => el('li', {}, el('div', { class: 'item-title', text: m.subject || '(no subject)' }), el('div', { class: 'item-sub', text: `${m.from} → ${m.to.join(', ')} · ${formatTime(m.at)}` })));

  fill(side,
    el('div', { class: 'panel-head' }, el('h2', { text: 'Simulated tenant' }), el('div', { class: 'item-sub mono', text: `${t.domains[0] ?? ''} · ${t.tenantId}` })),
    el('p', { class: 'panel-note', text: 'What the bot really changed, live. Secret values are never shown here.' }),
    section('Mailboxes (these can be senders)', 'tenant-mailboxes', mailboxes, 'None'),
    section('App registrations', 'tenant-apps', apps, 'None'),
    section('Enterprise apps', 'tenant-sps', sps, 'None besides Microsoft’s'),
    section('Admin-consented permissions', 'tenant-grants', grants, 'None'),
    section('Mail-enabled groups', 'tenant-groups', groups, 'None'),
    section('Application access policies', 'tenant-policies', policies, 'None'),
    section('Mail sent', 'tenant-mail', mail, 'None yet'),
    faultsSection(),
  );
}

/** Built once and kept, so a re-drawn tenant panel never eats what someone is typing into a knob. */
let faultsNode = null;
function faultsSection() {
  if (faultsNode) {
    updateFaults();
    return faultsNode;
  }
  const input = (testid, max, step) => el('input', { type: 'number', min: '0', max, step, 'data-testid': testid, id: testid });
  const latency = input('fault-latency', '10000', '50');
  const replication = input('fault-replication', '600000', '1000');
  const throttle = input('fault-throttle', '100', '5');
  const status = el('span', { class: 'fault-status', 'data-testid': 'fault-status' });
  const apply = async () => {
    status.textContent = 'Applying…';
    try {
      state.faults = await postJson('/api/faults', { latencyMs: Number(latency.value), replicationDelayMs: Number(replication.value), throttleShare: Number(throttle.value) / 100 });
      status.textContent = 'Applied.';
    } catch (err) {
      status.textContent = err.message;
    }
  };
  const row = (label, field, unit) => el('label', { class: 'fault-row', for: field.id }, el('span', { text: label }), field, el('span', { class: 'unit', text: unit }));
  faultsNode = el(
    'section',
    { class: 'panel-section faults', 'data-testid': 'faults' },
    el('h3', { text: 'Simulator faults' }),
    el('p', { class: 'panel-note', text: 'Make Microsoft 365 slow or flaky and watch the progress card retry.' }),
    row('Latency per call', latency, 'ms'),
    row('Replication delay', replication, 'ms'),
    row('Throttled calls (429)', throttle, '%'),
    el('div', { class: 'fault-actions' }, el('button', { class: 'button', 'data-testid': 'fault-apply', onclick: apply, text: 'Apply' }), status),
  );
  faultsNode.inputs = { latency, replication, throttle };
  updateFaults();
  return faultsNode;
}

/** Shows the simulator's current knobs, except in a field someone is editing. */
function updateFaults() {
  if (!faultsNode || !state.faults) return;
  const { latency, replication, throttle } = faultsNode.inputs;
  const set = (field, value) => {
    if (document.activeElement !== field) field.value = String(value);
  };
  set(latency, state.faults.latencyMs);
  set(replication, state.faults.replicationDelayMs);
  set(throttle, Math.round(state.faults.throttleShare * 100));
}

// ---------------------------------------------------------------------------------------------------------------
// Navigation and data flow
// ---------------------------------------------------------------------------------------------------------------

function render() {
  renderPersonas();
  renderList();
  renderConversation();
}

function switchPersona(key) {
  state.persona = key;
  localStorage.setItem('playground.persona', key);
  render();
}

function navigate(loc) {
  state.locations[state.persona] = loc;
  render();
}

let refreshing = null;
let again = false;
async function refreshViews() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      const views = await Promise.all(state.boot.personas.map((p) => getJson(`/api/view?persona=${encodeURIComponent(p.key)}`)));
      for (const v of views) state.views[v.persona] = v;
      render();
    } while (again);
  })().finally(() => (refreshing = null));
  return refreshing;
}

async function refreshTenant() {
  const [tenant, faults] = await Promise.all([getJson('/api/tenant'), state.boot.tenant.simulated ? getJson('/api/faults') : Promise.resolve(null)]);
  state.tenant = tenant;
  if (faults) state.faults = faults;
  renderSide();
}

function listen() {
  const events = new EventSource('/api/events');
  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => refreshViews().catch((e) => console.error(e)), 30);
  };
  events.addEventListener('world', (e) => {
    const data = JSON.parse(e.data);
    if (data.type === 'typing') {
      state.typingUntil[data.conversationId] = Date.now() + 3000;
      renderConversation();
      setTimeout(renderConversation, 3100);
      return;
    }
    // A message from the bot ends its typing indicator.
    const base = String(data.conversationId).split(';')[0];
    delete state.typingUntil[base];
    soon();
  });
  events.addEventListener('tenant', () => refreshTenant().catch((e) => console.error(e)));
  events.addEventListener('faults', (e) => {
    state.faults = JSON.parse(e.data);
    updateFaults();
  });
  // After a reconnect (server restart) everything may have changed.
  events.addEventListener('open', () => {
    soon();
    refreshTenant().catch(() => {});
  });
}

async function start() {
  state.boot = await getJson('/api/bootstrap');
  if (!state.boot.personas.some((p) => p.key === state.persona)) state.persona = state.boot.personas[0].key;
  $('#tenant-badge').textContent = state.boot.tenant.simulated ? `Simulated tenant · ${state.boot.tenant.domain}` : `Tenant ${state.boot.tenant.id}`;
  const views = await Promise.all(state.boot.personas.map((p) => getJson(`/api/view?persona=${encodeURIComponent(p.key)}`)));
  for (const v of views) {
    state.views[v.persona] = v;
    // What was there before the page opened is not news.
    state.seen[v.persona] = new Set([...v.chat.messages, ...v.channels.flatMap((c) => c.threads.flatMap((t) => [t.root, ...t.replies]))].map((m) => m.id));
  }
  render();
  await refreshTenant();
  document.body.dataset.ready = 'true';
  listen();
}

start().catch((err) => {
  fill(document.body, el('pre', { class: 'fatal', text: `The playground could not start: ${err.message}` }));
});
