/**
 * What verification may claim (issue "Trust and real-tenant correctness", section 5), through the production
 * adapters and the simulator: a check that did not run is reported as skipped and never counted as passed; without a
 * mailbox outside the sender group the restriction is said not to be verified; an identity holding only what the
 * access-policy script needs (no Role Management in Exchange, no Policy.Read.All) can add a sender and survey the
 * registrations, and is told what it could not check.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EngineDeps } from '../../src/provisioning/engine';
import { checkState, tallyChecks } from '../../src/provisioning/checks';
import { surveyRegistrations } from '../../src/provisioning/registry';
import type { Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { startTestSimulator } from '../adapters/helpers';
import { engineFor as engineOn } from '../lifecycle/helpers';

let sim: Simulator;
let store: Store;

/** The application and directory rights the script's steps need; everything else the seeded identity holds is revoked. */
const SCRIPT_ONLY = ['Policy.Read.All', 'Role Management'];

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.reset();
  store?.close();
  store = openStore({ memory: true });
});

/** A new engine on the same store: what a new process (a restart, `opter-mail resume`) builds. */
const engineFor = (overrides: Partial<EngineDeps> = {}) => engineOn(sim, store, overrides);

describe('a check that did not run is not a pass', () => {
  it('a job resumed after its secret was made reports the sign-in proof as skipped, and its summary does not say passed', async () => {
    const first = engineFor();
    const job = first.engine.createJob('provision', { appDisplayName: 'Resumed Proof', senders: [sim.mailboxes.info] });
    // Stop the first run right after the secret: Exchange refuses the verify step's reads, so verification stops.
    const stopped = await first.engine.run(job.id, {
      listener: (e) => {
        if (e.type === 'step-succeeded' && e.step === 'secret') sim.setFaults({ revokedPermissions: ['Exchange.ManageAsApp'] });
      },
    });
    expect(stopped.error?.code).toBe('E_EXCHANGE_PERMISSION');
    expect(store.journal.getStep(job.id, 'secret')!.status).toBe('succeeded');
    expect(store.journal.getStep(job.id, 'verify')!.status).not.toBe('succeeded');
    sim.setFaults({ revokedPermissions: [] });

    const checkEvents: { name: string; ok: boolean; skipped?: boolean }[] = [];
    const resumed = await engineFor().engine.run(job.id, { listener: (e) => void (e.type === 'check' && checkEvents.push(e)) });
    expect(resumed.error).toBeUndefined();
    const token = resumed.result!.checks.find((c) => c.name === 'Token as the new app')!;
    expect(token).toMatchObject({ ok: false, skipped: true });
    expect(token.detail).toMatch(/^not run: the secret was created by an earlier run of this job/);
    expect(checkEvents.find((e) => e.name === 'Token as the new app')).toMatchObject({ ok: false, skipped: true });
    expect(tallyChecks(resumed.result!.checks)).toMatchObject({ passed: 2, skipped: 1, failed: 0, verified: false });
    const summary = String(store.journal.getStep(job.id, 'verify')!.outputs.summary);
    expect(summary).not.toMatch(/^3 checks passed/);
    expect(summary).toBe('2 of 3 checks passed; not run: Token as the new app (the secret was created by an earlier run of this job, which alone held its value (the job was resumed))');
  });

  it('a re-run that keeps the existing secret made no secret, so it claims no sign-in proof at all', async () => {
    const { engine } = engineFor();
    const input = { appDisplayName: 'Kept Secret', senders: [sim.mailboxes.info] };
    expect((await engine.run(engine.createJob('provision', input).id)).result!.checks.every((c) => checkState(c) === 'passed')).toBe(true);
    const again = await engine.run(engine.createJob('provision', input).id);
    expect(again.result!.secret).toBeNull();
    expect(again.result!.checks.map((c) => c.name)).not.toContain('Token as the new app');
    expect(tallyChecks(again.result!.checks).verified).toBe(true);
  });

  it('when the control mailbox is itself a sender, the restriction is reported as not verified (access policy and RBAC)', async () => {
    const { engine } = engineFor();
    for (const scoping of ['access-policy', 'rbac'] as const) {
      const out = await engine.run(engine.createJob('provision', { appDisplayName: `Control Sender ${scoping}`, senders: [sim.mailboxes.info, sim.mailboxes.outside], scoping }).id);
      expect(out.error, scoping).toBeUndefined();
      const restriction = out.result!.checks.find((c) => c.skipped && c.name === 'Refused for a mailbox outside the group');
      expect(restriction?.detail, scoping).toBe(`not run: the control mailbox ${sim.mailboxes.outside} is itself a sender`);
      const tally = tallyChecks(out.result!.checks);
      expect(tally.verified, scoping).toBe(false);
      expect(tally.restrictionNotVerified, scoping).toBe(`the control mailbox ${sim.mailboxes.outside} is itself a sender`);
      expect(String(store.journal.getStep(out.job.id, 'verify')!.outputs.summary), scoping).toMatch(/; the restriction was not verified: the control mailbox .* is itself a sender$/);
    }
  });

  it('adding a sender where the control mailbox is an earlier sender: not verified, not a failed check', async () => {
    const { engine } = engineFor();
    await engine.run(engine.createJob('provision', { appDisplayName: 'Control Earlier', senders: [sim.mailboxes.outside] }).id);
    const added = await engine.run(engine.createJob('add-sender', { appDisplayName: 'Control Earlier', senders: [sim.mailboxes.faktura] }).id);
    expect(added.error).toBeUndefined();
    expect(tallyChecks(added.result!.checks)).toMatchObject({ failed: 0, restrictionNotVerified: `the control mailbox ${sim.mailboxes.outside} is itself a sender` });
  });

  it('without a control mailbox the restriction is reported as not verified; with one, everything is verified', async () => {
    const none = engineFor({ controlMailbox: null }).engine;
    const unproven = await none.run(none.createJob('provision', { appDisplayName: 'No Control', senders: [sim.mailboxes.info] }).id);
    expect(tallyChecks(unproven.result!.checks).restrictionNotVerified).toMatch(/no mailbox outside the sender group is configured/);

    const { engine } = engineFor();
    await engine.run(engine.createJob('provision', { appDisplayName: 'With Control', senders: [sim.mailboxes.info] }).id);
    const added = await engine.run(engine.createJob('add-sender', { appDisplayName: 'With Control', senders: [sim.mailboxes.faktura] }).id);
    // Add sender makes no secret, so there is no sign-in proof to skip: it is fully verified.
    expect(added.result!.checks.map((c) => c.name)).toEqual([`Test-ApplicationAccessPolicy ${sim.mailboxes.faktura}`, `Test-ApplicationAccessPolicy ${sim.mailboxes.outside}`]);
    expect(tallyChecks(added.result!.checks).verified).toBe(true);
    expect(String(store.journal.getStep(added.job.id, 'verify')!.outputs.summary)).toBe('2 checks passed');
  });
});

describe('least-privilege identity (only what the script needs: no Role Management, no Policy.Read.All)', () => {
  it('sets up and adds a sender on an access-policy registration, saying that RBAC was not checked', async () => {
    sim.setFaults({ revokedPermissions: SCRIPT_ONLY });
    const { engine } = engineFor();
    const setUp = await engine.run(engine.createJob('provision', { appDisplayName: 'Least Privilege', senders: [sim.mailboxes.info] }).id);
    expect(setUp.error).toBeUndefined();

    sim.clearRequests();
    const added = await engine.run(engine.createJob('add-sender', { appDisplayName: 'Least Privilege', senders: [sim.mailboxes.faktura] }).id);
    expect(added.error).toBeUndefined();
    expect(added.result!.membersAdded).toEqual([sim.mailboxes.faktura]);
    expect(tallyChecks(added.result!.checks)).toMatchObject({ failed: 0, verified: true });
    expect(added.result!.unchecked).toEqual([expect.stringMatching(/^RBAC for Applications was not checked: the provisioning identity may not run Get-ServicePrincipal/)]);
    expect(added.result!.notes).toContain(added.result!.unchecked![0]);
    // Exchange was asked once and refused (plus the credential's one retry with a fresh token); nothing retried it further.
    const refused = sim.requests().filter((r) => r.cmdlet === 'Get-ServicePrincipal');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(2);
    expect(refused.every((r) => r.status === 403)).toBe(true);

    // The other day-two jobs on this registration run too, each saying what it could not check.
    for (const job of [
      engine.createJob('remove-sender', { appDisplayName: 'Least Privilege', senders: [sim.mailboxes.faktura] }),
      engine.createJob('repair', { appDisplayName: 'Least Privilege' }),
      engine.createJob('rotate-secret', { appDisplayName: 'Least Privilege' }),
      engine.createJob('test-email', { appDisplayName: 'Least Privilege', from: sim.mailboxes.info, to: sim.mailboxes.info }),
    ]) {
      const out = await engine.run(job.id);
      expect(out.error, job.kind).toBeUndefined();
      const notes = out.result?.notes ?? out.lifecycle?.notes ?? [];
      expect(notes.some((n) => n.startsWith('RBAC for Applications was not checked')), job.kind).toBe(true);
    }
  });

  it('surveys the registrations (the daily expiry check) with their secrets, and says what it could not look at', async () => {
    const { engine, adapters } = engineFor();
    await engine.run(engine.createJob('provision', { appDisplayName: 'Survey Me', senders: [sim.mailboxes.info] }).id);
    sim.setFaults({ revokedPermissions: SCRIPT_ONLY });
    const survey = await surveyRegistrations({ directory: adapters.directory, exchange: adapters.exchange, journal: store.journal }, new Date());
    const reg = survey.registrations.find((r) => r.appDisplayName === 'Survey Me')!;
    expect(reg.secrets).toHaveLength(1);
    expect(reg.secretExpiresAt).not.toBeNull();
    expect(reg.drift).toEqual([]);
    expect(reg.unchecked).toEqual([expect.stringMatching(/^RBAC for Applications was not checked/)]);
    expect(survey.unchecked[0]).toMatch(/^Registrations scoped only by RBAC for Applications that this bot did not set up could not be looked for/);
  });
});
