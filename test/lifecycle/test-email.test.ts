/**
 * The test email: a temporary secret made for the test, a token as the app, a real Graph sendMail, the result per
 * layer — and the temporary secret removed ALWAYS: after success, after a refused send, after a thrown error, and
 * (on resume) after a run that died before it could clean up.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpterError } from '../../src/core/errors';
import type { AppSignInPort, DirectoryPort, ProgressEvent } from '../../src/core/ports';
import { testSecretEnd } from '../../src/provisioning/test-email';
import type { Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { startTestSimulator } from '../adapters/helpers';
import { engineFor, mustSucceed, secretsOf } from './helpers';

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

async function provisioned(name: string, scoping: 'access-policy' | 'rbac' = 'access-policy') {
  const h = engineFor(sim, store);
  const out = await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: name, senders: [sim.mailboxes.info], scoping }).id));
  return { ...h, appId: out.result!.clientId, keyId: out.result!.secret!.keyId };
}

const testSecrets = (appId: string) => secretsOf(sim, appId).filter((s) => s.displayName.endsWith('-test'));

describe('test email', () => {
  it('sends as the app and reports token, scope and send; the temporary secret is gone afterwards and was never journaled', async () => {
    const reg = await provisioned('Mail Test');
    const seen: string[] = [];
    const directory: DirectoryPort = Object.create(reg.adapters.directory);
    directory.addPassword = async (id, cred) => {
      const created = await reg.adapters.directory.addPassword(id, cred);
      seen.push(created.secretText);
      return created;
    };
    const { engine } = engineFor(sim, store, { directory });
    const events: ProgressEvent[] = [];
    sim.clearRequests();
    const out = await mustSucceed(engine.run(engine.createJob('test-email', { appDisplayName: 'Mail Test', from: sim.mailboxes.info, to: 'admin@kund.example' }).id, { listener: (e) => events.push(e) }));
    expect(seen).toHaveLength(1);
    expect(JSON.stringify(store.journal.getSteps(out.job.id))).not.toContain(seen[0]);
    expect(JSON.stringify(events)).not.toContain(seen[0]);
    expect(JSON.stringify(out.lifecycle)).not.toContain(seen[0]);
    const r = out.lifecycle!;
    if (r.kind !== 'test-email') throw new Error('unexpected result');
    expect(r.ok).toBe(true);
    expect(r.layers.map((l) => [l.layer, l.ok])).toEqual([
      ['token', true],
      ['scope', true],
      ['send', true],
    ]);
    expect(r.layers[0]!.detail).toContain('Mail.Send');
    expect(r.layers[1]!.detail).toContain('Granted');
    expect(r.temporaryKeyRemoved).toBe(true);
    expect(r.notes.join(' ')).toMatch(/longer than 1 hour.*30 minutes to 2 hours/);
    const sent = sim.snapshot().sentMail.filter((m) => m.appId === reg.appId);
    expect(sent).toEqual([expect.objectContaining({ from: sim.mailboxes.info, to: ['admin@kund.example'], saveToSentItems: false })]);
    // Only the registration's own secret is left; the test secret existed for the test only.
    expect(secretsOf(sim, reg.appId).map((s) => s.keyId)).toEqual([reg.keyId]);
    const created = sim.requests().filter((x) => x.path.includes('/addPassword'));
    const removed = sim.requests().filter((x) => x.path.includes('/removePassword'));
    expect(created).toHaveLength(1);
    expect(removed).toHaveLength(1);
  });

  it('a refused send (sender outside the scope) is reported per layer, and the temporary secret is still removed', async () => {
    const reg = await provisioned('Refused Test');
    const out = await mustSucceed(reg.engine.run(reg.engine.createJob('test-email', { appDisplayName: 'Refused Test', from: sim.mailboxes.outside, to: 'admin@kund.example' }).id));
    const r = out.lifecycle as { ok: boolean; layers: { layer: string; ok: boolean; detail: string }[] };
    expect(r.ok).toBe(false);
    expect(r.layers.map((l) => [l.layer, l.ok])).toEqual([
      ['token', true],
      ['scope', false],
      ['send', false],
    ]);
    expect(r.layers[2]!.detail).toMatch(/refused: E_VERIFY_FAILED.*Access to OData is disabled/);
    expect(testSecrets(reg.appId)).toEqual([]);
    expect(sim.snapshot().sentMail).toEqual([]);
  });

  it('removes the temporary secret when sending throws', async () => {
    const reg = await provisioned('Throwing Test');
    const appSignIn: AppSignInPort = {
      acquireGraphToken: (id, s) => reg.adapters.appSignIn.acquireGraphToken(id, s),
      sendMail: async () => {
        throw new Error('socket hang up in the middle of the send');
      },
    };
    const { engine } = engineFor(sim, store, { appSignIn });
    const out = await mustSucceed(engine.run(engine.createJob('test-email', { appDisplayName: 'Throwing Test', from: sim.mailboxes.info, to: 'me@kund.example' }).id));
    const r = out.lifecycle as { ok: boolean; layers: { layer: string; ok: boolean; detail: string }[]; temporaryKeyRemoved: boolean };
    expect(r.ok).toBe(false);
    expect(r.layers.find((l) => l.layer === 'send')).toMatchObject({ ok: false });
    expect(r.temporaryKeyRemoved).toBe(true);
    expect(testSecrets(reg.appId)).toEqual([]);
  });

  it('removes the temporary secret when even the sign-in fails (and does not try to send)', async () => {
    const reg = await provisioned('No Token Test');
    let sends = 0;
    const appSignIn: AppSignInPort = {
      acquireGraphToken: async () => {
        throw new OpterError('E_VERIFY_FAILED', { detail: 'AADSTS7000215: Invalid client secret provided.' });
      },
      sendMail: async () => {
        sends += 1;
      },
    };
    const { engine } = engineFor(sim, store, { appSignIn });
    const out = await mustSucceed(engine.run(engine.createJob('test-email', { appDisplayName: 'No Token Test', from: sim.mailboxes.info, to: 'me@kund.example' }).id));
    const r = out.lifecycle as { layers: { layer: string; ok: boolean; detail: string }[] };
    expect(r.layers.map((l) => [l.layer, l.ok])).toEqual([
      ['token', false],
      ['scope', true],
      ['send', false],
    ]);
    expect(sends).toBe(0);
    expect(testSecrets(reg.appId)).toEqual([]);
  });

  it('a run that could not clean up leaves a journaled keyId; running the job again removes that leftover first', async () => {
    const reg = await provisioned('Leftover Test');
    // The clean-up fails hard (e.g. the process lost its connection for good): the step fails, the secret stays.
    const directory: DirectoryPort = Object.create(reg.adapters.directory);
    directory.removePassword = async () => {
      throw new OpterError('E_INTERNAL', { detail: 'simulated crash during clean-up' });
    };
    const broken = engineFor(sim, store, { directory });
    const job = broken.engine.createJob('test-email', { appDisplayName: 'Leftover Test', from: sim.mailboxes.info, to: 'me@kund.example' });
    const first = await broken.engine.run(job.id);
    expect(first.error?.code).toBe('E_INTERNAL');
    const leftover = testSecrets(reg.appId);
    expect(leftover).toHaveLength(1);
    expect(store.journal.getStep(job.id, 'testSend')?.outputs.keyId).toBe(leftover[0]!.keyId);

    const again = await mustSucceed(reg.engine.run(job.id));
    expect((again.lifecycle as { ok: boolean }).ok).toBe(true);
    expect((again.lifecycle as { notes: string[] }).notes.join(' ')).toContain(`Removed a test secret (${leftover[0]!.keyId})`);
    expect(testSecrets(reg.appId)).toEqual([]);
    expect(secretsOf(sim, reg.appId).map((s) => s.keyId)).toEqual([reg.keyId]);
  });

  it('on an RBAC registration the scope layer is the RBAC check and the token has no Graph role', async () => {
    const reg = await provisioned('Rbac Mail Test', 'rbac');
    const out = await mustSucceed(reg.engine.run(reg.engine.createJob('test-email', { appDisplayName: 'Rbac Mail Test', from: sim.mailboxes.info, to: 'me@kund.example' }).id));
    const r = out.lifecycle as { ok: boolean; layers: { layer: string; ok: boolean; detail: string }[] };
    expect(r.ok).toBe(true);
    expect(r.layers[0]!.detail).toContain('none (Exchange RBAC authorizes sending)');
    expect(r.layers[1]!.detail).toContain('RBAC: InScope');
  });

  it('the temporary secret lives one hour, or less when the tenant policy says so', () => {
    const now = new Date('2026-03-01T10:00:00Z');
    expect(testSecretEnd(now, null).toISOString()).toBe('2026-03-01T11:00:00.000Z');
    expect(testSecretEnd(now, 'P1D').toISOString()).toBe('2026-03-01T11:00:00.000Z');
    expect(testSecretEnd(now, 'PT30M').toISOString()).toBe('2026-03-01T10:29:00.000Z');
  });

  it('refuses invalid addresses before any call', () => {
    const { engine } = engineFor(sim, store);
    expect(() => engine.createJob('test-email', { appDisplayName: 'X', from: 'nope', to: 'me@kund.example' })).toThrow(/not a valid sender/);
    expect(() => engine.createJob('test-email', { appDisplayName: 'X', from: sim.mailboxes.info, to: 'nope' })).toThrow(/not a valid recipient/);
  });
});
