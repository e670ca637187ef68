import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TEST_TLS_DIR } from '../sim';
import type { Persona } from './personas';
import { Socket } from 'node:net';
import { vi } from 'vitest';
import { BotConfigError, readBotConfig, REAL_TENANT_OPT_IN } from '../bot/host/config';
import type { TenantRuntime } from '../runtime/tenant';
import { EMBEDDED_TENANT, seededUserId } from '../sim/tenant';
import { banner, MICROSOFT_LIKE_DELAYS, playgroundBotEnv, playgroundWanted, ProductStartError, simulatorDelaysFor, startProduct, type Product } from './product';
import { channelIdOf, playgroundTeam } from './team';

const TENANT = '3c5e2b1a-9d8f-4e7a-8b6c-5d4e3f2a1b0c';
const persona = (key: Persona['key'], id: string): Persona => ({ key, role: key, aadObjectId: id, mri: `29:${id}`, name: key, upn: `${key}@exempel.se`, tenantId: TENANT });
const personas = [
  persona('requester', 'aaaaaaaa-0000-4000-8000-000000000001'),
  persona('approver', 'aaaaaaaa-0000-4000-8000-000000000002'),
  persona('nonAdmin', 'aaaaaaaa-0000-4000-8000-000000000003'),
];

/** A DATA_DIR whose simulator serves the certificate the test workers already trust. */
function dataDirWithTrustedSimulator(): string {
  const dir = mkdtempSync(join(tmpdir(), 'product-'));
  mkdirSync(join(dir, 'sim-tls'));
  for (const f of readdirSync(DEFAULT_TEST_TLS_DIR).filter((f) => f.endsWith('.pem') && f !== 'ca-bundle.pem')) copyFileSync(join(DEFAULT_TEST_TLS_DIR, f), join(dir, 'sim-tls', f));
  return dir;
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

describe('which parts npm start runs', () => {
  it('runs the playground with no configuration, not for a configured bot or tenant unless PLAYGROUND=1, never with PLAYGROUND=0', () => {
    expect(playgroundWanted({}, true)).toBe(true);
    expect(playgroundWanted({ BOT_ID: 'x' }, true)).toBe(false);
    expect(playgroundWanted({}, false)).toBe(false);
    expect(playgroundWanted({ PLAYGROUND: '1' }, false)).toBe(true);
    expect(playgroundWanted({ PLAYGROUND: 'true', BOT_ID: 'x' }, true)).toBe(true);
    expect(playgroundWanted({ PLAYGROUND: '0' }, true)).toBe(false);
  });

  it('wires the local bot to the playground only where the user did not decide: tenant, admins, approvals and audit channels', () => {
    const team = playgroundTeam(TENANT);
    expect(playgroundBotEnv({ DATA_DIR: '/d' }, TENANT, personas)).toEqual({
      DATA_DIR: '/d',
      AZURE_TENANT_ID: TENANT,
      ADMINS: `${personas[0]!.aadObjectId},${personas[1]!.aadObjectId}`,
      APPROVALS_CHANNEL_ID: channelIdOf(team, 'requests'),
      AUDIT_CHANNEL_ID: channelIdOf(team, 'audit'),
    });
    const mine = { ALLOWED_TENANT_IDS: TENANT, ADMINS: personas[0]!.aadObjectId, APPROVALS_CHANNEL_ID: '19:mine@thread.tacv2', AUDIT_CHANNEL_ID: '19:audit@thread.tacv2' };
    expect(playgroundBotEnv(mine, TENANT, personas)).toEqual(mine);
  });
});

describe('the embedded tenant’s delays', () => {
  it('are Microsoft-like only when asked for (npm start), a few seconds for one setup, each overridable by the environment', () => {
    expect(simulatorDelaysFor({})).toEqual({ latencyMs: 0, replicationDelayMs: 0, secretActivationDelayMs: 0 });
    const like = simulatorDelaysFor({}, 'microsoft-like');
    expect(like).toEqual(MICROSOFT_LIKE_DELAYS);
    expect(like.latencyMs).toBeGreaterThan(0);
    expect(like.replicationDelayMs).toBeGreaterThan(0);
    expect(like.secretActivationDelayMs).toBeGreaterThan(0);
    // "A few seconds in all": no single wait is longer than that.
    expect(Math.max(like.replicationDelayMs, like.secretActivationDelayMs)).toBeLessThanOrEqual(5000);
    expect(simulatorDelaysFor({ SIM_LATENCY_MS: '0', SIM_REPLICATION_DELAY_MS: '4000' }, 'microsoft-like')).toEqual({ ...MICROSOFT_LIKE_DELAYS, latencyMs: 0, replicationDelayMs: 4000 });
    expect(simulatorDelaysFor({ SIM_SECRET_ACTIVATION_DELAY_MS: '250' })).toEqual({ latencyMs: 0, replicationDelayMs: 0, secretActivationDelayMs: 250 });
    expect(() => simulatorDelaysFor({ SIM_LATENCY_MS: 'slow' }, 'microsoft-like')).toThrow(/SIM_LATENCY_MS must be a whole number of milliseconds/);
    expect(() => simulatorDelaysFor({ SIM_LATENCY_MS: '60000' })).toThrow(ProductStartError);
  });
});

describe('startProduct', () => {
  const dirs: string[] = [];
  let product: Product | null = null;
  afterEach(async () => {
    await product?.close();
    product = null;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('puts the delays on the embedded tenant it starts, shown by the playground’s fault knobs', async () => {
    const dataDir = dataDirWithTrustedSimulator();
    dirs.push(dataDir);
    product = await startProduct({ env: { PORT: '0', PLAYGROUND_PORT: '0', SIM_REPLICATION_DELAY_MS: '2000' }, dataDir, logger: quiet, simulatorDelays: 'microsoft-like' });
    expect(product.tenant.simulator!.faults()).toMatchObject({ ...MICROSOFT_LIKE_DELAYS, replicationDelayMs: 2000 });
    const knobs = await (await fetch(`${product.playground!.url}/api/faults`)).json();
    expect(knobs).toEqual({ latencyMs: MICROSOFT_LIKE_DELAYS.latencyMs, replicationDelayMs: 2000, throttleShare: 0 });
  });

  it('is the real bot when BOT_ID is set: authenticated, no playground, nothing about clicking', async () => {
    const dataDir = dataDirWithTrustedSimulator();
    dirs.push(dataDir);
    product = await startProduct({
      env: {
        BOT_ID: '9a1b2c3d-0000-4000-8000-00000000b07a',
        BOT_PASSWORD: 'not-a-real-password',
        SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        HOST: '127.0.0.1',
        PORT: '0',
        AZURE_TENANT_ID: TENANT,
        ADMINS: personas[0]!.aadObjectId,
      },
      dataDir,
      logger: quiet,
    });
    expect(product.mode).toBe('bot');
    expect(product.playground).toBeNull();
    expect(product.config.mode).toBe('authenticated');
    expect(await (await fetch(`${product.botUrl}/healthz`)).json()).toEqual({ status: 'ok', mode: 'authenticated' });
    expect(product.banner.join('\n')).not.toContain('What to click first');
  });

  it('refuses PLAYGROUND=1 next to an authenticated bot, and leaves nothing running', async () => {
    const dataDir = dataDirWithTrustedSimulator();
    dirs.push(dataDir);
    const attempt = startProduct({ env: { PLAYGROUND: '1', BOT_ID: '9a1b2c3d-0000-4000-8000-00000000b07a', BOT_PASSWORD: 'x', PORT: '0' }, dataDir, logger: quiet });
    await expect(attempt).rejects.toThrow(ProductStartError);
    await expect(attempt).rejects.toThrow(/PLAYGROUND=1 needs the bot in local mode/);
  });

  it('refuses local mode (with or without our playground) against a real tenant before it opens anything or reaches any network', async () => {
    const dataDir = join(tmpdir(), `never-created-${process.pid}`);
    const connects = vi.spyOn(Socket.prototype, 'connect');
    try {
      const real = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: '3f2e1d0c-9b8a-4765-8432-10fedcba9876', AZURE_CLIENT_SECRET: 'never-used', ADMINS: `${personas[0]!.aadObjectId},${personas[1]!.aadObjectId}`, PORT: '0' };
      for (const env of [real, { ...real, PLAYGROUND: '1', PLAYGROUND_PORT: '0' }]) {
        const attempt = startProduct({ env, dataDir, logger: quiet });
        await expect(attempt).rejects.toThrow(BotConfigError);
        await expect(attempt).rejects.toThrow(/refuses to run against a real tenant/);
      }
      expect(connects).not.toHaveBeenCalled();
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      connects.mockRestore();
    }
  });

  it('with the opt-in, the banner says REAL TENANT and that nothing authenticates the bot', () => {
    const env = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: '3f2e1d0c-9b8a-4765-8432-10fedcba9876', ADMINS: personas[0]!.aadObjectId, [REAL_TENANT_OPT_IN]: '1' };
    const tenant = { mode: 'tenant', simulator: null, description: `tenant ${TENANT} as client secret for app 3f2e1d0c-9b8a-4765-8432-10fedcba9876` } as unknown as TenantRuntime;
    const lines = banner({ tenant, config: readBotConfig(env), botUrl: 'http://127.0.0.1:3978', playground: null, personas: [], dataDir: '/d' }).join('\n');
    expect(lines).toContain(`running against a REAL TENANT: tenant ${TENANT}`);
    expect(lines).toContain('LOCAL MODE ON A REAL TENANT');
    // An authenticated bot on a real tenant says REAL TENANT too, without the local-mode warning.
    const authenticated = banner({ tenant, config: readBotConfig({ ...env, BOT_ID: '9a1b2c3d-0000-4000-8000-00000000b07a', BOT_PASSWORD: 'x' }), botUrl: 'http://x', playground: null, personas: [], dataDir: '/d' }).join('\n');
    expect(authenticated).toContain('REAL TENANT');
    expect(authenticated).not.toContain('LOCAL MODE ON A REAL TENANT');
  });

  it('PLAYGROUND=0 on the embedded tenant wires the local bot as our playground does, for Microsoft\'s Agents Playground', async () => {
    const dataDir = dataDirWithTrustedSimulator();
    dirs.push(dataDir);
    product = await startProduct({ env: { PLAYGROUND: '0', PORT: '0' }, dataDir, logger: quiet });
    expect(product.mode).toBe('bot');
    expect(product.playground).toBeNull();
    expect(product.tenant.simulator!.tenantId).toBe(EMBEDDED_TENANT.tenantId);
    const admin = seededUserId(EMBEDDED_TENANT.tenantId, 'admin');
    const vd = seededUserId(EMBEDDED_TENANT.tenantId, 'vd');
    expect(product.config).toMatchObject({ mode: 'local', tenantTarget: 'embedded-simulator', allowedTenantIds: [EMBEDDED_TENANT.tenantId], admins: [admin, vd] });
    const text = product.banner.join('\n');
    expect(text).toContain(`agentsplayground -e ${product.botUrl}/api/messages -c msteams --disable-telemetry`);
    expect(text).not.toContain('sim-reset');
  });

  it('names a bad PLAYGROUND_PORT before starting anything', async () => {
    await expect(startProduct({ env: { PLAYGROUND_PORT: 'eighty' }, dataDir: join(tmpdir(), 'never-created'), logger: quiet })).rejects.toThrow(/PLAYGROUND_PORT must be a port number/);
  });
});
