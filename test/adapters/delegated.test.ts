/**
 * The approver's access (src/adapters/delegated.ts, obo.ts) against the simulated identity platform: the
 * On-Behalf-Of grant asks for one resource's `.default` and never `offline_access`, so no refresh token is ever
 * issued to or held by the bot; the writes then run as the signed-in user (anchored on them in Exchange); a refused
 * or expired assertion speaks the catalogue.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApproverAccess } from '../../src/adapters';
import { OpterError } from '../../src/core/errors';
import type { Simulator } from '../../src/sim';
import { connectionFor, startTestSimulator } from './helpers';

const EXCHANGE_ADMIN = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const APP_ADMIN = '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3';
let sim: Simulator;
const upn = () => `delegate@${sim.domain}`;

/** Records what went to the token endpoint and what came back, then answers as fetch does. */
function recordingFetch(seen: Array<{ url: string; form: URLSearchParams; answer: Record<string, unknown> }>): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = String(input);
    if (url.includes('/oauth2/v2.0/token')) seen.push({ url, form: new URLSearchParams(String(init?.body ?? '')), answer: (await res.clone().json()) as Record<string, unknown> });
    return res;
  };
}

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.reset();
  sim.addUser({ userPrincipalName: upn(), roles: [EXCHANGE_ADMIN, APP_ADMIN] });
});

describe('the approver’s On-Behalf-Of access', () => {
  it('asks for .default only — no offline_access, so no refresh token — and writes as the user', async () => {
    const seen: Array<{ url: string; form: URLSearchParams; answer: Record<string, unknown> }> = [];
    const assertion = sim.teamsSsoToken(upn(), { botAppId: sim.botApp.clientId });
    const access = createApproverAccess(connectionFor(sim), sim.botApp, assertion, upn(), { fetch: recordingFetch(seen) });
    await access.ready();
    expect(seen.map((s) => s.form.get('scope'))).toEqual([`${sim.graphEndpoint}/.default`, `${new URL(sim.exchangeEndpoint).origin}/.default`]);
    for (const s of seen) {
      expect(s.form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
      expect(s.form.get('requested_token_use')).toBe('on_behalf_of');
      expect(s.answer).not.toHaveProperty('refresh_token');
    }
    // Cached: a second call asks nothing.
    await access.ready();
    expect(seen).toHaveLength(2);

    sim.clearRequests();
    await access.exchange.newDistributionGroup({ name: 'Delegated Group', alias: 'delegated-group', members: [] });
    const app = await access.directory.upsertApplicationByUniqueName('delegated-app', { displayName: 'Delegated App', signInAudience: 'AzureADMyOrg' });
    expect(app.created).toBe(true);
    expect(sim.requests().filter((r) => r.family !== 'token').map((r) => [r.token, r.principal])).toEqual([
      ['user', upn()],
      ['user', upn()],
    ]);
  });

  it('an expired assertion means “ask the approver again”; a wrong audience or a missing consent is a refused sign-in', async () => {
    const expired = createApproverAccess(connectionFor(sim), sim.botApp, sim.teamsSsoToken(upn(), { botAppId: sim.botApp.clientId, expiresInSec: 1 }), upn());
    await new Promise((r) => setTimeout(r, 1_200));
    const e1 = await expired.ready().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(OpterError);
    expect((e1 as OpterError).code).toBe('E_APPROVER_NEEDED');

    const other = sim.registerClientApp({ displayName: 'Someone else’s bot' });
    const wrongAudience = createApproverAccess(connectionFor(sim), sim.botApp, sim.teamsSsoToken(upn(), { botAppId: other.clientId }), upn());
    await expect(wrongAudience.ready()).rejects.toMatchObject({ code: 'E_SIGN_IN_REFUSED', detail: expect.stringContaining('AADSTS50013') });

    // The other app has no admin consent for Graph: the platform refuses with AADSTS65001.
    const unconsented = createApproverAccess(connectionFor(sim), other, sim.teamsSsoToken(upn(), { botAppId: other.clientId }), upn());
    await expect(unconsented.ready()).rejects.toMatchObject({ code: 'E_SIGN_IN_REFUSED', detail: expect.stringContaining('AADSTS65001') });
  });
});
