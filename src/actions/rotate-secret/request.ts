/** "new secret for <app>" / "I lost the secret", and the Rotate now / New secret buttons: what the request will make. */
import { DEFAULT_SECRET_VALID_YEARS, deriveNames, formatRoundTripUtc, secretLifetime, type RegistrationSummary } from '../../provisioning';
import { registrationFor, targetOf, type RequestContext, type RequestPlan, type RequestStage } from '../requests';

export async function planNewSecret(ctx: RequestContext, r: RegistrationSummary): Promise<RequestPlan> {
  // The validity the registration was set up with (the script's default otherwise), clamped to the tenant policy.
  const years = ctx.setupValidYears(r) ?? DEFAULT_SECRET_VALID_YEARS;
  const maxLifetime = await ctx.directory.getMaxPasswordLifetime().catch(() => null);
  const life = secretLifetime(ctx.now(), years, maxLifetime);
  const overlapDays = ctx.settings.rotationOverlapDays;
  return {
    payload: {
      ...targetOf(r),
      validYears: years,
      overlapDays,
      oldSecrets: r.secrets.map((s) => ({ keyId: s.keyId, expiresAt: s.endDateTime })),
      // The registration's own secret name (derived like the script does, or its override).
      credentialName: deriveNames(r.appDisplayName, r.overrides).secretDisplayName,
      credentialExpiresAt: formatRoundTripUtc(life.endDateTime),
      credentialClamped: life.clamped,
    },
    facts: [
      { title: 'App', value: r.appDisplayName },
      { title: 'Old secrets', value: r.secrets.length ? `${r.secrets.length}, kept working until Opter uses the new one (at most ${overlapDays} days)` : 'none' },
    ],
  };
}

export const rotateSecretRequest: RequestStage<{ app: string | null; lost: boolean }> = {
  async fromCommand(ctx, command) {
    const picked = await registrationFor(ctx, { app: command.app, example: (n) => `new secret for ${n}` });
    if ('error' in picked) return picked;
    const plan = await planNewSecret(ctx, picked.registration);
    return command.lost && 'payload' in plan ? { ...plan, whatSuffix: ' (the current one was lost)' } : plan;
  },
  fromRegistration: planNewSecret,
};
