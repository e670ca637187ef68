/**
 * The real clients — @azure/identity (secret and certificate), the Graph SDK, our Exchange InvokeCommand client and
 * the new-app sign-in — reach a simulator whose certificate this process does not trust (a fresh one in its own
 * directory; NODE_EXTRA_CA_CERTS holds a different certificate of the same name), because the connection carries
 * the simulator's CA (`trustedCa`). That is how `npm start` and `opter-mail` use the embedded simulator in one
 * process, with no re-launch.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential, createTenantAdapters, defaultScope, ExchangeOnline, GraphDirectory, type TenantConnection } from '../../src/adapters';
import { openTenant } from '../../src/runtime/tenant';
import { startSimulator, type Simulator } from '../../src/sim';
import { connectionFor, failure } from './helpers';

const scratch = mkdtempSync(join(tmpdir(), 'in-process-trust-'));
let sim: Simulator;
let trusted: TenantConnection;

beforeAll(async () => {
  sim = await startSimulator({ tlsDir: join(scratch, 'own-tls'), seed: 7 });
  trusted = { ...connectionFor(sim), trustedCa: readFileSync(sim.caCertPath, 'utf8') };
});
afterAll(async () => {
  await sim?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('a connection that carries the simulator CA', () => {
  it('is needed by every layer: without it, sign-in, Graph and Exchange each fail on the certificate', async () => {
    const plain = connectionFor(sim);
    const signIn = await createCredential(plain).getToken(defaultScope(sim.graphEndpoint)).then(() => null, (e: unknown) => e as Error);
    expect(signIn?.message).toMatch(/endpoints_resolution_error/); // MSAL could not read the authority's metadata
    // Graph and Exchange without the CA, with a credential that has it: only their own transport is tested.
    const credential = createCredential(trusted);
    for (const call of [
      () => new GraphDirectory(plain, credential).findApplicationsByDisplayName('nothing'),
      () => new ExchangeOnline(plain, credential).getAcceptedDomains(),
    ]) {
      const err = await failure(call());
      expect(err.code).toBe('E_SERVICE_UNAVAILABLE');
      expect(err.detail).toMatch(/TLS certificate of .* is not trusted/);
    }
  });

  it('signs in and calls Graph and Exchange, and signs in as a new app', async () => {
    const adapters = createTenantAdapters(trusted);
    expect(await adapters.directory.findApplicationsByDisplayName('nothing')).toEqual([]);
    expect((await adapters.exchange.getAcceptedDomains()).map((d) => d.domainName)).toContain(sim.domain);
    const { roles } = await adapters.appSignIn.acquireGraphToken(sim.provisioning.clientId, sim.provisioning.clientSecret);
    expect(Array.isArray(roles)).toBe(true);
  });

  it('signs in with the certificate credential too', async () => {
    const { clientSecret: _unused, ...withoutSecret } = trusted;
    const credential = createCredential({ ...withoutSecret, certificatePath: sim.provisioning.certificatePath });
    const token = await credential.getToken(defaultScope(sim.graphEndpoint));
    expect(token?.token).toBeTruthy();
  });

  it('is what openTenant gives the embedded simulator', async () => {
    const tenant = await openTenant({ dataDir: join(scratch, 'data'), env: {} });
    try {
      expect(tenant.mode).toBe('simulator');
      expect(tenant.conn.trustedCa).toBe(readFileSync(tenant.simulator!.caCertPath, 'utf8'));
      expect(await tenant.adapters.directory.findApplicationsByDisplayName('nothing')).toEqual([]);
    } finally {
      await tenant.close();
    }
  });
});
