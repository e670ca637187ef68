import { describe, expect, it } from 'vitest';
import { checkSsoToken, loginRequestBody, preconditionFailedBody, resourceUriOf, ssoTokenOf } from './sso';

const APP = '0a1b2c3d-0000-4000-8000-000000000abc';
const TENANT = '6babcaad-604b-40ac-a9d7-9fd97c0b779f';
const OID = '22222222-bbbb-4bbb-8bbb-000000000002';
const actor = { aadObjectId: OID, tenantId: TENANT, name: 'Arne', mri: '29:1x' };
const now = new Date('2026-12-03T12:00:00Z');
const nowSec = Math.floor(now.getTime() / 1000);

/** An unsigned token with these claims: the gate reads claims only (the On-Behalf-Of exchange verifies the signature). */
function token(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ aud: resourceUriOf(APP), tid: TENANT, oid: OID, upn: 'arne@contoso.example', exp: nowSec + 3600, wids: ['r1'], ...claims })}.c2ln`;
}
const check = (t: string, minRemainingMs = 60_000) => checkSsoToken(t, { appId: APP, actor, allowedTenants: new Set([TENANT]), now, minRemainingMs });

describe('Universal Actions sign-in', () => {
  it('asks for the bot’s resource, naming the OAuth connection when there is one', () => {
    expect(loginRequestBody({ appId: APP, connectionName: null })).toMatchObject({
      statusCode: 401,
      type: 'application/vnd.microsoft.activity.loginRequest',
      value: { connectionName: '', tokenExchangeResource: { id: APP, uri: `api://botid-${APP}` }, buttons: [{ type: 'signin' }] },
    });
    expect(loginRequestBody({ appId: APP, connectionName: 'opter-sso' })).toMatchObject({ value: { connectionName: 'opter-sso' } });
    expect(preconditionFailedBody('no')).toEqual({ statusCode: 412, type: 'application/vnd.microsoft.error.preconditionFailed', value: { code: '412', message: 'no' } });
  });

  it('reads the token from the retried invoke only', () => {
    expect(ssoTokenOf({ action: {}, authentication: { id: APP, connectionName: '', token: 'abc' } })).toBe('abc');
    expect(ssoTokenOf({ action: {} })).toBeNull();
    expect(ssoTokenOf({ authentication: { token: 7 } })).toBeNull();
  });

  it('accepts the clicking person’s token for this bot, with their roles', () => {
    expect(check(token({}))).toEqual({ claims: { oid: OID, tid: TENANT, upn: 'arne@contoso.example', wids: ['r1'], expiresAt: new Date((nowSec + 3600) * 1000) } });
    expect(check(token({ aud: APP }))).toHaveProperty('claims');
  });

  it.each([
    ['another app’s token', { aud: 'api://botid-someone-else' }, /not for this bot/],
    ['another person’s token', { oid: '11111111-aaaa-4aaa-8aaa-000000000001' }, /not of the person who pressed/],
    ['another tenant’s token', { tid: '0f0f0f0f-1111-4222-8333-444455556666' }, /another tenant/],
  ])('refuses %s', (_what, claims, why) => {
    const r = check(token(claims));
    expect(r).toHaveProperty('error');
    expect((r as { error: { code: string; detail: string } }).error.code).toBe('E_SIGN_IN_REFUSED');
    expect((r as { error: { detail: string } }).error.detail).toMatch(why);
  });

  it('asks again for a token that ends too soon, and refuses what is not a token', () => {
    expect(check(token({ exp: nowSec + 30 }))).toEqual({ expired: true });
    expect(check(token({ exp: nowSec + 30 }), 10_000)).toHaveProperty('claims');
    expect(check('not-a-token')).toHaveProperty('error');
  });
});
