/**
 * Chooses and opens the tenant the product acts on: the real Microsoft 365 tenant from the configuration contract
 * (docs/configuration.md), or — with no AZURE_CLIENT_ID and no managed identity requested — the embedded simulated
 * tenant whose state lives in DATA_DIR, so consecutive runs see the same tenant.
 *
 * The simulator is imported only when it is used, so a bot on a real tenant never loads it. Its self-signed
 * certificate is trusted in this process through the connection (`trustedCa`, src/adapters/tls-trust.ts).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTenantAdapters, defaultScope, delegatedWritesIn, describeCredential, stringsClaim, hasTenantConfiguration, readTenantConnection, type SsoApp, type TenantAdapters, type TenantConnection } from '../adapters';
import { ENTRA_ROLES } from '../core/roles';
import type { Simulator } from '../sim';

type Env = Record<string, string | undefined>;

export function simulatorPaths(dataDir: string) {
  const root = resolve(dataDir);
  return { stateFile: join(root, 'sim-tenant.json'), tlsDir: join(root, 'sim-tls') };
}

/** True when the product should run on the embedded simulator (no tenant configured). */
export function usesEmbeddedSimulator(env: Env = process.env): boolean {
  // A system-assigned managed identity has no client id, so it is asked for explicitly.
  return !hasTenantConfiguration(env) && !/^(1|true|yes)$/i.test(env.AZURE_USE_MANAGED_IDENTITY ?? '');
}

export interface TenantRuntime {
  mode: 'simulator' | 'tenant';
  /** The standing identity's connection: in delegated mode (PROVISIONING_AUTH=delegated) a read-only one. */
  conn: TenantConnection;
  /**
   * The bot's own SSO app when the tenant brings one (the embedded simulator seeds it); a real tenant's is the
   * bot configuration's (SSO_CLIENT_ID …).
   */
  ssoApp: SsoApp | null;
  adapters: TenantAdapters;
  simulator: Simulator | null;
  /** A mailbox outside every sender group that verification expects to be Denied, if known. */
  controlMailbox: string | null;
  /** One line for start-up logs (never a secret). */
  description: string;
  close(): Promise<void>;
}

export async function openTenant(opts: { dataDir: string; env?: Env; simulator?: Simulator }): Promise<TenantRuntime> {
  const env = opts.env ?? process.env;
  if (!opts.simulator && !usesEmbeddedSimulator(env)) {
    const conn = readTenantConnection(env);
    return {
      mode: 'tenant',
      conn,
      adapters: createTenantAdapters(conn),
      ssoApp: null,
      simulator: null,
      controlMailbox: env.VERIFY_DENIED_MAILBOX?.trim() || null,
      description: `tenant ${conn.tenantId} as ${describeCredential(conn)}`,
      close: async () => {},
    };
  }
  const owned = !opts.simulator;
  const sim = opts.simulator ?? (await startEmbeddedSimulator(opts.dataDir));
  // Delegated mode stands on the simulated tenant's read-only identity; writes come with each approver's sign-in.
  const delegated = delegatedWritesIn(env);
  const standing = delegated ? sim.readOnly : sim.provisioning;
  const conn: TenantConnection = {
    tenantId: sim.tenantId,
    clientId: standing.clientId,
    clientSecret: standing.clientSecret,
    authorityHost: sim.authorityHost,
    graphEndpoint: sim.graphEndpoint,
    exchangeEndpoint: sim.exchangeEndpoint,
    trustedCa: readFileSync(sim.caCertPath, 'utf8'),
  };
  return {
    mode: 'simulator',
    conn,
    adapters: createTenantAdapters(conn),
    ssoApp: { clientId: sim.botApp.clientId, clientSecret: sim.botApp.clientSecret },
    simulator: sim,
    controlMailbox: sim.mailboxes.outside,
    description: `SIMULATED tenant ${sim.tenantId} (${sim.domain}) — no real Microsoft 365 is touched; set AZURE_CLIENT_ID to use a real tenant`,
    close: async () => {
      if (owned) await sim.close();
    },
  };
}

async function startEmbeddedSimulator(dataDir: string): Promise<Simulator> {
  const [{ startSimulator }, { EMBEDDED_TENANT }] = await Promise.all([import('../sim'), import('../sim/tenant')]);
  // A new state file gets the fixed embedded tenant id; an existing one keeps the id it was made with.
  return startSimulator({ ...simulatorPaths(dataDir), tenantId: EMBEDDED_TENANT.tenantId });
}

/** Graph application permissions that let the standing identity change applications or grants. */
const GRAPH_WRITE_ROLES = ['Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', 'AppRoleAssignment.ReadWrite.All', 'Directory.ReadWrite.All', 'RoleManagement.ReadWrite.Directory'];
/** Directory roles (template ids, as app-only tokens carry them in `wids`) that let an app change Exchange Online. */
const EXCHANGE_WRITE_ROLES: Record<string, string> = {
  [ENTRA_ROLES['Global Administrator']]: 'Global Administrator',
  [ENTRA_ROLES['Exchange Administrator']]: 'Exchange Administrator',
  '31392ffb-586c-42d1-9346-e59415a2cc4e': 'Exchange Recipient Administrator',
};

/**
 * Delegated mode: the write rights the standing identity still holds, read from its own tokens (Graph `roles`, the
 * Exchange token's `wids`). Delegated mode protects nothing while they remain, so start-up says so. Empty when it
 * holds none, or when its tokens could not be read (that failure shows on the first read anyway).
 */
export async function standingWriteRights(tenant: Pick<TenantRuntime, 'adapters' | 'conn'>): Promise<string[]> {
  const rights: string[] = [];
  try {
    const graph = await tenant.adapters.credential.getToken(defaultScope(tenant.conn.graphEndpoint));
    rights.push(...stringsClaim(graph?.token ?? '', 'roles').filter((r) => GRAPH_WRITE_ROLES.includes(r)).map((r) => `Microsoft Graph ${r}`));
    const exchange = await tenant.adapters.credential.getToken(defaultScope(tenant.conn.exchangeEndpoint));
    const names = stringsClaim(exchange?.token ?? '', 'wids').map((w) => EXCHANGE_WRITE_ROLES[w.toLowerCase()]);
    rights.push(...names.filter((n): n is string => !!n).map((n) => `the ${n} role`));
  } catch {
    return rights;
  }
  return rights;
}
