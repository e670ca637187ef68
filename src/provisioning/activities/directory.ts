/**
 * Directory activities (Microsoft Graph), each an idempotent "ensure X" step: look first, create only what is
 * missing, and journal intent before every write so a run killed at any point converges when run again.
 */
import { OpterError } from '../../core/errors';
import { GRAPH_APP_ID, SIGN_IN_AUDIENCE, uniqueNameFor } from '../identity';
import { secretLifetime } from '../lifetime';
import { formatRoundTripUtc, type DerivedNames } from '../names';
import type { SignInProof } from '../rbac';
import type { JobRuntime } from '../runtime';
import { governingMaxLifetime } from '../secret-policy';
import { findOrphanSecrets, newObjectRead } from './common';

export function ensureApp(rt: JobRuntime, names: DerivedNames) {
  const { directory, journal } = rt.ports;
  return rt.step<{ appObjectId: string; appId: string; created: boolean }>('app', async (_attempt, record) => {
    const uniqueName = uniqueNameFor(names);
    const found = await directory.findApplicationsByDisplayName(names.appDisplayName);
    const exact = found.filter((a) => a.displayName === names.appDisplayName);
    const ours = exact.find((a) => a.uniqueName === uniqueName);
    const createdEarlier = record.outputs.created === true;
    if (ours || exact.length === 1) {
      const a = ours ?? exact[0];
      return {
        out: { appObjectId: a.id, appId: a.appId, created: createdEarlier },
        summary: `${createdEarlier ? 'Created' : 'Reusing existing'} app registration "${a.displayName}" (client id ${a.appId})`,
      };
    }
    if (exact.length > 1) {
      throw new OpterError('E_APP_NAME_AMBIGUOUS', {
        detail: `${exact.length} registrations are named "${names.appDisplayName}" (client ids ${exact.map((a) => a.appId).join(', ')})`,
        field: 'appName',
      });
    }
    journal.recordStepOutputs(rt.job.id, 'app', { uniqueName });
    const r = await directory.upsertApplicationByUniqueName(uniqueName, { displayName: names.appDisplayName, signInAudience: SIGN_IN_AUDIENCE });
    if (r.created) {
      // Trust the create response (docs/microsoft-facts.md §1.5): a read right after it may 404.
      journal.recordStepOutputs(rt.job.id, 'app', { appObjectId: r.value.id, appId: r.value.appId, created: true });
      return {
        out: { appObjectId: r.value.id, appId: r.value.appId, created: true },
        summary: `Created app registration "${names.appDisplayName}" (client id ${r.value.appId}, single tenant)`,
      };
    }
    // 204: it exists under our uniqueName (an earlier attempt created it) but reads do not show it yet.
    throw new OpterError('E_NOT_FOUND', {
      transient: true,
      detail: 'the app registration exists but is not visible yet',
      retryReason: 'waiting for Microsoft to replicate the new app registration',
    });
  });
}

export function ensureServicePrincipal(rt: JobRuntime, appId: string) {
  const { directory } = rt.ports;
  return rt.step<{ spObjectId: string; created: boolean }>('servicePrincipal', async (_a, record) => {
    const existing = await directory.getServicePrincipalByAppId(appId);
    if (existing) {
      const created = record.outputs.created === true;
      return { out: { spObjectId: existing.id, created }, summary: `${created ? 'Created' : 'Reusing'} service principal ${existing.id}` };
    }
    const r = await directory.upsertServicePrincipal(appId);
    if (r.created) {
      rt.ports.journal.recordStepOutputs(rt.job.id, 'servicePrincipal', { spObjectId: r.value.id, created: true });
      return { out: { spObjectId: r.value.id, created: true }, summary: `Created service principal ${r.value.id}` };
    }
    throw new OpterError('E_NOT_FOUND', {
      transient: true,
      detail: 'the service principal exists but is not visible yet',
      retryReason: 'waiting for Microsoft to replicate the new service principal',
    });
  });
}

export function ensureGraphGrant(rt: JobRuntime, spObjectId: string) {
  const { directory } = rt.ports;
  return rt.step<{ assignmentId: string | null; created: boolean; appRoleId: string; resourceId: string }>('grant', async () => {
    const graphSp = await directory.getServicePrincipalByAppId(GRAPH_APP_ID);
    if (!graphSp) throw new OpterError('E_INTERNAL', { detail: 'Microsoft Graph service principal not found in tenant.' });
    const role = graphSp.appRoles.find((r) => r.value === 'Mail.Send' && r.allowedMemberTypes.includes('Application'));
    if (!role) throw new OpterError('E_INTERNAL', { detail: "Could not find Microsoft Graph app role 'Mail.Send' (Application)." });
    const held = await directory.listAppRoleAssignments(spObjectId);
    const existing = held.find((a) => a.resourceId === graphSp.id && a.appRoleId === role.id);
    if (existing) {
      return { out: { assignmentId: existing.id, created: false, appRoleId: role.id, resourceId: graphSp.id }, summary: 'Mail.Send (Application) was already granted' };
    }
    const r = await directory.assignAppRole({ principalId: spObjectId, resourceId: graphSp.id, appRoleId: role.id });
    return {
      out: { assignmentId: r.created ? r.value.id : null, created: r.created, appRoleId: role.id, resourceId: graphSp.id },
      summary: r.created ? 'Granted: Mail.Send (Application)' : 'Mail.Send (Application) was already granted',
    };
  });
}

export function ensureSecret(rt: JobRuntime, names: DerivedNames, app: { appObjectId: string; appId: string; created: boolean }, input: { secretValidYears: number; newSecret?: boolean }) {
  const { directory, journal, clock, secretSink } = rt.ports;
  const jobId = rt.job.id;
  return rt.step<{ keyId?: string; endDateTime?: string; clamped?: boolean; maxLifetime?: string | null; delivered?: boolean; skipped?: boolean }>(
    'secret',
    async (_attempt, record) => {
      const current = await newObjectRead(() => directory.getApplication(app.appObjectId), app.created, 'waiting for Microsoft to replicate the new app registration');
      if (!current) throw new OpterError('E_NOT_FOUND', { transient: true, retryReason: 'waiting for Microsoft to replicate the new app registration' });

      // Crash recovery: a secret created by an earlier attempt whose plaintext never reached the sink is useless
      // (nobody can read it again) — remove it before making the one we will deliver.
      // Secrets that existed before this step's first addPassword are never orphans, however close their start
      // time is to ours (a re-run with newSecret right after an earlier setup).
      const existedBefore = new Set(Array.isArray(record.outputs.existingKeyIds) ? (record.outputs.existingKeyIds as string[]) : []);
      const orphans = findOrphanSecrets(record.outputs, current.passwordCredentials, names.secretDisplayName).filter(
        (keyId) => !secretSink.holds(jobId, keyId) && !existedBefore.has(keyId),
      );
      const deliveredEarlier = typeof record.outputs.keyId === 'string' && !orphans.includes(record.outputs.keyId) && secretSink.holds(jobId, record.outputs.keyId);
      if (deliveredEarlier) {
        // Killed after the sink took the secret but before the step was marked done: it is ours and delivered.
        const keyId = record.outputs.keyId as string;
        const endDateTime = String(record.outputs.endDateTime ?? '');
        return { out: { keyId, endDateTime, clamped: false, maxLifetime: null, delivered: true }, summary: `Secret created (expires ${endDateTime})` };
      }
      for (const keyId of orphans) {
        await directory.removePassword(app.appObjectId, keyId);
        rt.notes.push(`Removed an undelivered secret (${keyId}) left by an interrupted run.`);
      }
      if (orphans.length) journal.recordStepOutputs(jobId, 'secret', { keyId: null, removedOrphans: orphans });

      const now = clock.now();
      const live = current.passwordCredentials.filter(
        (c) => c.displayName === names.secretDisplayName && new Date(c.endDateTime) > now && !orphans.includes(c.keyId),
      );
      if (live.length && !input.newSecret && !app.created) {
        const latest = live.sort((a, b) => b.endDateTime.localeCompare(a.endDateTime))[0];
        return {
          out: { skipped: true },
          summary: `Existing secret kept (expires ${latest.endDateTime}); ask for a new secret to create another`,
        };
      }

      const maxLifetime = await governingMaxLifetime(directory, current, now).catch((e: unknown) => {
        // Reading the policy needs Policy.Read.All; without it we still try, and addPassword reports a policy breach.
        if (e instanceof OpterError && e.code === 'E_GRAPH_PERMISSION') {
          rt.notes.push('Could not read the tenant app-management policy (Policy.Read.All missing); the requested lifetime was used as is.');
          return null;
        }
        throw e;
      });
      const life = secretLifetime(now, input.secretValidYears, maxLifetime);
      const endDateTime = formatRoundTripUtc(life.endDateTime);
      if (!Array.isArray(record.outputs.existingKeyIds)) {
        journal.recordStepOutputs(jobId, 'secret', { existingKeyIds: current.passwordCredentials.map((c) => c.keyId).filter((k) => !orphans.includes(k)) });
      }
      journal.recordStepOutputs(jobId, 'secret', { pendingSince: now.toISOString(), keyId: null, delivered: false });
      const created = await newObjectRead(
        () => directory.addPassword(app.appObjectId, { displayName: names.secretDisplayName, endDateTime }),
        app.created,
        'waiting for Microsoft to replicate the new app registration',
      );
      // keyId first: if we die before the sink has it, the next run finds and removes this credential.
      journal.recordStepOutputs(jobId, 'secret', { keyId: created.keyId, endDateTime: created.endDateTime, delivered: false });
      await secretSink.deliver({ jobId, appId: app.appId, appObjectId: app.appObjectId, keyId: created.keyId, secretText: created.secretText, endDateTime: created.endDateTime });
      journal.recordStepOutputs(jobId, 'secret', { delivered: true });
      rt.secretText = created.secretText;
      if (life.clamped) {
        rt.notes.push(`The secret lifetime was shortened to the tenant policy maximum (${life.maxLifetime}): it expires ${endDateTime} instead of ${formatRoundTripUtc(life.requestedEnd)}.`);
      }
      return {
        out: { keyId: created.keyId, endDateTime, clamped: life.clamped, maxLifetime: life.maxLifetime, delivered: true },
        summary: `Secret created (expires ${endDateTime}${life.clamped ? ', shortened to the tenant policy' : ''})`,
      };
    },
  );
}

/**
 * The sign-in proof of the secret this job made: only the run that created it holds its value (it is never
 * persisted), so a resumed job cannot run it and says so. A job that kept the existing secret made none to prove.
 */
export function signInProof(rt: JobRuntime, secret: { keyId?: string }): SignInProof {
  if (!secret.keyId) return null;
  if (!rt.ports.appSignIn) return { notRunBecause: 'no app sign-in is configured' };
  return {
    secretText: rt.secretText,
    notRunBecause: 'the secret was created by an earlier run of this job, which alone held its value (the job was resumed)',
  };
}
