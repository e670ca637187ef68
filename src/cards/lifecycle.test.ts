import { describe, expect, it } from 'vitest';
import { approvalCard } from './approval';
import { checkCard, executeActions, renderedTexts } from './card-check';
import { sampleApproval, sampleMigrationPlan, sampleProgress } from './gallery';
import { describeScopingState, expiryReminderCard, lifecycleResultCard, rotationCard, submittedRequestCard } from './lifecycle';
import { applyProgressEvent, progressCard } from './progress';
import { statusCard } from './status';
import type { ApprovalCardModel, ExpiryReminderModel, RotationCardModel } from './types';

const text = (card: unknown) => renderedTexts(card).join('\n');

const rotation: RotationCardModel = {
  requestId: 'r1',
  appDisplayName: 'Opter',
  clientId: 'app-1',
  newKeyId: 'key-new',
  newSecretExpiresAt: '2028-03-02T14:05:00Z',
  oldSecrets: [{ keyId: 'key-old', expiresAt: '2026-04-01T00:00:00Z' }],
  overlapEndsAt: '2026-03-09T14:05:00Z',
  state: { status: 'waiting' },
};

const reminder: ExpiryReminderModel = {
  registrationId: 'app-1',
  appDisplayName: 'Opter',
  clientId: 'app-1',
  keyId: 'key-old',
  secretName: 'opter-secret',
  expiresAt: '2026-03-09T00:00:00Z',
  thresholdDays: 7,
  daysLeft: 6,
  expired: false,
  newerSecretExists: false,
  generatedAt: '2026-03-02T12:00:00Z',
};

const lifecycle = (kind: ApprovalCardModel['kind'], plan: Partial<ApprovalCardModel['plan']> = {}): ApprovalCardModel => ({
  ...sampleApproval,
  kind,
  plan: {
    ...sampleApproval.plan,
    appId: 'app-1',
    createsApp: false,
    secret: undefined,
    group: { ...sampleApproval.plan.group, exists: true },
    members: { before: ['info@contoso.com'], after: ['info@contoso.com'] },
    ...plan,
  },
});

describe('rotationCard', () => {
  it('offers "Opter updated" (request id only) while the old secret still works, with no secret anywhere', async () => {
    const card = rotationCard(rotation);
    expect(await checkCard(card, { forbidRefresh: true })).toEqual([]);
    expect(executeActions(card).map((a) => [a.verb, a.data])).toEqual([['opter-updated', { requestId: 'r1' }]]);
    const t = text(card);
    expect(t).toContain('key-old (expires 1 April 2026, 00:00 UTC)');
    expect(t).toContain('removed at 9 March 2026, 14:05 UTC at the latest');
  });

  it('has no button once retiring, retired or failed, and says how it ended', async () => {
    const retired = rotationCard({ ...rotation, state: { status: 'retired', at: '2026-03-03T09:00:00Z', trigger: 'overlap', removedKeyIds: ['key-old'] } });
    const failed = rotationCard({ ...rotation, state: { status: 'failed', at: '2026-03-03T09:00:00Z', code: 'E_NOT_FOUND', message: 'the new secret is gone' } });
    for (const card of [retired, failed, rotationCard({ ...rotation, state: { status: 'retiring', trigger: 'confirmed' } })]) {
      expect(await checkCard(card)).toEqual([]);
      expect(executeActions(card)).toEqual([]);
    }
    expect(text(retired)).toMatch(/Old secret removed 3 March 2026, 09:00 UTC[\s\S]*The overlap ended[\s\S]*Removed: key-old/);
    expect(text(failed)).toContain('E_NOT_FOUND: the new secret is gone');
  });
});

describe('expiryReminderCard', () => {
  it('says which secret expires when, and "Rotate now" carries only the registration id', async () => {
    const card = expiryReminderCard(reminder);
    expect(await checkCard(card)).toEqual([]);
    expect(executeActions(card).map((a) => [a.verb, a.data])).toEqual([['rotate-secret', { registrationId: 'app-1' }]]);
    const t = text(card);
    expect(t).toContain('A client secret of Opter expires in 6 days');
    expect(t).toContain('Reminder 7 days before expiry.');
    expect(t).toContain('opter-secret · key-old');
    expect(t).toContain('expires 9 March 2026, 00:00 UTC (in 6 days)');
  });

  it('words the expired and the already-rotated cases differently', () => {
    expect(text(expiryReminderCard({ ...reminder, expired: true, thresholdDays: 0, daysLeft: -1, expiresAt: '2026-03-01T00:00:00Z' }))).toMatch(/has expired[\s\S]*after expiry[\s\S]*expired 1 March 2026/);
    expect(text(expiryReminderCard({ ...reminder, newerSecretExists: true }))).toContain('already has a newer secret');
  });
});

describe('lifecycleResultCard and submittedRequestCard', () => {
  it('lists every check or layer with its detail, and the notes', async () => {
    const card = lifecycleResultCard({
      requestId: 'r1',
      title: 'Test email accepted',
      ok: true,
      summary: 'Sent.',
      checksTitle: 'Layers',
      checks: [
        { name: 'Token', ok: true, detail: 'signed in' },
        { name: 'Send accepted', ok: false, detail: 'refused: 403' },
      ],
      notes: ['Microsoft applies permission changes with a delay.'],
      facts: [{ title: 'From', value: 'faktura@contoso.com' }],
    });
    expect(await checkCard(card)).toEqual([]);
    expect(text(card)).toMatch(/Layers\n✅ Token\nsigned in\n❌ Send accepted\nrefused: 403\nNotes\nMicrosoft applies/);
  });

  it('shows a check that did not run as skipped, not as passed or failed', async () => {
    const card = lifecycleResultCard({ requestId: 'r1', title: 'New secret', ok: true, summary: 'x', checks: [{ name: 'Token with the new secret', ok: false, skipped: true, detail: 'not run: the job was resumed' }] });
    expect(await checkCard(card)).toEqual([]);
    expect(text(card)).toMatch(/⚪ Token with the new secret\nskipped — not run: the job was resumed/);
  });

  it('shows a migration plan step by step, in order, with why the order keeps mail flowing', async () => {
    const card = submittedRequestCard({ requestId: 'r1', title: 'Sent for approval', text: 'x', migration: sampleMigrationPlan, approvalNeededBy: '2026-03-03T00:00:00Z' });
    expect(await checkCard(card)).toEqual([]);
    const t = text(card);
    const order = ['➕ Exchange service principal pointer', '➕ Application Mail.Send', '🔍 Verify the RBAC scope', '⏳ Wait', '➖ Remove the Graph Mail.Send grant', '➖ Remove the Application Access Policy', '🔍 Verify again'].map((s) => t.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(t).toContain('(already in place)');
    expect(t).toContain('Why this order keeps mail flowing');
  });
});

describe('approvalCard for lifecycle requests', () => {
  it('new secret: the senders stay, the old secrets keep working for the overlap', async () => {
    const card = approvalCard(lifecycle('new-secret', { secret: { displayName: 'opter-secret', validYears: 2 }, rotation: { overlapDays: 7, oldSecrets: [{ keyId: 'key-old', expiresAt: '2026-04-01T00:00:00Z' }] } }));
    expect(await checkCard(card)).toEqual([]);
    const t = text(card);
    expect(t).toContain('Approval needed: New client secret for Opter email');
    expect(t).toContain('Senders (unchanged)');
    expect(t).toContain('key-old (expires 1 April 2026, 00:00 UTC)');
    expect(t).toMatch(/or 7 days after it was created/);
    expect(t).toMatch(/Who may send does not change/);
  });

  it('migrate: the scoping change, the plan in order, and the permissions left at the end', async () => {
    const card = approvalCard(lifecycle('migrate-rbac', { migration: sampleMigrationPlan }));
    expect(await checkCard(card)).toEqual([]);
    const t = text(card);
    expect(t).toContain('Application Access Policy → RBAC for Applications');
    expect(t).toContain('Migration plan, in this order');
    expect(t).toMatch(/tenant-wide Microsoft Graph Mail.Send permission and the Application Access Policy are removed/);
  });

  it('test email, repair, adopt and remove sender say what they touch', async () => {
    const test = approvalCard(lifecycle('test-email', { testEmail: { from: 'faktura@contoso.com', to: 'me@contoso.com', temporarySecretMinutes: 60 } }));
    expect(text(test)).toMatch(/From\nfaktura@contoso.com\nTo\nme@contoso.com/);
    expect(text(test)).toContain('No permission changes.');
    const repair = approvalCard(lifecycle('repair', { drift: ['Policy missing.'] }));
    expect(text(repair)).toMatch(/Drift found\n- Policy missing\./);
    expect(text(repair)).toContain('Restores what was approved before');
    const adopt = approvalCard(lifecycle('adopt', { adoption: { scoping: 'mixed', senders: ['info@contoso.com'] } }));
    expect(text(adopt)).toContain('Both (a migration to RBAC is half-way)');
    expect(text(adopt)).toContain('Nothing in the tenant changes');
    const remove = approvalCard(lifecycle('remove-sender', { members: { before: ['info@contoso.com', 'old@contoso.com'], after: ['info@contoso.com'] } }));
    expect(text(remove)).toContain('− old@contoso.com');
    for (const card of [test, repair, adopt, remove]) expect(await checkCard(card)).toEqual([]);
  });
});

describe('progress while a job waits on purpose', () => {
  it('shows "Waiting" with the reason and until when, no failure and no Retry', async () => {
    const { waiting } = sampleProgress();
    expect(waiting.status).toBe('waiting');
    expect(waiting.failure).toBeUndefined();
    const card = progressCard(waiting);
    expect(await checkCard(card)).toEqual([]);
    expect(executeActions(card)).toEqual([]);
    const t = text(card);
    expect(t).toContain('Waiting');
    expect(t).toContain('RBAC is in place and verified');
    expect(t).not.toContain('The job is not finished yet');
    expect(t).toContain('continues by itself after 2 March 2026, 16:01 UTC');
  });

  it('runs again (no longer waiting) when the job is resumed, and a real failure is still a failure', () => {
    const { waiting } = sampleProgress();
    const resumed = applyProgressEvent(waiting, { type: 'job-started', jobId: 'job_1', at: '2026-03-02T16:02:00Z' });
    expect(resumed.status).toBe('running');
    expect(resumed.waiting).toBeUndefined();
    const failed = applyProgressEvent(
      applyProgressEvent(resumed, { type: 'step-failed', jobId: 'job_1', step: 'removeGraphGrant', code: 'E_GRAPH_PERMISSION', message: 'no', action: 'grant it', at: '2026-03-02T16:03:00Z' }),
      { type: 'job-finished', jobId: 'job_1', status: 'failed', at: '2026-03-02T16:03:00Z' },
    );
    expect(failed.status).toBe('failed');
  });
});

describe('scoping states on the status card', () => {
  it('names all four states', () => {
    expect(['access-policy', 'rbac', 'mixed', 'unscoped'].map((s) => describeScopingState(s as never))).toEqual([
      'Application Access Policy',
      'RBAC for Applications',
      'Both (a migration to RBAC is half-way)',
      '⚠️ None: the app is not limited to its sender group',
    ]);
    const card = statusCard({
      generatedAt: '2026-03-02T00:00:00Z',
      viewerMayRequest: true,
      registrations: [{ id: 'a', appDisplayName: 'Opter', appId: 'a', managed: true, scoping: 'mixed', senders: [], secretExpiresAt: null, lastVerification: null, drift: [] }],
    });
    expect(text(card)).toContain('Both (a migration to RBAC is half-way)');
  });
});
