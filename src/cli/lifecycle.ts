/**
 * Terminal text for the lifecycle commands (list, expiring, migrate plan, and each job's result). The only place a
 * secret is printed is the rotate result, once, exactly as the provision OUTPUT block prints it.
 */
import { checkLine } from '../provisioning';
import type { LifecycleResult } from '../provisioning';
import type { secretsExpiringWithin } from '../provisioning';
import type { MigrationPlan } from '../provisioning';
import { OUTPUT_LABELS } from '../provisioning';
import type { RegistrationSummary } from '../provisioning';

const pad = (label: string) => label.padEnd(25, ' ');

export function formatLifecycle(doc: { result: LifecycleResult; clientSecret?: string; tenantId?: string }): string[] {
  const r = doc.result;
  switch (r.kind) {
    case 'rotate-secret':
      return [
        '',
        '=== NEW SECRET (save securely) ===',
        `${pad(OUTPUT_LABELS.tenantId)}: ${doc.tenantId ?? ''}`,
        `${pad(OUTPUT_LABELS.clientId)}: ${r.appId}`,
        // The CLI holds a new secret only in its own memory: a run that was killed after creating it cannot show it.
        `${pad(OUTPUT_LABELS.clientSecret)}: ${doc.clientSecret ?? '(not shown: an interrupted run created it — run rotate again; it is then retired with the old ones)'}`,
        `${pad(OUTPUT_LABELS.secretExpires)}: ${r.endDateTime}`,
        '',
        r.previous.length
          ? `The old secret${r.previous.length === 1 ? '' : 's'} (${r.previous.map((p) => p.keyId).join(', ')}) keep working until ${r.overlapEndsAt}.`
          : 'The app had no other secret.',
        r.previous.length ? 'Put the new secret into Opter, then run: opter-mail retire-old-secrets --app-name "<name>"' : '',
      ].filter((l, i, all) => l !== '' || i < all.length - 1);
    case 'retire-secrets':
      return [`Retired ${r.removedKeyIds.length} old secret${r.removedKeyIds.length === 1 ? '' : 's'} of ${r.appId}${r.removedKeyIds.length ? ` (${r.removedKeyIds.join(', ')})` : ''}; the new secret ${r.keptKeyId} stays.`];
    case 'remove-sender':
      return [
        `Removed from ${r.groupSmtp}: ${r.removed.join(', ') || '(nobody)'}${r.notMembers.length ? `; not members: ${r.notMembers.join(', ')}` : ''}.`,
        `Senders now: ${r.members.join(', ') || '(none)'}`,
        ...r.checks.map((c) => `  ${checkLine(c)}`),
      ];
    case 'migrate-rbac':
      return [
        `Migrated ${r.appId} to RBAC for Applications (role assignment "${r.roleAssignmentName}", scope ${r.groupSmtp}).`,
        `Graph Mail.Send grant removed: ${r.removedGraphGrant ? 'yes' : 'there was none'}; access policies removed: ${r.removedPolicies.length}.`,
        ...r.checks.map((c) => `  ${checkLine(c)}`),
      ];
    case 'test-email':
      return [
        `Test email from ${r.from} to ${r.to}: ${r.ok ? 'ACCEPTED' : 'FAILED'}`,
        ...r.layers.map((l) => `  ${l.ok ? '✓' : '✗'} ${l.layer.padEnd(5)} ${l.detail}`),
        `  The temporary secret was ${r.temporaryKeyRemoved ? 'removed' : 'NOT removed'}.`,
      ];
    case 'adopt':
      return [`Adopted ${r.appId}: ${r.members.length} sender${r.members.length === 1 ? '' : 's'} in ${r.groupSmtp}, scoping ${r.scoping}.`, ...r.checks.map((c) => `  ${checkLine(c)}`)];
  }
}

export function formatPlan(plan: MigrationPlan): string[] {
  const lines = [`=== Migration plan: ${plan.appDisplayName} (${plan.appId}) → RBAC for Applications ===`];
  if (plan.nothingToDo) lines.push('Nothing to do: the registration already uses RBAC only.');
  plan.steps.forEach((s, i) => lines.push(`${String(i + 1).padStart(2)}. [${s.action}]${s.alreadyDone ? ' (already done)' : ''} ${s.title}: ${s.detail}`));
  if (plan.adds.length) lines.push(`Adds: ${plan.adds.join('; ')}`);
  if (plan.removes.length) lines.push(`Removes: ${plan.removes.join('; ')}`);
  lines.push(`Keeps: ${plan.keeps.join(' ')}`, 'Why this order keeps mail flowing:', ...plan.whyThisOrder.map((w) => `  - ${w}`));
  for (const w of plan.warnings) lines.push(`  ! ${w}`);
  for (const b of plan.blockers) lines.push(`  ✗ ${b}`);
  return lines;
}

export function formatRegistrations(regs: RegistrationSummary[], now: Date): string[] {
  if (!regs.length) return ['No Opter registrations found.'];
  const lines: string[] = [];
  for (const r of regs) {
    const days = r.secretExpiresAt ? Math.floor((new Date(r.secretExpiresAt).getTime() - now.getTime()) / 86_400_000) : null;
    lines.push(
      `=== ${r.appDisplayName} (${r.appId}) — ${r.managed ? `managed (${r.origin})` : r.adoptable ? 'made by the script: "opter-mail adopt" takes it over' : 'not managed'} ===`,
      `  Scoping      : ${r.scoping}${r.intendedScoping && r.intendedScoping !== r.scoping ? ` (intended: ${r.intendedScoping})` : ''}`,
      `  Group        : ${r.groupSmtp ?? '(missing)'}`,
      `  Senders      : ${r.senders.join(', ') || '(none)'}`,
      `  Secret       : ${r.secretExpiresAt ? `expires ${r.secretExpiresAt} (${days} day${days === 1 ? '' : 's'})` : 'NO live secret'}`,
      `  Verification : ${r.lastVerification ? `${r.lastVerification.ok ? 'passed' : 'FAILED'} ${r.lastVerification.at} — ${r.lastVerification.summary}` : '(never, by this installation)'}`,
    );
    if (r.migration?.state === 'waiting') lines.push(`  Migration    : to RBAC, waiting for Exchange's permission cache; continues after ${r.migration.until ?? 'the wait'} (run "opter-mail resume" then)`);
    else if (r.migration?.state === 'running') lines.push(`  Migration    : to RBAC, running (job ${r.migration.jobId})`);
    for (const d of r.drift) lines.push(`  ! ${d.kind}: ${d.description}`);
    if (r.drift.length) lines.push(`  → opter-mail repair --app-name "${r.appDisplayName}"`);
  }
  return lines;
}

export function formatExpiring(list: ReturnType<typeof secretsExpiringWithin>, days: number): string[] {
  if (!list.length) return [`No secret expires within ${days} days.`];
  return [
    `Secrets expiring within ${days} days:`,
    ...list.map(
      (s) =>
        `  ${s.expired ? 'EXPIRED' : `${s.daysLeft} day${s.daysLeft === 1 ? '' : 's'}`.padEnd(8)} ${s.appDisplayName} (${s.appId}) key ${s.keyId} ${s.secretDisplayName ?? ''} ends ${s.endDateTime}${s.newerSecretExists ? ' — a newer secret exists' : ' → opter-mail rotate'}`,
    ),
  ];
}
