/**
 * Chooses and opens the tenant the product acts on: the real Microsoft 365 tenant from the configuration contract
 * (docs/configuration.md), or — with no AZURE_CLIENT_ID and no managed identity requested — the embedded simulated
 * tenant whose state lives in DATA_DIR, so consecutive runs see the same tenant.
 */
import { createTenantAdapters, describeCredential, readTenantConnection, type TenantAdapters, type TenantConnection } from '../adapters';
import { startSimulator, type Simulator } from '../sim';
import { EMBEDDED_TENANT } from '../sim/tenant';
import { simulatorPaths, usesEmbeddedSimulator } from './process-trust';

export { prepareProcessTrust, simulatorPaths, usesEmbeddedSimulator } from './process-trust';

type Env = Record<string, string | undefined>;

export interface TenantRuntime {
  mode: 'simulator' | 'tenant';
  conn: TenantConnection;
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
      simulator: null,
      controlMailbox: env.VERIFY_DENIED_MAILBOX?.trim() || null,
      description: `tenant ${conn.tenantId} as ${describeCredential(conn)}`,
      close: async () => {},
    };
  }
  const owned = !opts.simulator;
  // A new state file gets the fixed embedded tenant id; an existing one keeps the id it was made with.
  const sim = opts.simulator ?? (await startSimulator({ ...simulatorPaths(opts.dataDir), tenantId: EMBEDDED_TENANT.tenantId }));
  const conn: TenantConnection = {
    tenantId: sim.tenantId,
    clientId: sim.provisioning.clientId,
    clientSecret: sim.provisioning.clientSecret,
    authorityHost: sim.authorityHost,
    graphEndpoint: sim.graphEndpoint,
    exchangeEndpoint: sim.exchangeEndpoint,
  };
  return {
    mode: 'simulator',
    conn,
    adapters: createTenantAdapters(conn),
    simulator: sim,
    controlMailbox: sim.mailboxes.outside,
    description: `SIMULATED tenant ${sim.tenantId} (${sim.domain}) — no real Microsoft 365 is touched; set AZURE_CLIENT_ID to use a real tenant`,
    close: async () => {
      if (owned) await sim.close();
    },
  };
}
