/**
 * The production adapters meet the engine's expectations of the ports: the whole procedure converges through
 * them against a tenant that replicates slowly, throttles and activates secrets late, and every wait is reported
 * with a human reason the cards and CLI can show. (The engine's own suite covers its logic with the same sim.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock, type ProgressEvent } from '../../src/core/ports';
import { ProvisioningEngine } from '../../src/provisioning/engine';
import { openDatabase } from '../../src/store/db';
import { SqliteJournal } from '../../src/store/journal';
import { migrate } from '../../src/store/migrations';
import type { Simulator } from '../../src/sim';
import { adaptersFor, startTestSimulator } from './helpers';

let sim: Simulator;

beforeAll(async () => {
  sim = await startTestSimulator({ faults: { replicationDelayMs: 2000, throttle: { share: 0.2, retryAfterSeconds: 0.2 }, secretActivationDelayMs: 1500 } });
});

afterAll(async () => {
  await sim?.close();
});

it('provisions through the real adapters despite replication delay, 20 % throttling and a late secret, then reuses everything', async () => {
  const adapters = adaptersFor(sim);
  const { db } = openDatabase({ memory: true });
  migrate(db);
  const delivered = new Map<string, string>();
  const engine = new ProvisioningEngine({
    directory: adapters.directory,
    exchange: adapters.exchange,
    appSignIn: adapters.appSignIn,
    journal: new SqliteJournal(db, systemClock),
    clock: systemClock,
    controlMailbox: sim.mailboxes.outside,
    retry: { baseDelayMs: 200, maxDelayMs: 2000, maxTotalWaitMs: 60_000 },
    verifyRetry: { baseDelayMs: 200, maxDelayMs: 2000, maxTotalWaitMs: 60_000 },
    secretSink: {
      deliver: (s) => void delivered.set(`${s.jobId}/${s.keyId}`, s.secretText),
      holds: (jobId, keyId) => delivered.has(`${jobId}/${keyId}`),
    },
  });
  const events: ProgressEvent[] = [];
  const input = { appDisplayName: "O'Neil Åkeri & Co", senders: [sim.mailboxes.info, sim.mailboxes.faktura] };

  const first = await engine.run(engine.createJob('provision', input).id, { listener: (e) => events.push(e) });
  expect(first.error).toBeUndefined();
  expect(first.job.status).toBe('succeeded');
  expect(first.result?.checks.every((c) => c.ok)).toBe(true);
  expect(delivered.size).toBe(1);

  const retries = events.filter((e): e is Extract<ProgressEvent, { type: 'step-retrying' }> => e.type === 'step-retrying');
  expect(retries.some((r) => /replicate/.test(r.reason))).toBe(true);
  for (const r of retries) expect(r.reason).toMatch(/^(waiting for|Microsoft Graph is throttling|Exchange Online is throttling)/);

  const second = await engine.run(engine.createJob('provision', input).id);
  expect(second.job.status).toBe('succeeded');
  expect(second.result?.created).toEqual({ app: false, servicePrincipal: false, grant: false, group: false, policy: false });

  const snap = sim.snapshot();
  const apps = snap.applications.filter((a) => a.displayName === input.appDisplayName);
  expect(apps).toHaveLength(1);
  const appId = apps[0]!.appId as string;
  expect(snap.servicePrincipals.filter((s) => s.appId === appId)).toHaveLength(1);
  expect(snap.accessPolicies.filter((p) => p.appId === appId)).toHaveLength(1);
  expect(snap.groups.filter((g) => g.name === 'O Neil Åkeri Co - MailSend Allowed')).toHaveLength(1);
});
