/**
 * Every action, in the order the help card lists them and the command parser tries them. The bot and the CLI read
 * this list; nothing else names the kinds. A new action: one folder next to this file and one line in ACTIONS
 * (README.md says what its definition provides).
 */
import type { HelpEntry } from '../cards';
import type { JobKind } from '../provisioning';
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
/** Compile-time: every engine job kind is an action and every action runs an engine job kind. */
export const ENGINE_KINDS_MATCH: Same<ActionKind, JobKind> = true;

export interface Registry {
  readonly actions: readonly AnyAction[];
  /** The definition of a stored kind; null for a kind that is no action (a channel change) or unknown. */
  actionFor(kind: string): AnyAction | null;
  /** The first action whose words match the message, and its command; null when none does. */
  parseCommand(text: string): { action: AnyAction; command: { kind: string } } | null;
  /** The help card's lines of the typed actions, in registry order. */
  help(): HelpEntry[];
  /** A payload read back from the store, decoded with its action's schema (unknown kinds and shapes pass unchanged). */
  decodePayload(kind: string, payload: unknown): Record<string, unknown>;
}

export function createRegistry(actions: readonly AnyAction[]): Registry {
  const byKind = new Map<string, AnyAction>();
  for (const a of actions) {
    if (byKind.has(a.kind)) throw new Error(`two actions of kind ${a.kind}`);
    byKind.set(a.kind, a);
  }
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
    decodePayload(kind, payload) {
      const raw = (payload ?? {}) as Record<string, unknown>;
      const action = byKind.get(kind);
      if (!action) return raw;
      // A payload from an older version that no longer fits is shown as stored rather than refused: reading a
      // request must never fail (its approval card, its audit thread), and the job validates its own input.
      const decoded = action.payload.safeParse(raw);
      return decoded.success ? (decoded.data as Record<string, unknown>) : raw;
    },
  };
}

export const registry: Registry = createRegistry(ACTIONS);

export function actionFor(kind: string): AnyAction | null {
  return registry.actionFor(kind);
}

/** The help card's lines of every typed action (the bot adds status and help after them). */
export function actionHelp(reg: Registry = registry): HelpEntry[] {
  return reg.help();
}
