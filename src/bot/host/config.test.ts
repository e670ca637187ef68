import { describe, expect, it } from 'vitest';
import { assertLocalModeTenantAllowed, BotConfigError, describeBotConfig, isLoopbackHost, readBotConfig, REAL_TENANT_OPT_IN, tenantTargetOf } from './config';

const TENANT = '6babcaad-604b-40ac-a9d7-9fd97c0b779f';
const ADMIN_A = '11111111-AAAA-4aaa-8aaa-000000000001';
const ADMIN_B = '22222222-bbbb-4bbb-8bbb-000000000002';
const BOT = '5D2C6F8E-1b3a-4c5d-9e7f-0a1b2c3d4e5f';
const base = { AZURE_TENANT_ID: TENANT, ADMINS: `${ADMIN_A}, ${ADMIN_B}` };

function problemsOf(env: Record<string, string>): string[] {
  try {
    readBotConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(BotConfigError);
    return (err as BotConfigError).problems;
  }
  throw new Error('expected a BotConfigError');
}

describe('readBotConfig', () => {
  it('defaults: local mode on 127.0.0.1:3978, approvers = admins, 24 h TTLs, the embedded simulated tenant', () => {
    const c = readBotConfig(base);
    expect(c).toMatchObject({
      mode: 'local',
      botId: null,
      botPassword: null,
      botType: 'SingleTenant',
      tenantTarget: 'embedded-simulator',
      host: '127.0.0.1',
      port: 3978,
      admins: [ADMIN_A.toLowerCase(), ADMIN_B],
      approvers: [ADMIN_A.toLowerCase(), ADMIN_B],
      allowedTenantIds: [TENANT],
      auditChannelId: null,
      approvalsChannelId: null,
      approvalTtlHours: 24,
      secretRevealTtlHours: 24,
    });
  });

  it('is authenticated whenever BOT_ID is set, and then listens on all interfaces by default', () => {
    const c = readBotConfig({ ...base, BOT_ID: BOT, BOT_PASSWORD: 'pw' });
    expect(c.mode).toBe('authenticated');
    expect(c.botId).toBe(BOT.toLowerCase());
    expect(c.botPassword).toBe('pw');
    expect(c.host).toBe('0.0.0.0');
  });

  it('makes a bot SingleTenant in AZURE_TENANT_ID by default: Microsoft no longer creates multi-tenant bot registrations', () => {
    const c = readBotConfig({ ...base, BOT_ID: BOT, BOT_PASSWORD: 'pw' });
    expect(c).toMatchObject({ botType: 'SingleTenant', botTenantId: TENANT });
    expect(c.warnings.join('\n')).not.toMatch(/MultiTenant/);
    const other = '0f0f0f0f-1111-4222-8333-444455556666';
    expect(readBotConfig({ ...base, BOT_ID: BOT, BOT_PASSWORD: 'pw', BOT_TENANT_ID: other }).botTenantId).toBe(other);
    // UserAssignedMSI takes the same default; MultiTenant still works for an existing registration, with a warning.
    expect(readBotConfig({ ...base, BOT_ID: BOT, BOT_TYPE: 'UserAssignedMSI' })).toMatchObject({ botType: 'UserAssignedMsi', botTenantId: TENANT });
    const multi = readBotConfig({ ...base, BOT_ID: BOT, BOT_PASSWORD: 'pw', BOT_TYPE: 'MultiTenant' });
    expect(multi).toMatchObject({ botType: 'MultiTenant', botTenantId: null });
    expect(multi.warnings).toEqual([expect.stringContaining('Microsoft no longer creates multi-tenant Azure Bot registrations')]);
    // Without any tenant a single-tenant bot cannot sign in.
    expect(problemsOf({ ADMINS: ADMIN_A, ALLOWED_TENANT_IDS: TENANT, BOT_ID: BOT, BOT_PASSWORD: 'pw' })).toEqual([
      expect.stringContaining('BOT_TENANT_ID (or AZURE_TENANT_ID) is required when BOT_TYPE is SingleTenant'),
    ]);
  });

  it('reads every setting', () => {
    const c = readBotConfig({
      ...base,
      BOT_ID: BOT,
      BOT_PASSWORD: 'pw',
      BOT_TYPE: 'singletenant',
      BOT_TENANT_ID: TENANT,
      APPROVERS: ADMIN_B,
      ALLOWED_TENANT_IDS: `${TENANT},0f0f0f0f-1111-4222-8333-444455556666`,
      PORT: '4000',
      HOST: '10.0.0.5',
      AUDIT_CHANNEL_ID: '19:audit@thread.tacv2',
      APPROVALS_CHANNEL_ID: '19:approvals@thread.skype',
      APPROVAL_TTL_HOURS: '48',
      SECRET_REVEAL_TTL_HOURS: '0.5',
    });
    expect(c).toMatchObject({
      botType: 'SingleTenant',
      botTenantId: TENANT,
      approvers: [ADMIN_B],
      allowedTenantIds: [TENANT, '0f0f0f0f-1111-4222-8333-444455556666'],
      port: 4000,
      host: '10.0.0.5',
      auditChannelId: '19:audit@thread.tacv2',
      approvalsChannelId: '19:approvals@thread.skype',
      approvalTtlHours: 48,
      secretRevealTtlHours: 0.5,
    });
  });

  it('accepts UserAssignedMSI in any case and without a password', () => {
    const c = readBotConfig({ ...base, BOT_ID: BOT, BOT_TYPE: 'UserAssignedMSI', BOT_TENANT_ID: TENANT });
    expect(c.botType).toBe('UserAssignedMsi');
    expect(c.botPassword).toBeNull();
  });

  it('refuses a non-loopback HOST in local mode', () => {
    expect(problemsOf({ ...base, HOST: '0.0.0.0' })).toEqual([expect.stringContaining('HOST=0.0.0.0 is not allowed in local mode')]);
    for (const host of ['127.0.0.1', '::1', 'localhost', 'LOCALHOST']) expect(readBotConfig({ ...base, HOST: host }).host).toBe(host);
  });

  it('refuses half-configured authentication instead of silently running without it', () => {
    expect(problemsOf({ ...base, BOT_PASSWORD: 'pw' })).toEqual([expect.stringContaining('BOT_PASSWORD is set but BOT_ID is empty')]);
    expect(problemsOf({ ...base, BOT_TYPE: 'SingleTenant' })).toEqual([expect.stringContaining('BOT_TYPE is set but BOT_ID is empty')]);
    expect(problemsOf({ ...base, BOT_TENANT_ID: TENANT })).toEqual([expect.stringContaining('BOT_TENANT_ID is set but BOT_ID is empty')]);
  });

  it('names each missing or contradictory credential', () => {
    expect(problemsOf({ ...base, BOT_ID: BOT })).toEqual([expect.stringContaining('BOT_PASSWORD is required')]);
    expect(problemsOf({ ADMINS: ADMIN_A, ALLOWED_TENANT_IDS: TENANT, BOT_ID: BOT, BOT_TYPE: 'UserAssignedMSI' })).toEqual([
      expect.stringContaining('BOT_TENANT_ID (or AZURE_TENANT_ID) is required when BOT_TYPE is UserAssignedMSI'),
    ]);
    expect(problemsOf({ ...base, BOT_ID: BOT, BOT_PASSWORD: 'pw', BOT_TENANT_ID: 'contoso' })).toEqual([expect.stringContaining('BOT_TENANT_ID must be a tenant id')]);
    expect(problemsOf({ ...base, BOT_ID: BOT, BOT_PASSWORD: 'pw', BOT_TYPE: 'UserAssignedMSI', BOT_TENANT_ID: TENANT })).toEqual([
      expect.stringContaining('BOT_PASSWORD must not be set'),
    ]);
    expect(problemsOf({ ...base, BOT_ID: BOT, BOT_PASSWORD: 'pw', BOT_TYPE: 'Anonymous' })).toEqual([expect.stringContaining('BOT_TYPE must be')]);
    expect(problemsOf({ ...base, BOT_ID: 'my-bot', BOT_PASSWORD: 'pw' })).toEqual([expect.stringContaining('BOT_ID must be')]);
  });

  it('wants object ids, not e-mail addresses, in ADMINS and APPROVERS', () => {
    expect(problemsOf({ ...base, ADMINS: 'alice@contoso.com' })).toEqual([expect.stringContaining('"alice@contoso.com" is not a GUID')]);
    expect(problemsOf({ ...base, APPROVERS: `${ADMIN_A},bob` })).toEqual([expect.stringContaining('APPROVERS must hold')]);
  });

  it('requires an allowed tenant', () => {
    expect(problemsOf({ ADMINS: ADMIN_A })).toEqual([expect.stringContaining('AZURE_TENANT_ID (or ALLOWED_TENANT_IDS) is required')]);
    expect(readBotConfig({ ADMINS: ADMIN_A, ALLOWED_TENANT_IDS: TENANT }).allowedTenantIds).toEqual([TENANT]);
    expect(problemsOf({ ADMINS: ADMIN_A, AZURE_TENANT_ID: 'contoso.onmicrosoft.com' })).toEqual([expect.stringContaining('AZURE_TENANT_ID must hold')]);
  });

  it('validates port, TTLs and channel ids', () => {
    expect(problemsOf({ ...base, PORT: '70000' })).toEqual([expect.stringContaining('PORT must be')]);
    expect(problemsOf({ ...base, PORT: '80a' })).toEqual([expect.stringContaining('PORT must be')]);
    expect(readBotConfig({ ...base, PORT: '0' }).port).toBe(0);
    expect(problemsOf({ ...base, APPROVAL_TTL_HOURS: '0' })).toEqual([expect.stringContaining('APPROVAL_TTL_HOURS must be')]);
    expect(problemsOf({ ...base, SECRET_REVEAL_TTL_HOURS: 'soon' })).toEqual([expect.stringContaining('SECRET_REVEAL_TTL_HOURS must be')]);
    expect(problemsOf({ ...base, APPROVAL_TTL_HOURS: '10000' })).toEqual([expect.stringContaining('at most 720')]);
    expect(problemsOf({ ...base, AUDIT_CHANNEL_ID: '19:x@thread.tacv2;messageid=1' })).toEqual([expect.stringContaining('AUDIT_CHANNEL_ID must be')]);
    expect(problemsOf({ ...base, APPROVALS_CHANNEL_ID: 'general' })).toEqual([expect.stringContaining('APPROVALS_CHANNEL_ID must be')]);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ ADMINS: 'x', PORT: '-1', HOST: '0.0.0.0' })).toHaveLength(4);
  });

  it('warns about configurations that cannot work well', () => {
    expect(readBotConfig({ AZURE_TENANT_ID: TENANT }).warnings).toEqual([
      'ADMINS is empty: nobody can make requests',
      'APPROVERS is empty: no request can ever be approved',
    ]);
    expect(readBotConfig({ ...base, APPROVERS: ADMIN_A }).warnings).toEqual([expect.stringContaining('only one approver')]);
  });

  it('never puts the bot password into the description or an error', () => {
    const secret = 'S3cr3t~value-that-must-not-leak';
    const c = readBotConfig({ ...base, BOT_ID: BOT, BOT_PASSWORD: secret });
    expect(describeBotConfig(c)).not.toContain(secret);
    expect(describeBotConfig(c)).toContain('password set');
    const problems = problemsOf({ ...base, BOT_PASSWORD: secret, PORT: 'x' });
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('describes local mode as unauthenticated', () => {
    expect(describeBotConfig(readBotConfig(base))).toContain('LOCAL MODE, authentication OFF');
  });
});

describe('local mode and a real tenant cannot be confused', () => {
  const CLIENT = '3f2e1d0c-9b8a-4765-8432-10fedcba9876';
  const real = { ...base, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 'not-used' };
  const simulatorHere = { AUTHORITY_HOST: 'https://127.0.0.1:50001', GRAPH_ENDPOINT: 'https://localhost:50002', EXCHANGE_ENDPOINT: 'https://[::1]:50003' };

  it('knows the target from the variables alone: embedded simulator, a simulator on this machine, or a real tenant', () => {
    expect(tenantTargetOf({})).toBe('embedded-simulator');
    expect(tenantTargetOf(real)).toBe('real');
    expect(tenantTargetOf({ ...real, ...simulatorHere })).toBe('local-simulator');
    // One endpoint at Microsoft is enough to make it real; so is a system-assigned managed identity.
    expect(tenantTargetOf({ ...real, ...simulatorHere, GRAPH_ENDPOINT: 'https://graph.microsoft.com' })).toBe('real');
    expect(tenantTargetOf({ ...base, AZURE_USE_MANAGED_IDENTITY: 'true' })).toBe('real');
    expect(tenantTargetOf({ ...real, ...simulatorHere, AUTHORITY_HOST: 'https://127.0.0.1.example.com' })).toBe('real');
  });

  it('refuses local mode (no BOT_ID) against a real tenant, naming the way out, before anything signs in', () => {
    const problems = problemsOf(real);
    expect(problems).toEqual([expect.stringContaining('local mode (no BOT_ID) refuses to run against a real tenant')]);
    expect(problems[0]).toContain(`${REAL_TENANT_OPT_IN}=1`);
    expect(() => assertLocalModeTenantAllowed(real)).toThrow(BotConfigError);
    expect(problemsOf({ ...base, AZURE_USE_MANAGED_IDENTITY: 'yes' })).toEqual([expect.stringContaining('refuses to run against a real tenant')]);
    // Opt-in values other than 1/true/yes do not count.
    expect(problemsOf({ ...real, [REAL_TENANT_OPT_IN]: 'maybe' })).toHaveLength(1);
  });

  it('allows it with the opt-in, and then says REAL TENANT wherever the configuration is described', () => {
    const c = readBotConfig({ ...real, [REAL_TENANT_OPT_IN]: '1' });
    expect(c).toMatchObject({ mode: 'local', tenantTarget: 'real' });
    expect(describeBotConfig(c)).toContain('REAL TENANT');
    expect(c.warnings).toEqual([expect.stringContaining('LOCAL MODE ON A REAL TENANT')]);
    expect(() => assertLocalModeTenantAllowed({ ...real, [REAL_TENANT_OPT_IN]: 'true' })).not.toThrow();
  });

  it('needs no opt-in for the authenticated bot, the embedded simulator or a simulator on this machine', () => {
    expect(readBotConfig({ ...real, BOT_ID: BOT, BOT_PASSWORD: 'pw' })).toMatchObject({ mode: 'authenticated', tenantTarget: 'real' });
    expect(describeBotConfig(readBotConfig({ ...real, BOT_ID: BOT, BOT_PASSWORD: 'pw' }))).toContain('REAL TENANT');
    expect(readBotConfig({ ...real, ...simulatorHere })).toMatchObject({ mode: 'local', tenantTarget: 'local-simulator', warnings: [] });
    expect(describeBotConfig(readBotConfig(base))).not.toContain('REAL TENANT');
  });
});

describe('isLoopbackHost', () => {
  it('knows the loopback names', () => {
    expect(['127.0.0.1', '::1', 'localhost', ' Localhost '].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '127.0.0.2', '10.0.0.1', 'example.com'].map(isLoopbackHost)).toEqual([false, false, false, false, false]);
  });
});

describe('PROVISIONING_AUTH', () => {
  const real = { ...base, BOT_ID: BOT, BOT_PASSWORD: 'pw', AZURE_CLIENT_ID: '9a1b2c3d-0000-4000-8000-0000000000aa', AZURE_CLIENT_SECRET: 'x' };
  it('is app by default, with no SSO app', () => {
    expect(readBotConfig(base)).toMatchObject({ provisioningAuth: 'app', sso: null });
  });
  it('delegated: the SSO app defaults to the bot and its password; a connection name is optional', () => {
    const c = readBotConfig({ ...real, PROVISIONING_AUTH: 'delegated', SSO_CONNECTION_NAME: 'opter-sso' });
    expect(c).toMatchObject({ provisioningAuth: 'delegated', sso: { clientId: BOT.toLowerCase(), clientSecret: 'pw', certificatePath: null, connectionName: 'opter-sso' } });
    expect(describeBotConfig(c)).toContain(`writes with the approver's own sign-in (delegated, SSO app ${BOT.toLowerCase()}, connection opter-sso)`);
    expect(describeBotConfig(c)).not.toContain('pw');
    const own = readBotConfig({ ...real, PROVISIONING_AUTH: 'Delegated', SSO_CLIENT_ID: ADMIN_A, SSO_CERTIFICATE_PATH: '/etc/opter/sso.pem' });
    expect(own.sso).toEqual({ clientId: ADMIN_A.toLowerCase(), clientSecret: null, certificatePath: '/etc/opter/sso.pem', connectionName: null });
  });
  it('names what is missing or wrong', () => {
    expect(problemsOf({ ...base, PROVISIONING_AUTH: 'user' })).toEqual(['PROVISIONING_AUTH must be "app" or "delegated"; got "user"']);
    expect(problemsOf({ ...base, PROVISIONING_AUTH: 'delegated', AZURE_CLIENT_ID: '9a1b2c3d-0000-4000-8000-0000000000aa', ALLOW_LOCAL_MODE_ON_REAL_TENANT: '1' }).join('\n')).toMatch(/needs the bot's Entra app: set SSO_CLIENT_ID/);
    expect(problemsOf({ ...real, PROVISIONING_AUTH: 'delegated', SSO_CLIENT_ID: 'not-a-guid' }).join('\n')).toMatch(/SSO_CLIENT_ID must be/);
    // The embedded simulator brings its own SSO app.
    expect(readBotConfig({ ...base, PROVISIONING_AUTH: 'delegated' })).toMatchObject({ provisioningAuth: 'delegated', sso: null });
  });
});
