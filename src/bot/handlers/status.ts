/**
 * "status" / "list": every Opter registration in the tenant (read-only, the engine's registry) — the ones the bot
 * manages and the ones that look made by Opter's script, which can be adopted — with senders, scoping model, secret
 * expiry, the last verification and drift (members added outside the bot, grant or policy missing, …). The card's
 * Repair / Adopt / New secret buttons carry the registration id (the app's client id) only.
 */
import { statusCard, type AdaptiveCardJson, type RegistrationStatus } from '../../cards';
import { canRepair } from '../../actions/repair/request';
import { describeError } from '../describe-error';
import { listRegistrations } from './registrations';
import { tenantRegistrations, verificationView } from './tenant-registrations';
import type { BotServices } from '../types';

/**
 * Who the card is for. Buttons only for an admin who alone sees this card (their 1:1 chat, or a per-user invoke
 * answer): in a channel everyone sees the same message, and a non-admin would get buttons that are then refused.
 */
export interface StatusViewer {
  mayRequest: boolean;
  /** A channel or group message, seen by everyone in it. */
  shared: boolean;
}

const SHARED_NOTE = 'Repair, Adopt and New secret buttons appear when an admin asks for “status” in their 1:1 chat with me.';

export async function statusCardFor(services: BotServices, viewer: StatusViewer): Promise<AdaptiveCardJson> {
  const now = services.clock.now();
  let rows: RegistrationStatus[];
  try {
    rows = (await tenantRegistrations(services)).map((r) => ({
      id: r.appId,
      appDisplayName: r.appDisplayName,
      appId: r.appId,
      managed: r.managed,
      scoping: r.scoping,
      groupSmtp: r.groupSmtp ?? undefined,
      senders: r.senders,
      secretExpiresAt: r.secretExpiresAt,
      lastVerification: verificationView(services, r.lastVerification),
      drift: r.drift,
      ...(r.unchecked.length ? { notChecked: r.unchecked } : {}),
      repairable: canRepair(r),
      migration: r.migration && r.migration.state !== 'failed' ? { state: r.migration.state, until: r.migration.until } : null,
    }));
  } catch (e) {
    // The tenant cannot be read: show what the bot set up, each with why nothing could be checked.
    const why = `Could not read the tenant: ${describeError(e).slice(0, 200)}`;
    rows = listRegistrations(services.store).map((r) => ({
      id: r.appId,
      appDisplayName: r.appDisplayName,
      appId: r.appId,
      managed: true,
      scoping: 'access-policy',
      groupSmtp: r.groupSmtp,
      senders: r.senders,
      secretExpiresAt: null,
      lastVerification: null,
      drift: [{ kind: 'unreachable', description: why }],
    }));
  }
  const withButtons = viewer.mayRequest && !viewer.shared;
  return statusCard({ generatedAt: now.toISOString(), registrations: rows, viewerMayRequest: withButtons, ...(viewer.mayRequest && viewer.shared ? { withoutButtonsNote: SHARED_NOTE } : {}) });
}
