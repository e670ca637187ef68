/** Wires the production adapters to a test simulator exactly as the product wires them to a tenant. */
import { createCredential } from '../../src/adapters/credential';
import type { TenantConnection } from '../../src/adapters/config';
import { createTenantAdapters, type TenantAdapterOptions, type TenantAdapters } from '../../src/adapters';
import type { Simulator } from '../../src/sim';
import { OpterError } from '../../src/core/errors';

export { startTestSimulator } from '../harness/simulator';

/** The simulator as the configuration contract would describe it (AZURE_* + endpoints). */
export function connectionFor(sim: Simulator, secret = sim.provisioning.clientSecret): TenantConnection {
  return {
    tenantId: sim.tenantId,
    clientId: sim.provisioning.clientId,
    clientSecret: secret,
    authorityHost: sim.authorityHost,
    graphEndpoint: sim.graphEndpoint,
    exchangeEndpoint: sim.exchangeEndpoint,
  };
}

/** The same, as the environment variables a child process (bot, CLI) reads it from. */
export function tenantEnvFor(sim: Simulator): Record<string, string> {
  const conn = connectionFor(sim);
  return {
    AZURE_TENANT_ID: conn.tenantId,
    AZURE_CLIENT_ID: conn.clientId!,
    AZURE_CLIENT_SECRET: conn.clientSecret!,
    AUTHORITY_HOST: conn.authorityHost,
    GRAPH_ENDPOINT: conn.graphEndpoint,
    EXCHANGE_ENDPOINT: conn.exchangeEndpoint,
  };
}

export function adaptersFor(sim: Simulator, options: TenantAdapterOptions = {}): TenantAdapters {
  const conn = connectionFor(sim);
  return createTenantAdapters(conn, { credential: createCredential(conn), ...options });
}

/** Awaits a rejection and returns it as the OpterError it must be. */
export async function failure(p: Promise<unknown>): Promise<OpterError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpterError) return e;
    throw new Error(`expected an OpterError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
  }
  throw new Error('expected the call to fail');
}

/** Polls until fn stops throwing a transient error (bounded), for replication waits in tests. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000, stepMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof OpterError) || !e.transient || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

let counter = 0;
/** A name unique within this test run, with characters that need OData escaping. */
export function uniqueLabel(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
