/**
 * Every action, in the order the help card lists them and the command parser tries them. The bot and the CLI read
 * this list; nothing else names the kinds. A new action: one folder next to this file and one line in ACTIONS
 * (README.md says what its definition provides).
 */
import type { HelpEntry } from '../cards';
import type { RoleNeed } from '../core/roles';
import { WORKFLOWS, type JobKind, type WorkflowTable } from '../provisioning';
import { addSender } from './add-sender';
import { adopt } from './adopt';
import { migrateRbac } from './migrate-rbac';
import { removeSender } from './remove-sender';
import { repair } from './repair';
import { retireSecrets } from './retire-secrets';
import { rotateSecret } from './rotate-secret';
import { setup } from './setup';
import { testEmail } from './test-email';
import { commandText } from './text';
import type { AnyAction, CommandWords } from './types';

export const ACTIONS = [setup, addSender, rotateSecret, retireSecrets, removeSender, migrateRbac, testEmail, repair, adopt] as const;

/** The one list of what the product does; also the engine's job kinds (ENGINE_KINDS_MATCH). */
export type ActionKind = (typeof ACTIONS)[number]['kind'];

/** What `requests.kind` holds: an action, or a channel change (approved like one, but no tenant job). */
export type RequestKind = ActionKind | 'channel-change';

/** The actions about one existing registration (their payload is a LifecyclePayload; their result a LifecycleRequestResult). */
export const LIFECYCLE_KINDS = ['rotate-secret', 'remove-sender', 'migrate-rbac', 'test-email', 'repair', 'adopt'] as const satisfies readonly ActionKind[];
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];

/** The typed commands of the registered actions, as the bot routes on them ({ kind: 'remove-sender', addresses, app }, …). */
export type ActionCommand = CommandOf<(typeof ACTIONS)[number]>;
/** An action without words (`command: null`) leaves its command type unknown: it adds nothing to the union. */
type CommandOf<A> = A extends { command: CommandWords<infer C> | null } ? (unknown extends C ? never : NonNullable<C>) : never;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * Compile-time: the built-in actions are exactly the engine's built-in job kinds (JobTypes types their inputs and
 * results). An action added later brings its own kind and workflow (createRegistry checks that they agree).
 */
export const ENGINE_KINDS_MATCH: Same<ActionKind, JobKind> = true;

export interface Registry {
  readonly actions: readonly AnyAction[];
  /** The definition of a stored kind; null for a kind that is no action (a channel change) or unknown. */
  actionFor(kind: string): AnyAction | null;
  /** The first action whose words match the message, and its command; null when none does. */
  parseCommand(text: string): { action: AnyAction; command: { kind: string } } | null;
  /** The help card's lines of the typed actions, in registry order. */
  help(): HelpEntry[];
  /** Job kind → workflow, for the engine (EngineDeps.workflows): each action's own. */
  workflows(): WorkflowTable;
  /** A payload read back from the store, decoded with its action's schema (unknown kinds and shapes pass unchanged). */
  decodePayload(kind: string, payload: unknown): Record<string, unknown>;
  /** The Entra roles the approver of a request of this kind needs (none for a channel change or an unknown kind). */
  roleNeedsFor(kind: string): readonly RoleNeed[];
}

export function createRegistry(actions: readonly AnyAction[]): Registry {
  const byKind = new Map<string, AnyAction>();
  for (const a of actions) {
    if (byKind.has(a.kind)) throw new Error(`two actions of kind ${a.kind}`);
    // The request's kind is its job's kind: the workflow must be the one the engine runs for that kind.
    if (a.workflow.kind !== a.kind) throw new Error(`the action ${a.kind} names the workflow of ${a.workflow.kind}`);
    byKind.set(a.kind, a);
  }
  const workflows: WorkflowTable = Object.fromEntries(actions.map((a) => [a.kind, a.workflow]));
  return {
    actions,
    actionFor: (kind) => byKind.get(kind) ?? null,
    parseCommand(text) {
      const t = commandText(text);
      for (const action of actions) {
        const command = action.command?.parse(t) as { kind: string } | null | undefined;
        if (command) return { action, command };
      }
      return null;
    },
    help: () => actions.flatMap((a) => (a.help ? [a.help] : [])),
    workflows: () => workflows,
    decodePayload(kind, payload) {
      const raw = (payload ?? {}) as Record<string, unknown>;
      const action = byKind.get(kind);
      if (!action) return raw;
      // A payload from an older version that no longer fits is shown as stored rather than refused: reading a
      // request must never fail (its approval card, its audit thread), and the job validates its own input.
      const decoded = action.payload.safeParse(raw);
      return decoded.success ? (decoded.data as Record<string, unknown>) : raw;
    },
    // A channel change is no action and writes nothing in the tenant: it needs no role.
    roleNeedsFor: (kind) => byKind.get(kind)?.roleNeeds ?? [],
  };
}

export const registry: Registry = createRegistry(ACTIONS);

/** The engine's workflow table of a registry (default: the product's): every action's kind → its workflow. */
export function workflowsOf(reg: Registry = registry): WorkflowTable {
  return reg.workflows();
}

/** The built-in job kinds with no action (none: ENGINE_KINDS_MATCH; registry.test.ts checks it at run time too). */
export function kindsWithoutAction(reg: Registry = registry): string[] {
  return Object.keys(WORKFLOWS).filter((kind) => !reg.actionFor(kind));
}

export function actionFor(kind: string): AnyAction | null {
  return registry.actionFor(kind);
}

/** The Entra roles the approver of a request of this kind needs (src/core/roles.ts); none for a channel change. */
export function roleNeedsFor(kind: string, reg: Registry = registry): readonly RoleNeed[] {
  return reg.roleNeedsFor(kind);
}

/** The help card's lines of every typed action (the bot adds status and help after them). */
export function actionHelp(reg: Registry = registry): HelpEntry[] {
  return reg.help();
}
