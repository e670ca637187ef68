/**
 * One kind of work the product does (set up, add sender, new secret, …), described once. The bot's command parser,
 * help card, approval flow and request runner and the CLI read these definitions instead of switching on the kind,
 * so a new action is one folder and one line in registry.ts (README.md lists what a definition provides).
 *
 * Nothing here knows the store, Teams or the CLI: the request is a plain record, and whatever the settlement writes
 * (audit entries, cards to post, a notice) goes through the SettleContext the caller provides.
 */
import type { z } from 'zod';
import type { AdaptiveCardJson, ApprovalPlan, ApprovalVariant, HelpEntry } from '../cards';
import type { JobRecord } from '../core/ports';
import type { RoleNeed } from '../core/roles';
import type { ProvisioningEngine, Workflow } from '../provisioning';
import type { RegistrationSummary } from '../provisioning';
import type { ActionRequest, ActionSettings, RequestResult } from './common';
import type { RequestStage } from './requests';
import type { CommandText } from './text';

/** What the runner passes when it reads a finished job back: the request and the job's typed result. */
export interface ResultContext<P, O> {
  request: ActionRequest<P>;
  tenantId: string;
  /** The workflow's result, as the engine stored it on the job (decoded with `workflow.result`). */
  result: O;
}

/** A post the settlement asks for; the bot renders each from the stored request at delivery time. */
export type SettlementPost = 'secret-post' | 'rotation-post' | 'result-post';

/** Where a settlement writes, inside the transaction that marks the request succeeded. */
export interface SettleContext<P, R> {
  request: ActionRequest<P>;
  result: R;
  /** One audit entry by the system actor about this request (result 'success' unless said). */
  audit(entry: { action: string; result?: 'success' | 'failure' | 'info'; objects?: Record<string, string>; detail: string | null }): void;
  /** Queues a card to post, once per dedupe key. */
  post(kind: SettlementPost, dedupeKey: string): void;
  /** The requester's "done" notice in the conversation the request came from. */
  notify(notice: { title: string; text: string; tone: 'info' | 'good' | 'warning' | 'attention' }): void;
}

/** The typed words of an action ("remove sender a@x from App") → the command the bot routes on. */
export interface CommandWords<C> {
  /** The words the command starts with, for the uniqueness test and the README (not used for matching). */
  words: readonly string[];
  /** The command, or null when the text is not this action's. */
  parse(text: CommandText): C | null;
}

/** What the CLI hands to `cli.lines`: the job's result, and for a new secret the secret itself (printed once). */
export interface CliResultDoc<O = unknown> {
  /** The job's typed result (its workflow's). */
  result: O;
  clientSecret?: string;
  tenantId?: string;
  /** provision: the OUTPUT block's fields (provisioning/output.ts). */
  output?: unknown;
  /** A check that did not run (check-results.ts), or null. */
  notice?: string | null;
}

/** The terminal's view of a finished job of this kind (src/cli). */
export interface CliLines<O = unknown> {
  /** The result lines of a finished job (`opter-mail <kind>`). */
  lines?(doc: CliResultDoc<O>): string[];
  /** Lines this action adds under a registration in `opter-mail list` (e.g. how to repair its drift). */
  registrationLines?(r: RegistrationSummary): string[];
}

/**
 * `P`: the stored payload; `C`: the typed command; `R`: what it leaves on the request; `I`: the engine input its job
 * is created with; `O`: its workflow's typed result.
 */
export interface ActionDefinition<K extends string = string, P = Record<string, unknown>, C = unknown, R extends RequestResult = RequestResult, I = unknown, O = unknown> {
  /** The request kind (and the engine's job kind): stored in `requests.kind`, so never renamed. */
  kind: K;
  /** What it is called in the docs and the README ("Remove sender"). */
  label: string;
  /** Typed words that ask for it; null for an action started by a button or by another action only. */
  command: CommandWords<C> | null;
  /** Its line on the help card; null when it is not typed. */
  help: HelpEntry | null;
  /**
   * How a typed command or a registration button becomes a request (requests.ts): reads of the tenant through the
   * RequestContext, then the payload and facts — the bot makes the request and its approval posts. Absent for an
   * action asked for through a conversation of the bot's own (setup's form, add sender's check of the addresses).
   */
  request?: RequestStage<NoInfer<C>>;
  /** The request payload as stored, decoded at the store boundary (unknown keys are kept). */
  payload: z.ZodType<P>;
  /** The approval card: which variant, and what the job will do, from the stored payload only. Null: not approved on its own. */
  approval: { variant: ApprovalVariant; plan(payload: P): ApprovalPlan } | null;
  /**
   * The Entra roles the person who lets the job write needs (src/core/roles.ts): what its workflow writes in the
   * tenant — the app, its service principal and secrets (`applications`), the Microsoft Graph Mail.Send grant, given
   * or removed (`graph-grant`), the sender group, its members, the access policy and RBAC for Applications
   * (`exchange`). Empty for an action that only reads. The approval card lists them; in delegated mode the
   * approver's token is checked against them before anything is written. Required, so a new action says it.
   */
  roleNeeds: readonly RoleNeed[];
  /**
   * The progress card: its title, the engine steps it lists, and words for step ids the card does not know (a step
   * of the action's own workflow); a step without a title is shown by its id.
   */
  progress: { title(request: ActionRequest<P>): string; steps(request: ActionRequest<P>): readonly string[]; stepTitles?: Readonly<Record<string, string>> };
  /**
   * The workflow its engine job runs (the engine is given the registry's workflows): its input checks, its
   * orchestration of activities and the schema of its typed result.
   */
  workflow: Workflow<unknown, O, I>;
  /** The engine job an approved request runs (idempotent on the request id: a retried start finds the same job). */
  job: {
    input(payload: P, settings: ActionSettings): I;
    /** The one place that creates this action's engine job (the CLI calls it too, with input from its flags). */
    start(engine: ProvisioningEngine, input: I, options?: { idempotencyKey?: string }): JobRecord;
  };
  settlement: {
    /** What the finished job leaves on the request (`request.result`), from the job's typed result; never a secret. */
    resultFields(ctx: ResultContext<P, O>): R;
    /** The kind's own audit entries and posts, after `request.succeeded`. */
    settle(ctx: SettleContext<P, R>): void;
    /** Notes for the final progress card (besides the secret card and what could not be checked). */
    finalNotes?(result: R): string[];
    /** The result card posted for a 'result-post'. */
    resultCard?(request: ActionRequest<P>): AdaptiveCardJson;
  };
  /**
   * May be asked for while a migration to RBAC of the same registration waits for Exchange's permission cache (the
   * reasons are in each definition); otherwise a request on its way for the same app refuses a new one.
   */
  runsBesideAWaitingMigration: boolean;
  cli: CliLines<O>;
  audit: {
    /** What the request does, as the requester's card and the audit trail say it ("remove a@x from App"). */
    what(payload: P): string;
    /** The `request.created` detail. Default: "Asked for <what>." */
    requested?(payload: P): string;
  };
}

/**
 * Any definition, as the registry holds it. The payload and result are whatever the action's own schema decoded;
 * methods are bivariant in their parameters, so each definition keeps its precise types and still fits here.
 */
export type AnyAction = ActionDefinition<string, unknown, unknown, RequestResult, unknown, unknown>;

/** Keeps the literal kind and the payload, command, result and job input types of a definition (`defineAction({...})`). */
export function defineAction<const K extends string, P, C, R extends RequestResult, I, O>(definition: ActionDefinition<K, P, C, R, I, O>): ActionDefinition<K, P, C, R, I, O> {
  return definition;
}
