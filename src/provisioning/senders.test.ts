import { describe, expect, it } from 'vitest';
import { PROBLEMS_LISTED_ONE_BY_ONE, checkSenderSyntax, describeSenderProblems, isValidAddress, parseSenderList, printable, problemsToError, type SenderProblem } from './senders';

describe('sender syntax', () => {
  it.each(['info@exempel.se', 'faktura@exempel.se', 'first.last+tag@sub.exempel.se', "o'neil@exempel.se"])('accepts %s', (a) => {
    expect(isValidAddress(a)).toBe(true);
  });
  it.each([
    'info', '@exempel.se', 'info@', 'a@b', 'a@@b.se', 'a b@exempel.se', 'a@exempel..se', 'a@-exempel.se', '.a@exempel.se',
    'info@exеmpel.se', // Cyrillic е: homoglyph domain
    'info@exempel.se\u202e', 'in\u0000fo@exempel.se', `${'a'.repeat(65)}@exempel.se`, `a@${'b'.repeat(250)}.se`,
  ])('rejects %j', (a) => {
    expect(isValidAddress(a)).toBe(false);
  });

  it('reports duplicates case-insensitively and keeps the order', () => {
    const p = checkSenderSyntax(['info@exempel.se', 'bad', 'INFO@exempel.se']);
    expect(p.map((x) => x.code)).toEqual(['E_SENDER_INVALID', 'E_SENDER_DUPLICATE']);
  });

  it('splits lists written by people', () => {
    expect(parseSenderList('info@exempel.se, faktura@exempel.se;\nkund@exempel.se  ')).toEqual(['info@exempel.se', 'faktura@exempel.se', 'kund@exempel.se']);
  });

  it('makes control and bidi characters visible in messages', () => {
    expect(printable('a\u202eb')).toBe('a\\u202eb');
    expect(printable('x'.repeat(200))).toHaveLength(80);
  });
});

describe('many bad senders', () => {
  const notMailbox = (n: number): SenderProblem[] =>
    Array.from({ length: n }, (_, i) => ({ address: `nobody${i + 1}@exempel.se`, code: 'E_SENDER_NOT_MAILBOX', message: `nobody${i + 1}@exempel.se is not an existing mailbox.` }));

  it('60 of one kind are one line with a count, not 60 sentences', () => {
    const err = problemsToError(notMailbox(60));
    expect(err.code).toBe('E_SENDER_NOT_MAILBOX');
    expect(err.detail).toBe('60 senders are not mailboxes in this tenant: nobody1@exempel.se, nobody2@exempel.se, nobody3@exempel.se and 57 more.');
  });

  it('a few keep a sentence each', () => {
    expect(describeSenderProblems(notMailbox(PROBLEMS_LISTED_ONE_BY_ONE))).toBe('nobody1@exempel.se is not an existing mailbox. nobody2@exempel.se is not an existing mailbox. nobody3@exempel.se is not an existing mailbox.');
  });

  it('groups each kind on its own, in the order the kinds appear, and still names the accepted domains', () => {
    const foreign: SenderProblem[] = Array.from({ length: 5 }, (_, i) => ({
      address: `x${i}@fabrikam.example`,
      code: 'E_SENDER_FOREIGN_DOMAIN',
      message: `x${i}@fabrikam.example is not in an accepted domain of this tenant (exempel.se).`,
      acceptedDomains: ['exempel.se'],
    }));
    const invalid: SenderProblem = { address: 'oops', code: 'E_SENDER_INVALID', message: '"oops" is not a valid email address.' };
    expect(describeSenderProblems([...foreign, invalid, ...notMailbox(4)])).toBe(
      '5 senders are not in an accepted domain of this tenant (exempel.se): x0@fabrikam.example, x1@fabrikam.example, x2@fabrikam.example and 2 more. ' +
        '"oops" is not a valid email address. ' +
        '4 senders are not mailboxes in this tenant: nobody1@exempel.se, nobody2@exempel.se, nobody3@exempel.se and 1 more.',
    );
  });

  it('invalid entries are quoted and made printable in the grouped line', () => {
    const problems = checkSenderSyntax(['a', 'b\u202e', 'c', 'd', 'e']);
    expect(describeSenderProblems(problems)).toBe('5 entries are not valid email addresses: "a", "b\\u202e", "c" and 2 more.');
  });
});
