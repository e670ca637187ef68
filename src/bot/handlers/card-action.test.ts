import { describe, expect, it } from 'vitest';
import { roleConfig, type Actor } from '../../requests/rules';
import type { CardRole, RequestRecord, Store } from '../../store';
import type { TurnPort } from '../turn-port';
import type { Draft } from '../types';
import { guardCardAction, type CardActionNeeds, type GuardServices } from './card-action';

const TENANT = 'tenant-1';
const requester: Actor = { aadObjectId: 'aad-requester', name: 'Rita', mri: '29:rita', tenantId: TENANT };
const otherAdmin: Actor = { aadObjectId: 'aad-admin-2', name: 'Adam', mri: '29:adam', tenantId: TENANT };
const nobody: Actor = { aadObjectId: 'aad-user', name: 'Nils', mri: '29:nils', tenantId: TENANT };

/** The store as far as the guard reads it: recorded cards, requests, drafts (kv). */
function fakeStore(init: { cards?: { conversationId: string; activityId: string; requestId: string; role: CardRole }[]; requests?: string[]; drafts?: Draft[] }) {
  const cards = init.cards ?? [];
  const store = {
    cards: { findCard: (conversationId: string, activityId: string) => cards.find((c) => c.conversationId === conversationId && c.activityId === activityId) ?? null },
    requests: {
      get: (id: string) =>
        (init.requests ?? []).includes(id)
          ? ({ id, status: 'pending', requester: { aadObjectId: requester.aadObjectId }, tenantId: TENANT, expiresAt: '2099-01-01T00:00:00.000Z' } as unknown as RequestRecord)
          : null,
    },
    kv: {
      get: (key: string) => {
        const found = (init.drafts ?? []).find((d) => `draft:${d.id}` === key);
        return found ? { value: found } : null;
      },
    },
  };
  return store as unknown as Store;
}

function draft(id: string, kind: Draft['kind'] = 'setup'): Draft {
  return { id, kind, requester: { aadObjectId: requester.aadObjectId, name: requester.name, mri: requester.mri }, tenantId: TENANT, origin: {} as Draft['origin'], createdAt: '' };
}

function turn(over: Partial<TurnPort> = {}): TurnPort {
  return {
    actor: requester,
    activityId: 'act-1',
    conversation: { id: 'a:chat', isChannel: false, isPersonal: true, teamsChannel: null },
    reference: {},
    serviceUrl: 'https://service/',
    bot: { id: '28:bot', name: 'Bot' },
    actionData: { requestId: 'req-1' },
    invokedMessage: 'msg-1',
    isAutomaticRefresh: false,
    send: async () => null,
    update: async () => undefined,
    member: async () => ({}),
    ...over,
  };
}

const roles = roleConfig([requester.aadObjectId, otherAdmin.aadObjectId], ['aad-approver'], [TENANT]);
const services = (store: Store): GuardServices => ({ store, roles });
const boundCard = { conversationId: 'a:chat', activityId: 'msg-1', requestId: 'req-1' };

function outcome(t: TurnPort, store: Store, needs: CardActionNeeds) {
  const g = guardCardAction(t, services(store), needs);
  return g.error ? { stage: g.stage, code: g.error.code, detail: g.error.detail } : { ok: true as const };
}

describe('guardCardAction', () => {
  const requestNeeds = { verb: 'reveal', clickOnly: true, card: ['secret'], subject: 'request', access: 'requester' } as const;
  const requestStore = fakeStore({ cards: [{ ...boundCard, role: 'secret' }], requests: ['req-1'] });

  it('lets a click through when every stage holds, and hands over what the handler needs', () => {
    const g = guardCardAction(turn({ actionData: { requestId: 'req-1', note: 'typed', n: 3 } }), services(requestStore), requestNeeds);
    expect(g.error).toBeUndefined();
    if (g.error) return;
    expect(g.data).toEqual({ requestId: 'req-1' });
    expect(g.inputs).toEqual({ note: 'typed' });
    expect(g.request.id).toBe('req-1');
    expect(g.actor).toBe(requester);
  });

  it('stage data: refuses data without the verb’s id (or not a string), with the handler’s detail', () => {
    for (const actionData of [{}, { requestId: 42 }, { requestId: '  ' }, ['req-1'], 'req-1', undefined]) {
      expect(outcome(turn({ actionData }), requestStore, { ...requestNeeds, missingData: 'the card did not say which request' })).toEqual({
        stage: 'data',
        code: 'E_REQUEST_NOT_FOUND',
        detail: 'the card did not say which request',
      });
    }
  });

  it('stage click: a refresh is refused for verbs that change something, and only for them', () => {
    expect(outcome(turn({ isAutomaticRefresh: true }), requestStore, requestNeeds)).toMatchObject({ stage: 'click', code: 'E_ACTION_NOT_CLICKED' });
    expect(outcome(turn({ isAutomaticRefresh: true }), requestStore, { ...requestNeeds, clickOnly: false })).toEqual({ ok: true });
  });

  it('stage card: the clicked message must be the bot’s card of that role for exactly that request', () => {
    const notSent = { stage: 'card', code: 'E_REQUEST_NOT_FOUND', detail: 'the action did not come from a card the bot sent' };
    const other = { stage: 'card', code: 'E_REQUEST_NOT_FOUND', detail: 'the card belongs to a different request' };
    expect(outcome(turn({ invokedMessage: null }), requestStore, requestNeeds)).toEqual(notSent);
    expect(outcome(turn({ invokedMessage: 'never-sent' }), requestStore, requestNeeds)).toEqual(notSent);
    expect(outcome(turn({ conversation: { ...turn().conversation, id: '' } }), requestStore, requestNeeds)).toEqual(notSent);
    // Swapped ids: the card is request 2's, the data names request 1 (which exists, and whose requester clicks).
    const swapped = fakeStore({ cards: [{ ...boundCard, requestId: 'req-2', role: 'secret' }], requests: ['req-1', 'req-2'] });
    expect(outcome(turn(), swapped, requestNeeds)).toEqual(other);
    // The right request, but a card of another role (Reveal forged onto the approval card).
    const wrongRole = fakeStore({ cards: [{ ...boundCard, role: 'approval' }], requests: ['req-1'] });
    expect(outcome(turn(), wrongRole, requestNeeds)).toEqual(other);
  });

  it('stage card: a click in a channel thread finds the card recorded for the channel', () => {
    const inChannel = fakeStore({ cards: [{ conversationId: '19:c@thread.tacv2', activityId: 'msg-1', requestId: 'req-1', role: 'secret' }], requests: ['req-1'] });
    const thread = turn({ conversation: { id: '19:c@thread.tacv2;messageid=1', isChannel: true, isPersonal: false, teamsChannel: { id: '19:c@thread.tacv2', name: null } } });
    expect(outcome(thread, inChannel, requestNeeds)).toEqual({ ok: true });
  });

  it('stage subject: the request or draft the data names must exist (a draft of the expected kind)', () => {
    const noRequest = fakeStore({ cards: [{ ...boundCard, role: 'secret' }] });
    expect(outcome(turn(), noRequest, requestNeeds)).toMatchObject({ stage: 'subject', code: 'E_REQUEST_NOT_FOUND' });

    const draftNeeds = { verb: 'choose-registration', card: ['form'], subject: 'draft', draftKind: 'add-sender', access: 'draft-owner' } as const;
    const formCard = { ...boundCard, role: 'form' as const };
    expect(outcome(turn(), fakeStore({ cards: [formCard] }), draftNeeds)).toMatchObject({ stage: 'subject', code: 'E_REQUEST_NOT_FOUND' });
    expect(outcome(turn(), fakeStore({ cards: [formCard], drafts: [draft('req-1', 'setup')] }), draftNeeds)).toMatchObject({ stage: 'subject' });
    expect(outcome(turn(), fakeStore({ cards: [formCard], drafts: [draft('req-1', 'add-sender')] }), draftNeeds)).toEqual({ ok: true });
    // Without a kind, any draft will do (the setup form's buttons).
    expect(outcome(turn(), fakeStore({ cards: [formCard], drafts: [draft('req-1', 'add-sender')] }), { ...draftNeeds, draftKind: undefined })).toEqual({ ok: true });
  });

  it('stage access: the requester only (same tenant), from the envelope', () => {
    expect(outcome(turn({ actor: otherAdmin }), requestStore, requestNeeds)).toMatchObject({ stage: 'access', code: 'E_NOT_REQUESTER' });
    expect(outcome(turn({ actor: null }), requestStore, requestNeeds)).toMatchObject({ stage: 'access', code: 'E_NOT_REQUESTER' });
    expect(outcome(turn({ actor: { ...requester, tenantId: 'other-tenant' } }), requestStore, requestNeeds)).toMatchObject({ stage: 'access', code: 'E_TENANT_NOT_ALLOWED' });
  });

  it('stage access: a draft is its own admin’s, who must still be an admin', () => {
    const needs = { verb: 'submit-request', card: ['form'], subject: 'draft', access: 'draft-owner' } as const;
    const store = fakeStore({ cards: [{ ...boundCard, role: 'form' }], drafts: [draft('req-1')] });
    expect(outcome(turn(), store, needs)).toEqual({ ok: true });
    expect(outcome(turn({ actor: otherAdmin }), store, needs)).toMatchObject({ stage: 'access', code: 'E_NOT_REQUESTER' });
    expect(outcome(turn({ actor: null }), store, needs)).toMatchObject({ stage: 'access', code: 'E_NOT_REQUESTER' });
    const demoted = { ...services(store), roles: roleConfig([otherAdmin.aadObjectId], ['aad-approver'], [TENANT]) };
    const g = guardCardAction(turn(), demoted, needs);
    expect(g.error && { stage: g.stage, code: g.error.code }).toEqual({ stage: 'access', code: 'E_NOT_ADMIN' });
  });

  it('stage access: admin, decider and anyone', () => {
    const admin = { verb: 'rotate-secret', missingData: 'the card did not say which registration', card: null, subject: 'none', access: 'admin' } as const;
    const t = (actor: Actor | null) => turn({ actor, actionData: { registrationId: 'app-1' }, invokedMessage: null });
    expect(outcome(t(otherAdmin), fakeStore({}), admin)).toEqual({ ok: true });
    expect(outcome(t(nobody), fakeStore({}), admin)).toMatchObject({ stage: 'access', code: 'E_NOT_ADMIN' });
    expect(outcome(t(null), fakeStore({}), admin)).toMatchObject({ stage: 'access', code: 'E_NOT_ADMIN' });
    expect(outcome(turn({ actionData: { requestId: 'req-1' } }), fakeStore({}), { ...admin, verb: 'rotate-secret' })).toMatchObject({ stage: 'data', detail: 'the card did not say which registration' });

    const decider = { verb: 'approve', clickOnly: true, card: ['approval'], subject: 'request', access: 'decider' } as const;
    const approvalStore = fakeStore({ cards: [{ ...boundCard, role: 'approval' }], requests: ['req-1'] });
    expect(outcome(turn({ actor: nobody }), approvalStore, decider)).toEqual({ ok: true });
    expect(outcome(turn({ actor: null }), approvalStore, decider)).toMatchObject({ stage: 'access', code: 'E_NOT_APPROVER' });

    const view = { verb: 'refresh-approval', card: ['approval'], subject: 'request', access: 'anyone' } as const;
    expect(outcome(turn({ actor: null }), approvalStore, view)).toEqual({ ok: true });
  });

  it('checks the stages in order: data, click, card, subject, access', () => {
    // Everything wrong at once: each fix reveals the next stage.
    const broken = { actor: null, isAutomaticRefresh: true, invokedMessage: 'never-sent', actionData: {} };
    const empty = fakeStore({ cards: [{ ...boundCard, role: 'secret' }] });
    expect(outcome(turn(broken), empty, requestNeeds).stage).toBe('data');
    expect(outcome(turn({ ...broken, actionData: { requestId: 'req-1' } }), empty, requestNeeds).stage).toBe('click');
    expect(outcome(turn({ ...broken, actionData: { requestId: 'req-1' }, isAutomaticRefresh: false }), empty, requestNeeds).stage).toBe('card');
    expect(outcome(turn({ actor: null }), empty, requestNeeds).stage).toBe('subject');
    expect(outcome(turn({ actor: null }), requestStore, requestNeeds).stage).toBe('access');
  });

  it('hands the data with a refusal after the data stage (handlers audit some refusals)', () => {
    const g = guardCardAction(turn({ actor: otherAdmin }), services(requestStore), requestNeeds);
    expect(g.error && g.stage === 'access' && g.data).toEqual({ requestId: 'req-1' });
  });
});
