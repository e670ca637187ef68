/**
 * Teams SSO in the playground (docs/simulator.md, "Teams SSO in the playground"): `POST /api/sso-token` mints the
 * clicking person's Teams SSO token on the simulated tenant, and `/api/invoke` re-sends an invoke with
 * `value.authentication`. Driven here exactly as the page (static/app.js) drives it, against a small bot that answers
 * the Universal Actions loginRequest and exchanges the token On-Behalf-Of with the seeded bot app
 * (test/harness/sso-bot.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotServer } from '../bot/host/server';
import { LOGIN_REQUEST, PRECONDITION_FAILED, startSsoBot, type SeenInvoke } from '../../test/harness/sso-bot';
import { DEFAULT_TEST_TLS_DIR, TEAMS_CLIENT_IDS, startSimulator, type Simulator } from '../sim';
import { configuredPersonas, simulatorPersonas, type Persona } from './personas';
import { startPlayground, type Playground, type PersonaView } from './server';


const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('playground: Teams SSO for Universal Actions', () => {
  let sim: Simulator;
  let bot: BotServer;
  let pg: Playground;
  let personas: Persona[];
  const dataDir = mkdtempSync(join(tmpdir(), 'pg-sso-'));
  const logs: string[] = [];
  let invokes: SeenInvoke[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ tlsDir: DEFAULT_TEST_TLS_DIR });
    personas = simulatorPersonas(sim.snapshot().users, sim.tenantId, sim.domain);
    const started = await startSsoBot(sim, {
      admins: personas.map((p) => p.aadObjectId),
      connectionName: 'opter-sso',
      card: { text: 'Approve', actions: [{ type: 'Action.Execute', verb: 'approve', title: 'Approve' }] },
    });
    bot = started.bot;
    invokes = started.invokes;
    const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) };
    pg = await startPlayground({ botUrl: bot.url, tenantId: sim.tenantId, personas, simulator: sim, port: 0, stateFile: join(dataDir, 'chats.json'), logger });
  });

  afterAll(async () => {
    await pg?.close();
    await bot?.close();
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${pg.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const cardMessage = async (persona: string) => {
    await post('/api/send', { persona, text: 'hello' });
    let id: string | undefined;
    await expect
      .poll(async () => {
        const v = (await (await fetch(`${pg.url}/api/view?persona=${persona}`)).json()) as PersonaView;
        id = v.chat.messages.filter((m) => m.cards.length).at(-1)?.id;
        return id;
      })
      .toBeTruthy();
    return id!;
  };

  /** The page's handshake (static/app.js invoke → loginRequestOf → signInAndResend). */
  async function clickSignedIn(persona: string, messageId: string, action: Record<string, unknown>) {
    const first = await (await post('/api/invoke', { persona, messageId, action, trigger: 'manual' })).json();
    expect(first.body).toMatchObject({ statusCode: 401, type: LOGIN_REQUEST });
    const { tokenExchangeResource: ter, connectionName } = first.body.value;
    const sso = await post('/api/sso-token', { persona, uri: ter.uri });
    expect(sso.status).toBe(200);
    const { token } = await sso.json();
    const again = await (await post('/api/invoke', { persona, messageId, action, trigger: 'manual', authentication: { id: ter.id, connectionName, token } })).json();
    return { first, again, token: token as string };
  }

  it('tells the page each persona’s Entra roles (what delegated mode decides with)', async () => {
    const boot = await (await fetch(`${pg.url}/api/bootstrap`)).json();
    const roles = Object.fromEntries(boot.personas.map((p: { key: string; directoryRoles: string[] }) => [p.key, p.directoryRoles]));
    expect(roles).toEqual({
      requester: ['Global Reader'],
      approver: ['Privileged Role Administrator', 'Exchange Administrator', 'Cloud Application Administrator'],
      nonAdmin: [],
    });
  });

  it('mints the person’s Teams SSO token for the bot’s app: aud api://botid-<bot app>, the web client, their oid/upn', async () => {
    const res = await post('/api/sso-token', { persona: 'approver' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const approver = personas.find((p) => p.key === 'approver')!;
    expect(claims((await res.json()).token)).toMatchObject({
      aud: `api://botid-${sim.botApp.clientId}`,
      scp: 'access_as_user',
      azp: TEAMS_CLIENT_IDS.web,
      tid: sim.tenantId,
      oid: approver.aadObjectId,
      upn: approver.upn,
    });
  });

  it('takes the audience from tokenExchangeResource.uri (Application ID URI or app id) and refuses anything else', async () => {
    const other = '11111111-2222-4333-8444-555555555555';
    expect(claims((await (await post('/api/sso-token', { persona: 'requester', uri: `api://botid-${other}` })).json()).token).aud).toBe(`api://botid-${other}`);
    expect(claims((await (await post('/api/sso-token', { persona: 'requester', uri: other })).json()).token).aud).toBe(other);
    expect((await post('/api/sso-token', { persona: 'requester', uri: 'https://graph.microsoft.com' })).status).toBe(400);
    expect((await post('/api/sso-token', { persona: 'mallory' })).status).toBe(400);
    expect((await post('/api/sso-token', { persona: 'requester' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await fetch(`${pg.url}/api/sso-token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415);
  });

  it('re-sends the same invoke with value.authentication; the bot exchanges the token On-Behalf-Of as the clicker', async () => {
    const messageId = await cardMessage('approver');
    invokes.length = 0;
    const action = { id: 'approve-1', verb: 'approve', data: { requestId: 'r-1' } };
    const { again, token } = await clickSignedIn('approver', messageId, action);
    expect(again).toMatchObject({ status: 200, body: { statusCode: 200, value: `Signed in as vd@${sim.domain}.` } });
    expect(invokes).toHaveLength(2);
    const [first, second] = invokes;
    expect(first!.authentication).toBeUndefined();
    expect(second).toMatchObject({ action: first!.action, trigger: 'manual', from: first!.from, authentication: { id: 'ter-1', connectionName: 'opter-sso', token } });
    // The token was only passed through: not logged, not in the chats or their file, not in any view.
    pg.world.flush();
    const everywhere = [logs.join('\n'), readFileSync(join(dataDir, 'chats.json'), 'utf8'), await (await fetch(`${pg.url}/api/view?persona=approver`)).text()];
    for (const text of everywhere) expect(text).not.toContain(token);
  });

  it('passes a 412 preconditionFailed through when the bot cannot use the token', async () => {
    const messageId = await cardMessage('requester');
    const { again } = await clickSignedIn('requester', messageId, { id: 'a-2', verb: 'approve', data: { uri: 'api://botid-11111111-2222-4333-8444-555555555555' } });
    expect(again.body).toEqual({ statusCode: 412, type: PRECONDITION_FAILED, value: { code: '412', message: 'Microsoft 365 would not let Opter act for you.' } });
  });

  it('refuses a malformed authentication and an SSO token without a simulated tenant', async () => {
    const messageId = await cardMessage('requester');
    const bad = await post('/api/invoke', { persona: 'requester', messageId, action: { verb: 'approve' }, authentication: { id: 'ter-1', token: 42 } });
    expect(bad.status).toBe(400);
    const real = await startPlayground({
      botUrl: bot.url,
      tenantId: sim.tenantId,
      personas: configuredPersonas(personas.map((p) => p.aadObjectId), [], sim.tenantId),
      simulator: null,
      port: 0,
      announceInstall: false,
      logger: { info: () => {}, warn: () => {} },
    });
    try {
      const res = await fetch(`${real.url}/api/sso-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ persona: 'approver' }) });
      expect(res.status).toBe(409);
      expect((await res.json()).error).toMatch(/only on the simulated tenant/);
    } finally {
      await real.close();
    }
  });
});
