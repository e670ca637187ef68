/**
 * Secret rotation against the simulator: the new secret goes through the SecretSink, the old one keeps working
 * during the overlap, and "retire old secrets" removes exactly the recorded old keyIds — when confirmed, or once the
 * overlap (injectable clock) has passed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpterError } from '../../src/core/errors';
import type { DirectoryPort } from '../../src/core/ports';
import { findDueRetirements } from '../../src/provisioning/rotate';
import type { Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { startTestSimulator } from '../adapters/helpers';
import { engineFor, fakeClock, mustSucceed, secretsOf, trySend } from './helpers';

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

const DAY = 86_400_000;

async function provisioned(name: string, scoping: 'access-policy' | 'rbac' = 'access-policy') {
  const clock = fakeClock();
  const h = engineFor(sim, store, { clock });
  const out = await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: name, senders: [sim.mailboxes.info], scoping }).id));
  return { ...h, clock, appId: out.result!.clientId, oldSecret: h.sink.secretOf(out.job.id), oldKeyId: out.result!.secret!.keyId };
}

describe('rotate secret', () => {
  it('delivers a new secret through the sink; both work during the overlap; retiring before the overlap ends needs confirmation', async () => {
    const reg = await provisioned('Rotate Me');
    const { engine, sink, clock, adapters } = reg;
    const rotate = await mustSucceed(engine.run(engine.createJob('rotate-secret', { appDisplayName: 'Rotate Me' }).id));
    const r = rotate.lifecycle!;
    if (r.kind !== 'rotate-secret') throw new Error('unexpected result');
    const newSecret = sink.secretOf(rotate.job.id);
    expect(newSecret).not.toBe(reg.oldSecret);
    expect(r.previous.map((p) => p.keyId)).toEqual([reg.oldKeyId]);
    expect(new Date(r.overlapEndsAt).getTime() - clock.now().getTime()).toBeGreaterThan(7 * DAY - 60_000);
    expect(r.checks).toEqual([expect.objectContaining({ name: 'Token with the new secret', ok: true })]);
    expect(secretsOf(sim, reg.appId).map((s) => s.keyId).sort()).toEqual([reg.oldKeyId, r.keyId].sort());
    expect(JSON.stringify(store.journal.getSteps(rotate.job.id))).not.toContain(newSecret);
    // The overlap: Opter keeps running on the old secret while the new one already works.
    expect(await trySend(adapters, reg.appId, reg.oldSecret, sim.mailboxes.info)).toBe('sent');
    expect(await trySend(adapters, reg.appId, newSecret, sim.mailboxes.info)).toBe('sent');

    // Not confirmed, overlap not over: unfinished, with the time it may continue; nothing removed.
    const early = await engine.run(engine.createJob('retire-secrets', { appDisplayName: 'Rotate Me', confirmed: false }).id);
    expect(early.error?.code).toBe('E_JOB_UNFINISHED');
    expect(early.resumeAfter).toBe(r.overlapEndsAt);
    expect(secretsOf(sim, reg.appId)).toHaveLength(2);
    expect(findDueRetirements(store.journal, clock.now())).toEqual([]);

    // Eight days later the overlap is over: the daily check finds it and the same job completes.
    clock.advance(8 * DAY);
    expect(findDueRetirements(store.journal, clock.now())).toEqual([
      { rotateJobId: rotate.job.id, appDisplayName: 'Rotate Me', appId: reg.appId, overlapEndsAt: r.overlapEndsAt, keyIds: [reg.oldKeyId] },
    ]);
    const retired = await mustSucceed(engine.run(early.job.id));
    expect(retired.lifecycle).toMatchObject({ kind: 'retire-secrets', removedKeyIds: [reg.oldKeyId], keptKeyId: r.keyId });
    expect(secretsOf(sim, reg.appId).map((s) => s.keyId)).toEqual([r.keyId]);
    expect(await trySend(adapters, reg.appId, newSecret, sim.mailboxes.info)).toBe('sent');
    await expect(adapters.appSignIn.acquireGraphToken(reg.appId, reg.oldSecret)).rejects.toBeInstanceOf(OpterError);
    expect(findDueRetirements(store.journal, clock.now())).toEqual([]);
  });

  it('"Opter updated" (confirmed) retires the old secret at once; with no rotation pending there is nothing to retire', async () => {
    const reg = await provisioned('Confirm Me');
    const { engine } = reg;
    const rotate = await mustSucceed(engine.run(engine.createJob('rotate-secret', { appDisplayName: 'Confirm Me', overlapDays: 3 }).id));
    const job = engine.createJob('retire-secrets', { appDisplayName: 'Confirm Me', confirmed: true });
    // A repeated click finds the same job.
    expect(engine.createJob('retire-secrets', { appDisplayName: 'Confirm Me', confirmed: true }).id).toBe(job.id);
    const out = await mustSucceed(engine.run(job.id));
    expect(out.lifecycle).toMatchObject({ kind: 'retire-secrets', rotateJobId: rotate.job.id, removedKeyIds: [reg.oldKeyId] });
    expect(() => engine.createJob('retire-secrets', { appDisplayName: 'Confirm Me', confirmed: true })).toThrow(/no secret rotation/);
  });

  it('never removes the old secrets when the new one has disappeared', async () => {
    const reg = await provisioned('Guard Me');
    const { engine, adapters } = reg;
    const rotate = await mustSucceed(engine.run(engine.createJob('rotate-secret', { appDisplayName: 'Guard Me' }).id));
    const r = rotate.lifecycle as { keyId: string };
    const app = sim.snapshot().applications.find((a) => a.appId === reg.appId)!;
    await adapters.directory.removePassword(app.id as string, r.keyId);
    const out = await engine.run(engine.createJob('retire-secrets', { appDisplayName: 'Guard Me', confirmed: true }).id);
    expect(out.error?.code).toBe('E_NOT_FOUND');
    expect(out.error?.detail).toContain('the old ones were kept');
    expect(secretsOf(sim, reg.appId).map((s) => s.keyId)).toEqual([reg.oldKeyId]);
  });

  it('clamps the lifetime to the tenant policy and says so', async () => {
    const reg = await provisioned('Clamp Me');
    sim.setFaults({ maxPasswordLifetime: 'P90D' });
    try {
      const out = await mustSucceed(reg.engine.run(reg.engine.createJob('rotate-secret', { appDisplayName: 'Clamp Me', secretValidYears: 2 }).id));
      const r = out.lifecycle as { clamped: boolean; endDateTime: string; notes: string[] };
      expect(r.clamped).toBe(true);
      const days = (new Date(r.endDateTime).getTime() - reg.clock.now().getTime()) / DAY;
      expect(days).toBeGreaterThan(89);
      expect(days).toBeLessThanOrEqual(90);
      expect(r.notes.join(' ')).toMatch(/shortened to the tenant policy maximum \(P90D\)/);
    } finally {
      sim.setFaults({ maxPasswordLifetime: null });
    }
  });

  it('a lost addPassword response leaves no orphan: the undelivered secret is removed and exactly one new secret is delivered', async () => {
    const reg = await provisioned('Lossy Rotate');
    let lost = false;
    const directory: DirectoryPort = Object.create(reg.adapters.directory);
    directory.addPassword = async (id, cred) => {
      const created = await reg.adapters.directory.addPassword(id, cred);
      if (!lost) {
        lost = true;
        throw new OpterError('E_SERVICE_UNAVAILABLE', { transient: true, retryReason: 'connection reset' });
      }
      return created;
    };
    const { engine, sink } = engineFor(sim, store, { directory });
    const out = await mustSucceed(engine.run(engine.createJob('rotate-secret', { appDisplayName: 'Lossy Rotate' }).id));
    const r = out.lifecycle as { keyId: string; previous: { keyId: string }[]; notes: string[] };
    expect(lost).toBe(true);
    expect(r.previous.map((p) => p.keyId)).toEqual([reg.oldKeyId]);
    expect(secretsOf(sim, reg.appId).map((s) => s.keyId).sort()).toEqual([reg.oldKeyId, r.keyId].sort());
    expect(sink.delivered.size).toBe(1);
    expect(r.notes.some((n) => /undelivered secret/.test(n))).toBe(true);
  });

  it('on an RBAC registration the new token carries no Graph role and still passes', async () => {
    const reg = await provisioned('Rotate Rbac', 'rbac');
    const out = await mustSucceed(reg.engine.run(reg.engine.createJob('rotate-secret', { appDisplayName: 'Rotate Rbac' }).id));
    expect((out.lifecycle as { checks: { detail: string }[] }).checks[0]!.detail).toContain('Exchange RBAC authorizes sending');
  });

  it('refuses bad input before any call', () => {
    const { engine } = engineFor(sim, store);
    expect(() => engine.createJob('rotate-secret', { appDisplayName: '  ' })).toThrow(/empty/);
    expect(() => engine.createJob('rotate-secret', { appDisplayName: 'X', overlapDays: -1 })).toThrow(/overlap/);
    expect(() => engine.createJob('rotate-secret', { appDisplayName: 'X', secretValidYears: 0 })).toThrow(/whole number/);
  });
});

describe('provision --new-secret with a lost response right after an earlier secret', () => {
  it('keeps the earlier (delivered) secret: only this run’s undelivered one is an orphan', async () => {
    const reg = await provisioned('Fresh Twice');
    let lost = false;
    const directory: DirectoryPort = Object.create(reg.adapters.directory);
    directory.addPassword = async (id, cred) => {
      const created = await reg.adapters.directory.addPassword(id, cred);
      if (!lost) {
        lost = true;
        throw new OpterError('E_SERVICE_UNAVAILABLE', { transient: true, retryReason: 'connection reset' });
      }
      return created;
    };
    const { engine } = engineFor(sim, store, { directory });
    const out = await mustSucceed(engine.run(engine.createJob('provision', { appDisplayName: 'Fresh Twice', senders: [sim.mailboxes.info], newSecret: true }).id));
    expect(lost).toBe(true);
    expect(secretsOf(sim, reg.appId).map((s) => s.keyId).sort()).toEqual([reg.oldKeyId, out.result!.secret!.keyId].sort());
  });
});

describe('two rotations before retiring', () => {
  it('the later rotation supersedes the earlier one: retiring it removes both older secrets, and nothing is left pending', async () => {
    const reg = await provisioned('Twice Rotated');
    const { engine, clock } = reg;
    const one = await mustSucceed(engine.run(engine.createJob('rotate-secret', { appDisplayName: 'Twice Rotated' }).id));
    const two = await mustSucceed(engine.run(engine.createJob('rotate-secret', { appDisplayName: 'Twice Rotated' }).id));
    const k1 = (one.lifecycle as { keyId: string }).keyId;
    const k2 = (two.lifecycle as { keyId: string }).keyId;
    clock.advance(8 * DAY);
    expect(findDueRetirements(store.journal, clock.now()).map((d) => [d.rotateJobId, d.keyIds.sort()])).toEqual([[two.job.id, [reg.oldKeyId, k1].sort()]]);
    await mustSucceed(engine.run(engine.createJob('retire-secrets', { appDisplayName: 'Twice Rotated', confirmed: true }).id));
    expect(secretsOf(sim, reg.appId).map((s) => s.keyId)).toEqual([k2]);
    expect(findDueRetirements(store.journal, clock.now())).toEqual([]);
    expect(() => engine.createJob('retire-secrets', { appDisplayName: 'Twice Rotated', confirmed: true })).toThrow(/no secret rotation/);
  });
});
