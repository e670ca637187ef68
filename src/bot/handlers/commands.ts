/**
 * What a typed message asks for. Pure: the text has already had the bot's @mention removed (stripMentions). The
 * commands that ask for work come from the action registry (src/actions: each action parses its own words); the
 * ones here — help, status, choosing a channel — ask for nothing to be approved. Matching is case-insensitive and
 * tolerant of the small variations people type, but never guesses between two commands.
 */
import { helpCard as renderHelpCard, HELP_BUILTINS, type AdaptiveCardJson, type HelpCardModel, type HelpEntry } from '../../cards';
import { registry, type ActionCommand, type Registry } from '../../actions/registry';
import type { AnyAction } from '../../actions/types';
import { commandText } from '../../actions/text';

export { editDistance, normalizeCommandText } from '../../actions/text';

export type Command =
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'use-channel'; purpose: 'audit' | 'approvals' }
  /**
   * An action's words: "set up Opter email" ({ kind: 'setup' }), "add sender …", "new secret for <app>" / "I lost
   * the secret" (`app`: the name as typed, or null), "remove sender …", "migrate … to RBAC", "test email to me from …".
   */
  | ActionCommand
  | { kind: 'unknown'; text: string };

export function parseCommand(text: string, reg: Registry = registry): Command {
  return parseMessage(text, reg).command;
}

/** The command, and the action whose words it is (null for help, status, choosing a channel, or nothing known). */
export function parseMessage(text: string, reg: Registry = registry): { command: Command; action: AnyAction | null } {
  const { raw, body } = commandText(text);
  const own = (command: Command) => ({ command, action: null });

  if (/^(?:help|\?|hjälp|what can you do)$/.test(body) || raw === '?') return own({ kind: 'help' });
  if (/^(?:status|list|show (?:the )?status|opter (?:email )?status)$/.test(body)) return own({ kind: 'status' });

  const use = /^(?:use|set) (?:this|the current) channel (?:for|as)(?: the)? (audit|approvals?)(?: channel)?$/.exec(body);
  if (use) return own({ kind: 'use-channel', purpose: use[1] === 'audit' ? 'audit' : 'approvals' });

  const action = reg.parseCommand(raw);
  if (action) return { command: action.command as ActionCommand, action: action.action };

  return own({ kind: 'unknown', text: raw });
}

/** Every line of the help card: the actions' own (in registry order), then status and help. */
export function helpCommands(reg: Registry = registry): HelpEntry[] {
  return [...reg.help(), ...HELP_BUILTINS];
}

/** The help card with the registry's commands. */
export function helpCard(model: Omit<HelpCardModel, 'commands'>, reg: Registry = registry): AdaptiveCardJson {
  return renderHelpCard({ ...model, commands: helpCommands(reg) });
}
