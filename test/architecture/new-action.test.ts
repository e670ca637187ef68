/**
 * Adding an action = one folder + one registry line (src/actions/README.md). The fixture action lives in its own
 * folder (fixture-action/, with its own job kind and workflow) and is added with
 * `createRegistry([...ACTIONS, verifyRegistration])`; nothing else in src/ knows it. Command parsing, the help card,
 * the request made from a typed message (its request stage, through the bot's handler), the approval card, the engine (given the registry's workflows, as the product builds it) and the runner (engine
 * job, progress card, settlement, result card) must all pick it up from the registry alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, createRegistry, workflowsOf } from '../../src/actions/registry';
import { lifecycleTarget } from '../../src/actions/common';
import { resultCardFor } from '../../src/bot/background/lifecycle-jobs';
import { ProvisioningRunner } from '../../src/bot/background/runner';
import { helpCommands, parseCommand, parseMessage } from '../../src/bot/handlers/commands';
import { handleActionCommand } from '../../src/bot/handlers/lifecycle-requests';
import type { TurnPort } from '../../src/bot/turn-port';
import { actionApproval } from '../../src/bot/handlers/lifecycle-plan';
import type { BotServices, LifecyclePayload, Origin } from '../../src/bot/types';
import { approvalCard } from '../../src/cards';
import { checkCard, renderedTexts } from '../../src/cards/card-check';
import { systemClock } from '../../src/core/ports';
import type { Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { startTestSimulator } from '../adapters/helpers';
import { engineFor, mustSucceed, type Harness } from '../lifecycle/helpers';
import { verifyRegistration } from './fixture-action';

const registry = createRegistry([...ACTIONS, verifyRegistration]);

let sim: Simulator;
let store: Store;
let h: Harness;

beforeAll(async () => {
  sim = await startTestSimulator();
  store = openStore({ memory: true, decodePayload: registry.decodePayload });
  // The engine as the product builds it: with its registry's workflows.
  h = engineFor(sim, store, { workflows: workflowsOf(registry) });
});
afterAll(async () => {
  store?.close();
  await sim?.close();
});

describe('a new action is one folder and one registry line', () => {
  it('is recognised by command parsing, and only with its registry line', () => {
    expect(parseCommand('please verify “Fixture App”', registry)).toEqual({ kind: 'verify-registration', app: 'Fixture App' });
    expect(parseCommand('verify Fixture App').kind).toBe('unknown');
    // The actions that were there keep their words.
    expect(parseCommand('remove sender a@contoso.com', registry)).toEqual({ kind: 'remove-sender', addresses: ['a@contoso.com'], app: null });
  });

  it('brings its own job kind: an engine without the registry’s workflows does not know it', () => {
    expect(h.engine.runsKind('verify-registration')).toBe(true);
    const plain = engineFor(sim, store);
    expect(plain.engine.runsKind('verify-registration')).toBe(false);
    expect(() => plain.engine.createJob('verify-registration', { appDisplayName: 'Fixture App' })).toThrow(/unknown job kind/);
    // A built-in kind's input stays typed by JobTypes (only a kind the engine was given is any string).
    // @ts-expect-error repair takes { appDisplayName, overrides? }
    expect(() => plain.engine.createJob('repair', { app: 'Fixture App' })).toThrow(/app display name is empty/);
  });

  it('shows in help', () => {
    const lines = helpCommands(registry).map((c) => c.example ?? c.command);
    expect(lines).toContain('verify OpterMessageProxy');
    expect(lines.slice(-2)).toEqual(['status (or list)', 'help']);
    expect(helpCommands().map((c) => c.command)).not.toContain('verify');
  });

  it('has an approval card and runs through the runner and the engine to a settled request', async () => {
    const setup = await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Fixture App', senders: [sim.mailboxes.info] }).id));
    const r = setup.result!;
    const origin = { reference: { conversation: { id: 'c1' } }, isChannel: false, serviceUrl: 'https://smba.example/', bot: { id: '28:bot', name: 'bot' }, tenantId: r.tenantId } as unknown as Origin;
    const posted: unknown[] = [];
    const services = {
      store,
      engine: h.engine,
      tenant: { adapters: h.adapters },
      clock: systemClock,
      config: { approvalTtlHours: 1, approvalsChannelId: null, approvers: ['approver'] },
      settings: { progressMinIntervalMs: 0, rotationOverlapDays: 7, migrationSettleMinutes: 120 },
      log: { info: () => undefined, warn: () => undefined, error: (m: string) => posted.push(m) },
      io: {
        post: async (reference: unknown, activity: unknown) => (posted.push(activity), { conversationId: 'c1', activityId: `a${posted.length}`, serviceUrl: origin.serviceUrl, reference }),
        update: async (_reference: unknown, _id: string, activity: unknown) => void posted.push(activity),
      },
      poke: () => undefined,
    } as unknown as BotServices;

    // Typed in Teams: the bot's generic handler runs the action's request stage and makes the pending request.
    const actor = { aadObjectId: 'requester', name: 'Ada', tenantId: r.tenantId, mri: '29:requester' };
    const replies: unknown[] = [];
    const turn = {
      activityId: 'm1',
      actor,
      reference: origin.reference,
      conversation: { id: 'c1', isChannel: false, isPersonal: true },
      serviceUrl: origin.serviceUrl,
      bot: origin.bot,
      send: async (m: unknown) => void replies.push(m),
    } as unknown as TurnPort;
    const typed = parseMessage('verify Fixture App', registry);
    expect(typed.action).toBe(verifyRegistration);
    await handleActionCommand(services, turn, actor, typed.action!, typed.command);
    expect(JSON.stringify(replies)).toContain('Sent for approval');
    const request = store.requests.list({ appName: 'Fixture App' }).find((x) => x.kind === 'verify-registration')!;
    expect(request.status).toBe('pending');
    const payload = request.payload as LifecyclePayload;
    expect(payload).toMatchObject({ appName: 'Fixture App', appId: r.clientId, groupSmtp: r.groupSmtp, senders: r.senders, scoping: 'access-policy' });
    expect(lifecycleTarget(payload)).toEqual({ appDisplayName: 'Fixture App' });
    expect(store.audit.listForRequest(request.id).find((e) => e.action === 'request.created')?.detail).toBe('Asked for verify Fixture App.');
    // The same message again (Teams retries) makes no second request.
    await handleActionCommand(services, turn, actor, typed.action!, typed.command);
    expect(store.requests.list({ appName: 'Fixture App' }).filter((x) => x.kind === 'verify-registration')).toHaveLength(1);

    // The approval card: its variant and plan come from the action.
    const approval = actionApproval(request, registry)!;
    expect(approval.variant).toBe('repair');
    const card = approvalCard({
      requestId: request.id,
      kind: approval.variant,
      requestedBy: { name: 'Ada' },
      requestedAt: request.createdAt,
      expiresAt: request.expiresAt,
      state: { status: 'pending' },
      viewer: 'approver',
      plan: approval.plan,
    });
    expect(await checkCard(card)).toEqual([]);
    expect(renderedTexts(card).join('\n')).toContain('Fixture App');

    expect(store.requests.decide(request.id, { decision: 'approve', by: { aadObjectId: 'approver', name: 'Bo' } }).won).toBe(true);

    // The runner: the action's job, progress card and settlement, nothing else.
    const runner = new ProvisioningRunner(services, registry);
    await runner.start(request.id);
    await runner.settle();

    const done = store.requests.get(request.id)!;
    expect(done.lastError).toBeNull();
    expect(done.status).toBe('succeeded');
    // Its own job kind, run by its own workflow: found the registration and verified it, nothing else.
    expect(store.journal.getJob(done.jobId!)!.kind).toBe('verify-registration');
    expect(store.journal.getSteps(done.jobId!).map((s) => s.step)).toEqual(['locate', 'verify']);
    expect((done.result as { checks: unknown[] }).checks.length).toBeGreaterThan(0);
    expect((done.result as { clientId: string }).clientId).toBe(r.clientId);
    const actions = store.audit.listForRequest(request.id).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['request.succeeded', 'registration.verified']));
    expect(store.outbox.list().map((i) => i.kind)).toContain('result-post');
    // The progress card was titled by the action.
    expect(JSON.stringify(posted)).toContain('Verifying Fixture App');
    expect(JSON.stringify(posted)).toContain('Check who may send, changing nothing');
    // And the outbox worker finds its result card, rendered from the stored request.
    const result = resultCardFor(done, registry)!;
    expect(renderedTexts(result.card)).toContain('Fixture App was verified');
    expect(result.origin).toEqual(origin);
  });
});
