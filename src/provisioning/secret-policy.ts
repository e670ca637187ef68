/**
 * Read the app management policy before any write: in a tenant that forbids client secrets (`passwordAddition`)
 * a setup would otherwise fail at its last step, with the app, group and access policy already made.
 * Read-only; the engine's validate step, the bot's form and the CLI (through the engine) call it.
 */
import { OpterError, toOpterError } from '../core/errors';
import type { DirectoryPort } from '../core/ports';
import { evaluateSecretPolicy, type SecretPolicyVerdict } from './lifetime';
import type { DerivedNames } from './names';
import { findRegistrationApp } from './registration';

export interface SecretPolicyCheck {
  /** False when the job would keep the existing secret (nothing to check). */
  createsSecret: boolean;
  /** Null when the policy could not be read (Policy.Read.All missing): addPassword then decides. */
  verdict: SecretPolicyVerdict | null;
}

/**
 * Would this setup add a client secret, and does the governing policy allow it? The app is looked up as the app
 * step finds it; a new app is judged by "created now", an existing one by its own policy and creation date.
 */
export async function checkSecretPolicy(directory: DirectoryPort, names: DerivedNames, now: Date, opts: { newSecret?: boolean } = {}): Promise<SecretPolicyCheck> {
  let found: Awaited<ReturnType<typeof findRegistrationApp>> = null;
  try {
    found = await findRegistrationApp(directory, names);
  } catch (e) {
    // Several apps of this name: the app step refuses that itself, with its own code.
    if (toOpterError(e).code !== 'E_APP_NAME_AMBIGUOUS') throw e;
  }
  const app = found?.app ?? null;
  const keeps = !!app && !opts.newSecret && app.passwordCredentials.some((c) => c.displayName === names.secretDisplayName && new Date(c.endDateTime) > now);
  if (keeps) return { createsSecret: false, verdict: null };
  let policy;
  try {
    policy = await directory.getSecretPolicy(app?.id);
  } catch (e) {
    if (toOpterError(e).code === 'E_GRAPH_PERMISSION') return { createsSecret: true, verdict: null };
    throw e;
  }
  const createdAt = app?.createdDateTime ? new Date(app.createdDateTime) : now;
  return { createsSecret: true, verdict: evaluateSecretPolicy(policy, createdAt) };
}

/** The refusal for a blocked verdict, saying which policy blocks and from when. */
export function secretsBlockedError(verdict: SecretPolicyVerdict, appDisplayName: string): OpterError {
  const which = verdict.policy.source === 'app' ? `the app management policy "${verdict.policy.displayName || verdict.policy.id}" assigned to the app` : 'the tenant default app management policy';
  const since = verdict.blockedForAppsCreatedAfter ? ` for apps created on or after ${verdict.blockedForAppsCreatedAfter}` : '';
  return new OpterError('E_SECRETS_BLOCKED_BY_POLICY', {
    detail: `(${which} restricts passwordAddition${since}, which covers "${appDisplayName}")`,
    field: 'appName',
  });
}

/** Throws E_SECRETS_BLOCKED_BY_POLICY when the setup would add a secret the policy forbids. */
export async function assertSecretAllowed(directory: DirectoryPort, names: DerivedNames, now: Date, opts: { newSecret?: boolean } = {}): Promise<void> {
  const { verdict } = await checkSecretPolicy(directory, names, now, opts);
  if (verdict?.blocked) throw secretsBlockedError(verdict, names.appDisplayName);
}

/**
 * The lifetime cap for a new secret on this app under the policy that governs it: its own assigned policy if it
 * has one (which replaces the tenant default), else the tenant default.
 */
export async function governingMaxLifetime(directory: DirectoryPort, app: { id: string; createdDateTime?: string | null }, now: Date): Promise<string | null> {
  const policy = await directory.getSecretPolicy(app.id);
  return evaluateSecretPolicy(policy, app.createdDateTime ? new Date(app.createdDateTime) : now).maxLifetime;
}
