import { describe, expect, test } from 'vitest';
import { applySelect, parseEqFilter, parseKeySegment, splitPath } from './odata';

describe('parseEqFilter', () => {
  test("reads '' inside a literal as one quote [G12]", () => {
    expect(parseEqFilter("displayName eq 'O''Neil'")).toEqual({ ok: true, clauses: [{ property: 'displayName', value: "O'Neil" }] });
  });
  test('joins clauses with and', () => {
    expect(parseEqFilter("appId eq 'a' and displayName eq 'b c'")).toEqual({
      ok: true,
      clauses: [
        { property: 'appId', value: 'a' },
        { property: 'displayName', value: 'b c' },
      ],
    });
  });
  test.each(["displayName eq 'O'Neil'", "displayName eq 'open", 'displayName eq 5', "startswith(displayName,'a')", "displayName ne 'a'", "a eq 'x' or b eq 'y'"])(
    'rejects %s',
    (f) => {
      expect(parseEqFilter(f).ok).toBe(false);
    },
  );
});

describe('parseKeySegment', () => {
  test('alternate keys with escaped quotes', () => {
    expect(parseKeySegment("applications(uniqueName='it''s')")).toEqual({ collection: 'applications', key: 'uniqueName', value: "it's" });
    expect(parseKeySegment("servicePrincipals(appId='abc')")).toEqual({ collection: 'servicePrincipals', key: 'appId', value: 'abc' });
    expect(parseKeySegment("applications('abc')")).toEqual({ collection: 'applications', key: null, value: 'abc' });
  });
  test('not a key segment', () => {
    expect(parseKeySegment('applications')).toBeNull();
    expect(parseKeySegment("applications(uniqueName='a'b')")).toBeNull();
  });
});

describe('splitPath', () => {
  test('percent-decodes and keeps slashes inside quoted keys', () => {
    expect(splitPath("/v1.0/applications(uniqueName='a%2Fb')/addPassword")).toEqual(['v1.0', "applications(uniqueName='a/b')", 'addPassword']);
    expect(splitPath('/v1.0/applications%28appId%3D%27x%27%29')).toEqual(['v1.0', "applications(appId='x')"]);
  });
});

test('applySelect keeps listed properties (case-insensitive) and OData annotations', () => {
  expect(applySelect({ '@odata.context': 'c', id: '1', appId: '2', displayName: 'n' }, 'ID,displayName')).toEqual({ '@odata.context': 'c', id: '1', displayName: 'n' });
  expect(applySelect({ id: '1' }, null)).toEqual({ id: '1' });
});
