import { describe, expect, it } from 'vitest';
import { findSecretKeys, isSecretKey, redact, redactString, REDACTED, SecretRegistry } from './redact';

const ENTRA = 'q7v8Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456.';
const KNOWN = 'plain-looking-secret-value';

describe('isSecretKey', () => {
  it.each(['secretText', 'SecretText', 'clientSecret', 'client_secret', 'AZURE_CLIENT_SECRET', 'password', 'BOT_PASSWORD', 'accessToken', 'refresh_token', 'Authorization', 'apiKey', 'SECRET_ENCRYPTION_KEY', 'privateKey', 'secret', 'ciphertext'])(
    'flags %s',
    (k) => expect(isSecretKey(k)).toBe(true),
  );
  it.each(['keyId', 'secretDisplayName', 'secretExpiresAt', 'secretKeyId', 'displayName', 'appId', 'tokenType', 'hint', 'endDateTime', ''])('keeps %s', (k) =>
    expect(isSecretKey(k)).toBe(false),
  );
});

describe('redactString', () => {
  it('removes known secret values wherever they occur, also JSON-escaped and URL-encoded', () => {
    const tricky = 'pa"ss/wo rd+\\x';
    expect(redactString(`a ${KNOWN} b ${KNOWN}`, [KNOWN])).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(redactString(JSON.stringify({ v: tricky }), [tricky])).toBe(`{"v":"${REDACTED}"}`);
    expect(redactString(`GET /x?s=${encodeURIComponent(tricky)}`, [tricky])).toBe(`GET /x?s=${REDACTED}`);
  });

  it('removes Entra client secrets, bearer tokens and JWTs by shape', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    expect(redactString(`secret=${ENTRA} end`)).toBe(`secret=${REDACTED} end`);
    expect(redactString('Authorization: Bearer abc.def-ghi_123')).toBe(`Authorization: ${REDACTED}`);
    expect(redactString(`token ${jwt}`)).toBe(`token ${REDACTED}`);
    expect(redactString('an ordinary log line about app 00000003-0000-0000-c000-000000000000')).toBe(
      'an ordinary log line about app 00000003-0000-0000-c000-000000000000',
    );
  });

  it('ignores too-short known values instead of shredding text', () => {
    expect(redactString('a b c', ['a', ''])).toBe('a b c');
  });
});

describe('redact', () => {
  it('hides secret-named members and known values at any depth, keeping metadata, and does not mutate the input', () => {
    const input = {
      keyId: 'k-1',
      secretDisplayName: 'opter-secret',
      secretText: 'anything',
      hasSecret: true,
      nested: [{ clientSecret: 'x', note: `leaked ${KNOWN}` }],
      headers: new Map([['authorization', 'Bearer zzzzzzzzzz']]),
      when: new Date('2025-01-01T00:00:00Z'),
      count: 3,
      nothing: null,
    };
    const out = redact(input, { secrets: [KNOWN] });
    expect(out).toEqual({
      keyId: 'k-1',
      secretDisplayName: 'opter-secret',
      secretText: REDACTED,
      hasSecret: true,
      nested: [{ clientSecret: REDACTED, note: `leaked ${REDACTED}` }],
      headers: new Map([['authorization', REDACTED]]),
      when: new Date('2025-01-01T00:00:00Z'),
      count: 3,
      nothing: null,
    });
    expect(input.secretText).toBe('anything');
  });

  it('redacts errors (message, stack, cause), buffers and cycles', () => {
    const err = new Error(`login failed for ${KNOWN}`, { cause: { password: 'p', detail: ENTRA } });
    const out = redact({ err, key: Buffer.from('key material'), self: null as unknown }, { secrets: [KNOWN] });
    const e = out.err as unknown as Record<string, unknown>;
    expect(e.message).toBe(`login failed for ${REDACTED}`);
    expect(String(e.stack)).not.toContain(KNOWN);
    expect(e.cause).toEqual({ password: REDACTED, detail: REDACTED });
    expect(out.key).toBe('[12 bytes]');

    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ name: 'loop', self: '[Circular]' });
  });

  it('handles strings and primitives at top level', () => {
    expect(redact(`x ${ENTRA}`)).toBe(`x ${REDACTED}`);
    expect(redact(42)).toBe(42);
    expect(redact(undefined)).toBeUndefined();
  });

  it('SecretRegistry remembers secrets the process handled until forgotten', () => {
    const reg = new SecretRegistry();
    reg.add(KNOWN);
    reg.add('no'); // too short to register
    expect(reg.size).toBe(1);
    expect(reg.redactString(`v=${KNOWN}`)).toBe(`v=${REDACTED}`);
    expect(reg.redact({ msg: KNOWN })).toEqual({ msg: REDACTED });
    reg.forget(KNOWN);
    expect(reg.redactString(`v=${KNOWN}`)).toBe(`v=${KNOWN}`);
  });
});

describe('findSecretKeys', () => {
  it('names the paths of non-empty credential members', () => {
    expect(findSecretKeys({ a: { secretText: 's' }, list: [{ password: 'p' }], secretText: '', keyId: 'k', hasPassword: true })).toEqual([
      'a.secretText',
      'list[0].password',
    ]);
  });
});
