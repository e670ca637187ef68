/**
 * What the approvers see for a lifecycle request: the approval card's plan, built from the request's stored payload
 * only (never from card data). Pure.
 */
import type { ApprovalPlan, MigrationPlanView, RequestKind as CardRequestKind } from '../../cards';
import type { MigrationPlan } from '../../provisioning';
import { TEST_SECRET_LIFETIME_MS } from '../../provisioning';
import type { RequestRecord } from '../../store';
import { LIFECYCLE_KINDS, type BotRequestKind, type LifecycleKind, type LifecyclePayload } from '../types';

export function kindOf(request: RequestRecord): BotRequestKind {
  return request.kind as BotRequestKind;
}

export function isLifecycle(request: RequestRecord): request is RequestRecord<LifecyclePayload> {
  return (LIFECYCLE_KINDS as readonly string[]).includes(request.kind);
}

/** The approval card's name for a request kind (a channel change has a card of its own). */
export function cardKindOf(kind: Exclude<BotRequestKind, 'channel-change'>): CardRequestKind {
  switch (kind) {
    case 'provision':
      return 'setup';
    case 'rotate-secret':
      return 'new-secret';
    default:
      return kind;
  }
}

export function migrationView(plan: MigrationPlan): MigrationPlanView {
  return {
    steps: plan.steps.map((s) => ({ action: s.action, title: s.title, detail: s.detail, alreadyDone: s.alreadyDone })),
    whyThisOrder: plan.whyThisOrder,
    warnings: plan.warnings,
    keeps: plan.keeps,
  };
}

export function lifecycleApprovalPlan(request: RequestRecord<LifecyclePayload>): ApprovalPlan {
  const p = request.payload;
  const kind = request.kind as LifecycleKind;
  const base: ApprovalPlan = {
    appDisplayName: p.appName,
    appId: p.appId,
    createsApp: false,
    group: { name: p.groupName, alias: p.groupAlias, smtp: p.groupSmtp ?? undefined, exists: true },
    members: { before: p.senders, after: p.senders },
    scoping: p.scoping === 'rbac' ? 'rbac' : 'access-policy',
  };
  switch (kind) {
    case 'rotate-secret':
      return {
        ...base,
        secret: {
          displayName: p.credentialName ?? '',
          validYears: p.validYears ?? 0,
          expiresAt: p.credentialExpiresAt ?? undefined,
          clampedByPolicy: p.credentialClamped ?? false,
        },
        rotation: { overlapDays: p.overlapDays ?? 0, oldSecrets: p.oldSecrets ?? [] },
      };
    case 'remove-sender':
      return { ...base, members: { before: p.senders, after: p.membersAfter ?? p.senders } };
    case 'migrate-rbac':
      return { ...base, ...(p.plan ? { migration: migrationView(p.plan) } : {}) };
    case 'test-email':
      return { ...base, testEmail: { from: p.from ?? '', to: p.to ?? '', temporarySecretMinutes: Math.round(TEST_SECRET_LIFETIME_MS / 60_000) } };
    case 'repair':
      return { ...base, drift: p.drift ?? [] };
    case 'adopt':
      return { ...base, adoption: { scoping: p.scoping, senders: p.senders } };
  }
}
