import { adaptiveCard, banner, execute, heading, sectionTitle, textBlock } from './elements';
import type { AdaptiveCardJson, CardElement, HelpCardModel, HelpEntry } from './types';

/**
 * The commands that are not actions (they ask for nothing to be approved). The actions' own entries come from the
 * action registry (src/actions), which the bot puts before these.
 */
export const HELP_BUILTINS: readonly HelpEntry[] = [
  { command: 'status', example: 'status (or list)', what: 'Registrations, senders, secret expiry, last verification and drift.', who: 'anyone' },
  { command: 'help', what: 'Show this card.', who: 'anyone' },
];

export function helpCard(model: HelpCardModel): AdaptiveCardJson {
  const body: CardElement[] = [
    ...heading('Opter email setup', 'I do the Microsoft 365 part of Opter’s email setup for you: safely, with a second admin’s approval, and with a full audit trail.'),
  ];
  if (model.localMode) {
    body.push(banner('Local mode', 'warning', 'This bot runs without a Bot ID on 127.0.0.1 only; it is not connected to Microsoft Teams.'));
  }
  body.push(sectionTitle('What you can ask me'));
  body.push({
    type: 'FactSet',
    facts: (model.commands ?? HELP_BUILTINS).map((c) => ({ title: c.example ?? c.command, value: c.who === 'admin' ? `${c.what} (admins)` : c.what })),
  });
  body.push(sectionTitle('How it works'));
  body.push(
    textBlock(
      [
        '1. You fill in a short form; I check the names and sender mailboxes.',
        '2. Another approver approves (you cannot approve your own request).',
        '3. I create everything and verify it, with live progress.',
        '4. You reveal the client secret once, in our 1:1 chat, and paste it into Opter (Settings > Offices > Servers tab).',
      ].join('\n'),
    ),
  );
  const roles: string[] = [];
  roles.push(model.canRequest ? 'You can make requests.' : 'You are not in ADMINS, so you cannot make requests; ask an admin.');
  if (model.canApprove) roles.push('You can approve other admins’ requests.');
  body.push(textBlock(roles.join(' '), { subtle: true, size: 'Small', spacing: 'Medium' }));

  const buttons = model.canRequest
    ? [execute('start-setup', 'Set up Opter email', {}, { style: 'positive' }), execute('status', 'Status', {})]
    : [execute('status', 'Status', {})];
  return adaptiveCard(body, buttons);
}
