/**
 * The engine wired exactly as the product wires it (production adapters against the simulator, SQLite journal),
 * with a recording secret sink and helpers that ask the simulator what really happened.
 */
import { createTenantAdapters, type TenantAdapters } from '../../src/adapters';
import type { SecretSink } from '../../src/core/ports';
import { systemClock } from '../../src/core/ports';
import { ProvisioningEngine, type EngineDeps, type JobOutcome } from '../../src/provisioning/engine';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import type { Store } from '../../src/store';
import { testClock, type TestClock } from '../harness/clock';
import { connectionFor } from '../adapters/helpers';

export const FAST = { baseDelayMs: 50, maxDelayMs: 500, maxTotalWaitMs: 20_000 };

export class RecordingSink implements SecretSink {
  readonly delivered = new Map<string, { keyId: string; secretText: string; endDateTime: string }>();
  deliver(s: { jobId: string; keyId: string; secretText: string; endDateTime: string }): void {
    this.delivered.set(`${s.jobId}/${s.keyId}`, { keyId: s.keyId, secretText: s.secretText, endDateTime: s.endDateTime });
  }
  holds(jobId: string, keyId: string): boolean {
    return this.delivered.has(`${jobId}/${keyId}`);
  }
  /** The secret a job delivered (throws when it delivered none). */
  secretOf(jobId: string): string {
    const hit = [...this.delivered.entries()].find(([k]) => k.startsWith(`${jobId}/`));
    if (!hit) throw new Error(`job ${jobId} delivered no secret`);
    return hit[1].secretText;
  }
  all(): string[] {
    return [...this.delivered.values()].map((d) => d.secretText);
  }
}

/** A clock whose "now" can be moved forward; sleeping advances it instead of waiting. */
export function fakeClock(): TestClock {
  return testClock({ sleep: 'advance' });
}

export interface Harness {
  engine: ProvisioningEngine;
  sink: RecordingSink;
  adapters: TenantAdapters;
}

export function engineFor(sim: Simulator, store: Store, overrides: Partial<EngineDeps> = {}, sink = new RecordingSink()): Harness {
  const adapters = createTenantAdapters(connectionFor(sim));
  const engine = new ProvisioningEngine({
    directory: adapters.directory,
    exchange: adapters.exchange,
    appSignIn: adapters.appSignIn,
    journal: store.journal,
    clock: systemClock,
    controlMailbox: sim.mailboxes.outside,
    retry: FAST,
    verifyRetry: FAST,
    secretSink: sink,
    ...overrides,
  });
  return { engine, sink, adapters };
}

/** Runs a job to its end and fails the test with the engine's own words if it did not succeed. */
export async function mustSucceed(p: Promise<JobOutcome>): Promise<JobOutcome> {
  const out = await p;
  if (out.error) throw new Error(`job ${out.job.kind} failed: ${out.error.message}`);
  return out;
}

/** The app's Graph Mail.Send grant as the simulator holds it. */
export function hasGraphMailSend(sim: Simulator, appId: string): boolean {
  const snap = sim.snapshot();
  const sp = snap.servicePrincipals.find((s) => s.appId === appId);
  const graph = snap.servicePrincipals.find((s) => s.appId === GRAPH_APP_ID)!;
  return snap.appRoleAssignments.some((a) => a.principalId === sp?.id && a.resourceId === graph.id && a.appRoleId === MAIL_SEND_ROLE_ID);
}

export function policiesOf(sim: Simulator, appId: string) {
  return sim.snapshot().accessPolicies.filter((p) => p.appId.toLowerCase() === appId.toLowerCase());
}

export function roleAssignmentsOf(sim: Simulator, appId: string) {
  return sim.snapshot().roleAssignments.filter((a) => a.appId?.toLowerCase() === appId.toLowerCase());
}

export function secretsOf(sim: Simulator, appId: string): { keyId: string; displayName: string; endDateTime: string }[] {
  const app = sim.snapshot().applications.find((a) => a.appId === appId);
  return (app?.passwordCredentials as { keyId: string; displayName: string; endDateTime: string }[]) ?? [];
}

/** Sends as the app with the given secret: 'sent' (202) or the refusal's HTTP status. */
export async function trySend(adapters: TenantAdapters, appId: string, secret: string, from: string): Promise<'sent' | number> {
  try {
    await adapters.appSignIn.sendMail(appId, secret, { from, to: 'kund@example.com', subject: 'probe', body: 'probe' });
    return 'sent';
  } catch (e) {
    const status = (e as { status?: number }).status;
    return status ?? -1;
  }
}
