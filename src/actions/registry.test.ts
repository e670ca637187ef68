import { describe, expect, expectTypeOf, it } from 'vitest';
import { approvalCard, HELP_BUILTINS, type ApprovalCardModel } from '../cards';
import { checkCard } from '../cards/card-check';
import type { JobKind } from '../provisioning/engine';
import { WORKFLOWS } from '../provisioning';
import type { LifecyclePayload, ProvisionPayload, AddSenderPayload } from './common';
import type { RoleNeed } from '../core/roles';
import { ACTIONS, actionFor, actionHelp, createRegistry, ENGINE_KINDS_MATCH, kindsWithoutAction, LIFECYCLE_KINDS, registry, roleNeedsFor, workflowsOf, type ActionKind } from './registry';
import type { RetireSecretsPayload } from './retire-secrets';

/** The engine's job kinds, spelled out once more here so the test fails if a kind is added on one side only. */
const JOB_KINDS: readonly JobKind[] = ['provision', 'add-sender', 'repair', 'remove-sender', 'migrate-rbac', 'rotate-secret', 'retire-secrets', 'test-email', 'adopt'];

const origin = { reference: { conversation: { id: 'c1' } }, isChannel: false, serviceUrl: 'https://smba.example/', bot: { id: '28:bot' }, tenantId: 't1' };
const target = {
  appName: 'OpterMessageProxy',
  appId: '00000000-0000-0000-0000-000000000001',
  overrides: {},
  groupName: 'OpterMessageProxy - MailSend Allowed',
  groupAlias: 'optermessageproxy-mailsend-allowed',
  groupSmtp: 'optermessageproxy-mailsend-allowed@contoso.com',
  senders: ['info@contoso.com'],
  scoping: 'access-policy' as const,
  origin,
};

/** A payload of each kind as the bot stores it (every optional field the kind uses filled in). */
const SAMPLES: Record<ActionKind, Record<string, unknown>> = {
  provision: {
    appName: 'OpterMessageProxy',
    senders: ['info@contoso.com'],
    validYears: 2,
    overrides: {},
    names: { groupName: 'OpterMessageProxy - MailSend Allowed', groupAlias: 'optermessageproxy-mailsend-allowed', credentialName: 'optermessageproxy-secret' },
    groupSmtp: null,
    credentialExpiresAt: '2028-01-01T00:00:00Z',
    credentialClamped: false,
    reuse: null,
    existingGroup: null,
    scoping: 'rbac',
    origin,
  } satisfies ProvisionPayload,
  'add-sender': {
    appName: 'OpterMessageProxy',
    appId: target.appId,
    registrationId: 'r1',
    senders: ['faktura@contoso.com'],
    membersBefore: ['info@contoso.com'],
    membersAfter: ['info@contoso.com', 'faktura@contoso.com'],
    groupName: target.groupName,
    groupAlias: target.groupAlias,
    groupSmtp: target.groupSmtp,
    scoping: 'access-policy',
    origin,
  } satisfies AddSenderPayload,
  'rotate-secret': { ...target, validYears: 2, overlapDays: 7, oldSecrets: [{ keyId: 'k1', expiresAt: '2027-01-01T00:00:00Z' }], credentialName: 'optermessageproxy-secret', credentialExpiresAt: null, credentialClamped: true } satisfies LifecyclePayload,
  'retire-secrets': { appName: 'OpterMessageProxy', rotateJobId: 'j1', confirmed: true } satisfies RetireSecretsPayload,
  'remove-sender': { ...target, remove: ['info@contoso.com'], membersAfter: [], repairOf: 'member-outside-bot' } satisfies LifecyclePayload,
  'migrate-rbac': {
    ...target,
    settleMinutes: 120,
    plan: { appDisplayName: 'OpterMessageProxy', appId: target.appId, steps: [{ id: 'settle', action: 'wait', title: 'Wait', detail: 'for Exchange', alreadyDone: false }], adds: ['RBAC role assignment'], removes: ['Graph grant'], keeps: ['The sender group.'], whyThisOrder: ['The new path works before the old one goes.'], blockers: [], warnings: [], nothingToDo: false, settleMinutes: 120 },
  } satisfies LifecyclePayload,
  'test-email': { ...target, from: 'info@contoso.com', to: 'admin@contoso.com' } satisfies LifecyclePayload,
  repair: { ...target, drift: ['The group is missing.'] } satisfies LifecyclePayload,
  adopt: { ...target } satisfies LifecyclePayload,
};

describe('the action registry', () => {
  it('has exactly one definition per kind, and its kinds are the engine job kinds', () => {
    expect(ENGINE_KINDS_MATCH).toBe(true);
    expectTypeOf<ActionKind>().toEqualTypeOf<JobKind>();
    expect(ACTIONS.map((a) => a.kind).sort()).toEqual([...JOB_KINDS].sort());
    for (const kind of JOB_KINDS) expect(actionFor(kind)?.kind).toBe(kind);
    for (const kind of LIFECYCLE_KINDS) expect(actionFor(kind)).not.toBeNull();
    expect(actionFor('channel-change')).toBeNull();
    expect(() => createRegistry([...ACTIONS, ACTIONS[0]])).toThrow(/two actions of kind provision/);
  });

  it('every action runs its own kind’s workflow, and the built-in actions run the built-in workflows', () => {
    const table = workflowsOf(registry);
    expect(Object.keys(table).sort()).toEqual(ACTIONS.map((a) => a.kind).sort());
    for (const action of ACTIONS) {
      expect(table[action.kind]).toBe(action.workflow);
      expect(action.workflow.kind).toBe(action.kind);
      expect(action.workflow).toBe(WORKFLOWS[action.kind]);
    }
    // Every built-in job kind has an action, so the product's engine runs every kind it ran before.
    expect(kindsWithoutAction(registry)).toEqual([]);
    expect(kindsWithoutAction(createRegistry(ACTIONS.filter((a) => a.kind !== 'adopt')))).toEqual(['adopt']);
    // An action that names another kind's workflow would store requests of one kind and run jobs of another.
    const misnamed = { ...ACTIONS[0], kind: 'provision-twice' };
    expect(() => createRegistry([...ACTIONS, misnamed])).toThrow(/the action provision-twice names the workflow of provision/);
  });

  it('command words are unique, and every typed action has a help line (and only those)', () => {
    const words = ACTIONS.flatMap((a) => a.command?.words ?? []);
    expect(new Set(words).size).toBe(words.length);
    for (const a of ACTIONS) expect(!!a.help).toBe(!!a.command);
    // Each action's own words are recognised by its own parser, and by no other action's.
    for (const a of ACTIONS) {
      for (const w of a.command?.words ?? []) {
        const hit = registry.parseCommand(w === 'lost the secret' ? 'I lost the secret' : w === 'migrate to rbac' ? 'migrate App to RBAC' : w);
        expect(hit?.action.kind, w).toBe(a.kind);
      }
    }
  });

  it('the help card lists every typed action, then status and help', () => {
    const lines = [...actionHelp(), ...HELP_BUILTINS].map((c) => c.example ?? c.command);
    expect(lines).toEqual([
      'set up Opter email',
      'add sender faktura@contoso.com',
      'new secret for OpterMessageProxy',
      'remove sender old@contoso.com',
      'migrate OpterMessageProxy to RBAC',
      'test email to me from faktura@contoso.com',
      'status (or list)',
      'help',
    ]);
  });

  it.each(JOB_KINDS)('%s: its payload schema decodes what the bot stores, unchanged, and keeps unknown keys', (kind) => {
    const stored = JSON.parse(JSON.stringify({ ...SAMPLES[kind], addedLater: { x: 1 } }));
    expect(registry.decodePayload(kind, stored)).toEqual(stored);
    expect(actionFor(kind)!.payload.safeParse(stored).success).toBe(true);
  });

  it('a payload that does not fit its schema (or of no action) is passed on as stored, never refused', () => {
    const odd = { appName: 42 };
    expect(registry.decodePayload('remove-sender', odd)).toBe(odd);
    expect(actionFor('remove-sender')!.payload.safeParse(odd).success).toBe(false);
    const change = { purpose: 'audit' };
    expect(registry.decodePayload('channel-change', change)).toBe(change);
  });

  it.each(ACTIONS.filter((a) => a.approval).map((a) => a.kind))('%s: its approval card renders from the stored payload', async (kind) => {
    const approval = actionFor(kind)!.approval!;
    const model: ApprovalCardModel = {
      requestId: 'r1',
      kind: approval.variant,
      requestedBy: { name: 'Ada' },
      requestedAt: '2026-01-01T00:00:00Z',
      expiresAt: '2026-01-02T00:00:00Z',
      state: { status: 'pending' },
      viewer: 'approver',
      plan: approval.plan(SAMPLES[kind]),
    };
    expect(await checkCard(approvalCard(model))).toEqual([]);
  });

  /**
   * What each workflow writes in the tenant (src/provisioning/workflows), by the Entra role that may write it. Setup
   * and repair with RBAC scoping remove the Graph grant instead of giving it: graph-grant either way.
   */
  const ROLE_TABLE: Record<ActionKind, RoleNeed[]> = {
    provision: ['applications', 'graph-grant', 'exchange'],
    repair: ['applications', 'graph-grant', 'exchange'],
    'add-sender': ['exchange'],
    'remove-sender': ['exchange'],
    'rotate-secret': ['applications'],
    'retire-secrets': ['applications'],
    'test-email': ['applications'],
    'migrate-rbac': ['exchange', 'graph-grant'],
    adopt: [],
  };

  it.each(JOB_KINDS)('%s: the Entra roles its approver needs', (kind) => {
    expect([...roleNeedsFor(kind)].sort()).toEqual([...ROLE_TABLE[kind]].sort());
    expect(registry.roleNeedsFor(kind)).toBe(actionFor(kind)!.roleNeeds);
  });

  it('a channel change or an unknown kind needs no role', () => {
    expect(roleNeedsFor('channel-change')).toEqual([]);
    expect(roleNeedsFor('no-such-kind')).toEqual([]);
  });

  it('only the retirement of old secrets has no approval of its own', () => {
    expect(ACTIONS.filter((a) => !a.approval).map((a) => a.kind)).toEqual(['retire-secrets']);
  });
});
