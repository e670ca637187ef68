import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../core/ports';
import type { RemoveSendersResult } from '../provisioning';
import { actionFor } from './registry';
import { requestResultOf, typedResultOf } from './results';

const payload = {
  appName: 'App',
  appId: 'client-1',
  overrides: {},
  groupName: 'App senders',
  groupAlias: 'app-senders',
  groupSmtp: 'app-senders@contoso.com',
  senders: ['a@contoso.com', 'b@contoso.com'],
  scoping: 'access-policy',
  origin: { reference: {}, isChannel: false },
  remove: ['b@contoso.com'],
};
const request = { id: 'r1', kind: 'remove-sender', payload, result: null, requester: { name: 'Ada' } };
const checks = [{ name: 'b@contoso.com → Denied', ok: true, detail: 'Denied' }];
const typed: RemoveSendersResult = {
  kind: 'remove-sender',
  appId: 'client-1',
  located: { appId: 'client-1', appObjectId: 'app-obj', spObjectId: 'sp-obj', groupSmtp: 'app-senders@contoso.com', senders: ['a@contoso.com', 'b@contoso.com'], scoping: 'access-policy' },
  groupSmtp: 'app-senders@contoso.com',
  removed: ['b@contoso.com'],
  notMembers: [],
  members: ['a@contoso.com'],
  checks,
  notes: ['Removal takes effect with a delay.'],
};
const job = (result: unknown): JobRecord => ({
  id: 'j1',
  kind: 'remove-sender',
  status: 'succeeded',
  input: { appDisplayName: 'App', senders: ['b@contoso.com'] },
  idempotencyKey: 'r1',
  lastError: null,
  resumeAfter: null,
  result,
  createdAt: '2026-03-02T10:00:00.000Z',
  updatedAt: '2026-03-02T10:01:00.000Z',
});
const action = actionFor('remove-sender')!;

describe('the result a finished job leaves on its request', () => {
  it('comes from the job’s typed result, decoded with the action’s workflow; the steps are not read', () => {
    const steps = () => {
      throw new Error('the journal’s steps were read');
    };
    const result = requestResultOf(action, { request, tenantId: 't1', job: job(JSON.parse(JSON.stringify(typed))), steps });
    expect(result).toMatchObject({
      kind: 'remove-sender',
      tenantId: 't1',
      clientId: 'client-1',
      appObjectId: 'app-obj',
      spObjectId: 'sp-obj',
      groupSmtp: 'app-senders@contoso.com',
      senders: ['a@contoso.com'],
      removed: ['b@contoso.com'],
      notMembers: [],
      checks,
      notes: typed.notes,
    });
  });

  it('a stored result that does not decode is not used (the live value is, when there is one)', () => {
    expect(typedResultOf(action, job({ kind: 'remove-sender' }))).toBeNull();
    expect(typedResultOf(action, job({ kind: 'remove-sender' }), typed)).toEqual(typed);
  });

  it('a job that succeeded before results were stored is read from its steps (the legacy path)', () => {
    const steps = new Map<string, Record<string, unknown>>([
      ['locate', { appId: 'client-1', appObjectId: 'app-obj', spObjectId: 'sp-obj', groupSmtp: 'app-senders@contoso.com', senders: ['a@contoso.com', 'b@contoso.com'], scoping: 'access-policy' }],
      ['members', { removed: ['b@contoso.com'], notMembers: [], members: ['a@contoso.com'] }],
      ['verify', { checks }],
    ]);
    const fromSteps = requestResultOf(action, { request, tenantId: 't1', job: job(null), steps: () => steps });
    const fromResult = requestResultOf(action, { request, tenantId: 't1', job: job(typed), steps: () => steps });
    // The same facts, but the notes of that run were never stored.
    expect(fromSteps).toEqual({ ...fromResult, notes: [] });
  });
});
