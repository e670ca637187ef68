/**
 * A minimal DER writer that builds one self-signed X.509 v3 certificate synchronously with node:crypto.
 * Why not `selfsigned` or openssl: `ensureSimCertificate` must be synchronous (vitest globalSetup and the CLI call
 * it before anything else) and must not depend on a binary being on PATH. The ASN.1 needed is small.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer, unusedBits = 0) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const nullValue = () => Buffer.from([0x05, 0x00]);
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    let v = p >>> 7;
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${body}`)) : tlv(0x18, Buffer.from(`${p(y, 4)}${body}`));
}

function ipv4(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

export interface SelfSignedOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  /** 'server' (default): CA + serverAuth, for the listeners; 'client': a leaf for client-assertion sign-in. */
  purpose?: 'server' | 'client';
}

export interface SelfSignedResult {
  certPem: string;
  keyPem: string;
  privateKey: KeyObject;
}

/** RSA-2048 / SHA-256 self-signed certificate, usable both as trust anchor and as the TLS server certificate. */
export function createSelfSignedCertificate(o: SelfSignedOptions): SelfSignedResult {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), nullValue());
  const name = seq(set(seq(oid('2.5.4.3'), utf8(o.commonName))), set(seq(oid('2.5.4.10'), utf8('Opter mail bot simulator'))));
  const keyId = createHash('sha1').update(spki).digest();

  const altNames = Buffer.concat([
    ...o.dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...o.ipAddresses.map((ip) => tlv(0x87, ipv4(ip))),
  ]);
  const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
  const client = o.purpose === 'client';
  const extensions = seq(
    // Server: CA:TRUE — it is its own trust anchor. Client: a plain leaf.
    ext('2.5.29.19', true, client ? seq() : seq(bool(true))),
    // keyUsage: digitalSignature + keyEncipherment (+ keyCertSign for the self-anchored server certificate)
    ext('2.5.29.15', true, client ? bitString(Buffer.from([0xa0]), 5) : bitString(Buffer.from([0xa4]), 2)),
    ext('2.5.29.37', false, seq(oid(client ? '1.3.6.1.5.5.7.3.2' : '1.3.6.1.5.5.7.3.1'))), // extKeyUsage
    ...(altNames.length ? [ext('2.5.29.17', false, tlv(0x30, altNames))] : []), // subjectAltName
    ext('2.5.29.14', false, octets(keyId)), // subjectKeyIdentifier
  );

  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    sha256WithRsa,
    name,
    seq(time(o.notBefore), time(o.notAfter)),
    name,
    spki,
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, sha256WithRsa, bitString(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey,
  };
}
