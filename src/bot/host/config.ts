/**
 * The bot's runtime configuration, read once from the environment and validated up front so that a
 * misconfiguration stops the process at start-up with a message that names the variable — never at the first
 * Teams request, and never by silently running with authentication off.
 */

import { delegatedWritesIn, hasTenantConfiguration } from '../../adapters/config';

/** How the bot proves itself to Azure Bot Service. Values as botbuilder spells them. */
export type BotAppType = 'MultiTenant' | 'SingleTenant' | 'UserAssignedMsi';

/**
 * What the provisioning side acts on: the embedded simulator (no tenant configured), a simulator elsewhere on this
 * machine (every Microsoft endpoint on loopback, e.g. `npm run sim`), or a real Microsoft 365 tenant.
 */
export type TenantTarget = 'embedded-simulator' | 'local-simulator' | 'real';

/** The documented opt-in for running the unauthenticated local bot against a real tenant (docs/configuration.md). */
export const REAL_TENANT_OPT_IN = 'ALLOW_LOCAL_MODE_ON_REAL_TENANT';

export interface BotConfig {
  /** `authenticated` whenever BOT_ID is set; `local` = no inbound or outbound auth, loopback only. */
  mode: 'local' | 'authenticated';
  /** Microsoft App ID of the bot (BOT_ID), lower-case GUID; null in local mode. */
  botId: string | null;
  /** BOT_PASSWORD. A secret: never log it — use describeBotConfig() for start-up output. */
  botPassword: string | null;
  botType: BotAppType;
  /** BOT_TENANT_ID (default AZURE_TENANT_ID): the tenant of a SingleTenant / UserAssignedMsi bot identity. */
  botTenantId: string | null;
  /** Where provisioning happens; `real` in local mode only with the REAL_TENANT_OPT_IN variable set. */
  tenantTarget: TenantTarget;
  /** Entra object ids (lower-case GUIDs) of the people who may make requests. */
  admins: string[];
  /** Entra object ids of the people who may approve (APPROVERS, default ADMINS). */
  approvers: string[];
  /** Tenants whose activities are processed (AZURE_TENANT_ID ∪ ALLOWED_TENANT_IDS), lower-case GUIDs. */
  allowedTenantIds: string[];
  port: number;
  host: string;
  /** Teams channel id (`19:…`) for audit posts, or null to let an admin pick one with "use this channel for audit". */
  auditChannelId: string | null;
  /** Teams channel id (`19:…`) for approval cards, or null to send them 1:1 to each approver. */
  approvalsChannelId: string | null;
  approvalTtlHours: number;
  secretRevealTtlHours: number;
  /**
   * Who writes to the tenant (PROVISIONING_AUTH): `app` = the standing identity (AZURE_CLIENT_ID …); `delegated` =
   * the approver's own sign-in for every write, the standing identity only reads (docs/delegated-mode.md).
   */
  provisioningAuth: 'app' | 'delegated';
  /**
   * Delegated mode: the bot's Entra app that Teams issues SSO tokens to and that redeems them On-Behalf-Of
   * (SSO_CLIENT_ID, default BOT_ID; SSO_CLIENT_SECRET, default BOT_PASSWORD — a secret; or SSO_CERTIFICATE_PATH),
   * and the optional Azure Bot Service OAuth connection (SSO_CONNECTION_NAME). Null in app mode, and in delegated
   * mode on the embedded simulator, which brings its own.
   */
  sso: { clientId: string; clientSecret: string | null; certificatePath: string | null; connectionName: string | null } | null;
  /** Things that are allowed but probably not what the operator wants (logged at start-up). */
  warnings: string[];
}

export type BotEnv = Readonly<Record<string, string | undefined>>;

export class BotConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid bot configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BotConfigError';
    this.problems = problems;
  }
}

export const DEFAULT_PORT = 3978;
export const DEFAULT_APPROVAL_TTL_HOURS = 24;
export const DEFAULT_SECRET_REVEAL_TTL_HOURS = 24;
/** Upper bound for both TTLs: a pending approval or an unrevealed secret lingering for more than 30 days is a mistake. */
const MAX_TTL_HOURS = 24 * 30;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.trim().toLowerCase());
}

function text(env: BotEnv, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function guidList(env: BotEnv, name: string, what: string, problems: string[]): string[] {
  const raw = text(env, name);
  if (!raw) return [];
  const out: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!GUID.test(item)) {
      // Quoting the bad item is safe: these variables hold ids, never secrets.
      problems.push(`${name} must hold ${what} (GUIDs, comma-separated); "${item}" is not a GUID`);
      continue;
    }
    const id = item.toLowerCase();
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

function hours(env: BotEnv, name: string, fallback: number, problems: string[]): number {
  const raw = text(env, name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TTL_HOURS) {
    problems.push(`${name} must be a number of hours greater than 0 and at most ${MAX_TTL_HOURS}; got "${raw}"`);
    return fallback;
  }
  return value;
}

function channelId(env: BotEnv, name: string, problems: string[]): string | null {
  const raw = text(env, name);
  if (raw === null) return null;
  // Teams channel ids look like 19:…@thread.tacv2 (or @thread.skype for old teams); a thread suffix is not a channel.
  if (!/^19:[^;\s]+@thread\.[a-z0-9]+$/i.test(raw)) {
    problems.push(`${name} must be a Teams channel id like "19:abc…@thread.tacv2" (without ";messageid=…"); got "${raw}"`);
    return null;
  }
  return raw;
}

const OPT_IN_VALUE = /^(1|true|yes)$/i;

/**
 * Which tenant the product provisions in, from the same variables the tenant runtime reads (src/runtime/tenant.ts):
 * no AZURE_CLIENT_ID and no system-assigned managed identity = the embedded simulator. A configured tenant whose
 * identity platform, Graph and Exchange endpoints are all on loopback cannot reach Microsoft: a local simulator.
 */
export function tenantTargetOf(env: BotEnv): TenantTarget {
  const managedIdentity = OPT_IN_VALUE.test(text(env, 'AZURE_USE_MANAGED_IDENTITY') ?? '');
  if (!hasTenantConfiguration(env) && !managedIdentity) return 'embedded-simulator';
  const onLoopback = ['AUTHORITY_HOST', 'GRAPH_ENDPOINT', 'EXCHANGE_ENDPOINT'].every((name) => {
    const raw = text(env, name);
    if (!raw) return false; // unset = Microsoft's public cloud
    try {
      return isLoopbackHost(new URL(raw).hostname.replace(/^\[(.*)\]$/, '$1'));
    } catch {
      return false;
    }
  });
  return onLoopback ? 'local-simulator' : 'real';
}

/**
 * Local mode accepts unauthenticated requests from anything on this machine; in front of a real tenant that means any
 * local process could ask for — and, with a second admin id, approve — credentials that send mail as the company. So
 * it is refused unless the documented opt-in is set. A pure decision on the environment, made before any sign-in.
 */
export function realTenantProblem(env: BotEnv): string | null {
  if (text(env, 'BOT_ID') || tenantTargetOf(env) !== 'real' || OPT_IN_VALUE.test(text(env, REAL_TENANT_OPT_IN) ?? '')) return null;
  return `local mode (no BOT_ID) refuses to run against a real tenant (AZURE_CLIENT_ID or AZURE_USE_MANAGED_IDENTITY is set and the Microsoft endpoints are not on this machine): without BOT_ID nothing authenticates the requests. Set BOT_ID (and BOT_PASSWORD) to run the real bot, unset AZURE_CLIENT_ID to use the simulated tenant, or — for a short local test on a test tenant only — set ${REAL_TENANT_OPT_IN}=1.`;
}

/** Throws BotConfigError when local mode would run against a real tenant without the opt-in (see realTenantProblem). */
export function assertLocalModeTenantAllowed(env: BotEnv): void {
  const problem = realTenantProblem(env);
  if (problem) throw new BotConfigError([problem]);
}

function appType(raw: string | null, problems: string[]): BotAppType {
  // Microsoft no longer creates multi-tenant Azure Bot registrations, so a new bot is single-tenant (docs/configuration.md).
  if (raw === null) return 'SingleTenant';
  switch (raw.toLowerCase()) {
    case 'multitenant':
      return 'MultiTenant';
    case 'singletenant':
      return 'SingleTenant';
    case 'userassignedmsi':
      return 'UserAssignedMsi';
    default:
      problems.push(`BOT_TYPE must be SingleTenant, UserAssignedMSI or MultiTenant; got "${raw}"`);
      return 'SingleTenant';
  }
}

/** Reads and validates the bot's configuration. Throws BotConfigError listing every problem at once. */
export function readBotConfig(env: BotEnv = process.env): BotConfig {
  const problems: string[] = [];
  const warnings: string[] = [];

  const rawBotId = text(env, 'BOT_ID');
  const botPassword = env.BOT_PASSWORD?.trim() ? (env.BOT_PASSWORD as string) : null;
  const rawType = text(env, 'BOT_TYPE');
  const botType = appType(rawType, problems);
  const rawTenant = text(env, 'BOT_TENANT_ID');
  const mode: BotConfig['mode'] = rawBotId ? 'authenticated' : 'local';

  let botId: string | null = null;
  let botTenantId: string | null = null;
  if (rawBotId) {
    if (!GUID.test(rawBotId)) problems.push(`BOT_ID must be the bot's Microsoft App ID (a GUID); got "${rawBotId}"`);
    else botId = rawBotId.toLowerCase();
    // A single-tenant or managed-identity bot lives in the tenant it serves unless told otherwise.
    const defaultTenant = botType === 'MultiTenant' ? null : text(env, 'AZURE_TENANT_ID');
    const tenant = rawTenant ?? defaultTenant;
    if (tenant) {
      if (!GUID.test(tenant)) {
        // A bad AZURE_TENANT_ID is reported once, below.
        if (rawTenant) problems.push(`BOT_TENANT_ID must be a tenant id (GUID); got "${rawTenant}"`);
      } else botTenantId = tenant.toLowerCase();
    }
    if (botType === 'UserAssignedMsi') {
      if (botPassword) problems.push('BOT_PASSWORD must not be set when BOT_TYPE is UserAssignedMSI (the managed identity has no password)');
      if (!tenant) problems.push('BOT_TENANT_ID (or AZURE_TENANT_ID) is required when BOT_TYPE is UserAssignedMSI');
    } else {
      if (!botPassword) problems.push(`BOT_PASSWORD is required when BOT_ID is set and BOT_TYPE is ${botType}`);
      if (botType === 'SingleTenant' && !tenant) problems.push('BOT_TENANT_ID (or AZURE_TENANT_ID) is required when BOT_TYPE is SingleTenant');
    }
  } else {
    // Half-configured authentication is the dangerous case: the operator believes auth is on, but without BOT_ID
    // botbuilder accepts every request. Refuse instead of guessing.
    if (botPassword) problems.push('BOT_PASSWORD is set but BOT_ID is empty: set BOT_ID to enable authentication, or remove BOT_PASSWORD for local mode');
    if (rawType) problems.push('BOT_TYPE is set but BOT_ID is empty: set BOT_ID to enable authentication, or remove BOT_TYPE for local mode');
    if (rawTenant) problems.push('BOT_TENANT_ID is set but BOT_ID is empty: set BOT_ID to enable authentication, or remove BOT_TENANT_ID for local mode');
  }

  const tenantTarget = tenantTargetOf(env);
  const realTenant = realTenantProblem(env);
  if (realTenant) problems.push(realTenant);

  const admins = guidList(env, 'ADMINS', 'Entra object ids of the admins', problems);
  const approvers = text(env, 'APPROVERS') === null ? [...admins] : guidList(env, 'APPROVERS', 'Entra object ids of the approvers', problems);

  const tenantIds = [
    ...guidList(env, 'AZURE_TENANT_ID', 'the tenant id', problems),
    ...guidList(env, 'ALLOWED_TENANT_IDS', 'tenant ids', problems),
  ];
  const allowedTenantIds = [...new Set(tenantIds)];
  if (allowedTenantIds.length === 0 && !problems.some((p) => p.startsWith('AZURE_TENANT_ID') || p.startsWith('ALLOWED_TENANT_IDS'))) {
    problems.push('AZURE_TENANT_ID (or ALLOWED_TENANT_IDS) is required: the bot only processes activities from allowed tenants');
  }

  let port = DEFAULT_PORT;
  const rawPort = text(env, 'PORT');
  if (rawPort !== null) {
    const value = Number(rawPort);
    if (!/^\d+$/.test(rawPort) || !Number.isInteger(value) || value < 0 || value > 65535) {
      problems.push(`PORT must be an integer between 0 and 65535; got "${rawPort}"`);
    } else {
      port = value;
    }
  }

  // Authenticated bots usually sit behind App Service / a reverse proxy that connects over the network, so they
  // listen on all interfaces by default; a local bot has no authentication and must stay on loopback.
  const host = text(env, 'HOST') ?? (mode === 'local' ? '127.0.0.1' : '0.0.0.0');
  if (mode === 'local' && !isLoopbackHost(host)) {
    problems.push(
      `HOST=${host} is not allowed in local mode: without BOT_ID the bot accepts unauthenticated requests, so it only listens on 127.0.0.1, ::1 or localhost. Set BOT_ID to run authenticated.`,
    );
  }

  const auditChannelId = channelId(env, 'AUDIT_CHANNEL_ID', problems);
  const approvalsChannelId = channelId(env, 'APPROVALS_CHANNEL_ID', problems);
  const approvalTtlHours = hours(env, 'APPROVAL_TTL_HOURS', DEFAULT_APPROVAL_TTL_HOURS, problems);
  const secretRevealTtlHours = hours(env, 'SECRET_REVEAL_TTL_HOURS', DEFAULT_SECRET_REVEAL_TTL_HOURS, problems);

  const rawAuth = (text(env, 'PROVISIONING_AUTH') ?? 'app').toLowerCase();
  const provisioningAuth = delegatedWritesIn(env) ? 'delegated' : 'app';
  if (rawAuth !== 'app' && rawAuth !== 'delegated') problems.push(`PROVISIONING_AUTH must be "app" or "delegated"; got "${rawAuth}"`);
  let sso: BotConfig['sso'] = null;
  if (provisioningAuth === 'delegated') {
    const clientId = (text(env, 'SSO_CLIENT_ID') ?? botId ?? '').toLowerCase();
    const clientSecret = env.SSO_CLIENT_SECRET?.trim() ? (env.SSO_CLIENT_SECRET as string) : text(env, 'SSO_CERTIFICATE_PATH') ? null : botPassword;
    const certificatePath = text(env, 'SSO_CERTIFICATE_PATH');
    const connectionName = text(env, 'SSO_CONNECTION_NAME');
    if (clientId && !GUID.test(clientId)) problems.push(`SSO_CLIENT_ID must be the bot's Entra application (client) ID, a GUID; got "${clientId}"`);
    else if (clientId && !clientSecret && !certificatePath) {
      problems.push('PROVISIONING_AUTH=delegated needs the bot app\'s credential to redeem sign-ins On-Behalf-Of: SSO_CLIENT_SECRET (or BOT_PASSWORD) or SSO_CERTIFICATE_PATH');
    } else if (!clientId && tenantTarget !== 'embedded-simulator') {
      problems.push('PROVISIONING_AUTH=delegated needs the bot\'s Entra app: set SSO_CLIENT_ID (or BOT_ID) and its credential (docs/delegated-mode.md)');
    }
    if (clientId) sso = { clientId, clientSecret, certificatePath, connectionName };
  }

  if (problems.length > 0) throw new BotConfigError(problems);

  if (admins.length === 0) warnings.push('ADMINS is empty: nobody can make requests');
  if (approvers.length === 0) warnings.push('APPROVERS is empty: no request can ever be approved');
  else if (approvers.length === 1) {
    warnings.push('only one approver is configured: that person can never get their own requests approved (four-eyes rule)');
  }
  if (mode === 'authenticated' && botType === 'MultiTenant') {
    warnings.push('BOT_TYPE=MultiTenant: Microsoft no longer creates multi-tenant Azure Bot registrations; keep it only for an existing one (new bots are SingleTenant)');
    if (rawTenant) warnings.push('BOT_TENANT_ID is ignored for a MultiTenant bot');
  }
  if (mode === 'local' && tenantTarget === 'real') {
    warnings.push(`LOCAL MODE ON A REAL TENANT (${REAL_TENANT_OPT_IN}): requests are not authenticated; use a test tenant and stop the bot when done`);
  }

  return {
    mode,
    botId,
    botPassword: mode === 'authenticated' ? botPassword : null,
    botType,
    botTenantId,
    tenantTarget,
    admins,
    approvers,
    allowedTenantIds,
    port,
    host,
    auditChannelId,
    approvalsChannelId,
    approvalTtlHours,
    secretRevealTtlHours,
    provisioningAuth,
    sso,
    warnings,
  };
}

/** A one-line, secret-free description for the start-up log. */
export function describeBotConfig(config: BotConfig): string {
  const auth =
    config.mode === 'authenticated'
      ? `authenticated as ${config.botId} (${config.botType}${config.botTenantId ? `, tenant ${config.botTenantId}` : ''}; password ${config.botPassword ? 'set' : 'not set'})`
      : 'LOCAL MODE, authentication OFF';
  const tenant = config.tenantTarget === 'real' ? 'REAL TENANT' : config.tenantTarget === 'local-simulator' ? 'simulated tenant on this machine' : 'embedded simulated tenant';
  return [
    auth,
    tenant,
    `listening on ${config.host}:${config.port}`,
    `tenants ${config.allowedTenantIds.join(', ')}`,
    `${config.admins.length} admin(s), ${config.approvers.length} approver(s)`,
    `approval TTL ${config.approvalTtlHours} h, secret reveal TTL ${config.secretRevealTtlHours} h`,
    `audit channel ${config.auditChannelId ?? 'chosen in Teams'}`,
    `approvals ${config.approvalsChannelId ? `in channel ${config.approvalsChannelId}` : '1:1 to each approver'}`,
    config.provisioningAuth === 'delegated'
      ? `writes with the approver's own sign-in (delegated${config.sso ? `, SSO app ${config.sso.clientId}${config.sso.connectionName ? `, connection ${config.sso.connectionName}` : ''}` : ''})`
      : 'writes with the standing app identity',
  ].join('; ');
}
