/**
 * The committed `.m365agentsplayground.yml` against the product `PLAYGROUND=0 npm start` runs (startProduct on a fresh
 * DATA_DIR): its tenant, people and channels are the embedded simulated tenant's and the local bot's configuration,
 * and an activity shaped from it — as Microsoft 365 Agents Playground builds activities from this file — gets an
 * answer, where the Agents Playground's default context (another tenant, ids that are not GUIDs) gets silence.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProduct, type Product } from '../../src/playground/product';
import { DEFAULT_TEST_TLS_DIR } from '../../src/sim';
import { adaptiveCardsOf, startFakeConnector, type FakeConnector } from '../harness/fake-connector';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Yaml = string | Yaml[] | { [key: string]: Yaml };

/** Just enough YAML for this file: nested maps, lists of maps, double-quoted (JSON) or plain scalars, # comments. */
function parseYaml(text: string): Yaml {
  const lines = text.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  let i = 0;
  const scalar = (raw: string): string => (raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  function block(indent: number): Yaml {
    if (lines[i]!.slice(indent).startsWith('- ')) {
      const list: Yaml[] = [];
      while (i < lines.length && lines[i]!.startsWith(`${' '.repeat(indent)}- `)) {
        lines[i] = `${' '.repeat(indent + 2)}${lines[i]!.slice(indent + 2)}`;
        list.push(block(indent + 2));
      }
      return list;
    }
    const map: Record<string, Yaml> = {};
    while (i < lines.length && lines[i]!.startsWith(' '.repeat(indent)) && lines[i]![indent] !== ' ' && !lines[i]!.slice(indent).startsWith('- ')) {
      const [, key, rest] = /^\s*([A-Za-z]+):\s?(.*)$/.exec(lines[i]!)!;
      i++;
      map[key!] = rest ? scalar(rest) : block(/^( *)/.exec(lines[i]!)![1]!.length);
    }
    return map;
  }
  return block(0);
}

interface User {
  id: string;
  name: string;
  aadObjectId: string;
  userPrincipleName: string;
}
interface Context {
  tenantId: string;
  bot: { id: string; name: string };
  currentUser: User;
  users: User[];
  personalChat: { id: string };
  team: { id: string; aadGroupId: string; channels: Array<{ id: string; name: string }> };
}

const context = parseYaml(readFileSync(resolve(__dirname, '../../.m365agentsplayground.yml'), 'utf8')) as unknown as Context;

let dataDir: string;
let product: Product;
let connector: FakeConnector;

beforeAll(async () => {
  // A fresh DATA_DIR whose simulator serves the certificate the test workers already trust.
  dataDir = mkdtempSync(join(tmpdir(), 'agents-playground-'));
  mkdirSync(join(dataDir, 'sim-tls'));
  for (const f of readdirSync(DEFAULT_TEST_TLS_DIR).filter((f) => f.endsWith('.pem') && f !== 'ca-bundle.pem')) copyFileSync(join(DEFAULT_TEST_TLS_DIR, f), join(dataDir, 'sim-tls', f));
  connector = await startFakeConnector();
  product = await startProduct({ env: { PLAYGROUND: '0', PORT: '0' }, dataDir, logger: { info() {}, warn() {}, error() {} } });
});
afterAll(async () => {
  await product?.close();
  await connector?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A 1:1 message as the Agents Playground sends it, from the file's current user (or with a tenant override). */
function message(text: string, tenantId = context.tenantId, user: User = context.currentUser) {
  connector.ensureConversation({ id: context.personalChat.id, kind: 'personal', tenantId, members: [{ id: user.id, name: user.name, aadObjectId: user.aadObjectId, userPrincipalName: user.userPrincipleName, tenantId }] });
  return {
    type: 'message',
    id: String(Date.now()),
    channelId: 'msteams',
    serviceUrl: connector.url,
    from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
    recipient: { id: context.bot.id, name: context.bot.name },
    conversation: { id: context.personalChat.id, conversationType: 'personal', tenantId },
    channelData: { tenant: { id: tenantId } },
    text,
  };
}

async function post(activity: unknown): Promise<number> {
  const res = await fetch(`${product.botUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
  await res.text();
  return res.status;
}

describe('.m365agentsplayground.yml', () => {
  it('is the embedded tenant: its id, the admin as current user and the second approver, with valid GUIDs', () => {
    const sim = product.tenant.simulator!;
    expect(context.tenantId).toBe(sim.tenantId);
    const users = sim.snapshot().users;
    const byUpn = (upn: string) => users.find((u) => u.userPrincipalName === upn);
    for (const u of [context.currentUser, ...context.users]) {
      expect(u.aadObjectId).toMatch(GUID);
      expect(byUpn(u.userPrincipleName)?.id).toBe(u.aadObjectId);
      expect(byUpn(u.userPrincipleName)?.displayName).toBe(u.name);
    }
    expect(context.tenantId).toMatch(GUID);
    expect(context.team.aadGroupId).toMatch(GUID);
  });

  it('matches the bot PLAYGROUND=0 starts: allowed tenant, admin and approver, approval and audit channels', () => {
    const { config } = product;
    expect(config.mode).toBe('local');
    expect(config.allowedTenantIds).toEqual([context.tenantId]);
    expect(config.admins).toContain(context.currentUser.aadObjectId);
    expect(config.approvers).toContain(context.users[0]!.aadObjectId);
    const channel = (name: string) => context.team.channels.find((c) => c.name === name)?.id;
    expect(config.approvalsChannelId).toBe(channel('Requests'));
    expect(config.auditChannelId).toBe(channel('Audit'));
  });

  it('an activity built from it is answered; the Agents Playground default tenant is not (why the file exists)', async () => {
    expect(await post(message('help'))).toBe(200);
    const reply = await connector.waitFor(() => connector.messages(context.personalChat.id).find((m) => adaptiveCardsOf(m.activity).length > 0));
    expect(JSON.stringify(adaptiveCardsOf(reply.activity)[0])).toContain('start-setup');

    const before = connector.allMessages().length;
    expect(await post(message('help', '00000000-0000-0000-0000-0000000000001'))).toBe(200);
    await product.bot.idle();
    expect(connector.allMessages().length).toBe(before);
  });
});
