/**
 * Migration from an Application Access Policy registration to RBAC for Applications, checked after EVERY tenant
 * write the job makes: the senders can still send as the app (Graph sendMail with its secret → 202) and the control
 * mailbox is never allowed. Also: the wait for Exchange's permission cache, and what happens without it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TenantAdapters } from '../../src/adapters';
import type { DirectoryPort, ExchangeLifecyclePort, ExchangePort } from '../../src/core/ports';
import { inspectMigration } from '../../src/provisioning/migrate';
import type { Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { startTestSimulator } from '../adapters/helpers';
import { engineFor, fakeClock, hasGraphMailSend, mustSucceed, policiesOf, roleAssignmentsOf, trySend } from './helpers';

let sim: Simulator;
let store: Store;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  store?.close();
  await sim?.close();
});
beforeEach(() => {
  sim.reset();
  store?.close();
  store = openStore({ memory: true });
});

const WRITE = /^(new|add|remove|enable|assign|upsert|delete)/i;

interface Probe {
  after: string;
  senders: Record<string, 'sent' | number>;
  control: 'sent' | number;
}

/**
 * Ports that, after each tenant write, send as the app from every sender and from the control mailbox and record
 * what happened — the journal-driven job cannot take a step without the probe seeing the tenant in between.
 */
function probing<T extends object>(port: T, probe: (after: string) => Promise<void>): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || !WRITE.test(prop)) return value;
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        await probe(prop);
        return result;
      };
    },
  });
}

async function setUpAccessPolicyRegistration(name: string) {
  const h = engineFor(sim, store);
  const out = await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: name, senders: [sim.mailboxes.info, sim.mailboxes.faktura] }).id));
  return { ...h, appId: out.result!.clientId, secret: h.sink.secretOf(out.job.id), groupSmtp: out.result!.groupSmtp };
}

function prober(adapters: TenantAdapters, appId: string, secret: string, probes: Probe[]) {
  return async (after: string) => {
    const senders: Record<string, 'sent' | number> = {};
    for (const s of [sim.mailboxes.info, sim.mailboxes.faktura]) senders[s] = await trySend(adapters, appId, secret, s);
    probes.push({ after, senders, control: await trySend(adapters, appId, secret, sim.mailboxes.outside) });
  };
}

describe('migrate access policy → RBAC', () => {
  it('keeps a working path for the senders after every write and never allows the control mailbox', async () => {
    const reg = await setUpAccessPolicyRegistration('Migrate Me');
    const probes: Probe[] = [];
    const probe = prober(reg.adapters, reg.appId, reg.secret, probes);
    await probe('start');
    const { engine } = engineFor(sim, store, {
      directory: probing<DirectoryPort>(reg.adapters.directory, probe),
      exchange: probing<ExchangePort & ExchangeLifecyclePort>(reg.adapters.exchange, probe),
    });
    sim.clearRequests();
    const out = await mustSucceed(engine.run(engine.createJob('migrate-rbac', { appDisplayName: 'Migrate Me', settleMinutes: 0 }).id));

    // The order the plan promises, as the tenant saw it.
    const writes = sim.requests().filter((r) => (r.family === 'exchange' && r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet)) || (r.family === 'graph' && r.method === 'DELETE'));
    expect(writes.map((r) => r.cmdlet ?? 'DELETE appRoleAssignment')).toEqual(['New-ServicePrincipal', 'New-ManagementRoleAssignment', 'DELETE appRoleAssignment', 'Remove-ApplicationAccessPolicy']);
    expect(probes.map((p) => p.after)).toEqual(['start', 'newExchangeServicePrincipal', 'newManagementRoleAssignment', 'removeAppRoleAssignment', 'removeApplicationAccessPolicy']);
    for (const p of probes) {
      expect(Object.values(p.senders), `senders after ${p.after}`).toEqual(['sent', 'sent']);
      expect(p.control, `control mailbox after ${p.after}`).toBe(403);
    }

    const l = out.lifecycle!;
    expect(l.kind).toBe('migrate-rbac');
    if (l.kind !== 'migrate-rbac') throw new Error('unreachable');
    expect(l.removedGraphGrant).toBe(true);
    expect(l.removedPolicies).toHaveLength(1);
    expect(l.checks.every((c) => c.ok)).toBe(true);
    expect(hasGraphMailSend(sim, reg.appId)).toBe(false);
    expect(policiesOf(sim, reg.appId)).toEqual([]);
    expect(roleAssignmentsOf(sim, reg.appId)).toEqual([expect.objectContaining({ role: 'Application Mail.Send', scope: reg.groupSmtp })]);
  });

  it('the probe is not vacuous: removing the policy while the grant exists lets the control mailbox send', async () => {
    const reg = await setUpAccessPolicyRegistration('Wrong Order');
    const [policy] = policiesOf(sim, reg.appId);
    await reg.adapters.exchange.removeApplicationAccessPolicy(policy!.identity);
    expect(await trySend(reg.adapters, reg.appId, reg.secret, sim.mailboxes.outside)).toBe('sent');
  });

  it('the plan lists what is added and removed, in the order that keeps mail flowing; --plan-only changes nothing', async () => {
    await setUpAccessPolicyRegistration('Plan Me');
    sim.clearRequests();
    const { plan } = await inspectMigration({ directory: engineFor(sim, store).adapters.directory, exchange: engineFor(sim, store).adapters.exchange }, { appDisplayName: 'Plan Me' });
    expect(sim.requests().filter((r) => (r.family === 'exchange' && r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet)) || (r.family === 'graph' && r.method !== 'GET'))).toEqual([]);
    expect(plan.steps.map((s) => s.id)).toEqual(['organization', 'exchangeServicePrincipal', 'roleAssignment', 'verifyRbac', 'settle', 'removeGraphGrant', 'removePolicy', 'verify']);
    expect(plan.adds).toEqual(['Exchange service principal pointer', 'Application Mail.Send scoped to the sender group']);
    expect(plan.removes).toEqual(['Remove the Graph Mail.Send grant', 'Remove the Application Access Policy']);
    expect(plan.blockers).toEqual([]);
    expect(plan.nothingToDo).toBe(false);
    expect(plan.settleMinutes).toBe(120);
  });

  it('waits for the permission cache: stops as unfinished with resumeAfter, grant still in place, and finishes once the time has come', async () => {
    const reg = await setUpAccessPolicyRegistration('Settle Me');
    const clock = fakeClock();
    const { engine } = engineFor(sim, store, { clock, maxInlineWaitMs: 60_000 });
    const job = engine.createJob('migrate-rbac', { appDisplayName: 'Settle Me', settleMinutes: 90 });
    const first = await engine.run(job.id);
    expect(first.error?.code).toBe('E_JOB_UNFINISHED');
    const resumeAfter = new Date(first.resumeAfter!).getTime();
    expect(resumeAfter - clock.now().getTime()).toBeGreaterThan(89 * 60_000);
    expect(engine.waitingJobs().map((w) => [w.job.id, w.resumeAfter])).toEqual([[job.id, first.resumeAfter]]);
    // A real waiting status, not a failure: the time is on the job.
    expect(first.job).toMatchObject({ status: 'waiting', resumeAfter: first.resumeAfter, lastError: { code: 'E_JOB_UNFINISHED' } });
    expect(engine.unfinishedJobs()).toEqual([]);
    // RBAC added and verified, nothing removed yet: both paths work.
    expect(hasGraphMailSend(sim, reg.appId)).toBe(true);
    expect(policiesOf(sim, reg.appId)).toHaveLength(1);
    expect(roleAssignmentsOf(sim, reg.appId)).toHaveLength(1);
    expect(await trySend(reg.adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe('sent');

    clock.advance(30 * 60_000);
    const early = await engine.run(job.id);
    expect(early.error?.code).toBe('E_JOB_UNFINISHED');
    expect(hasGraphMailSend(sim, reg.appId)).toBe(true);

    clock.advance(61 * 60_000);
    await mustSucceed(engine.run(job.id));
    expect(hasGraphMailSend(sim, reg.appId)).toBe(false);
    expect(engine.waitingJobs()).toEqual([]);
    expect(store.journal.getJob(job.id)).toMatchObject({ status: 'succeeded', resumeAfter: null, result: { kind: 'migrate-rbac' } });
  });

  it('with a real permission-cache delay, the wait is what keeps mail flowing (and skipping it breaks it)', async () => {
    sim.setFaults({ rbacPropagationDelayMs: 1_500 });
    try {
      // Skipping the wait: right after the grant goes, Graph does not honour the new assignment yet.
      const fast = await setUpAccessPolicyRegistration('No Wait');
      const probesFast: Probe[] = [];
      const probeFast = prober(fast.adapters, fast.appId, fast.secret, probesFast);
      const hFast = engineFor(sim, store, { directory: probing<DirectoryPort>(fast.adapters.directory, probeFast) });
      await mustSucceed(hFast.engine.run(hFast.engine.createJob('migrate-rbac', { appDisplayName: 'No Wait', settleMinutes: 0 }).id));
      expect(probesFast.find((p) => p.after === 'removeAppRoleAssignment')!.senders[sim.mailboxes.info]).toBe(403);

      // With the wait (2.4 s here, 30 min – 2 h in a real tenant): the senders never lose their path.
      const slow = await setUpAccessPolicyRegistration('With Wait');
      const probes: Probe[] = [];
      const probe = prober(slow.adapters, slow.appId, slow.secret, probes);
      const h = engineFor(sim, store, { directory: probing<DirectoryPort>(slow.adapters.directory, probe), exchange: probing<ExchangePort & ExchangeLifecyclePort>(slow.adapters.exchange, probe) });
      await mustSucceed(h.engine.run(h.engine.createJob('migrate-rbac', { appDisplayName: 'With Wait', settleMinutes: 0.04 }).id));
      expect(probes.length).toBeGreaterThanOrEqual(4);
      for (const p of probes) {
        expect(Object.values(p.senders), `senders after ${p.after}`).toEqual(['sent', 'sent']);
        expect(p.control).toBe(403);
      }
    } finally {
      sim.setFaults({ rbacPropagationDelayMs: 0 });
    }
  }, 60_000);

  it('a registration that is RBAC already needs nothing, and a re-run of the migration writes nothing', async () => {
    const { engine } = engineFor(sim, store);
    await mustSucceed(engine.run(engine.createJob('provision', { appDisplayName: 'Already Rbac', senders: [sim.mailboxes.info], scoping: 'rbac' }).id));
    const { plan } = await inspectMigration(engineFor(sim, store).adapters, { appDisplayName: 'Already Rbac' });
    expect(plan.nothingToDo).toBe(true);
    sim.clearRequests();
    await mustSucceed(engine.run(engine.createJob('migrate-rbac', { appDisplayName: 'Already Rbac', settleMinutes: 0 }).id));
    expect(sim.requests().filter((r) => (r.family === 'exchange' && r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet)) || (r.family === 'graph' && r.method !== 'GET'))).toEqual([]);
  });

  it('nothing is removed when the RBAC scope cannot be proven: the grant and the policy keep carrying the mail', async () => {
    const reg = await setUpAccessPolicyRegistration('Check Fails');
    // Exchange never reports the senders in scope (e.g. the assignment does not apply): the job must stop there.
    const exchange = new Proxy(reg.adapters.exchange, {
      get(target, prop, receiver) {
        if (prop === 'testServicePrincipalAuthorization') return async () => [];
        return Reflect.get(target, prop, receiver);
      },
    });
    const { engine } = engineFor(sim, store, { exchange, verifyRetry: { baseDelayMs: 20, maxDelayMs: 50, maxTotalWaitMs: 200 } });
    const out = await engine.run(engine.createJob('migrate-rbac', { appDisplayName: 'Check Fails', settleMinutes: 0 }).id);
    expect(out.error?.code).toBe('E_VERIFY_FAILED');
    expect(store.journal.getStep(out.job.id, 'verifyRbac')?.status).toBe('failed');
    expect(store.journal.getStep(out.job.id, 'removeGraphGrant')).toBeNull();
    expect(hasGraphMailSend(sim, reg.appId)).toBe(true);
    expect(policiesOf(sim, reg.appId)).toHaveLength(1);
    expect(await trySend(reg.adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe('sent');
  });
});
