import { describe, expect, it } from 'vitest';
import { auditEntryCard } from './audit';
import { checkCard, executeActions, findNodes, inputIds, renderedTexts } from './card-check';
import { CHOOSE_REGISTRATION_INPUTS, chooseRegistrationCard } from './choose-registration';
import { HELP_BUILTINS, helpCard } from './help';
import { errorCard, noticeCard } from './notice';
import { MAX_SENDERS_SHOWN, MAX_STATUS_REGISTRATIONS, expiryLevel, statusCard } from './status';
import type { RegistrationStatus } from './types';

const facts = (card: unknown) => findNodes(card, (n) => n.type === 'FactSet').flatMap((f) => f.facts as Array<{ title: string; value: string }>);

describe('helpCard', () => {
  // Every action's line comes from the action registry (src/actions/registry.test.ts checks they are all listed).
  it('lists the commands it is given, and status and help without any', () => {
    const commands = [{ command: 'remove sender', example: 'remove sender old@contoso.com', what: 'Stop a mailbox from sending.', who: 'admin' as const }, ...HELP_BUILTINS];
    const t = renderedTexts(helpCard({ canRequest: true, canApprove: false, commands })).join('\n');
    for (const c of ['remove sender old@contoso.com', 'Stop a mailbox from sending. (admins)', 'status (or list)', 'help']) expect(t).toContain(c);
    const bare = renderedTexts(helpCard({ canRequest: true, canApprove: false })).join('\n');
    expect(bare).toContain('status (or list)');
    expect(bare).not.toContain('remove sender');
  });

  it('offers "Set up" only to admins and says why not otherwise', () => {
    expect(executeActions(helpCard({ canRequest: true, canApprove: true })).map((a) => a.verb)).toEqual(['start-setup', 'status']);
    const notAdmin = helpCard({ canRequest: false, canApprove: false, localMode: true });
    expect(executeActions(notAdmin).map((a) => a.verb)).toEqual(['status']);
    expect(renderedTexts(notAdmin).join('\n')).toMatch(/not in ADMINS/);
    expect(renderedTexts(notAdmin)).toContain('Local mode');
  });
});

describe('auditEntryCard', () => {
  const entry = {
    seq: 7,
    hash: 'abcdef0123456789abcdef',
    at: '2026-03-02T14:12:00Z',
    actor: 'Bob',
    action: 'secret.revealed',
    result: 'ok' as const,
    requestId: 'r1',
    objects: { appId: 'app-1', servicePrincipalId: 'sp-1', group: 'g@contoso.com' },
  };

  it('shows actor, time, action, request, result, object ids and the chain position', async () => {
    const card = auditEntryCard(entry);
    expect(await checkCard(card)).toEqual([]);
    expect(renderedTexts(card)).toContain('✅ secret.revealed · ok');
    expect(facts(card)).toEqual([
      { title: 'Actor', value: 'Bob' },
      { title: 'Time', value: '2 March 2026, 14:12 UTC' },
      { title: 'Request', value: 'r1' },
      { title: 'App (client) ID', value: 'app-1' },
      { title: 'Service principal', value: 'sp-1' },
      { title: 'Group', value: 'g@contoso.com' },
      { title: 'Chain', value: '#7 · abcdef012345' },
    ]);
    expect(card).not.toHaveProperty('actions');
  });
});

describe('chooseRegistrationCard', () => {
  const card = chooseRegistrationCard({
    requestId: 'r1',
    senders: ['faktura@contoso.com'],
    registrations: [
      { id: 'reg_1', appDisplayName: 'Opter-ce', appId: 'a1', groupSmtp: 'ce@contoso.com', senders: ['info@contoso.com'] },
      { id: 'reg_2', appDisplayName: 'Opter-nordics', appId: 'a2', groupSmtp: 'no@contoso.se', senders: [] },
    ],
    error: 'Pick one of the listed registrations.',
  });

  it('lets the admin pick a registration by an input; the button carries only the request id', async () => {
    expect(await checkCard(card)).toEqual([]);
    expect(inputIds(card)).toEqual([CHOOSE_REGISTRATION_INPUTS.registration]);
    const choice = findNodes(card, (n) => n.type === 'Input.ChoiceSet')[0];
    expect(choice.choices).toEqual([
      { title: 'Opter-ce (ce@contoso.com)', value: 'reg_1' },
      { title: 'Opter-nordics (no@contoso.se)', value: 'reg_2' },
    ]);
    expect(executeActions(card).map((a) => [a.verb, a.data, a.associatedInputs])).toEqual([
      ['choose-registration', { requestId: 'r1' }, 'auto'],
      ['cancel-request', { requestId: 'r1' }, 'none'],
    ]);
    expect(renderedTexts(card)).toContain('⚠ Pick one of the listed registrations.');
    expect(facts(card)).toContainEqual({ title: 'Senders now', value: '(none)' });
  });
});

describe('errorCard / noticeCard', () => {
  it('shows the catalogue title and action with the detail filled in, and the code', () => {
    const card = errorCard({ code: 'E_SENDER_NOT_MAILBOX', detail: 'nobody@contoso.com', requestId: 'r1' });
    const t = renderedTexts(card);
    expect(t).toContain('A sender address is not an existing mailbox');
    expect(t).toContain('nobody@contoso.com');
    expect(t).toContain('Create the mailbox (user or shared) first, or correct the address.');
    expect(facts(card)).toEqual([
      { title: 'Code', value: 'E\\_SENDER\\_NOT\\_MAILBOX' }, // facts are markdown in Teams: underscores escaped
      { title: 'Request', value: 'r1' },
    ]);
  });

  it('still says something useful for an unknown code', () => {
    expect(renderedTexts(errorCard({ code: 'E_FUTURE' }))).toContain('Something went wrong');
  });

  it('notices carry a title, text, optional facts and no buttons', async () => {
    const card = noticeCard({ title: 'Done', text: 'All good', tone: 'good', facts: [{ title: 'a', value: 'b' }] });
    expect(await checkCard(card)).toEqual([]);
    expect(renderedTexts(card)).toEqual(expect.arrayContaining(['Done', 'All good']));
    expect(card).not.toHaveProperty('actions');
  });
});

describe('statusCard', () => {
  const now = '2026-03-02T00:00:00Z';
  const reg = (over: Partial<RegistrationStatus> = {}): RegistrationStatus => ({
    id: 'reg_1',
    appDisplayName: 'OpterMessageProxy',
    appId: 'app-1',
    managed: true,
    scoping: 'access-policy',
    groupSmtp: 'g@contoso.com',
    senders: ['info@contoso.com'],
    secretExpiresAt: '2030-01-01T00:00:00Z',
    lastVerification: { at: '2026-03-01T00:00:00Z', ok: true, summary: 'all Granted' },
    drift: [],
    ...over,
  });

  it('classifies secret expiry against the given "now"', () => {
    expect(expiryLevel(null, now)).toBe('none');
    expect(expiryLevel('2026-03-01T00:00:00Z', now)).toBe('expired');
    expect(expiryLevel('2026-03-31T00:00:00Z', now)).toBe('soon');
    expect(expiryLevel('2026-04-02T00:00:00Z', now)).toBe('ok');
  });

  it('shows senders, scoping, expiry, last verification; New secret for each, Repair only for repairable drift, Adopt only when unmanaged', async () => {
    const card = statusCard({
      generatedAt: now,
      viewerMayRequest: true,
      registrations: [
        reg(),
        reg({ id: 'reg_2', appDisplayName: 'Other', managed: false, scoping: 'rbac', secretExpiresAt: '2026-03-10T00:00:00Z', drift: [{ kind: 'grant-missing', description: 'Graph grant missing' }] }),
        reg({ id: 'reg_3', appDisplayName: 'Third', drift: [{ kind: 'member-missing', description: 'faktura removed' }], repairable: true }),
      ],
    });
    expect(await checkCard(card)).toEqual([]);
    const t = renderedTexts(card).join('\n');
    expect(t).toContain('2 of 3 registrations need attention');
    expect(t).toContain('Other (not managed by the bot yet)');
    expect(t).toContain('⚠️ Expires 10 March 2026, 00:00 UTC (in 8 days)');
    expect(t).toContain('✅ 1 March 2026, 00:00 UTC: all Granted');
    expect(t).toContain('- Graph grant missing');
    expect(t).toContain('RBAC for Applications');
    // Problems first: reg_2 is listed before reg_1.
    // Other needs adopting before anything can be repaired: no Repair button that would be refused.
    expect(executeActions(card).map((a) => [a.verb, a.data?.registrationId])).toEqual([
      ['adopt', 'reg_2'],
      ['rotate-secret', 'reg_2'],
      ['repair', 'reg_3'],
      ['rotate-secret', 'reg_3'],
      ['rotate-secret', 'reg_1'],
    ]);
  });

  it('marks a verification whose checks did not all run as not verified, and lists what could not be checked', async () => {
    const card = statusCard({
      generatedAt: now,
      viewerMayRequest: true,
      registrations: [
        reg({
          lastVerification: { at: '2026-03-01T00:00:00Z', ok: true, verified: false, summary: '1 of 2 checks passed; the restriction was not verified: the control mailbox is a sender' },
          notChecked: ['RBAC for Applications was not checked: the provisioning identity may not run Get-ServicePrincipal.'],
        }),
      ],
    });
    expect(await checkCard(card)).toEqual([]);
    const t = renderedTexts(card).join('\n');
    expect(t).toContain('⚪ 1 March 2026, 00:00 UTC: 1 of 2 checks passed; the restriction was not verified');
    expect(t).not.toContain('✅ 1 March 2026');
    expect(t).toMatch(/Not checked\n- RBAC for Applications was not checked/);
  });

  it('shows a waiting migration as a planned wait with its time: not drift, not attention, no Repair', async () => {
    const card = statusCard({ generatedAt: now, viewerMayRequest: true, registrations: [reg({ scoping: 'mixed', migration: { state: 'waiting', until: '2026-03-02T02:00:00Z' } })] });
    expect(await checkCard(card)).toEqual([]);
    const t = renderedTexts(card).join('\n');
    expect(t).toContain('All 1 registration look healthy');
    expect(t).toContain('Migration\n⏳ To RBAC for Applications: waiting for Exchange’s permission cache until 2 March 2026, 02:00 UTC (in 2 hours), then it continues by itself.');
    expect(t).not.toContain('Drift found');
    expect(executeActions(card).map((a) => a.verb)).toEqual(['rotate-secret']);
  });

  it('has no buttons for someone who may not use them, and can say where to get them', () => {
    const drifted = reg({ drift: [{ kind: 'member-missing', description: 'faktura removed' }], repairable: true });
    const card = statusCard({ generatedAt: now, viewerMayRequest: false, withoutButtonsNote: 'Ask in the 1:1 chat.', registrations: [drifted, reg({ id: 'u', managed: false })] });
    expect(executeActions(card)).toEqual([]);
    const t = renderedTexts(card).join('\n');
    expect(t).toContain('faktura removed');
    expect(t).toContain('Ask in the 1:1 chat.');
  });

  it('says when a registration has no valid secret or was never verified', () => {
    const t = renderedTexts(statusCard({ generatedAt: now, viewerMayRequest: true, registrations: [reg({ secretExpiresAt: null, lastVerification: null })] })).join('\n');
    expect(t).toContain('No valid secret: Opter cannot send');
    expect(t).toContain('Never verified');
  });

  it('stays bounded for large tenants and points to the CLI for the rest', async () => {
    const many = Array.from({ length: 40 }, (_, i) => reg({ id: `reg_${i}`, appDisplayName: `Opter-${i}`, senders: Array.from({ length: 100 }, (_, j) => `sender${j}@contoso.com`) }));
    const card = statusCard({ generatedAt: now, viewerMayRequest: true, registrations: many });
    expect(await checkCard(card)).toEqual([]);
    expect(executeActions(card)).toHaveLength(MAX_STATUS_REGISTRATIONS);
    expect(renderedTexts(card).join('\n')).toContain('…and 25 more');
    expect(renderedTexts(card).join('\n')).toContain(`(+${100 - MAX_SENDERS_SHOWN} more)`);
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThan(28_000);
  });

  it('says what to do when there is nothing yet', () => {
    expect(renderedTexts(statusCard({ generatedAt: now, viewerMayRequest: true, registrations: [] })).join()).toContain('set up Opter email');
  });
});
