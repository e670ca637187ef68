/**
 * "status": the registrations the bot set up, each inspected live in the tenant (read-only): senders, latest
 * secret expiry, the bot's last verification and anything that no longer matches (problems become drift lines).
 */
import { MAX_STATUS_REGISTRATIONS, statusCard, type AdaptiveCardJson, type RegistrationStatus } from '../cards';
import { inspectRegistration } from '../provisioning/inspect';
import { listRegistrations } from './registrations';
import type { BotServices, RequestResult } from './types';

export async function statusCardFor(services: BotServices): Promise<AdaptiveCardJson> {
  const { directory, exchange } = services.tenant.adapters;
  const now = services.clock.now();
  const registrations = listRegistrations(services.store).slice(0, MAX_STATUS_REGISTRATIONS);
  const rows = await Promise.all(
    registrations.map(async (r): Promise<RegistrationStatus> => {
      const lastRun = services.store.requests
        .list({ appName: r.appDisplayName, status: 'succeeded' })
        .find((x) => x.result && Array.isArray((x.result as RequestResult).checks));
      const checks = (lastRun?.result as RequestResult | undefined)?.checks ?? [];
      const lastVerification = lastRun
        ? { at: lastRun.updatedAt, ok: checks.every((c) => c.ok), summary: `${checks.filter((c) => c.ok).length} of ${checks.length} checks passed` }
        : null;
      try {
        const s = await inspectRegistration({ directory, exchange, now }, r.appDisplayName, r.overrides);
        const live = s.secrets.map((c) => c.endDateTime).filter((end) => new Date(end) > now).sort();
        return {
          id: r.id,
          appDisplayName: r.appDisplayName,
          appId: s.app?.appId ?? r.appId,
          managed: true,
          scoping: 'access-policy',
          groupSmtp: s.group?.smtp ?? r.groupSmtp,
          senders: s.members,
          secretExpiresAt: live.at(-1) ?? null,
          lastVerification,
          drift: s.problems.map((description) => ({ kind: 'problem', description })),
        };
      } catch (e) {
        return {
          id: r.id,
          appDisplayName: r.appDisplayName,
          appId: r.appId,
          managed: true,
          scoping: 'access-policy',
          groupSmtp: r.groupSmtp,
          senders: r.senders,
          secretExpiresAt: null,
          lastVerification,
          drift: [{ kind: 'unreachable', description: `Could not read the tenant: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}` }],
        };
      }
    }),
  );
  return statusCard({ generatedAt: now.toISOString(), registrations: rows });
}
