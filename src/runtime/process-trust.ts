/**
 * The first thing an entry point does: decide whether the embedded simulator is used and, if so, make this process
 * trust its certificate (re-launching once). Kept free of heavy imports so the parent that only waits for the
 * re-launched child stays small.
 */
import { join, resolve } from 'node:path';
import { hasTenantConfiguration } from '../adapters/config';
import { ensureSimCertificate } from '../sim/tls';
import { ensureTrustedCa } from './trust';

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

/**
 * In simulator mode the process must trust the simulator's self-signed certificate from the start (Node reads
 * NODE_EXTRA_CA_CERTS only then): call this first; it re-launches the process once when needed.
 */
export async function prepareProcessTrust(dataDir: string, env: Env = process.env): Promise<void> {
  if (!usesEmbeddedSimulator(env)) return;
  const { certPath } = ensureSimCertificate(simulatorPaths(dataDir).tlsDir);
  await ensureTrustedCa(certPath);
}

