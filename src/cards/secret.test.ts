import { describe, expect, it } from 'vitest';
import { checkCard, executeActions, findNodes, inputIds, renderedTexts } from './card-check';
import { SAMPLE_CLIENT_ID, SAMPLE_SECRET, SAMPLE_TENANT_ID } from './gallery';
import { revealedSecretCard, secretExpiredCard, secretHiddenCard, secretReadyCard } from './secret';
import type { RevealedSecretModel } from './types';

const revealed: RevealedSecretModel = {
  requestId: 'r1',
  appDisplayName: 'OpterMessageProxy',
  tenantId: SAMPLE_TENANT_ID,
  clientId: SAMPLE_CLIENT_ID,
  secretExpiresAt: '2036-03-02T14:05:00.0000000Z',
  groupSmtp: 'optermessageproxy-mailsend-allowed@contoso.com',
  secretText: SAMPLE_SECRET,
  senders: ['info@contoso.com'],
  deniedExample: 'control@contoso.com',
};
// What a careless caller might pass: the revealed model spread into the other builders.
const ready = secretReadyCard({ ...revealed, requester: { name: 'Alice' }, revealDeadline: '2026-03-03T14:05:00Z' });
const hidden = secretHiddenCard({ ...revealed, revealedAt: '2026-03-02T14:20:00Z', revealedBy: { name: 'Alice' }, registrationId: 'reg_1' });
const expired = secretExpiredCard({ ...revealed, expiredAt: '2026-03-03T14:05:00Z' });

describe('one-time secret cards', () => {
  it('never put the secret into the base, after or expired cards, even when handed it', () => {
    for (const card of [ready, hidden, expired]) expect(JSON.stringify(card)).not.toContain(SAMPLE_SECRET);
  });

  it('carry no refresh at all, so Teams can never trigger a reveal without a click', async () => {
    for (const card of [ready, revealedSecretCard(revealed), hidden, expired]) {
      expect(card).not.toHaveProperty('refresh');
      expect(await checkCard(card, { forbidRefresh: true })).toEqual([]);
    }
  });

  it('base card: tenant, client id, expiry, group SMTP, the once-only warning and a Reveal button with only the request id', () => {
    const facts = findNodes(ready, (n) => n.type === 'FactSet')[0].facts;
    expect(facts).toEqual([
      { title: 'Ms Graph Tenant Id', value: SAMPLE_TENANT_ID },
      { title: 'Ms Graph Client Id', value: SAMPLE_CLIENT_ID },
      { title: 'Secret Expires (UTC)', value: '2 March 2036, 14:05 UTC' },
      { title: 'Scoped Group SMTP', value: 'optermessageproxy-mailsend-allowed@contoso.com' },
    ]);
    const t = renderedTexts(ready).join('\n');
    expect(t).toContain('The client secret can be shown only once');
    expect(t).toContain('Only Alice can reveal it.');
    expect(t).toContain('3 March 2026, 14:05 UTC');
    expect(executeActions(ready)).toEqual([{ type: 'Action.Execute', title: 'Reveal secret', verb: 'reveal', data: { requestId: 'r1' }, associatedInputs: 'none', style: 'positive' }]);
  });

  it('revealed card: the secret in monospace text that is never parsed as markdown', () => {
    const card = revealedSecretCard(revealed);
    const runs = findNodes(card, (n) => n.type === 'TextRun' && n.text === SAMPLE_SECRET);
    expect(runs).toEqual([{ type: 'TextRun', text: SAMPLE_SECRET, fontType: 'Monospace', size: 'Medium' }]);
    expect(findNodes(card, (n) => n.type === 'TextBlock' && String(n.text).includes(SAMPLE_SECRET))).toEqual([]);
    // No input anywhere: an input holding the secret would be posted back to the bot by the next click.
    expect(inputIds(card)).toEqual([]);
  });

  it('revealed card: the script’s OUTPUT block, field for field', () => {
    const lines = renderedTexts(revealedSecretCard(revealed));
    expect(lines).toEqual(
      expect.arrayContaining([
        `Ms Graph Tenant Id       : ${SAMPLE_TENANT_ID}`,
        `Ms Graph Client Id       : ${SAMPLE_CLIENT_ID}`,
        `Ms Graph Client Secret   : ${SAMPLE_SECRET}`,
        'Secret Expires (UTC)     : 2036-03-02T14:05:00.0000000Z',
        'Scoped Group SMTP        : optermessageproxy-mailsend-allowed@contoso.com',
      ]),
    );
  });

  it('revealed card: where to paste it in Opter and how to test', () => {
    const t = renderedTexts(revealedSecretCard(revealed)).join('\n');
    expect(t).toContain('Settings > Offices > the **Servers** tab');
    expect(t).toContain(`Test-ApplicationAccessPolicy -AppId ${SAMPLE_CLIENT_ID} -Identity info@contoso.com`);
    expect(t).toContain(`Test-ApplicationAccessPolicy -AppId ${SAMPLE_CLIENT_ID} -Identity control@contoso.com`);
    expect(t).toContain('app-only sending uses POST /users/{id|UPN}/sendMail');
    const rbac = renderedTexts(revealedSecretCard({ ...revealed, scoping: 'rbac' })).join('\n');
    expect(rbac).toContain(`Test-ServicePrincipalAuthorization -Identity ${SAMPLE_CLIENT_ID} -Resource info@contoso.com`);
  });

  it('revealed card: only a "Done, hide it" button that sends no inputs', () => {
    expect(executeActions(revealedSecretCard(revealed))).toEqual([{ type: 'Action.Execute', title: 'Done, hide it', verb: 'hide-secret', data: { requestId: 'r1' }, associatedInputs: 'none' }]);
  });

  it('after-state says when and by whom, and how to get a new secret', () => {
    const t = renderedTexts(hidden).join('\n');
    expect(t).toContain('Secret revealed 2 March 2026, 14:20 UTC by Alice');
    expect(t).toContain('If it was lost, create a new secret');
    expect(executeActions(hidden).map((a) => [a.verb, a.data])).toEqual([['rotate-secret', { registrationId: 'reg_1' }]]);
    expect(executeActions(secretHiddenCard({ ...revealed, revealedAt: 'x', revealedBy: { name: 'A' } }))).toEqual([]);
  });

  it('expired-state says the secret was removed and a new one is needed', () => {
    const t = renderedTexts(expired).join('\n');
    expect(t).toContain('The secret was never revealed and has expired');
    expect(t).toContain('It was removed from the app 3 March 2026, 14:05 UTC');
  });
});
