/**
 * The Opter registrations the bot knows: every app it set up successfully (latest request per app name), with the
 * senders it added since. Used for the form's "each domain needs its own name" hint and the add-sender chooser.
 */
import type { RegistrationChoice } from '../../cards';
import type { RequestRecord, Store } from '../../store';
import type { AddSenderPayload, ProvisionPayload, RequestResult } from '../types';

export interface KnownRegistration extends RegistrationChoice {
  /** Senders the bot set up and added: its own history, without removals or changes made outside it. */
  senders: string[];
  /** The name overrides the registration was made with (group name/alias are derived with them). */
  overrides: ProvisionPayload['overrides'];
}

export function listRegistrations(store: Store): KnownRegistration[] {
  const byName = new Map<string, KnownRegistration>();
  const provisions = store.requests.list<ProvisionPayload>({ kind: 'provision', status: 'succeeded', order: 'oldest' });
  for (const r of provisions) {
    const result = r.result as RequestResult | null;
    if (!result) continue;
    const key = r.payload.appName.toLowerCase();
    const previous = byName.get(key);
    byName.set(key, {
      id: r.id,
      appDisplayName: r.payload.appName,
      appId: result.clientId,
      groupSmtp: result.groupSmtp,
      senders: mergeAddresses(previous?.senders ?? [], result.senders),
      overrides: r.payload.overrides ?? {},
    });
  }
  const additions = store.requests.list<AddSenderPayload>({ kind: 'add-sender', status: 'succeeded', order: 'oldest' });
  for (const r of additions) {
    const known = byName.get(r.payload.appName.toLowerCase());
    if (known) known.senders = mergeAddresses(known.senders, r.payload.membersAfter);
  }
  return [...byName.values()];
}

export function findRegistration(store: Store, id: string): KnownRegistration | null {
  return listRegistrations(store).find((r) => r.id === id) ?? null;
}

export function mergeAddresses(a: string[], b: string[]): string[] {
  const out = [...a];
  for (const x of b) if (!out.some((y) => y.toLowerCase() === x.toLowerCase())) out.push(x);
  return out;
}

/** Requests for this app name that are still on their way (a second one would race the first). */
export function inFlightFor(store: Store, appName: string, exceptId?: string): RequestRecord | null {
  return (
    store.requests
      .list({ appName, status: ['pending', 'approved', 'provisioning'] })
      .find((r) => r.id !== exceptId && r.kind === 'provision') ?? null
  );
}
