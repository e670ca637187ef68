/**
 * How an action turns a typed command or a registration button into a request: its `request` stage reads the
 * tenant and our own records through the RequestContext the front door lends it (never a write), and returns the
 * payload and the facts the requester sees, a refusal with its reason, or a question to ask back. The bot then makes
 * the pending request and its approval posts — the same four-eyes rules for every action.
 */
import { OpterError } from '../core/errors';
import type { DirectoryPort, ExchangeLifecyclePort, ExchangePort } from '../core/ports';
import { deriveNames, type RegistrationSummary } from '../provisioning';
import type { LifecyclePayload, LifecycleTarget } from './common';

export interface RequestFact {
  title: string;
  value: string;
}

/** What a request stage may read. Implemented by the bot (src/bot/handlers/lifecycle-requests.ts). */
export interface RequestContext {
  now(): Date;
  readonly settings: { rotationOverlapDays: number; migrationSettleMinutes: number };
  /** The tenant, read only. */
  readonly directory: DirectoryPort;
  readonly exchange: ExchangePort & ExchangeLifecyclePort;
  /** The registrations as the tenant shows them now (managed, adopted and script-made ones). */
  registrations(): Promise<RegistrationSummary[]>;
  /** A mailbox's primary address (the address itself when Exchange does not know it). */
  primaryOf(address: string): Promise<string>;
  /** The requester's own address from the Teams roster, or null when Teams does not say. */
  requesterAddress(): Promise<string | null>;
  /** The secret validity (years) the registration was set up with through the bot, or null. */
  setupValidYears(r: RegistrationSummary): number | null;
  /** Members of its group that no bot job recorded (added outside the bot). */
  membersOutsideBot(r: RegistrationSummary): string[];
  /** The request that ran a job, or null. */
  requestOfJob(jobId: string): { id: string } | null;
}

/** A request to make: the stored payload without its origin (the bot adds where it was asked). */
export interface RequestDraft<P = LifecyclePayload> {
  /** Another action's kind when this one hands over (a Repair of members added outside the bot is a removal). */
  kind?: string;
  payload: Omit<P, 'origin'>;
  facts: RequestFact[];
  /** Words added to the action's `audit.what` ("(the current one was lost)"). */
  whatSuffix?: string;
}

export type RequestPlan<P = LifecyclePayload> = RequestDraft<P> | { error: OpterError } | { ask: string };

/** An action's request stage; an action without one is asked for through a conversation of the bot's own. */
export interface RequestStage<C = never> {
  /** A typed command (already parsed by the action's `command`). */
  fromCommand?(ctx: RequestContext, command: C): Promise<RequestPlan>;
  /** A registration button (status card, reminder, secret card): the button carries only the registration's id. */
  fromRegistration?(ctx: RequestContext, registration: RegistrationSummary): Promise<RequestPlan>;
}

/** The facts a lifecycle request carries about its registration (what the approvers see). */
export function targetOf(r: RegistrationSummary): LifecycleTarget {
  const names = deriveNames(r.appDisplayName, r.overrides);
  return {
    appName: r.appDisplayName,
    appId: r.appId,
    overrides: r.overrides ?? {},
    groupName: names.groupName,
    groupAlias: names.groupAlias,
    groupSmtp: r.groupSmtp,
    senders: r.senders,
    scoping: r.scoping,
  };
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

function nameList(regs: RegistrationSummary[]): string {
  return regs.map((r) => `“${r.appDisplayName}”`).join(', ');
}

/**
 * The registration a command is about: named (display name or client id), else the one whose senders include
 * `sender`, else the only managed one. Never guesses between several.
 */
export function pickRegistration(
  regs: RegistrationSummary[],
  hint: { app?: string | null; sender?: string | null; example: (name: string) => string },
): { registration: RegistrationSummary } | { error: OpterError } {
  if (hint.app) {
    const found = regs.filter((r) => same(r.appDisplayName, hint.app!) || same(r.appId, hint.app!));
    if (found.length === 1) return { registration: found[0]! };
    if (found.length > 1) return { error: new OpterError('E_APP_NAME_AMBIGUOUS', { detail: `${found.length} registrations are named “${hint.app}”` }) };
    return {
      error: new OpterError('E_NOT_FOUND', {
        detail: `there is no Opter registration named “${hint.app}”${regs.length ? ` (there are ${nameList(regs)})` : ''}.`,
      }),
    };
  }
  if (hint.sender) {
    const withSender = regs.filter((r) => r.senders.some((s) => same(s, hint.sender!)));
    if (withSender.length === 1) return { registration: withSender[0]! };
    if (withSender.length > 1) {
      return { error: new OpterError('E_INPUT_INVALID', { detail: `${hint.sender} sends through ${nameList(withSender)}; say which, e.g. “${hint.example(withSender[0]!.appDisplayName)}”.` }) };
    }
  }
  const managed = regs.filter((r) => r.managed);
  if (managed.length === 1) return { registration: managed[0]! };
  if (managed.length === 0) {
    return { error: new OpterError('E_NOT_FOUND', { detail: 'I manage no Opter registration yet: type “set up Opter email” first (or adopt one from “status”).' }) };
  }
  return { error: new OpterError('E_INPUT_INVALID', { detail: `there are ${managed.length} registrations (${nameList(managed)}); say which, e.g. “${hint.example(managed[0]!.appDisplayName)}”.` }) };
}

/** The registration a typed command names, read fresh from the tenant. */
export async function registrationFor(ctx: RequestContext, hint: { app?: string | null; sender?: string | null; example: (name: string) => string }) {
  return pickRegistration(await ctx.registrations(), { ...hint, sender: hint.sender ? await ctx.primaryOf(hint.sender) : null });
}
