/**
 * Terminal text for the lifecycle commands (list, expiring, migrate plan, and each job's result — in its action's
 * words, src/actions). The only place a secret is printed is the rotate result, once, exactly as the provision
 * OUTPUT block prints it.
 */
import { actionFor, registry } from '../actions/registry';
import type { CliResultDoc } from '../actions/types';
import type { LifecycleResult } from '../provisioning';
import type { secretsExpiringWithin } from '../provisioning';
import type { MigrationPlan } from '../provisioning';
import type { RegistrationSummary } from '../provisioning';

/** A finished job's lines, as its action words them (src/actions); the kind when no action has lines. */
export function actionLines(kind: string, doc: CliResultDoc): string[] {
  const lines = actionFor(kind)?.cli.lines;
  return lines ? lines(doc) : [`${kind}: done.`];
}

export function formatLifecycle(doc: { result: LifecycleResult; clientSecret?: string; tenantId?: string }): string[] {
  return actionLines(doc.result.kind, doc);
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
    // What each action has to say about it: a migration on its way, the drift repair would fix.
    for (const action of registry.actions) lines.push(...(action.cli.registrationLines?.(r) ?? []));
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
