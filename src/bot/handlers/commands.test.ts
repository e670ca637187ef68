import { describe, expect, it } from 'vitest';
import { editDistance, parseCommand } from './commands';

describe('parseCommand', () => {
  it.each([
    'set up Opter email',
    'Set up Opter email',
    'SET UP OPTER EMAIL',
    'setup opter mail',
    'set up opter e-mail',
    'Set-up Opter E-mail!',
    'set up opter e mail',
    'please set up opter email',
    'configure Opter email',
    'set up opter emial',
    'setup optr email',
    '  set   up   opter   email  ',
  ])('understands %j as the setup request', (text) => {
    expect(parseCommand(text)).toEqual({ kind: 'setup' });
  });

  it.each(['set up', 'opter email', 'set up opter', 'tear down opter email', 'set up teams email', 'add sender'])(
    'does not mistake %j for the setup request',
    (text) => {
      expect(parseCommand(text).kind).not.toBe('setup');
    },
  );

  it('reads one or several sender addresses, keeping their spelling', () => {
    expect(parseCommand('add sender faktura@exempel.se')).toEqual({ kind: 'add-sender', addresses: ['faktura@exempel.se'] });
    expect(parseCommand('Add senders Faktura@Exempel.se, info@exempel.se; x@y.se')).toEqual({
      kind: 'add-sender',
      addresses: ['Faktura@Exempel.se', 'info@exempel.se', 'x@y.se'],
    });
    expect(parseCommand('add sender')).toEqual({ kind: 'add-sender', addresses: [] });
    expect(parseCommand('add sender <a href="mailto:a@b.se">a@b.se</a>')).toEqual({ kind: 'add-sender', addresses: ['a@b.se'] });
  });

  it('knows help and the channel choices', () => {
    expect(parseCommand('help')).toEqual({ kind: 'help' });
    expect(parseCommand('Help!')).toEqual({ kind: 'help' });
    expect(parseCommand('?')).toEqual({ kind: 'help' });
    expect(parseCommand('Status')).toEqual({ kind: 'status' });
    expect(parseCommand('list')).toEqual({ kind: 'status' });
    expect(parseCommand('use this channel for audit')).toEqual({ kind: 'use-channel', purpose: 'audit' });
    expect(parseCommand('Use this channel for approvals.')).toEqual({ kind: 'use-channel', purpose: 'approvals' });
    expect(parseCommand('use this channel for the approval channel')).toEqual({ kind: 'use-channel', purpose: 'approvals' });
  });

  it('leaves everything else unknown, with the original text', () => {
    expect(parseCommand('what is the weather')).toEqual({ kind: 'unknown', text: 'what is the weather' });
    expect(parseCommand('')).toEqual({ kind: 'unknown', text: '' });
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions, and stops early past the bound', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('aaaaaaaa', 'bbbbbbbb', 2)).toBe(3);
  });
});

describe('parseCommand: lifecycle', () => {
  it('new secret, with or without the app, and "I lost the secret"', () => {
    expect(parseCommand('new secret for Opter Nordics')).toEqual({ kind: 'new-secret', app: 'Opter Nordics', lost: false });
    expect(parseCommand('please create a new client secret for “OpterMessageProxy”.')).toEqual({ kind: 'new-secret', app: 'OpterMessageProxy', lost: false });
    expect(parseCommand('rotate secret')).toEqual({ kind: 'new-secret', app: null, lost: false });
    expect(parseCommand('I lost the secret')).toEqual({ kind: 'new-secret', app: null, lost: true });
    expect(parseCommand('lost secret for Opter')).toEqual({ kind: 'new-secret', app: 'Opter', lost: true });
  });

  it('remove sender with addresses, optionally naming the registration', () => {
    expect(parseCommand('remove sender Old@Exempel.se')).toEqual({ kind: 'remove-sender', addresses: ['Old@Exempel.se'], app: null });
    expect(parseCommand('remove senders a@b.se, c@d.se from Opter Nordics')).toEqual({ kind: 'remove-sender', addresses: ['a@b.se', 'c@d.se'], app: 'Opter Nordics' });
    expect(parseCommand('remove sender')).toEqual({ kind: 'remove-sender', addresses: [], app: null });
  });

  it('migrate to RBAC', () => {
    expect(parseCommand('migrate Opter Flow to RBAC')).toEqual({ kind: 'migrate', app: 'Opter Flow' });
    expect(parseCommand('Migrate to rbac for applications')).toEqual({ kind: 'migrate', app: null });
    expect(parseCommand('migrate Opter')).toEqual({ kind: 'unknown', text: 'migrate Opter' });
  });

  it('test email: to me by default, from a sender, optionally through a named registration', () => {
    expect(parseCommand('test email to me from faktura@exempel.se')).toEqual({ kind: 'test-email', to: 'me', from: 'faktura@exempel.se', app: null });
    expect(parseCommand('send a test e-mail from info@exempel.se via Opter Flow')).toEqual({ kind: 'test-email', to: 'me', from: 'info@exempel.se', app: 'Opter Flow' });
    expect(parseCommand('test email')).toEqual({ kind: 'test-email', to: 'me', from: null, app: null });
    expect(parseCommand('test email to boss@exempel.se from info@exempel.se')).toEqual({ kind: 'test-email', to: 'boss@exempel.se', from: 'info@exempel.se', app: null });
  });
});
