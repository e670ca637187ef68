import { adaptiveCard, banner, execute, heading, sectionTitle, textBlock } from './elements';
import type { AdaptiveCardJson, CardElement, HelpCardModel } from './types';

/** What the bot understands, in the words the bot routes on (matching is case-insensitive). */
export const HELP_COMMANDS: ReadonlyArray<{ command: string; example?: string; what: string; who: 'admin' | 'anyone' }> = [
  { command: 'set up Opter email', what: 'Register Opter in Microsoft 365 so it can send email (app, permission, sender group, secret). Another admin approves first.', who: 'admin' },
  { command: 'add sender', example: 'add sender faktura@contoso.com', what: 'Allow more mailboxes to send through an existing registration.', who: 'admin' },
  { command: 'status', example: 'status (or list)', what: 'Registrations, senders, secret expiry, last verification and drift.', who: 'anyone' },
  { command: 'new secret', example: 'new secret for OpterMessageProxy', what: 'Create a new client secret (also when it was lost: “I lost the secret”). The old one keeps working until Opter uses the new one.', who: 'admin' },
  { command: 'remove sender', example: 'remove sender old@contoso.com', what: 'Stop a mailbox from sending through Opter.', who: 'admin' },
  { command: 'migrate to RBAC', example: 'migrate OpterMessageProxy to RBAC', what: 'Move a registration from the Application Access Policy to RBAC for Applications, with a plan that keeps mail flowing.', who: 'admin' },
  { command: 'test email', example: 'test email to me from faktura@contoso.com', what: 'Send yourself a test message as a sender; no secret is asked for. Shows sign-in, scope and send separately.', who: 'admin' },
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
    facts: HELP_COMMANDS.map((c) => ({ title: c.example ?? c.command, value: c.who === 'admin' ? `${c.what} (admins)` : c.what })),
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
