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
