import { describe, expect, it } from 'vitest';
import { approvalCard } from './approval';
import { checkCard, warningBoxes, executeActions, findNodes, inputIds, renderedTexts } from './card-check';
import { sampleApproval } from './gallery';
import type { ApprovalCardModel } from './types';

const text = (m: ApprovalCardModel) => renderedTexts(approvalCard(m)).join('\n');
const decided: ApprovalCardModel['state'][] = [
  { status: 'approved', by: { name: 'Bob' }, at: '2026-03-02T14:00:00Z' },
  { status: 'rejected', by: { name: 'Bob' }, at: '2026-03-02T14:00:00Z', reason: 'wrong domain' },
  { status: 'expired', at: '2026-03-03T13:50:00Z' },
  { status: 'cancelled', by: { name: 'Alice' }, at: '2026-03-02T14:00:00Z' },
];

describe('approvalCard (pending)', () => {
  const card = approvalCard(sampleApproval);

  it('says who asked, when, until when, and what will be created', () => {
    const t = text(sampleApproval);
    for (const s of [
      'Alice Admin',
      '2 March 2026, 13:50 UTC',
      '3 March 2026, 13:50 UTC',
      'OpterMessageProxy (new, single tenant)',
      'New service principal for the app',
      'optermessageproxy-secret, valid until 2 March 2036, 14:05 UTC',
      'OpterMessageProxy - MailSend Allowed (alias optermessageproxy-mailsend-allowed), new',
      'optermessageproxy-mailsend-allowed@contoso.com',
      '- info@contoso.com\n- faktura@contoso.com',
    ])
      expect(t).toContain(s);
  });

  it('names the permissions it grants: Graph Mail.Send, restricted by the access policy to the group', () => {
    const t = text(sampleApproval);
    expect(t).toMatch(/Mail\.Send\*\* as an application permission/);
    expect(t).toMatch(/Application Access Policy \(RestrictAccess\) limits it to the members of optermessageproxy-mailsend-allowed@contoso\.com/);
  });

  it('describes the RBAC grant instead when that model was chosen', () => {
    const t = text({ ...sampleApproval, plan: { ...sampleApproval.plan, scoping: 'rbac' } });
    expect(t).toMatch(/role “Application Mail.Send” .* scoped to the direct members/);
    expect(t).toMatch(/No tenant-wide Microsoft Graph Mail.Send/);
  });

  it('offers Approve and a Reject that needs a reason, carrying only the request id', () => {
    expect(executeActions(card).map((a) => [a.title, a.verb, a.data, a.associatedInputs])).toEqual([
      ['Approve', 'approve', { requestId: sampleApproval.requestId }, 'none'],
      ['Reject', 'reject', { requestId: sampleApproval.requestId }, 'auto'],
      ['Refresh', 'refresh-approval', { requestId: sampleApproval.requestId }, 'none'],
    ]);
    const reason = findNodes(card, (n) => n.id === 'reason')[0];
    expect(reason).toMatchObject({ type: 'Input.Text', isRequired: true, label: 'Reason (required)' });
    // The reason input sits in the ShowCard next to the Reject button, so Approve never has to validate it.
    const showCard = card.actions!.find((a) => a.type === 'Action.ShowCard') as unknown as { card: unknown };
    expect(inputIds(showCard.card)).toEqual(['reason']);
    expect(inputIds({ ...card, actions: [] })).toEqual([]);
  });

  it('refreshes only for listed approver MRIs, at most 60', async () => {
    expect(card.refresh).toEqual({
      action: { type: 'Action.Execute', title: 'Refresh', verb: 'refresh-approval', data: { requestId: sampleApproval.requestId }, associatedInputs: 'none' },
      userIds: sampleApproval.refreshUserIds,
    });
    const many = approvalCard({ ...sampleApproval, refreshUserIds: [...Array.from({ length: 70 }, (_, i) => `29:a${i}`), 'aad-object-id'] });
    expect(many.refresh!.userIds).toHaveLength(60);
    expect(many.refresh!.userIds.every((id) => id.startsWith('29:'))).toBe(true);
    expect(await checkCard(many)).toEqual([]);
    expect(approvalCard({ ...sampleApproval, refreshUserIds: undefined })).not.toHaveProperty('refresh');
  });

  it('gives the requester and observers a view without buttons', () => {
    for (const viewer of ['requester', 'observer'] as const) {
      const view = approvalCard({ ...sampleApproval, viewer });
      expect(executeActions(view).map((a) => a.verb)).toEqual(['refresh-approval']);
      expect(findNodes(view, (n) => n.type === 'Action.ShowCard')).toEqual([]);
    }
    expect(text({ ...sampleApproval, viewer: 'requester' })).toContain('You cannot approve your own request (four-eyes rule).');
    expect(executeActions(approvalCard({ ...sampleApproval, viewer: 'approver' })).map((a) => a.verb)).toContain('approve');
  });

  it('shows a missing-reason error inside the reject form', () => {
    const view = approvalCard({ ...sampleApproval, viewer: 'approver', reasonError: 'A reason is required to reject.' });
    const showCard = view.actions!.find((a) => a.type === 'Action.ShowCard') as unknown as { card: unknown };
    expect(renderedTexts(showCard.card).join()).toContain('A reason is required to reject.');
  });
});

describe('approvalCard (decided, expired)', () => {
  it.each(decided.map((s) => [s.status, s] as const))('%s: no buttons and no refresh', async (_s, state) => {
    const card = approvalCard({ ...sampleApproval, state });
    expect(card).not.toHaveProperty('actions');
    expect(card).not.toHaveProperty('refresh');
    expect(await checkCard(card)).toEqual([]);
  });

  it('says who decided, when, and why', () => {
    const t = text({ ...sampleApproval, state: decided[1] });
    expect(t).toContain('Rejected by Bob');
    expect(t).toContain('2 March 2026, 14:00 UTC');
    expect(t).toContain('wrong domain');
    expect(text({ ...sampleApproval, state: decided[0] })).toContain('Approved by Bob');
    expect(text({ ...sampleApproval, state: decided[2] })).toContain('Expired without a decision');
  });

  it('shows a typed reason verbatim, never as markdown', () => {
    const card = approvalCard({ ...sampleApproval, state: { ...decided[1], reason: '[click](https://evil.example) _now_' } as ApprovalCardModel['state'] });
    const run = findNodes(card, (n) => n.type === 'TextRun' && n.text === '[click](https://evil.example) _now_');
    expect(run).toHaveLength(1);
    expect(findNodes(card, (n) => n.type === 'TextBlock' && String(n.text).includes('evil.example'))).toEqual([]);
  });
});

describe('approvalCard (setup with a group that already exists)', () => {
  it('says the group exists and lists its current members, never "new"', () => {
    const members = ['info@contoso.com', 'faktura@contoso.com', 'kund@contoso.com'];
    const t = text({
      ...sampleApproval,
      plan: { ...sampleApproval.plan, group: { ...sampleApproval.plan.group, exists: true }, members: { before: members, after: [...members, 'order@contoso.com'] } },
    });
    expect(t).toContain('OpterMessageProxy - MailSend Allowed (alias optermessageproxy-mailsend-allowed), existing group, 3 members: info@contoso.com, faktura@contoso.com, kund@contoso.com');
    expect(t).not.toMatch(/MailSend Allowed \(alias [^)]+\), new/);
    expect(t).toContain('+ order@contoso.com');
  });

  it('says so for an existing group without members, and shortens a long member list', () => {
    const empty = text({ ...sampleApproval, plan: { ...sampleApproval.plan, group: { ...sampleApproval.plan.group, exists: true }, members: { before: [], after: ['info@contoso.com'] } } });
    expect(empty).toContain('(alias optermessageproxy-mailsend-allowed), existing group, 0 members');
    const many = Array.from({ length: 12 }, (_, i) => `m${i}@contoso.com`);
    const long = text({ ...sampleApproval, plan: { ...sampleApproval.plan, group: { ...sampleApproval.plan.group, exists: true }, members: { before: many, after: many } } });
    expect(long).toContain('existing group, 12 members: m0@contoso.com');
    expect(long).toContain('m9@contoso.com and 2 more');
  });
});

describe('approvalCard (add sender)', () => {
  it('shows the members before → after with what is added', () => {
    const t = text({
      ...sampleApproval,
      kind: 'add-sender',
      plan: { ...sampleApproval.plan, createsApp: false, appId: 'app-1', secret: undefined, group: { ...sampleApproval.plan.group, exists: true }, members: { before: ['info@contoso.com', 'old@contoso.com'], after: ['info@contoso.com', 'Faktura@contoso.com'] } },
    });
    expect(t).toContain('Senders: before → after');
    expect(t).toContain('info@contoso.com, old@contoso.com');
    expect(t).toContain('info@contoso.com, Faktura@contoso.com');
    expect(t).toContain('+ Faktura@contoso.com');
    expect(t).toContain('− old@contoso.com');
    expect(t).toContain('OpterMessageProxy (existing)');
    expect(t).not.toContain('New service principal');
    expect(t).toMatch(/adds the listed mailboxes to that group; no permission changes/);
    expect(t).not.toMatch(/gives the admin consent/);
  });
});

describe('approvalCard: names a reviewer can trust', () => {
  const mixed: ApprovalCardModel = {
    ...sampleApproval,
    plan: { ...sampleApproval.plan, appDisplayName: 'OpterMessagePr\u043exy', group: { ...sampleApproval.plan.group, name: 'OpterMessagePr\u043exy - MailSend Allowed' } },
  };

  it('warns in plain words, before the facts, when a name mixes scripts (once for the derived group name)', async () => {
    const card = approvalCard(mixed);
    expect(await checkCard(card)).toEqual([]);
    const warning = '⚠ The app display name contains Cyrillic letters: \u043e (U+043E), mixed with Latin letters. Look-alike letters can make it read as another name.';
    const boxes = warningBoxes(card);
    expect(boxes).toHaveLength(1);
    expect(renderedTexts(boxes[0])).toEqual([warning]);
    const t = text(mixed);
    expect(t.indexOf(warning)).toBeLessThan(t.indexOf('What will be created'));
  });

  it('warns about an override that mixes scripts on its own', () => {
    const t = text({ ...sampleApproval, plan: { ...sampleApproval.plan, secret: { ...sampleApproval.plan.secret!, displayName: 'opter-s\u0435cret' } } });
    expect(t).toContain('⚠ The secret name contains Cyrillic letters: \u0435 (U+0435)');
  });

  it('has no warning for names of one script', () => {
    expect(warningBoxes(approvalCard(sampleApproval))).toEqual([]);
    expect(text({ ...sampleApproval, plan: { ...sampleApproval.plan, appDisplayName: 'Åkeri Östergården AB' } })).not.toContain('⚠');
  });

  it('escapes markdown in the names it shows, in facts and in text', () => {
    const card = approvalCard({
      ...sampleApproval,
      requestedBy: { name: '*Boss*' },
      plan: { ...sampleApproval.plan, appDisplayName: '*Opter* _Mail_', members: { before: [], after: ['in_fo_@contoso.com'] } },
    });
    const facts = findNodes(card, (n) => n.type === 'FactSet').flatMap((f) => f.facts as Array<{ title: string; value: string }>);
    expect(facts).toContainEqual({ title: 'Requested by', value: '\\*Boss\\*' });
    expect(facts).toContainEqual({ title: 'App registration', value: '\\*Opter\\* \\_Mail\\_ (new, single tenant)' });
    expect(findNodes(card, (n) => n.type === 'TextBlock' && n.text === '- in\\_fo\\_@contoso.com')).toHaveLength(1);
    // What the reader sees is the name as typed.
    expect(text({ ...sampleApproval, plan: { ...sampleApproval.plan, appDisplayName: '*Opter* _Mail_' } })).toContain('*Opter* _Mail_ (new, single tenant)');
  });
});

describe('approvalCard: the Entra roles the approver needs', () => {
  it('lists one line per need, after what the approval grants', async () => {
    const model: ApprovalCardModel = { ...sampleApproval, roleNeeds: ['applications', 'graph-grant', 'exchange'] };
    const card = approvalCard(model);
    expect(await checkCard(card)).toEqual([]);
    const t = text(model);
    expect(t).toContain(
      [
        'The approver needs',
        '- Application Administrator, Cloud Application Administrator or Global Administrator — to create the app, its service principal and secrets',
        '- Privileged Role Administrator or Global Administrator — to grant Microsoft Graph Mail.Send',
        '- Exchange Administrator or Global Administrator — to manage the sender group, the Application Access Policy and RBAC for Applications',
      ].join('\n'),
    );
    expect(t).toContain('Privileged Identity Management must be activated first');
    expect(t.indexOf('The approver needs')).toBeGreaterThan(t.indexOf('Permissions this grants'));
  });

  it('is the same for every viewer and after the decision', async () => {
    for (const viewer of ['requester', 'observer', 'approver', 'shared'] as const) expect(text({ ...sampleApproval, viewer, roleNeeds: ['exchange'] })).toContain('- Exchange Administrator or Global Administrator');
    for (const state of decided) {
      const card = approvalCard({ ...sampleApproval, state, roleNeeds: ['exchange'] });
      expect(await checkCard(card)).toEqual([]);
      expect(renderedTexts(card).join('\n')).toContain('The approver needs');
    }
  });

  it('has no such section when the job only reads (or nothing was said)', () => {
    expect(text({ ...sampleApproval, kind: 'adopt', roleNeeds: [] })).not.toContain('The approver needs');
    expect(text(sampleApproval)).not.toContain('The approver needs');
  });
});
