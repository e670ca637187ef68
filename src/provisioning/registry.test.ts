import { describe, expect, it } from 'vitest';
import type { JobRecord, StepRecord } from '../core/ports';
import { deriveNames } from './names';
import type { RegistrationFacts } from './registration';
import { baselineFor, detectDrift, looksLikeScript, type Baseline } from './registry';

const now = new Date('2026-06-01T00:00:00Z');
const names = deriveNames('Opter Drift');
const group = { identity: 'Opter Drift - MailSend Allowed', smtp: 'opter-drift-mailsend-allowed@contoso.com', name: 'Opter Drift - MailSend Allowed', alias: 'opter-drift-mailsend-allowed', guid: 'g-1', externalDirectoryObjectId: 'e-1', recipientTypeDetails: 'MailUniversalSecurityGroup' };
const policy = { identity: 'p', appId: 'app', scopeName: group.name, scopeIdentity: group.name, accessRight: 'RestrictAccess' as const, description: '' };

const facts = (over: Partial<RegistrationFacts> = {}): RegistrationFacts => ({
  names,
  app: { objectId: 'o', appId: 'app', displayName: 'Opter Drift', uniqueName: null, managedByUs: false },
  duplicates: 0,
  secrets: [{ keyId: 'k', displayName: 'opter-drift-secret', startDateTime: '2026-01-01T00:00:00Z', endDateTime: '2027-01-01T00:00:00Z', hint: null }],
  servicePrincipal: { objectId: 'sp' },
  graphMailSend: { assignmentId: 'a', resourceId: 'r', appRoleId: 'x' },
  group,
  members: ['info@contoso.com'],
  nestedGroups: [],
  accessPolicies: [policy],
  restrictPolicy: policy,
  exchangeServicePrincipal: null,
  mailSendRoleAssignments: [],
  scopedRoleAssignment: null,
  scoping: 'access-policy',
  rbacChecked: true,
  unchecked: [],
  ...over,
});
const noBaseline: Baseline = { members: null, membersJobId: null, scoping: null, adopted: false, migrationJobId: null, migration: null, lastVerification: null };
const kinds = (f: RegistrationFacts, b: Baseline = noBaseline) => detectDrift(f, b, now).map((d) => d.kind);

describe('detectDrift', () => {
  it('a healthy access-policy registration has none; no baseline means no member drift', () => {
    expect(kinds(facts())).toEqual([]);
    expect(kinds(facts({ members: ['info@contoso.com', 'x@contoso.com'] }))).toEqual([]);
  });

  it('compares members with the recorded baseline (case-insensitive)', () => {
    const b = { ...noBaseline, members: ['INFO@contoso.com', 'faktura@contoso.com'] };
    const d = detectDrift(facts({ members: ['info@contoso.com', 'vd@contoso.com'] }), b, now);
    expect(d.map((x) => x.kind)).toEqual(['member-outside-bot', 'member-missing']);
    expect(d[0]!.description).toContain('vd@contoso.com');
    expect(d[1]!.description).toContain('faktura@contoso.com');
  });

  it('access-policy intent: grant missing, policy missing (and "ANY mailbox" when the grant is unrestricted)', () => {
    expect(kinds(facts({ graphMailSend: null }))).toEqual(['grant-missing']);
    const d = detectDrift(facts({ accessPolicies: [], restrictPolicy: null, scoping: 'unscoped' }), noBaseline, now);
    expect(d.map((x) => x.kind)).toEqual(['policy-missing']);
    expect(d[0]!.description).toContain('ANY mailbox');
  });

  it('rbac intent: tenant-wide grant next to the scope, missing assignment, broad assignments', () => {
    const assignment = { name: 'n', identity: 'n', role: 'Application Mail.Send', roleAssigneeType: 'ServicePrincipal', roleAssignee: 'sp', roleAssigneeName: 'sp', recipientGroupScope: { name: group.name, guid: 'g-1' }, customResourceScope: null, recipientWriteScope: 'Group', enabled: true };
    const rbac = { ...noBaseline, scoping: 'rbac' as const };
    expect(kinds(facts({ accessPolicies: [], restrictPolicy: null, mailSendRoleAssignments: [assignment], scopedRoleAssignment: assignment, scoping: 'rbac' }), rbac)).toEqual(['tenant-wide-grant']);
    expect(kinds(facts({ graphMailSend: null, accessPolicies: [], restrictPolicy: null, scoping: 'unscoped' }), rbac)).toEqual(['rbac-assignment-missing']);
    const broad = { ...assignment, name: 'org', recipientGroupScope: null, recipientWriteScope: 'Organization' };
    expect(kinds(facts({ graphMailSend: null, accessPolicies: [], restrictPolicy: null, mailSendRoleAssignments: [assignment, broad], scopedRoleAssignment: assignment, scoping: 'rbac' }), rbac)).toEqual(['broad-rbac-assignment']);
  });

  it('RBAC that could not be read (least-privilege identity) is not reported as missing', () => {
    const rbac = { ...noBaseline, scoping: 'rbac' as const };
    const unread = facts({ graphMailSend: null, accessPolicies: [], restrictPolicy: null, scoping: 'unscoped', rbacChecked: false, unchecked: ['RBAC for Applications was not checked: …'] });
    expect(kinds(unread, rbac)).toEqual([]);
  });

  it('an unfinished migration replaces grant/policy judgements; missing pieces and expired secrets are reported', () => {
    const stopped = { jobId: 'job-1', state: 'failed' as const, until: null, error: { code: 'E_VERIFY_FAILED', message: 'x' } };
    expect(kinds(facts({ scoping: 'mixed' }), { ...noBaseline, migrationJobId: 'job-1', migration: stopped })).toEqual(['migration-unfinished']);
    expect(detectDrift(facts({ scoping: 'mixed' }), { ...noBaseline, migrationJobId: 'job-1', migration: stopped }, now)[0]!.description).toContain('stopped on E_VERIFY_FAILED');
    expect(kinds(facts({ servicePrincipal: null, group: null, members: [], duplicates: 1 }))).toEqual(['duplicate-apps', 'service-principal-missing', 'group-missing']);
    expect(kinds(facts({ secrets: [{ keyId: 'k', displayName: 'x', startDateTime: '', endDateTime: '2026-05-01T00:00:00Z', hint: null }] }))).toEqual(['no-live-secret']);
  });
});

describe('a migration waiting for Exchange or under way', () => {
  it('is a planned state, not drift: no grant/policy judgement and nothing to repair', () => {
    for (const state of ['waiting', 'running'] as const) {
      const migration = { jobId: 'job-1', state, until: state === 'waiting' ? '2026-06-01T02:00:00Z' : null, error: null };
      expect(kinds(facts({ scoping: 'mixed' }), { ...noBaseline, migrationJobId: 'job-1', migration }), state).toEqual([]);
    }
  });
});

describe('looksLikeScript', () => {
  it('needs the derived group name, alias and type plus a scope on it', () => {
    expect(looksLikeScript(facts())).toBe(true);
    expect(looksLikeScript(facts({ restrictPolicy: null }))).toBe(false);
    expect(looksLikeScript(facts({ group: { ...group, alias: 'other' } }))).toBe(false);
    expect(looksLikeScript(facts({ group: { ...group, recipientTypeDetails: 'MailUniversalDistributionGroup' } }))).toBe(false);
  });
});

describe('baselineFor', () => {
  const job = (id: string, kind: string, status: JobRecord['status'], updatedAt: string, input: unknown = {}): JobRecord => ({ id, kind, status, input, idempotencyKey: null, lastError: null, resumeAfter: null, result: null, createdAt: updatedAt, updatedAt });
  const step = (jobId: string, name: string, outputs: Record<string, unknown>, status: StepRecord['status'] = 'succeeded', finishedAt = '2026-01-01T00:00:00Z'): StepRecord => ({ jobId, step: name, status, attempts: 1, outputs, lastError: null, startedAt: null, finishedAt });
  const view = (j: JobRecord, steps: StepRecord[], appId = 'app') => ({ job: j, steps: new Map(steps.map((s) => [s.step, s])), appId });

  it('takes members and scoping from the latest succeeded jobs, the last verification, and unfinished migrations', () => {
    const index = [
      view(job('p', 'provision', 'succeeded', '2026-01-01T00:00:00Z', { scoping: 'access-policy' }), [step('p', 'app', { appId: 'app' }), step('p', 'group', { members: ['a@x.se'] }), step('p', 'verify', { summary: '3 checks passed' }, 'succeeded', '2026-01-01T00:01:00Z')]),
      view(job('s', 'add-sender', 'succeeded', '2026-02-01T00:00:00Z'), [step('s', 'locate', { appId: 'app' }), step('s', 'members', { members: ['a@x.se', 'b@x.se'] })]),
      view(job('f', 'add-sender', 'failed', '2026-03-01T00:00:00Z'), [step('f', 'members', { members: ['zzz@x.se'] })]),
      view(job('r', 'repair', 'succeeded', '2026-04-01T00:00:00Z'), [step('r', 'locate', { appId: 'app', intendedScoping: 'access-policy', unexpectedMembers: ['c@x.se'] }), step('r', 'group', { members: ['a@x.se', 'b@x.se', 'c@x.se'] })]),
      view(job('m', 'migrate-rbac', 'failed', '2026-05-01T00:00:00Z'), [step('m', 'locate', { appId: 'app' }), step('m', 'verify', {}, 'failed', '2026-05-01T00:00:00Z')]),
      view(job('x', 'provision', 'succeeded', '2026-06-01T00:00:00Z'), [], 'other'),
    ];
    const b = baselineFor(index as never, 'APP');
    expect(b.members).toEqual(['a@x.se', 'b@x.se']);
    expect(b.membersJobId).toBe('r');
    expect(b.scoping).toBe('access-policy');
    expect(b.migrationJobId).toBe('m');
    expect(b.migration).toEqual({ jobId: 'm', state: 'failed', until: null, error: null });
    expect(b.lastVerification).toMatchObject({ ok: false, jobId: 'm' });
  });

  it('a migration that stopped on purpose is waiting, until its resume time', () => {
    const parked = { ...job('m', 'migrate-rbac', 'waiting', '2026-05-01T00:00:00Z'), lastError: { code: 'E_JOB_UNFINISHED', message: 'waits' }, resumeAfter: '2026-05-01T02:00:00.000Z' };
    const index = [view(parked, [step('m', 'locate', { appId: 'app' }), step('m', 'settle', { resumeAfter: '2026-05-01T02:00:00.000Z' }, 'failed')])];
    expect(baselineFor(index as never, 'app').migration).toEqual({ jobId: 'm', state: 'waiting', until: '2026-05-01T02:00:00.000Z', error: null });
  });
});
