/**
 * Issue 12, delegated mode, day two: adding a sender and a rotation (new secret → "Opter updated" → old secret
 * removed) run with the signed-in admins' own tokens; the read-only standing identity only reads. No SSO token,
 * no delegated access token and no refresh token is ever at rest: not in the store's database files, the journal,
 * the audit trail, the log or anything sent to Teams.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_ROLES } from '../../src/core/roles';
import type { Simulator } from '../../src/sim';
import {
  approve,
  bodyOf,
  cardOf,
  click,
  credentialsOf,
  errorCodeOf,
  greet,
  hasVerb,
  latestRequest,
  personalId,
  progressCardIn,
  revealSecret,
  say,
  secretCardIn,
  setUpRegistration,
  startTestBot,
  startTestSimulator,
  textOf,
  waitForCard,
  type Registration,
  type TestBot,
} from '../bot-lifecycle/helpers';
import { ALL_NEEDED_ROLES, isWrite } from './helpers';

const R = ENTRA_ROLES;
const minted: string[] = [];
const delegated = {
  roles: { approver: ALL_NEEDED_ROLES, requester: [R['Application Administrator']] },
  minted,
  // The bot's clock is skipped a day ahead below (a secret's reveal deadline); its sign-ins must still look fresh.
  ssoExpiresInSec: 48 * 3600,
};

let sim: Simulator;
let t: TestBot;
let reg: Registration;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim, delegated });
  await greet(t, t.personas.approver);
  reg = await setUpRegistration(t, sim, { appName: 'Opter Day Two', senders: [sim.mailboxes.info] });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

describe('delegated mode: day two with the admins’ own sign-ins', () => {
  it('adds a sender with the approver’s token', async () => {
    const { approver } = t.personas;
    sim.clearRequests();
    await t.teams.message(t.personas.requester, `add sender ${sim.mailboxes.faktura}`);
    const request = await t.connector.waitFor(() => t.bot.store.requests.list({ kind: 'add-sender' }).find((r) => r.status === 'pending'), 20_000);
    await approve(t, request.id);
    await progressCardIn(t, personalId(t, t.personas.requester), request.id, /Finished and verified/);
    const writes = sim.requests().filter(isWrite);
    expect(writes.map((w) => w.cmdlet)).toContain('Add-DistributionGroupMember');
    expect(writes.filter((w) => w.principal !== approver.upn || w.token !== 'user')).toEqual([]);
    expect(sim.requests().filter((r) => r.token === 'app').every((r) => r.principal === sim.readOnly.clientId)).toBe(true);
  });

  it('rotates the secret with the approver’s token; "Opter updated" removes the old one with the requester’s', async () => {
    const { requester, approver } = t.personas;
    const [oldKey] = credentialsOf(sim, reg.appId).map((c) => c.keyId);
    sim.clearRequests();
    await say(t, 'new secret for Opter Day Two', (c) => textOf(c).includes('Sent for approval'));
    const request = latestRequest(t, 'rotate-secret');
    await approve(t, request.id);
    await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
    await secretCardIn(t, personalId(t, requester), request.id);
    const addPassword = sim.requests().filter((r) => isWrite(r) && r.path.endsWith('/addPassword'));
    expect(addPassword.map((r) => [r.token, r.principal])).toEqual([['user', approver.upn]]);

    await revealSecret(t, request.id);
    const rotation = await waitForCard(t, personalId(t, requester), (c) => hasVerb(c, 'opter-updated'));
    sim.clearRequests();
    const confirmed = bodyOf(await click(t, requester, rotation, 'opter-updated'));
    expect(textOf(confirmed.value)).toContain('Removing the old secret');
    await t.bot.idle();
    await waitForCard(t, personalId(t, requester), (c, m) => m.id === rotation.id && /Old secret removed/.test(textOf(c)));
    expect(credentialsOf(sim, reg.appId).map((c) => c.keyId)).not.toContain(oldKey);
    const removals = sim.requests().filter((r) => isWrite(r) && r.path.endsWith('/removePassword'));
    expect(removals.map((r) => [r.token, r.principal])).toEqual([['user', requester.upn]]);
  });

  it('refuses "Opter updated" from a requester whose roles cannot remove secrets, before anything is written', async () => {
    const { requester } = t.personas;
    await say(t, 'new secret for Opter Day Two', (c) => textOf(c).includes('Sent for approval'));
    const request = t.bot.store.requests.list({ kind: 'rotate-secret' }).find((r) => r.status === 'pending')!;
    await approve(t, request.id);
    await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
    await revealSecret(t, request.id);
    const rotation = await waitForCard(t, personalId(t, requester), (c) => hasVerb(c, 'opter-updated') && textOf(c).includes(request.id));
    const before = credentialsOf(sim, reg.appId).length;
    sim.addUser({ userPrincipalName: requester.upn, id: requester.aadObjectId, roles: [R['Global Reader']] });
    try {
      sim.clearRequests();
      const res = await click(t, requester, rotation, 'opter-updated');
      expect(errorCodeOf(res)).toBe('E_APPROVER_ROLES');
      await t.bot.idle();
      expect(sim.requests().filter(isWrite)).toEqual([]);
      expect(credentialsOf(sim, reg.appId)).toHaveLength(before);
      expect(textOf(cardOf(t.connector.message(rotation.conversationId, rotation.id)))).not.toMatch(/Old secret removed/);
    } finally {
      sim.addUser({ userPrincipalName: requester.upn, id: requester.aadObjectId, roles: delegated.roles.requester });
    }
  });

  it('an unrevealed secret expires: the bot deletes its copy but removes nothing by itself; "Remove it from the app" does, with the clicker’s sign-in', async () => {
    const { requester } = t.personas;
    await say(t, 'new secret for Opter Day Two', (c) => textOf(c).includes('Sent for approval'));
    const request = t.bot.store.requests.list({ kind: 'rotate-secret' }).find((r) => r.status === 'pending')!;
    await approve(t, request.id);
    await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
    const secretMsg = await secretCardIn(t, personalId(t, requester), request.id);
    const keyId = t.bot.store.secrets.get(request.id)!.keyId;
    sim.clearRequests();
    t.clock.advance(25 * 3_600_000);
    await t.bot.tick();
    await t.bot.idle();
    expect(t.bot.store.secrets.get(request.id)!.state).toBe('expired');
    expect(sim.requests().filter(isWrite)).toEqual([]);
    expect(credentialsOf(sim, reg.appId).map((c) => c.keyId)).toContain(keyId);
    const expired = await waitForCard(t, personalId(t, requester), (c, m) => m.id === secretMsg.id && hasVerb(c, 'remove-credential'));
    expect(textOf(cardOf(expired))).toContain(`Its unused credential (key ${keyId}) is still on the app`);
    expect(t.bot.store.audit.listForRequest(request.id).map((e) => e.action)).toContain('secret.credential-removal-needs-sign-in');

    const removed = bodyOf(await click(t, requester, expired, 'remove-credential', {}, { data: { requestId: request.id } }));
    expect(textOf(removed.value)).toMatch(/It was removed from the app/);
    expect(credentialsOf(sim, reg.appId).map((c) => c.keyId)).not.toContain(keyId);
    expect(sim.requests().filter(isWrite).map((r) => [r.token, r.principal])).toEqual([['user', requester.upn]]);
    expect(t.bot.store.secrets.get(request.id)!.credentialRemovedAt).not.toBeNull();
  });

  it('a test email and removing a sender run with the approver’s token too', async () => {
    const { requester, approver } = t.personas;
    sim.clearRequests();
    await say(t, `test email to me from ${sim.mailboxes.info}`, (c) => textOf(c).includes('Sent for approval'));
    const test = latestRequest(t, 'test-email');
    await approve(t, test.id);
    await progressCardIn(t, personalId(t, requester), test.id, /Finished and verified/);
    await say(t, `remove sender ${sim.mailboxes.faktura} from Opter Day Two`, (c) => textOf(c).includes('Sent for approval'));
    const remove = latestRequest(t, 'remove-sender');
    await approve(t, remove.id);
    await progressCardIn(t, personalId(t, requester), remove.id, /Finished and verified/);
    // The test email's send goes out as the app itself (its temporary secret), the one write that is not a tenant change.
    const writes = sim.requests().filter((r) => isWrite(r) && !r.path.endsWith('/sendMail'));
    // The temporary secret in and out, the member out; all the approver's.
    expect(writes.filter((w) => w.path.endsWith('/addPassword'))).toHaveLength(1);
    expect(writes.filter((w) => w.path.endsWith('/removePassword'))).toHaveLength(1);
    expect(writes.map((w) => w.cmdlet)).toContain('Remove-DistributionGroupMember');
    expect(writes.filter((w) => w.token !== 'user' || w.principal !== approver.upn)).toEqual([]);
  });

  it('keeps no token at rest: not in the database files, journal, audit, log or anything sent to Teams', async () => {
    expect(minted.length).toBeGreaterThanOrEqual(4);
    // Any JWT (SSO, On-Behalf-Of access token) starts with the base64url of '{"' — and none may be anywhere.
    const jwt = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;
    const files = readdirSync(t.dataDir).filter((f) => /sqlite/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(join(t.dataDir, f)).toString('latin1');
      expect(jwt.test(bytes), f).toBe(false);
      for (const token of minted) expect(bytes.includes(token.split('.')[1]!), f).toBe(false);
    }
    for (const line of t.logLines) expect(jwt.test(line), line).toBe(false);
    for (const job of t.bot.store.journal.listJobs({})) {
      expect(jwt.test(JSON.stringify(job))).toBe(false);
      expect(jwt.test(JSON.stringify(t.bot.store.journal.getSteps(job.id)))).toBe(false);
    }
    for (const r of t.connector.requests) expect(jwt.test(JSON.stringify(r.body ?? ''))).toBe(false);
    // And nothing of the approvers' access outlives the runs it was given for.
    expect(t.bot.engine.delegatedWrites).toBe(true);
  });
});
