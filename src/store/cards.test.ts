import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_CHANNEL, CardRoleConflict, openStore, userConversationName, type Store } from './index';
import { manualClock, type ManualClock } from './testing/helpers';

const ref = (conversationId: string, activityId?: string) => ({
  activityId,
  user: { id: '29:user', aadObjectId: 'aad-user' },
  bot: { id: '28:bot' },
  conversation: { id: conversationId, tenantId: 'tenant-1', conversationType: 'personal' },
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/emea/',
});

describe('CardRepository', () => {
  let clock: ManualClock;
  let store: Store;
  beforeEach(() => {
    clock = manualClock('2025-03-01T08:00:00.000Z');
    store = openStore({ memory: true, clock });
  });
  afterEach(() => store.close());

  it('records every copy of a request card and lists them per request and role', () => {
    store.cards.recordCard({ requestId: 'req-1', role: 'approval', conversationId: '19:approvals@thread.tacv2', activityId: '1001', serviceUrl: 'https://s/', reference: ref('19:approvals@thread.tacv2', '1001') });
    store.cards.recordCard({ requestId: 'req-1', role: 'approval', conversationId: 'a:1:1-approver-2', activityId: '2002', serviceUrl: 'https://s/', reference: ref('a:1:1-approver-2', '2002') });
    store.cards.recordCard({ requestId: 'req-1', role: 'progress', conversationId: 'a:1:1-requester', activityId: '3003', serviceUrl: 'https://s/', reference: ref('a:1:1-requester') });
    store.cards.recordCard({ requestId: 'req-2', role: 'approval', conversationId: 'x', activityId: '4004', serviceUrl: 'https://s/', reference: {} });

    const approvals = store.cards.listCards<ReturnType<typeof ref>>('req-1', 'approval');
    expect(approvals.map((c) => c.activityId)).toEqual(['1001', '2002']);
    expect(approvals[0].reference.conversation.id).toBe('19:approvals@thread.tacv2');
    expect(store.cards.listCards('req-1').map((c) => c.role)).toEqual(['approval', 'approval', 'progress']);
    expect(store.cards.findCard('a:1:1-approver-2', '2002')).toMatchObject({ requestId: 'req-1', role: 'approval' });
  });

  it('recording the same activity again updates it instead of duplicating', () => {
    store.cards.recordCard({ requestId: 'req-1', role: 'secret', conversationId: 'c', activityId: 'a', serviceUrl: 'https://old/', reference: { v: 1 } });
    clock.advance(5000);
    const again = store.cards.recordCard({ requestId: 'req-1', role: 'secret', conversationId: 'c', activityId: 'a', serviceUrl: 'https://new/', reference: { v: 2 } });
    expect(again).toMatchObject({ serviceUrl: 'https://new/', reference: { v: 2 }, createdAt: '2025-03-01T08:00:00.000Z', updatedAt: '2025-03-01T08:00:05.000Z' });
    expect(store.cards.listCards('req-1')).toHaveLength(1);
    clock.advance(1000);
    store.cards.touchCard(again.id);
    expect(store.cards.findCard('c', 'a')?.updatedAt).toBe('2025-03-01T08:00:06.000Z');
    expect(store.cards.removeCard('c', 'a')).toBe(true);
    expect(store.cards.findCard('c', 'a')).toBeNull();
  });

  it('never re-binds a recorded card message to another role (a crafted invoke cannot take an approval card over)', () => {
    store.cards.recordCard({ requestId: 'req-1', role: 'approval', conversationId: 'c', activityId: 'a', serviceUrl: 'https://s/', reference: { v: 1 } });
    expect(() => store.cards.recordCard({ requestId: 'draft-9', role: 'form', conversationId: 'c', activityId: 'a', serviceUrl: 'https://s/', reference: { v: 2 } })).toThrow(CardRoleConflict);
    expect(store.cards.findCard('c', 'a')).toMatchObject({ requestId: 'req-1', role: 'approval', reference: { v: 1 } });
    // The same role may be recorded again (e.g. the help card's Set up button pressed twice).
    store.cards.recordCard({ requestId: 'draft-1', role: 'form', conversationId: 'c', activityId: 'f', serviceUrl: 'https://s/', reference: {} });
    expect(store.cards.recordCard({ requestId: 'draft-2', role: 'form', conversationId: 'c', activityId: 'f', serviceUrl: 'https://s/', reference: {} }).requestId).toBe('draft-2');
  });

  it('keeps named conversation references: audit channel, user chats (case-insensitive object id)', () => {
    expect(store.cards.getConversation(AUDIT_CHANNEL)).toBeNull();
    store.cards.setConversation(AUDIT_CHANNEL, { conversationId: '19:audit@thread.tacv2', serviceUrl: 'https://s/', tenantId: 'tenant-1', reference: ref('19:audit@thread.tacv2'), updatedBy: 'aad-admin' });
    clock.advance(1000);
    store.cards.setConversation(AUDIT_CHANNEL, { conversationId: '19:audit2@thread.tacv2', serviceUrl: 'https://s/', reference: ref('19:audit2@thread.tacv2') });
    expect(store.cards.getConversation(AUDIT_CHANNEL)).toMatchObject({ conversationId: '19:audit2@thread.tacv2', tenantId: null, updatedBy: null, updatedAt: '2025-03-01T08:00:01.000Z' });

    store.cards.setUserConversation('AAD-User-1', { conversationId: 'a:1:1-u1', serviceUrl: 'https://s/', reference: ref('a:1:1-u1') });
    store.cards.setUserConversation('aad-user-2', { conversationId: 'a:1:1-u2', serviceUrl: 'https://s/', reference: ref('a:1:1-u2') });
    expect(store.cards.getUserConversation('aad-user-1')?.conversationId).toBe('a:1:1-u1');
    expect(userConversationName('AAD-User-1')).toBe('user:aad-user-1');
    expect(store.cards.listConversations('user:').map((c) => c.name)).toEqual(['user:aad-user-1', 'user:aad-user-2']);
    expect(store.cards.listConversations().length).toBe(3);
    expect(store.cards.removeConversation(AUDIT_CHANNEL)).toBe(true);
    expect(store.cards.getConversation(AUDIT_CHANNEL)).toBeNull();
  });
});
