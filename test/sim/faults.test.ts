import { ClientSecretCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim';
import { credential, exchangeToken, graphClient, invoke, startTestSimulator } from './helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

async function graphGet(path: string, s = sim): Promise<Response> {
  const token = (await credential(s).getToken(`${s.graphEndpoint}/.default`)).token;
  return fetch(`${s.graphEndpoint}/v1.0${path}`, { headers: { authorization: `Bearer ${token}` } });
}

describe('throttling', () => {
  test('Graph 429 carries Retry-After and the documented body, and the Graph SDK RetryHandler waits that long and retries', async () => {
    const g = graphClient(sim);
    await g.api('/applications').get(); // token cached, so only Graph calls count from here
    sim.setFaults({ throttle: { every: 2, retryAfterSeconds: 1, families: ['graph'] } });
    sim.clearRequests();

    await g.api('/applications').get(); // 1st counted call: passes
    const started = Date.now();
    const second = await g.api('/applications').get(); // 2nd: 429, SDK sleeps Retry-After, 3rd attempt passes
    const elapsed = Date.now() - started;
    expect(second.value.length).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(sim.requests().filter((r) => r.family === 'graph').map((r) => r.status)).toEqual([200, 429, 200]);

    sim.setFaults({ throttle: { every: 1, retryAfterSeconds: 7, families: ['graph'] } });
    const res = await graphGet('/applications');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    const body = await res.json();
    expect(body.error.code).toBe('TooManyRequests');
    expect(body.error.message).toMatch(/^Client application has been throttled/);
  });

  test('Exchange 429: plain-text body with Retry-After', async () => {
    const token = await exchangeToken(sim);
    sim.setFaults({ throttle: { every: 1, retryAfterSeconds: 3, families: ['exchange'] } });
    const r = await invoke(sim, token, 'Get-AcceptedDomain');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3');
    expect(r.text).toBe('You have reached the maximum number of concurrent requests per tenant. Please wait and try again');
    expect(sim.requests().at(-1)).toMatchObject({ family: 'exchange', cmdlet: 'Get-AcceptedDomain', status: 429 });
  });

  test('share-based throttling is deterministic for a given seed', async () => {
    const statuses = async (seed: number) => {
      const s = await startTestSimulator({ seed, faults: { throttle: { share: 0.5, retryAfterSeconds: 1, families: ['exchange'] } } });
      try {
        const token = await exchangeToken(s);
        const out: number[] = [];
        for (let i = 0; i < 12; i++) out.push((await invoke(s, token, 'Get-AcceptedDomain')).status);
        return out;
      } finally {
        await s.close();
      }
    };
    const a = await statuses(7);
    const b = await statuses(7);
    expect(a).toEqual(b);
    expect(a).toContain(429);
    expect(a).toContain(200);
  });
});

describe('outages, dropped connections, latency', () => {
  test('503 serviceNotAvailable until untilEpochMs, then normal service', async () => {
    await graphGet('/applications');
    sim.setFaults({ unavailable: { untilEpochMs: Date.now() + 400, families: ['graph'] } });
    const down = await graphGet('/applications');
    expect(down.status).toBe(503);
    expect((await down.json()).error.code).toBe('serviceNotAvailable');
    await new Promise((r) => setTimeout(r, 450));
    expect((await graphGet('/applications')).status).toBe(200);
  });

  test('a token-endpoint outage surfaces in @azure/identity', async () => {
    sim.setFaults({ unavailable: { families: ['token'] } });
    // No client retries: the point is that the 503 reaches the caller, not how long the pipeline backs off.
    const cred = new ClientSecretCredential(sim.tenantId, sim.provisioning.clientId, sim.provisioning.clientSecret, {
      authorityHost: sim.authorityHost,
      disableInstanceDiscovery: true,
      retryOptions: { maxRetries: 0 },
    });
    await expect(cred.getToken(`${sim.graphEndpoint}/.default`)).rejects.toThrow();
    expect(sim.requests().some((r) => r.family === 'token' && r.status === 503)).toBe(true);
  });

  test('dropped connections make fetch fail and are logged with status 0', async () => {
    const token = await exchangeToken(sim);
    sim.setFaults({ dropConnections: { share: 1, families: ['exchange'] } });
    await expect(invoke(sim, token, 'Get-AcceptedDomain')).rejects.toThrow(/fetch failed/);
    expect(sim.requests().at(-1)).toMatchObject({ family: 'exchange', status: 0 });
    sim.setFaults({ dropConnections: null });
    expect((await invoke(sim, token, 'Get-AcceptedDomain')).status).toBe(200);
  });

  test('latencyMs delays every request', async () => {
    const token = await exchangeToken(sim);
    sim.setFaults({ latencyMs: 250 });
    const t0 = Date.now();
    await invoke(sim, token, 'Get-AcceptedDomain');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });
});

describe('failAfterCommit: the write happens, the answer is a server error', () => {
  test('addPassword makes the secret, then answers 503; `times` counts down and the next call succeeds', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Committed then 503' });
    sim.setFaults({ failAfterCommit: { operation: 'addPassword', times: 1 } });
    const token = (await credential(sim).getToken(`${sim.graphEndpoint}/.default`)).token;
    const post = () =>
      fetch(`${sim.graphEndpoint}/v1.0/applications/${app.id}/addPassword`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ passwordCredential: { displayName: 'x' } }),
      });
    const first = await post();
    expect(first.status).toBe(503);
    expect((await first.json()).error.code).toBe('serviceNotAvailable');
    const secrets = () => (sim.snapshot().applications.find((a) => a.id === app.id)!.passwordCredentials as unknown[]).length;
    expect(secrets()).toBe(1);
    expect(sim.faults().failAfterCommit).toBeNull();
    expect((await post()).status).toBe(200);
    expect(secrets()).toBe(2);

    sim.setFaults({ failAfterCommit: { operation: 'addPassword', status: 504 } });
    expect((await post()).status).toBe(504);
    expect((await post()).status).toBe(504);
    expect(secrets()).toBe(4);
    expect(() => sim.setFaults({ failAfterCommit: { operation: 'removePassword' as never } })).toThrow(/failAfterCommit.operation/);
    expect(() => sim.setFaults({ failAfterCommit: { operation: 'addPassword', status: 500 as never } })).toThrow(/503 or 504/);
  });
});

describe('inspection and the admin surface', () => {
  test('requests() logs family, method, path, cmdlet, status and whose token', async () => {
    const token = await exchangeToken(sim);
    sim.clearRequests();
    await invoke(sim, token, 'Get-Mailbox', { Identity: 'nobody@exempel.se' });
    expect(sim.requests()).toEqual([
      { at: expect.any(String), family: 'exchange', method: 'POST', path: `/adminapi/beta/${sim.tenantId}/InvokeCommand`, cmdlet: 'Get-Mailbox', status: 404, token: 'app', principal: sim.provisioning.clientId },
    ]);
  });

  test('POST /_sim/faults, GET /_sim/state, GET /_sim/requests and POST /_sim/reset', async () => {
    const set = await fetch(`${sim.graphEndpoint}/_sim/faults`, { method: 'POST', body: JSON.stringify({ latencyMs: 5, revokedPermissions: ['Mail.Send'] }) });
    expect(set.status).toBe(200);
    expect(sim.faults()).toMatchObject({ latencyMs: 5, revokedPermissions: ['Mail.Send'] });
    const bad = await fetch(`${sim.graphEndpoint}/_sim/faults`, { method: 'POST', body: JSON.stringify({ latencyMs: -1 }) });
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${sim.graphEndpoint}/_sim/faults`, { method: 'POST', body: JSON.stringify({ nonsense: 1 }) });
    expect(unknown.status).toBe(400);

    await graphClient(sim).api('/applications').post({ displayName: 'Visible in state' });
    const state = await (await fetch(`${sim.graphEndpoint}/_sim/state`)).json();
    expect(state.tenantId).toBe(sim.tenantId);
    expect(state.applications.map((a: { displayName: string }) => a.displayName)).toContain('Visible in state');
    const log = await (await fetch(`${sim.graphEndpoint}/_sim/requests`)).json();
    expect(log.some((r: { family: string; method: string; status: number }) => r.family === 'graph' && r.method === 'POST' && r.status === 201)).toBe(true);
    // Admin calls are not part of the tenant's request log.
    expect(log.some((r: { path: string }) => r.path.startsWith('/_sim'))).toBe(false);

    expect((await fetch(`${sim.graphEndpoint}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(sim.snapshot().applications.map((a) => a.displayName)).not.toContain('Visible in state');
    expect(sim.faults().latencyMs).toBe(0);
    expect(sim.requests()).toEqual([]);
  });

  test('snapshot() shows the seeded tenant: provisioning identity, first-party SPs, mailboxes, the distribution list', () => {
    const s = sim.snapshot();
    expect(s.domains).toEqual(['exempel.se', 'exempel.onmicrosoft.com']);
    expect(s.applications.find((a) => a.appId === sim.provisioning.clientId)).toBeTruthy();
    expect(s.servicePrincipals.map((p) => p.displayName)).toEqual(expect.arrayContaining(['Microsoft Graph', 'Office 365 Exchange Online']));
    expect(s.mailboxes.map((m) => m.primarySmtpAddress)).toEqual(expect.arrayContaining([sim.mailboxes.info, sim.mailboxes.faktura, sim.mailboxes.outside, sim.mailboxes.shared]));
    expect(s.mailboxes.find((m) => m.primarySmtpAddress === sim.mailboxes.shared)?.recipientTypeDetails).toBe('SharedMailbox');
    expect(s.users.find((u) => u.userPrincipalName === sim.mailboxes.noMailbox)?.mail).toBeNull();
    expect(s.groups.find((g) => g.primarySmtpAddress === sim.mailboxes.distributionList)?.recipientTypeDetails).toBe('MailUniversalDistributionGroup');
    expect(JSON.stringify(s)).not.toContain(sim.provisioning.clientSecret);
  });
});
