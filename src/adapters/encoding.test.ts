import { describe, expect, it } from 'vitest';
import { rolesOf } from './app-signin';
import { encodeParameters, stripAnnotations } from './exchange';
import { odataEqFilter, odataKey, odataQuote, userSegment } from './graph-client';
import { maxPasswordLifetimeOf } from './graph-directory';

describe('OData quoting (docs/microsoft-facts.md §1.4)', () => {
  it('doubles single quotes, then percent-encodes the whole $filter expression', () => {
    expect(odataQuote("O'Neil's app")).toBe("O''Neil''s app");
    expect(odataEqFilter('displayName', "O'Neil & Co?")).toBe("displayName%20eq%20'O''Neil%20%26%20Co%3F'");
    expect(decodeURIComponent(odataEqFilter('displayName', "let's #1/2"))).toBe("displayName eq 'let''s #1/2'");
  });

  it('encodes alternate-key values so they cannot end the segment or the path', () => {
    expect(odataKey("opter-o'neil/x?y#z")).toBe("opter-o''neil%2Fx%3Fy%23z");
    expect(odataKey('Växjö Åkeri')).toBe('V%C3%A4xj%C3%B6%20%C3%85keri');
  });

  it('keeps @ readable in a user path segment', () => {
    expect(userSegment("o'neil+info@exempel.se")).toBe("o'neil%2Binfo@exempel.se");
  });
});

describe('Exchange parameter encoding (docs/microsoft-facts.md §7.3)', () => {
  it('sends switches as true, arrays as arrays, dates with 7 fractional digits, and drops undefined', () => {
    expect(
      encodeParameters({
        Identity: 'g',
        BypassSecurityGroupManagerCheck: true,
        Confirm: false,
        AppId: ['6d1e2f3a-0000-4000-8000-000000000001'],
        Members: new Set(['a@x', 'b@x']),
        When: new Date('2026-11-27T07:08:09.123Z'),
        Skip: undefined,
      }),
    ).toEqual({
      Identity: 'g',
      BypassSecurityGroupManagerCheck: true,
      Confirm: false,
      AppId: ['6d1e2f3a-0000-4000-8000-000000000001'],
      Members: ['a@x', 'b@x'],
      When: '2026-11-27T07:08:09.1230000Z',
    });
  });

  it('strips @odata annotations from output rows', () => {
    expect(
      stripAnnotations({
        '@odata.type': '#Exchange.GenericHashTable',
        Name: 'g',
        'AcceptMessagesOnlyFromWithDisplayNames@odata.type': '#Collection(String)',
        AcceptMessagesOnlyFromWithDisplayNames: [],
      }),
    ).toEqual({ Name: 'g', AcceptMessagesOnlyFromWithDisplayNames: [] });
  });
});

describe('maxPasswordLifetimeOf (defaultAppManagementPolicy)', () => {
  const policy = (passwordCredentials: unknown[], isEnabled = true) => ({ id: 'default', isEnabled, applicationRestrictions: { passwordCredentials, keyCredentials: [] } });

  it('returns the shortest enabled passwordLifetime restriction', () => {
    expect(
      maxPasswordLifetimeOf(
        policy([
          { restrictionType: 'passwordAddition', maxLifetime: null, restrictForAppsCreatedAfterDateTime: '2019-10-19T10:37:00Z' },
          { restrictionType: 'passwordLifetime', maxLifetime: 'P2Y', restrictForAppsCreatedAfterDateTime: '2014-10-19T10:37:00Z' },
          { restrictionType: 'passwordLifetime', maxLifetime: 'P365D', restrictForAppsCreatedAfterDateTime: '2014-10-19T10:37:00Z' },
          { restrictionType: 'passwordLifetime', maxLifetime: 'P30D', state: 'disabled' },
        ]),
      ),
    ).toBe('P365D');
  });

  it('is null without a lifetime restriction or when the policy is disabled', () => {
    expect(maxPasswordLifetimeOf(policy([]))).toBeNull();
    expect(maxPasswordLifetimeOf({ id: 'default', isEnabled: true })).toBeNull();
    expect(maxPasswordLifetimeOf(policy([{ restrictionType: 'passwordLifetime', maxLifetime: 'P90D' }], false))).toBeNull();
  });
});

describe('rolesOf', () => {
  const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  it('reads the roles claim of an app-only token', () => {
    expect(rolesOf(jwt({ aud: 'https://graph.microsoft.com', roles: ['Mail.Send'] }))).toEqual(['Mail.Send']);
    expect(rolesOf(jwt({ aud: 'x' }))).toEqual([]);
  });

  it('treats an opaque token as carrying no readable roles', () => {
    expect(rolesOf('opaque-token')).toEqual([]);
    expect(rolesOf('a.%%%.c')).toEqual([]);
  });
});
