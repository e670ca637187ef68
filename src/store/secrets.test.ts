import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE_NAME, KEY_FILE_NAME, degenerateKeyReason, keyFingerprint, loadOrCreateEncryptionKey, openStore, parseEncryptionKey, resolveEncryptionKey, type Store } from './index';
import { HOUR, manualClock, tempDataDir, type ManualClock } from './testing/helpers';
import { race } from './testing/race';

// Shaped like a real Entra secret so the shape-based redaction nets would also see it.
const SECRET = 'aXy7Q~Opter.Secret_Value-0123456789abcde';

function putOne(store: Store, requestId = 'req-1', overrides: Partial<Parameters<Store['secrets']['put']>[0]> = {}) {
  return store.secrets.put({
    requestId,
    jobId: `job-${requestId}`,
    appId: 'client-id-1',
    appObjectId: 'app-object-1',
    keyId: `key-${requestId}`,
    secretText: SECRET,
    ownerAadObjectId: 'owner-1',
    expiresAt: new Date(store.clock.now().getTime() + 24 * HOUR),
    credentialEndDateTime: '2035-03-01T08:00:00Z',
    ...overrides,
  });
}

/** Every byte SQLite has on disk for this store: main file, WAL and shared-memory index. */
function diskBytes(dir: string): Buffer {
  const base = join(dir, DB_FILE_NAME);
  return Buffer.concat([base, `${base}-wal`, `${base}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
}

describe('SecretVault', () => {
  let clock: ManualClock;
  let store: Store;
  let data: ReturnType<typeof tempDataDir>;
  const key = randomBytes(32);

  beforeEach(() => {
    clock = manualClock('2025-03-01T08:00:00.000Z');
    data = tempDataDir('secrets');
    store = openStore({ dataDir: data.dir, encryptionKey: key, clock });
  });
  afterEach(() => {
    store.close();
    data.cleanup();
  });

  it('put stores only AES-256-GCM ciphertext: the plaintext is in no column and in no byte of the database or WAL', () => {
    const { secret, replaced } = putOne(store);
    expect(replaced).toBeNull();
    expect(secret).toMatchObject({ requestId: 'req-1', keyId: 'key-req-1', state: 'sealed', revealedAt: null, expiresAt: '2025-03-02T08:00:00.000Z' });
    expect(JSON.stringify(secret)).not.toContain(SECRET);

    const raw = new Database(join(data.dir, DB_FILE_NAME), { readonly: true });
    const row = raw.prepare('SELECT * FROM secrets WHERE request_id = ?').get('req-1') as Record<string, unknown>;
    raw.close();
    expect((row.iv as Buffer).length).toBe(12);
    expect((row.auth_tag as Buffer).length).toBe(16);
    expect((row.ciphertext as Buffer).length).toBe(Buffer.byteLength(SECRET));
    expect(row.key_fingerprint).toBe(keyFingerprint(key));
    for (const v of Object.values(row)) expect(String(v)).not.toContain(SECRET);

    const bytes = diskBytes(data.dir);
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    expect(bytes.includes(Buffer.from(SECRET, 'utf16le'))).toBe(false);
  });

  it('uses a fresh IV for every secret (same plaintext → different ciphertexts)', () => {
    putOne(store, 'req-1');
    putOne(store, 'req-2');
    const raw = new Database(join(data.dir, DB_FILE_NAME), { readonly: true });
    const rows = raw.prepare('SELECT iv, ciphertext FROM secrets ORDER BY request_id').all() as { iv: Buffer; ciphertext: Buffer }[];
    raw.close();
    expect(rows[0].iv.equals(rows[1].iv)).toBe(false);
    expect(rows[0].ciphertext.equals(rows[1].ciphertext)).toBe(false);
  });

  it('claim returns the plaintext once to the owner, records who and when, and destroys the ciphertext', () => {
    putOne(store);
    clock.advance(10 * 60_000);
    const first = store.secrets.claim('req-1', { aadObjectId: 'owner-1', name: 'Olga Owner' });
    expect(first).toMatchObject({ ok: true, secretText: SECRET, keyId: 'key-req-1', appId: 'client-id-1', state: 'revealed' });
    expect(first.ok && first.revealedAt).toBe('2025-03-01T08:10:00.000Z');

    clock.advance(60_000);
    const second = store.secrets.claim('req-1', { aadObjectId: 'owner-1', name: 'Olga Owner' });
    expect(second).toMatchObject({
      ok: false,
      reason: 'already-revealed',
      revealedAt: '2025-03-01T08:10:00.000Z',
      revealedBy: { aadObjectId: 'owner-1', name: 'Olga Owner' },
    });
    expect(JSON.stringify(second)).not.toContain(SECRET);

    const raw = new Database(join(data.dir, DB_FILE_NAME), { readonly: true });
    const row = raw.prepare('SELECT ciphertext, iv, auth_tag FROM secrets').get() as Record<string, unknown>;
    raw.close();
    expect(row).toEqual({ ciphertext: null, iv: null, auth_tag: null });
  });

  it('after claim and close, neither the plaintext nor the old ciphertext remains anywhere in the file', () => {
    putOne(store);
    const raw = new Database(join(data.dir, DB_FILE_NAME), { readonly: true });
    const ciphertext = (raw.prepare('SELECT ciphertext FROM secrets').get() as { ciphertext: Buffer }).ciphertext;
    raw.close();
    expect(store.secrets.claim('req-1', { aadObjectId: 'owner-1' }).ok).toBe(true);
    expect(diskBytes(data.dir).includes(Buffer.from(SECRET))).toBe(false);
    store.close(); // last connection: checkpoints the WAL into the main file and removes it
    const bytes = diskBytes(data.dir);
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    // secure_delete: the destroyed ciphertext was zeroed on its page, not left in free space.
    expect(bytes.includes(ciphertext)).toBe(false);
  });

  it('only the owner can claim; a refused claim does not burn the secret', () => {
    putOne(store);
    const other = store.secrets.claim('req-1', { aadObjectId: 'someone-else' });
    expect(other).toMatchObject({ ok: false, reason: 'not-owner' });
    expect(JSON.stringify(other)).not.toContain(SECRET);
    expect(store.secrets.get('req-1')?.state).toBe('sealed');
    // Object ids from Teams may differ in case; the owner still gets it.
    expect(store.secrets.claim('req-1', { aadObjectId: 'OWNER-1' })).toMatchObject({ ok: true, secretText: SECRET });
  });

  it('claim reports not-found and expired (past expiresAt, even before the sweep ran)', () => {
    expect(store.secrets.claim('nope', { aadObjectId: 'owner-1' })).toEqual({ ok: false, reason: 'not-found' });
    putOne(store);
    clock.advance(24 * HOUR);
    expect(store.secrets.claim('req-1', { aadObjectId: 'owner-1' })).toMatchObject({ ok: false, reason: 'expired', expiresAt: '2025-03-02T08:00:00.000Z' });
  });

  it('50 concurrent claims in one process (Promise.all) → exactly one plaintext, 49 already-revealed', async () => {
    putOne(store);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => Promise.resolve().then(() => store.secrets.claim('req-1', { aadObjectId: 'owner-1', name: `click-${i}` }))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'already-revealed')).toHaveLength(49);
  });

  it('50 concurrent claims from two processes on the same file → exactly one plaintext per secret', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `race-${i}`);
    for (const id of ids) putOne(store, id);
    const outputs = await race(2, { dataDir: data.dir, keyHex: key.toString('hex'), mode: 'claim', ids, repeats: 25, now: clock.now().toISOString() });
    expect(outputs.flatMap((o) => o.errors)).toEqual([]);
    const all = outputs.flatMap((o) => o.results) as { id: string; ok: boolean; secretText?: string; reason?: string }[];
    expect(all).toHaveLength(ids.length * 50);
    for (const id of ids) {
      const mine = all.filter((r) => r.id === id);
      expect(mine.filter((r) => r.ok)).toHaveLength(1);
      expect(mine.find((r) => r.ok)?.secretText).toBe(SECRET);
      expect(mine.filter((r) => !r.ok && r.reason === 'already-revealed')).toHaveLength(49);
      expect(store.secrets.get(id)?.state).toBe('revealed');
    }
    expect(diskBytes(data.dir).includes(Buffer.from(SECRET))).toBe(false);
  }, 60_000);

  it('a ciphertext moved to another row fails authentication (AAD binds request and keyId) and stays sealed', () => {
    putOne(store, 'req-1');
    putOne(store, 'req-2');
    const raw = new Database(join(data.dir, DB_FILE_NAME));
    raw.prepare(
      `UPDATE secrets SET (ciphertext, iv, auth_tag) = (SELECT ciphertext, iv, auth_tag FROM secrets WHERE request_id = 'req-1')
       WHERE request_id = 'req-2'`,
    ).run();
    raw.close();
    expect(() => store.secrets.claim('req-2', { aadObjectId: 'owner-1' })).toThrow(/failed authentication/);
    expect(store.secrets.get('req-2')?.state).toBe('sealed');
    expect(store.secrets.claim('req-1', { aadObjectId: 'owner-1' })).toMatchObject({ ok: true, secretText: SECRET });
  });

  it('a store opened with a different key names the key problem and keeps the secret claimable for the right key', () => {
    putOne(store);
    store.close();
    const wrong = openStore({ dataDir: data.dir, encryptionKey: randomBytes(32), clock });
    let message = '';
    try {
      wrong.secrets.claim('req-1', { aadObjectId: 'owner-1' });
    } catch (e) {
      message = (e as Error).message;
    }
    wrong.close();
    expect(message).toMatch(/different SECRET_ENCRYPTION_KEY/);
    store = openStore({ dataDir: data.dir, encryptionKey: key, clock });
    expect(store.secrets.claim('req-1', { aadObjectId: 'owner-1' })).toMatchObject({ ok: true, secretText: SECRET });
  });

  it('expireDue purges unrevealed secrets past expiry exactly once and lists them until the credential is removed', () => {
    putOne(store, 'req-1', { expiresAt: '2025-03-01T10:00:00Z' });
    putOne(store, 'req-2', { expiresAt: '2025-03-01T12:00:00Z' });
    putOne(store, 'req-3', { expiresAt: '2025-03-01T09:00:00Z' });
    store.secrets.claim('req-3', { aadObjectId: 'owner-1' });

    expect(store.secrets.expireDue(new Date('2025-03-01T09:59:59.999Z'))).toEqual([]);
    const expired = store.secrets.expireDue(new Date('2025-03-01T11:00:00Z'));
    expect(expired.map((s) => [s.requestId, s.keyId, s.appObjectId, s.state])).toEqual([['req-1', 'key-req-1', 'app-object-1', 'expired']]);
    expect(JSON.stringify(expired)).not.toContain(SECRET);
    expect(store.secrets.expireDue(new Date('2025-03-01T11:00:00Z'))).toEqual([]);
    expect(store.secrets.claim('req-1', { aadObjectId: 'owner-1' })).toMatchObject({ ok: false, reason: 'expired' });

    const raw = new Database(join(data.dir, DB_FILE_NAME), { readonly: true });
    expect(raw.prepare(`SELECT ciphertext FROM secrets WHERE request_id = 'req-1'`).get()).toEqual({ ciphertext: null });
    raw.close();

    // A crash between expiry and removePassword: the secret is still listed after reopening.
    store.close();
    store = openStore({ dataDir: data.dir, encryptionKey: key, clock });
    expect(store.secrets.listAwaitingCredentialRemoval().map((s) => s.requestId)).toEqual(['req-1']);
    expect(store.secrets.markCredentialRemoved('req-1')).toBe(true);
    expect(store.secrets.markCredentialRemoved('req-1')).toBe(false);
    expect(store.secrets.listAwaitingCredentialRemoval()).toEqual([]);
    // A sealed secret's credential cannot be marked removed (it would be a live secret we forgot about).
    expect(store.secrets.markCredentialRemoved('req-2')).toBe(false);
  });

  it('put again with the same keyId re-seals; a different keyId replaces and reports the old credential; after reveal it refuses', () => {
    putOne(store, 'req-1', { keyId: 'key-a' });
    expect(putOne(store, 'req-1', { keyId: 'key-a' }).replaced).toBeNull();
    const { replaced, secret } = putOne(store, 'req-1', { keyId: 'key-b', secretText: `${SECRET}-2` });
    expect(replaced).toMatchObject({ keyId: 'key-a', appObjectId: 'app-object-1', state: 'sealed' });
    expect(secret.keyId).toBe('key-b');
    expect(store.secrets.holds('job-req-1', 'key-a')).toBe(false);
    expect(store.secrets.holds('job-req-1', 'key-b')).toBe(true);
    expect(store.secrets.claim('req-1', { aadObjectId: 'owner-1' })).toMatchObject({ ok: true, secretText: `${SECRET}-2`, keyId: 'key-b' });
    expect(() => putOne(store, 'req-1', { keyId: 'key-c' })).toThrow(/already revealed/);
  });

  it('metadata reads never contain the secret', () => {
    putOne(store, 'req-1');
    putOne(store, 'req-2');
    store.secrets.claim('req-2', { aadObjectId: 'owner-1' });
    const views = [store.secrets.get('req-1'), store.secrets.findByKey('job-req-1', 'key-req-1'), store.secrets.list(), store.secrets.list('sealed')];
    for (const v of views) expect(JSON.stringify(v)).not.toContain(SECRET);
    expect(store.secrets.list('sealed').map((s) => s.requestId)).toEqual(['req-1']);
    expect(store.secrets.list('revealed').map((s) => s.requestId)).toEqual(['req-2']);
    expect(store.secrets.holds('job-req-2', 'key-req-2')).toBe(true);
    expect(store.secrets.holds('job-req-2', 'other')).toBe(false);
  });

  it('a file store without an encryption key refuses to seal or reveal', () => {
    store.close();
    store = openStore({ dataDir: data.dir, clock });
    expect(() => putOne(store)).toThrow(/no encryption key/);
    expect(() => store.secrets.claim('req-1', { aadObjectId: 'owner-1' })).toThrow(/no encryption key/);
  });
});

describe('loadOrCreateEncryptionKey', () => {
  let data: ReturnType<typeof tempDataDir>;
  beforeEach(() => (data = tempDataDir('key')));
  afterEach(() => data.cleanup());

  it('prefers SECRET_ENCRYPTION_KEY in base64, base64url or hex and writes no file', () => {
    const key = randomBytes(32);
    for (const text of [key.toString('base64'), key.toString('base64url'), key.toString('hex'), ` ${key.toString('hex').toUpperCase()}\n`]) {
      expect(loadOrCreateEncryptionKey(data.dir, { env: { SECRET_ENCRYPTION_KEY: text } }).equals(key)).toBe(true);
    }
    expect(existsSync(join(data.dir, KEY_FILE_NAME))).toBe(false);
  });

  it('rejects a key of the wrong length without echoing it', () => {
    const bad = randomBytes(16).toString('base64');
    let message = '';
    try {
      loadOrCreateEncryptionKey(data.dir, { env: { SECRET_ENCRYPTION_KEY: bad } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/32 random bytes/);
    expect(message).not.toContain(bad);
    expect(() => parseEncryptionKey('not a key!')).toThrow(/32 random bytes/);
  });

  it('refuses degenerate keys (zeros, repeated bytes or patterns, counting, a typed passphrase), never echoing them', () => {
    const r16 = randomBytes(16);
    const r8 = randomBytes(8);
    const degenerate = [
      Buffer.alloc(32),
      Buffer.alloc(32, 0xff),
      Buffer.concat([r16, r16]),
      Buffer.concat([r8, r8, r8, r8]),
      Buffer.from(Array.from({ length: 32 }, (_, i) => i)),
      Buffer.from(Array.from({ length: 32 }, (_, i) => (200 + 3 * i) % 256)),
      Buffer.from('correct horse battery staple!!!!'),
    ];
    for (const key of degenerate) {
      expect(key.length).toBe(32);
      expect(degenerateKeyReason(key), key.toString('hex')).not.toBeNull();
      for (const text of [key.toString('base64'), key.toString('hex')]) {
        let message = '';
        try {
          loadOrCreateEncryptionKey(data.dir, { env: { SECRET_ENCRYPTION_KEY: text } });
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message).toMatch(/SECRET_ENCRYPTION_KEY is not a usable key: .*32 random bytes/);
        expect(message).not.toContain(text);
      }
    }
    // Real keys pass: 2 000 random ones (each test fails for random bytes with probability < 1e-13).
    for (let i = 0; i < 2000; i++) expect(degenerateKeyReason(randomBytes(32))).toBeNull();
  });

  it('says where the key came from: the variable, an existing secret.key or a new one', () => {
    const key = randomBytes(32);
    expect(resolveEncryptionKey(data.dir, { env: { SECRET_ENCRYPTION_KEY: key.toString('base64') } })).toMatchObject({ source: 'env', file: null });
    const created = resolveEncryptionKey(data.dir, { env: {} });
    expect(created).toMatchObject({ source: 'created', file: join(data.dir, KEY_FILE_NAME) });
    const again = resolveEncryptionKey(data.dir, { env: {}, allowCreate: false });
    expect(again).toMatchObject({ source: 'file', file: join(data.dir, KEY_FILE_NAME) });
    expect(again.key.equals(created.key)).toBe(true);
  });

  it('creates secret.key with mode 0600 once and reuses it', () => {
    const dir = join(data.dir, 'nested', 'data');
    const first = loadOrCreateEncryptionKey(dir, { env: {} });
    expect(first.length).toBe(32);
    const file = join(dir, KEY_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateEncryptionKey(dir, { env: {} }).equals(first)).toBe(true);
  });

  it('tightens a key file others can read, and refuses to create one when creation is not allowed', () => {
    const file = join(data.dir, KEY_FILE_NAME);
    const key = randomBytes(32);
    writeFileSync(file, key.toString('base64'), { mode: 0o644 });
    expect(loadOrCreateEncryptionKey(data.dir, { env: {} }).equals(key)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => loadOrCreateEncryptionKey(join(data.dir, 'empty'), { env: {}, allowCreate: false })).toThrow(/SECRET_ENCRYPTION_KEY is not set/);
  });

  it('a memory store works without a key (random per process)', () => {
    const s = openStore({ memory: true });
    s.secrets.put({ requestId: 'r', jobId: 'j', appId: 'a', appObjectId: 'o', keyId: 'k', secretText: SECRET, ownerAadObjectId: 'u', expiresAt: new Date(Date.now() + HOUR) });
    expect(s.secrets.claim('r', { aadObjectId: 'u' })).toMatchObject({ ok: true, secretText: SECRET });
    s.close();
  });
});
