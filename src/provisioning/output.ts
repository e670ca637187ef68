/**
 * The script's closing "=== OUTPUT (save securely) ===" block, field for field, plus its test hints. The secret line
 * is filled only by the caller that holds the plaintext (the CLI at the end of a run, the reveal card); everything
 * else here is safe to log.
 */
import type { ProvisionResult } from './engine';

export const OUTPUT_LABELS = {
  tenantId: 'Ms Graph Tenant Id',
  clientId: 'Ms Graph Client Id',
  clientSecret: 'Ms Graph Client Secret',
  secretExpires: 'Secret Expires (UTC)',
  groupSmtp: 'Scoped Group SMTP',
} as const;

const pad = (label: string) => label.padEnd(25, ' ');

export interface OutputFields {
  tenantId: string;
  clientId: string;
  /** The plaintext, or a note explaining why there is none. */
  clientSecret: string;
  secretExpires: string;
  groupSmtp: string;
  allowedExample?: string;
  deniedExample?: string;
}

export function outputFields(r: ProvisionResult, secretText: string | null, controlMailbox?: string | null): OutputFields {
  return {
    tenantId: r.tenantId,
    clientId: r.clientId,
    // A secret made by an earlier, interrupted run of this job was held only by that process and never shown:
    // nobody has its value, so the way out is a new one (the unused one then expires with the overlap).
    clientSecret: secretText ?? (r.secret ? `(made by an interrupted earlier run and not kept: run "opter-mail rotate --app-name ${r.names.appDisplayName}" for one you can use)` : '(unchanged — the existing secret was kept; ask for a new secret to get one)'),
    secretExpires: r.secret?.endDateTime ?? '(unchanged)',
    groupSmtp: r.groupSmtp,
    allowedExample: r.senders[0],
    // A control mailbox that is itself a sender is no example of a refused mailbox.
    deniedExample: controlMailbox && !r.senders.some((s) => s.toLowerCase() === controlMailbox.toLowerCase()) ? controlMailbox : undefined,
  };
}

export function formatOutputBlock(f: OutputFields): string[] {
  return [
    '=== OUTPUT (save securely) ===',
    `${pad(OUTPUT_LABELS.tenantId)}: ${f.tenantId}`,
    `${pad(OUTPUT_LABELS.clientId)}: ${f.clientId}`,
    `${pad(OUTPUT_LABELS.clientSecret)}: ${f.clientSecret}`,
    `${pad(OUTPUT_LABELS.secretExpires)}: ${f.secretExpires}`,
    `${pad(OUTPUT_LABELS.groupSmtp)}: ${f.groupSmtp}`,
    '',
    ...testHints(f.clientId, f.allowedExample, f.deniedExample),
  ];
}

export function testHints(clientId: string, allowed?: string, denied?: string): string[] {
  return [
    'Test examples (EXO):',
    `  Test-ApplicationAccessPolicy -AppId ${clientId} -Identity ${allowed ?? 'allowed.user@yourdomain.com'}`,
    `  Test-ApplicationAccessPolicy -AppId ${clientId} -Identity ${denied ?? 'notallowed.user@yourdomain.com'}`,
    '',
    'Reminder: app-only sending uses POST /users/{id|UPN}/sendMail (not /me/sendMail).',
  ];
}
