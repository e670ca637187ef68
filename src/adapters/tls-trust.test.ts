/**
 * The in-process trust transport against real HTTPS servers on 127.0.0.1: one whose certificate no process-wide
 * setting trusts (a fresh self-signed one), and the shared test simulator certificate that this worker trusts only
 * through NODE_EXTRA_CA_CERTS (test/setup/global-setup.ts).
 */
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEST_TLS_DIR, ensureSimCertificate } from '../sim/tls';
import { createSelfSignedCertificate } from '../sim/x509';
import { classifyError } from './classify';
import { environmentCas, transportFor } from './tls-trust';

const scratch = mkdtempSync(join(tmpdir(), 'tls-trust-'));
/** A CA nobody in this process trusts yet. */
const own = ensureSimCertificate(join(scratch, 'own'));
/** The shared test certificate, trusted here only through NODE_EXTRA_CA_CERTS. */
const shared = ensureSimCertificate(DEFAULT_TEST_TLS_DIR);

type Handler = Parameters<typeof createServer>[1];

async function serve(cert: { certPem: string; keyPem: string }, handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const echo: Handler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = req.url ?? '/';
    if (path === '/gzip') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ zipped: true })));
    } else if (path === '/bad-gzip') {
      // Exchange's observed 403 for an unknown cmdlet: NUL bytes labelled gzip (src/sim/exchange.ts).
      res.writeHead(403, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(Buffer.alloc(32));
    } else if (path === '/no-content') {
      res.writeHead(204, { 'x-seen': 'yes' });
      res.end();
    } else if (path === '/slow') {
      setTimeout(() => res.end('late'), 2_000).unref();
    } else {
      res.writeHead(201, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ method: req.method, path, body: Buffer.concat(chunks).toString('utf8'), auth: req.headers.authorization ?? null, type: req.headers['content-type'] ?? null }));
    }
  });
};

let ownServer: { url: string; server: Server };
let sharedServer: { url: string; server: Server };

beforeAll(async () => {
  ownServer = await serve(own, echo);
  sharedServer = await serve(shared, echo);
});
afterAll(async () => {
  for (const s of [ownServer, sharedServer]) s?.server.closeAllConnections();
  await Promise.all([ownServer, sharedServer].map((s) => s && new Promise((r) => s.server.close(r))));
  rmSync(scratch, { recursive: true, force: true });
});

describe('transportFor', () => {
  it('is undefined without an extra CA, so the process defaults apply unchanged', () => {
    expect(transportFor({})).toBeUndefined();
    expect(transportFor({ trustedCa: '  ' })).toBeUndefined();
  });

  it('trusts the extra CA in this process, which the global fetch does not', async () => {
    const globalFailure = await fetch(ownServer.url).then(() => null, (e: unknown) => e as Error);
    expect(globalFailure).toBeInstanceOf(TypeError);

    const { fetch: trusted } = transportFor({ trustedCa: own.certPem })!;
    const res = await trusted(`${ownServer.url}/x?y=1`, { method: 'POST', headers: { Authorization: 'Bearer t' }, body: 'hello' });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({ method: 'POST', path: '/x?y=1', body: 'hello', auth: 'Bearer t', type: 'text/plain;charset=UTF-8' });
  });

  it('trusts its CA even when NODE_EXTRA_CA_CERTS holds another simulator certificate with the same subject', async () => {
    expect(environmentCas().join('\n')).toContain(shared.certPem.trim());
    const shadowed = transportFor({ trustedCa: own.certPem })!;
    expect((await shadowed.fetch(ownServer.url)).status).toBe(201);
  });

  it('keeps the CAs of an existing NODE_EXTRA_CA_CERTS: the caller’s own private CA still works', async () => {
    // A private CA of the caller's (a TLS-inspecting proxy, say), given to Node the documented way.
    const now = Date.now();
    const corporate = createSelfSignedCertificate({ commonName: 'Example corporate CA', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 86_400_000) });
    const corporateServer = await serve(corporate, echo);
    const file = join(scratch, 'corporate.pem');
    writeFileSync(file, corporate.certPem);
    const before = process.env.NODE_EXTRA_CA_CERTS;
    process.env.NODE_EXTRA_CA_CERTS = file;
    try {
      const simulatorCa = ensureSimCertificate(join(scratch, 'another-sim')).certPem;
      const { fetch: trusted } = transportFor({ trustedCa: simulatorCa })!;
      expect((await trusted(corporateServer.url)).status).toBe(201);
    } finally {
      process.env.NODE_EXTRA_CA_CERTS = before;
      corporateServer.server.close();
    }
  });

  it('reads NODE_EXTRA_CA_CERTS the way Node does: every certificate of the file, nothing when unset or unreadable', () => {
    const file = join(scratch, 'two.pem');
    writeFileSync(file, `${own.certPem}\n${shared.certPem}`);
    expect(environmentCas({ NODE_EXTRA_CA_CERTS: file })).toHaveLength(2);
    expect(environmentCas({})).toEqual([]);
    expect(environmentCas({ NODE_EXTRA_CA_CERTS: join(scratch, 'missing.pem') })).toEqual([]);
  });

  it('one agent per CA for the whole process, so every adapter shares its keep-alive sockets', () => {
    expect(transportFor({ trustedCa: own.certPem })).toBe(transportFor({ trustedCa: `${own.certPem}\n` }));
    const { agent } = transportFor({ trustedCa: own.certPem })!;
    expect(agent.options.keepAlive).toBe(true);
    // One TLS context for every connection: building one from ~150 CAs per connection costs tens of ms.
    expect(agent.options.secureContext).toBeDefined();
  });
});

describe('the transport behaves like fetch where our clients rely on it', () => {
  const { fetch: trusted } = transportFor({ trustedCa: own.certPem })!;

  it('decodes a gzip body; a broken one fails only when it is read, leaving the status readable', async () => {
    expect(await (await trusted(`${ownServer.url}/gzip`)).json()).toEqual({ zipped: true });
    const [viaGlobal, viaTrusted] = [await fetch(`${sharedServer.url}/bad-gzip`), await trusted(`${ownServer.url}/bad-gzip`)];
    expect(viaTrusted.status).toBe(viaGlobal.status);
    expect(await viaTrusted.text().then(() => 'read', () => 'failed')).toBe(await viaGlobal.text().then(() => 'read', () => 'failed'));
  });

  it('gives a bodiless 204 with its headers', async () => {
    const res = await trusted(`${ownServer.url}/no-content`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-seen')).toBe('yes');
    expect(await res.text()).toBe('');
  });

  it('rejects with the signal’s reason on a timeout, as fetch does', async () => {
    const e = await trusted(`${ownServer.url}/slow`, { signal: AbortSignal.timeout(100) }).then(() => null, (err: unknown) => err as Error);
    expect(e?.name).toBe('TimeoutError');
  });

  it('an untrusted certificate and a refused connection fail as fetch fails, so classify.ts says the same', async () => {
    const other = ensureSimCertificate(join(scratch, 'other'));
    const untrusted = await serve(other, echo);
    const closed = await serve(own, echo);
    closed.server.close();
    try {
      // A port that was just closed: nothing listens there, so the connection is refused.
      for (const url of [untrusted.url, closed.url]) {
        const [viaGlobal, viaTrusted] = await Promise.all(
          [fetch(url), trusted(url)].map((p) => p.then(() => null, (err: unknown) => err as Error & { cause?: { code?: string } })),
        );
        expect(viaTrusted).toBeInstanceOf(TypeError);
        expect(viaTrusted!.message).toBe('fetch failed');
        expect(viaTrusted!.cause?.code).toBe(viaGlobal!.cause?.code);
        const ctx = { service: 'exchange' as const, operation: 'probe' };
        const [a, b] = [classifyError(viaGlobal, ctx), classifyError(viaTrusted, ctx)];
        expect({ code: b.code, transient: b.transient, detail: b.detail }).toEqual({ code: a.code, transient: a.transient, detail: a.detail });
      }
    } finally {
      untrusted.server.close();
    }
  });
});
