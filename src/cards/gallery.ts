/**
 * One realistic example of every card variant, built from sample view models. The card tests run every entry
 * through the official parser and the action/secret contract; a playground or docs page can render the same list.
 * All ids, names and the "secret" here are made up.
 */
import { PROVISION_STEPS } from '../provisioning';
import { stepTitle } from './step-titles';
import * as approval from './approval';
import * as lifecycle from './lifecycle';
import * as audit from './audit';
import * as channelChange from './channel-change';
import * as chooseRegistration from './choose-registration';
import { helpCard } from './help';
import * as notice from './notice';
import { applyProgressEvent, newProgress, progressCard as buildProgressCard } from './progress';
import * as requestForm from './request-form';
import * as secret from './secret';
import * as status from './status';
import type { AdaptiveCardJson, ApprovalCardModel, MigrationPlanView, ProgressCardModel, RotationCardModel, SecretFacts } from './types';

export const SAMPLE_SECRET = 'Xq8~sample_SECRET.not-real~0123456789abcdEF';
export const SAMPLE_TENANT_ID = '6f1c2a44-0d7e-4b8e-9a51-3c2f1d0e9b77';
export const SAMPLE_CLIENT_ID = 'a3b9e2c1-5f60-4d2b-8c7e-1e2f3a4b5c6d';
export const SAMPLE_REQUEST_ID = 'req_01HZX3K9Q4T7';
export const SAMPLE_APPROVER_MRIS = ['29:1aBcDeFgHiJkLmNoPqRsTuV', '29:2wXyZ0123456789abcdefGh'];

export interface GalleryEntry {
  name: string;
  card: AdaptiveCardJson;
  /** True only for the revealed-secret card. */
  containsSecret: boolean;
  /** Cards that must never carry `refresh`. */
  forbidRefresh: boolean;
}

const secretFacts: SecretFacts = {
  requestId: SAMPLE_REQUEST_ID,
  appDisplayName: 'OpterMessageProxy',
  tenantId: SAMPLE_TENANT_ID,
  clientId: SAMPLE_CLIENT_ID,
  secretExpiresAt: '2036-03-02T14:05:00.0000000Z',
  groupSmtp: 'optermessageproxy-mailsend-allowed@contoso.com',
  scoping: 'access-policy',
};

export const sampleApproval: ApprovalCardModel = {
  requestId: SAMPLE_REQUEST_ID,
  kind: 'setup',
  requestedBy: { name: 'Alice Admin' },
  requestedAt: '2026-03-02T13:50:00Z',
  expiresAt: '2026-03-03T13:50:00Z',
  plan: {
    appDisplayName: 'OpterMessageProxy',
    createsApp: true,
    secret: { displayName: 'optermessageproxy-secret', validYears: 10, expiresAt: '2036-03-02T14:05:00Z' },
    group: { name: 'OpterMessageProxy - MailSend Allowed', alias: 'optermessageproxy-mailsend-allowed', smtp: 'optermessageproxy-mailsend-allowed@contoso.com', exists: false },
    members: { before: [], after: ['info@contoso.com', 'faktura@contoso.com'] },
    scoping: 'access-policy',
  },
  state: { status: 'pending' },
  refreshUserIds: SAMPLE_APPROVER_MRIS,
};

export const sampleMigrationPlan: MigrationPlanView = {
  steps: [
    { action: 'add', title: 'Exchange organization customization', detail: 'Check Get-OrganizationConfig IsDehydrated; nothing to enable.', alreadyDone: true },
    { action: 'add', title: 'Exchange service principal pointer', detail: `New-ServicePrincipal -AppId ${SAMPLE_CLIENT_ID} -ObjectId <Entra service principal id>`, alreadyDone: false },
    { action: 'add', title: 'Application Mail.Send scoped to the sender group', detail: 'New-ManagementRoleAssignment -Role "Application Mail.Send" -RecipientGroupScope optermessageproxy-mailsend-allowed@contoso.com', alreadyDone: false },
    { action: 'check', title: 'Verify the RBAC scope', detail: 'Test-ServicePrincipalAuthorization: InScope for info@contoso.com, faktura@contoso.com.', alreadyDone: false },
    { action: 'wait', title: 'Wait for Exchange’s permission cache', detail: 'Wait 120 minutes after the role assignment before removing anything.', alreadyDone: false },
    { action: 'remove', title: 'Remove the Graph Mail.Send grant', detail: 'Delete the tenant-wide Microsoft Graph Mail.Send application permission.', alreadyDone: false },
    { action: 'remove', title: 'Remove the Application Access Policy', detail: 'Remove-ApplicationAccessPolicy', alreadyDone: false },
    { action: 'check', title: 'Verify again', detail: 'Every sender InScope, the control mailbox not, no Graph Mail.Send grant left.', alreadyDone: false },
  ],
  whyThisOrder: ['The RBAC path is added and verified while the Graph grant and the access policy still carry the mail.', 'The access policy is removed after the grant.'],
  warnings: ['RBAC group scope covers the group’s direct members only.'],
  keeps: ['The app registration, its client secrets and the sender group stay as they are.'],
};

const sampleRotation: RotationCardModel = {
  requestId: SAMPLE_REQUEST_ID,
  appDisplayName: 'OpterMessageProxy',
  clientId: SAMPLE_CLIENT_ID,
  newKeyId: '5d1c0b2a-0000-4000-8000-00000000a002',
  newSecretExpiresAt: '2028-03-02T14:05:00Z',
  oldSecrets: [{ keyId: '5d1c0b2a-0000-4000-8000-00000000a001', expiresAt: '2026-04-01T14:05:00Z' }],
  overlapEndsAt: '2026-03-09T14:05:00Z',
  state: { status: 'waiting' },
};

const lifecyclePlan: ApprovalCardModel['plan'] = {
  appDisplayName: 'OpterMessageProxy',
  appId: SAMPLE_CLIENT_ID,
  createsApp: false,
  group: { name: 'OpterMessageProxy - MailSend Allowed', alias: 'optermessageproxy-mailsend-allowed', smtp: 'optermessageproxy-mailsend-allowed@contoso.com', exists: true },
  members: { before: ['info@contoso.com', 'faktura@contoso.com'], after: ['info@contoso.com', 'faktura@contoso.com'] },
  scoping: 'access-policy',
};

export function sampleProgress(): { running: ProgressCardModel; failed: ProgressCardModel; succeeded: ProgressCardModel; waiting: ProgressCardModel } {
  const at = (m: number) => new Date(Date.UTC(2026, 2, 2, 14, m)).toISOString();
  let p = newProgress({
    requestId: SAMPLE_REQUEST_ID,
    title: 'Setting up OpterMessageProxy',
    steps: PROVISION_STEPS.map((id) => ({ id, title: stepTitle(id) })),
    at: at(0),
  });
  const jobId = 'job_1';
  p = applyProgressEvent(p, { type: 'job-started', jobId, at: at(0) });
  p = applyProgressEvent(p, { type: 'step-succeeded', jobId, step: 'validate', summary: '2 mailboxes found', at: at(0) });
  p = applyProgressEvent(p, { type: 'step-succeeded', jobId, step: 'app', summary: `Created (client ID ${SAMPLE_CLIENT_ID})`, at: at(1) });
  p = applyProgressEvent(p, {
    type: 'step-retrying',
    jobId,
    step: 'servicePrincipal',
    attempt: 2,
    reason: 'waiting for Microsoft to replicate the new service principal',
    waitMs: 4000,
    at: at(1),
  });
  const running = p;
  const failed = applyProgressEvent(
    applyProgressEvent(p, {
      type: 'step-failed',
      jobId,
      step: 'servicePrincipal',
      code: 'E_REPLICATION_TIMEOUT',
      message: 'The service principal did not appear within 5 minutes.',
      action: 'New objects usually appear within minutes; press Retry to continue where it stopped.',
      at: at(6),
    }),
    { type: 'job-finished', jobId, status: 'failed', at: at(6) },
  );
  let s = applyProgressEvent(failed, { type: 'job-started', jobId, at: at(10) });
  for (const step of PROVISION_STEPS.slice(2)) {
    s = applyProgressEvent(s, { type: 'step-succeeded', jobId, step, summary: 'Done', at: at(11) });
  }
  s = applyProgressEvent(s, { type: 'check', jobId, name: 'info@contoso.com → Granted', ok: true, detail: 'Granted', at: at(12) });
  s = applyProgressEvent(s, { type: 'check', jobId, name: 'control@contoso.com → Denied', ok: true, detail: 'Denied', at: at(12) });
  s = applyProgressEvent(s, { type: 'check', jobId, name: 'Token as the new app', ok: true, detail: 'Mail.Send in roles', at: at(12) });
  s = applyProgressEvent(s, { type: 'note', jobId, message: 'Microsoft notes that access-policy changes can take longer than 1 hour to take effect.', at: at(12) });
  const succeeded = applyProgressEvent(s, { type: 'job-finished', jobId, status: 'succeeded', at: at(12) });
  let w = newProgress({ requestId: SAMPLE_REQUEST_ID, title: 'Migrating OpterMessageProxy to RBAC for Applications', steps: [{ id: 'verifyRbac', title: 'Verify the RBAC scope' }, { id: 'settle', title: 'Wait for Exchange’s permission cache' }], at: at(0) });
  w = applyProgressEvent(w, { type: 'job-started', jobId, at: at(0) });
  w = applyProgressEvent(w, { type: 'step-succeeded', jobId, step: 'verifyRbac', summary: '3 checks passed', at: at(1) });
  w = applyProgressEvent(w, {
    type: 'step-failed',
    jobId,
    step: 'settle',
    code: 'E_JOB_UNFINISHED',
    message: 'The job is not finished yet: RBAC is in place and verified; the Graph grant is removed only after 2026-03-02T16:01:00Z. Mail keeps flowing meanwhile.',
    action: 'Run resume (or press Retry) to finish it.',
    at: at(1),
  });
  w = applyProgressEvent(w, { type: 'job-finished', jobId, status: 'failed', at: at(1) });
  const waiting: ProgressCardModel = { ...w, waiting: { ...w.waiting!, until: at(121) } };
  return { running, failed, succeeded, waiting };
}

/** The names the samples use; cardGallery can show every card with other ones (e.g. hostile names). */
export interface GalleryNames {
  app: string;
  person: string;
  sender: string;
}
export const SAMPLE_NAMES: GalleryNames = { app: 'OpterMessageProxy', person: 'Alice Admin', sender: 'info@contoso.com' };
const SAMPLE_PEOPLE = ['Alice Admin', 'Bob Approver'];

/** A deep copy of a sample model with the sample names replaced in every string. */
function renamer(names: GalleryNames): <M>(model: M) => M {
  const swap = (v: unknown): unknown => {
    if (typeof v === 'string') {
      let out = v.split(SAMPLE_NAMES.app).join(names.app).split(SAMPLE_NAMES.sender).join(names.sender);
      for (const p of SAMPLE_PEOPLE) out = out.split(p).join(names.person);
      return out;
    }
    if (Array.isArray(v)) return v.map(swap);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]));
    return v;
  };
  return <M>(model: M) => swap(model) as M;
}

export function cardGallery(names: Partial<GalleryNames> = {}): GalleryEntry[] {
  // Every builder gets its sample model with the requested names, so each card shows them where it shows a name.
  const rename = renamer({ ...SAMPLE_NAMES, ...names });
  const named =
    <M>(build: (model: M) => AdaptiveCardJson) =>
    (model: M) =>
      build(rename(model));
  const approvalCard = named(approval.approvalCard);
  const expiryReminderCard = named(lifecycle.expiryReminderCard);
  const lifecycleResultCard = named(lifecycle.lifecycleResultCard);
  const rotationCard = named(lifecycle.rotationCard);
  const submittedRequestCard = named(lifecycle.submittedRequestCard);
  const auditEntryCard = named(audit.auditEntryCard);
  const chooseRegistrationCard = named(chooseRegistration.chooseRegistrationCard);
  const channelChangeApprovalCard = named(channelChange.channelChangeApprovalCard);
  const errorCard = named(notice.errorCard);
  const noticeCard = named(notice.noticeCard);
  const progressCard = named(buildProgressCard);
  const requestFormCard = named(requestForm.requestFormCard);
  const revealedSecretCard = named(secret.revealedSecretCard);
  const secretExpiredCard = named(secret.secretExpiredCard);
  const secretHiddenCard = named(secret.secretHiddenCard);
  const secretReadyCard = named(secret.secretReadyCard);
  const statusCard = named(status.statusCard);
  const progress = sampleProgress();
  const entries: Array<Omit<GalleryEntry, 'containsSecret' | 'forbidRefresh'> & Partial<GalleryEntry>> = [
    { name: 'help', card: helpCard({ canRequest: true, canApprove: true }) },
    { name: 'help (not admin, local mode)', card: helpCard({ canRequest: false, canApprove: false, localMode: true }) },
    { name: 'request form (new)', card: requestFormCard({ requestId: SAMPLE_REQUEST_ID }) },
    {
      name: 'request form (errors, conflict, derived)',
      card: requestFormCard({
        requestId: SAMPLE_REQUEST_ID,
        values: { appDisplayName: 'OpterMessageProxy', senders: ['info@contoso.com', 'faktura@fabrikam.com'], secretValidYears: 10, scoping: 'rbac', groupAlias: 'opter-senders' },
        errors: { senders: 'faktura@fabrikam.com is not in one of the tenant’s accepted domains (contoso.com).', groupAlias: 'The alias is taken by another recipient.' },
        existingRegistrations: ['OpterMessageProxy', 'OpterMessageProxy-nordics'],
        nameConflict: { existingName: 'OpterMessageProxy', appId: SAMPLE_CLIENT_ID, senders: ['info@contoso.com'] },
        derived: {
          groupName: 'OpterMessageProxy - MailSend Allowed',
          groupAlias: 'opter-senders',
          secretDisplayName: 'optermessageproxy-secret',
          groupSmtp: 'opter-senders@contoso.com',
          secretExpiresAt: '2028-03-02T14:04:00Z',
          secretClamped: true,
        },
        tenantMaxSecretLifetime: 'P2Y',
      }),
    },
    { name: 'approval (pending, shared)', card: approvalCard(sampleApproval) },
    { name: 'approval (pending, requester view)', card: approvalCard({ ...sampleApproval, viewer: 'requester' }) },
    { name: 'approval (pending, observer view)', card: approvalCard({ ...sampleApproval, viewer: 'observer' }) },
    { name: 'approval (reject without reason)', card: approvalCard({ ...sampleApproval, viewer: 'approver', reasonError: 'A reason is required to reject.' }) },
    { name: 'approval (approved)', card: approvalCard({ ...sampleApproval, state: { status: 'approved', by: { name: 'Bob Approver' }, at: '2026-03-02T14:00:00Z' } }) },
    { name: 'approval (rejected)', card: approvalCard({ ...sampleApproval, state: { status: 'rejected', by: { name: 'Bob Approver' }, at: '2026-03-02T14:00:00Z', reason: 'Use the nordics name for [that] _domain_.' } }) },
    { name: 'approval (expired)', card: approvalCard({ ...sampleApproval, state: { status: 'expired', at: '2026-03-03T13:50:00Z' } }) },
    {
      name: 'approval (add sender, diff, rbac)',
      card: approvalCard({
        ...sampleApproval,
        kind: 'add-sender',
        plan: {
          ...sampleApproval.plan,
          appId: SAMPLE_CLIENT_ID,
          createsApp: false,
          secret: undefined,
          group: { ...sampleApproval.plan.group, exists: true },
          members: { before: ['info@contoso.com'], after: ['info@contoso.com', 'faktura@contoso.com'] },
          scoping: 'rbac',
        },
      }),
    },
    { name: 'approval (new secret)', card: approvalCard({ ...sampleApproval, kind: 'new-secret', plan: { ...lifecyclePlan, secret: { displayName: 'optermessageproxy-secret', validYears: 2, expiresAt: '2028-03-02T14:05:00Z' }, rotation: { overlapDays: 7, oldSecrets: sampleRotation.oldSecrets } } }) },
    {
      name: 'approval (remove sender)',
      card: approvalCard({ ...sampleApproval, kind: 'remove-sender', plan: { ...lifecyclePlan, members: { before: ['info@contoso.com', 'old@contoso.com'], after: ['info@contoso.com'] } } }),
    },
    { name: 'approval (migrate to RBAC)', card: approvalCard({ ...sampleApproval, kind: 'migrate-rbac', plan: { ...lifecyclePlan, migration: sampleMigrationPlan } }) },
    { name: 'approval (test email)', card: approvalCard({ ...sampleApproval, kind: 'test-email', plan: { ...lifecyclePlan, testEmail: { from: 'faktura@contoso.com', to: 'alice@contoso.com', temporarySecretMinutes: 60 } } }) },
    { name: 'approval (repair)', card: approvalCard({ ...sampleApproval, kind: 'repair', plan: { ...lifecyclePlan, drift: ['No Application Access Policy limits the app to its group: it can send as ANY mailbox.'] } }) },
    { name: 'approval (adopt)', card: approvalCard({ ...sampleApproval, kind: 'adopt', plan: { ...lifecyclePlan, adoption: { scoping: 'access-policy', senders: ['info@contoso.com'] } } }) },
    {
      name: 'approval (audit channel change, pending)',
      card: channelChangeApprovalCard({
        ...sampleApproval,
        refreshUserIds: SAMPLE_APPROVER_MRIS,
        purpose: 'audit',
        to: { channelId: '19:audit-new@thread.tacv2', name: 'Audit 2026' },
        from: { channelId: '19:audit@thread.tacv2', name: 'Audit' },
      }),
    },
    {
      name: 'approval (approvals channel, first choice, approved)',
      card: channelChangeApprovalCard({
        ...sampleApproval,
        state: { status: 'approved', by: { name: 'Bob Approver' }, at: '2026-03-02T14:00:00Z' },
        purpose: 'approvals',
        to: { channelId: '19:requests@thread.tacv2', name: 'Requests' },
        from: null,
      }),
    },
    {
      name: 'submitted (migration plan)',
      card: submittedRequestCard({
        requestId: SAMPLE_REQUEST_ID,
        title: 'Sent for approval',
        text: 'Nothing changes until someone other than you approves it.',
        facts: [{ title: 'App', value: 'OpterMessageProxy' }],
        migration: sampleMigrationPlan,
        approvalNeededBy: '2026-03-03T13:50:00Z',
      }),
    },
    { name: 'rotation (waiting for Opter)', card: rotationCard(sampleRotation) },
    { name: 'rotation (retiring)', card: rotationCard({ ...sampleRotation, state: { status: 'retiring', trigger: 'confirmed' } }) },
    { name: 'rotation (retired)', card: rotationCard({ ...sampleRotation, state: { status: 'retired', at: '2026-03-03T09:00:00Z', trigger: 'overlap', removedKeyIds: [sampleRotation.oldSecrets[0]!.keyId] } }) },
    { name: 'rotation (failed)', card: rotationCard({ ...sampleRotation, state: { status: 'failed', at: '2026-03-03T09:00:00Z', code: 'E_NOT_FOUND', message: 'the new secret is gone, so the old ones were kept' } }) },
    {
      name: 'expiry reminder',
      card: expiryReminderCard({
        registrationId: SAMPLE_CLIENT_ID,
        appDisplayName: 'OpterMessageProxy',
        clientId: SAMPLE_CLIENT_ID,
        keyId: sampleRotation.oldSecrets[0]!.keyId,
        secretName: 'optermessageproxy-secret',
        expiresAt: '2026-03-09T14:05:00Z',
        thresholdDays: 7,
        daysLeft: 6,
        expired: false,
        newerSecretExists: false,
        generatedAt: '2026-03-02T14:30:00Z',
      }),
    },
    {
      name: 'lifecycle result (test email)',
      card: lifecycleResultCard({
        requestId: SAMPLE_REQUEST_ID,
        title: 'Test email refused',
        ok: false,
        summary: 'The temporary secret was removed.',
        checksTitle: 'Layers',
        checks: [
          { name: 'Token', ok: true, detail: 'signed in as the app; Graph roles in the token: Mail.Send' },
          { name: 'Scope', ok: false, detail: 'outside@contoso.com is NOT allowed (Graph Mail.Send + access policy: Denied; no RBAC assignment)' },
          { name: 'Send accepted', ok: false, detail: 'refused: E_GRAPH_PERMISSION Access to OData is disabled.' },
        ],
        notes: ['Microsoft applies permission changes to Graph with a delay.'],
      }),
    },
    { name: 'progress (waiting)', card: progressCard(progress.waiting) },
    { name: 'progress (running, retrying)', card: progressCard(progress.running) },
    { name: 'progress (failed)', card: progressCard(progress.failed) },
    { name: 'progress (succeeded)', card: progressCard(progress.succeeded) },
    { name: 'secret (ready)', card: secretReadyCard({ ...secretFacts, requester: { name: 'Alice Admin' }, revealDeadline: '2026-03-03T14:05:00Z' }), forbidRefresh: true },
    {
      name: 'secret (revealed)',
      card: revealedSecretCard({ ...secretFacts, secretText: SAMPLE_SECRET, senders: ['info@contoso.com'], deniedExample: 'control@contoso.com' }),
      containsSecret: true,
      forbidRefresh: true,
    },
    { name: 'secret (revealed, rbac)', card: revealedSecretCard({ ...secretFacts, scoping: 'rbac', secretText: SAMPLE_SECRET }), containsSecret: true, forbidRefresh: true },
    { name: 'secret (hidden)', card: secretHiddenCard({ ...secretFacts, revealedAt: '2026-03-02T14:20:00Z', revealedBy: { name: 'Alice Admin' }, registrationId: 'reg_1' }), forbidRefresh: true },
    { name: 'secret (expired)', card: secretExpiredCard({ ...secretFacts, expiredAt: '2026-03-03T14:05:00Z', registrationId: 'reg_1' }), forbidRefresh: true },
    {
      name: 'secret (expired, credential left: delegated mode)',
      card: secretExpiredCard({ ...secretFacts, expiredAt: '2026-03-03T14:05:00Z', registrationId: 'reg_1', credentialLeft: { keyId: '8e5f1c2a-0000-4000-8000-00000000cafe' } }),
      forbidRefresh: true,
    },
    {
      name: 'audit entry',
      card: auditEntryCard({
        seq: 42,
        hash: '9f2c4e1ab37d55e0c1f0aa17e8b2d4c6f9e0a1b2c3d4e5f60718293a4b5c6d7e',
        at: '2026-03-02T14:12:00Z',
        actor: 'Bob Approver',
        action: 'request.approved',
        result: 'ok',
        requestId: SAMPLE_REQUEST_ID,
        summary: 'Set up OpterMessageProxy for 2 senders',
        objects: { appId: SAMPLE_CLIENT_ID, servicePrincipalId: '0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f', group: 'optermessageproxy-mailsend-allowed@contoso.com' },
      }),
    },
    {
      name: 'choose registration',
      card: chooseRegistrationCard({
        requestId: SAMPLE_REQUEST_ID,
        senders: ['faktura@contoso.com'],
        registrations: [
          { id: 'reg_1', appDisplayName: 'OpterMessageProxy-centraleurope', appId: SAMPLE_CLIENT_ID, groupSmtp: 'opter-ce@contoso.com', senders: ['info@contoso.com'] },
          { id: 'reg_2', appDisplayName: 'OpterMessageProxy-nordics', appId: 'b4c0f3d2-6071-4e3c-9d8f-2f3a4b5c6d7e', groupSmtp: 'opter-nordics@contoso.se', senders: [] },
        ],
      }),
    },
    { name: 'error', card: errorCard({ code: 'E_SELF_APPROVAL', requestId: SAMPLE_REQUEST_ID }) },
    { name: 'error (with detail)', card: errorCard({ code: 'E_SENDER_NOT_MAILBOX', detail: 'nobody@contoso.com' }) },
    { name: 'notice (info)', card: noticeCard({ title: 'Request sent for approval', text: 'The approvers have been notified. I will tell you when someone decides.' }) },
    { name: 'notice (good, facts)', card: noticeCard({ title: 'Sender added', text: 'faktura@contoso.com can now send through OpterMessageProxy.', tone: 'good', facts: [{ title: 'Check', value: 'Granted' }] }) },
    {
      name: 'status',
      card: statusCard({
        generatedAt: '2026-03-02T14:30:00Z',
        viewerMayRequest: true,
        registrations: [
          {
            id: 'reg_1',
            appDisplayName: 'OpterMessageProxy',
            appId: SAMPLE_CLIENT_ID,
            managed: true,
            scoping: 'access-policy',
            groupSmtp: 'optermessageproxy-mailsend-allowed@contoso.com',
            senders: ['info@contoso.com', 'faktura@contoso.com'],
            secretExpiresAt: '2036-03-02T14:05:00Z',
            lastVerification: { at: '2026-03-02T14:12:00Z', ok: true, summary: '2 senders Granted, control Denied' },
            drift: [],
          },
          {
            id: 'reg_2',
            appDisplayName: 'OpterMessageProxy-nordics',
            appId: 'b4c0f3d2-6071-4e3c-9d8f-2f3a4b5c6d7e',
            managed: false,
            scoping: 'access-policy',
            groupSmtp: 'opter-nordics@contoso.se',
            senders: ['info@contoso.se'],
            secretExpiresAt: '2026-03-20T00:00:00Z',
            lastVerification: null,
            drift: [{ kind: 'policy-missing', description: 'No Application Access Policy: the app can send as any mailbox.' }],
          },
          {
            id: 'reg_3',
            appDisplayName: 'OpterMessageProxy-drift',
            appId: 'c5d1a4e3-7182-4f5d-8e9a-3a4b5c6d7e8f',
            managed: true,
            scoping: 'access-policy',
            groupSmtp: 'opter-drift@contoso.com',
            senders: ['info@contoso.com'],
            secretExpiresAt: '2036-03-02T14:05:00Z',
            lastVerification: { at: '2026-03-02T14:12:00Z', ok: true, summary: '2 of 2 checks passed' },
            drift: [{ kind: 'member-missing', description: 'Removed from the group outside the bot: faktura@contoso.com. Repair adds them back.' }],
            repairable: true,
          },
        ],
      }),
    },
    {
      name: 'status (migration waiting, non-admin)',
      card: statusCard({
        generatedAt: '2026-03-02T14:30:00Z',
        viewerMayRequest: false,
        registrations: [
          {
            id: 'reg_1',
            appDisplayName: 'OpterMessageProxy',
            appId: SAMPLE_CLIENT_ID,
            managed: true,
            scoping: 'mixed',
            groupSmtp: 'optermessageproxy-mailsend-allowed@contoso.com',
            senders: ['info@contoso.com', 'faktura@contoso.com'],
            secretExpiresAt: '2036-03-02T14:05:00Z',
            lastVerification: { at: '2026-03-02T14:12:00Z', ok: true, summary: '3 of 3 checks passed' },
            drift: [],
            migration: { state: 'waiting', until: '2026-03-02T16:12:00Z' },
          },
        ],
      }),
    },
    { name: 'status (empty)', card: statusCard({ generatedAt: '2026-03-02T14:30:00Z', viewerMayRequest: true, registrations: [] }) },
  ];
  return entries.map((e) => ({ containsSecret: false, forbidRefresh: false, ...e }) as GalleryEntry);
}
