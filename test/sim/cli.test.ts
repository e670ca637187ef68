import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const dataDir = mkdtempSync(join(tmpdir(), 'sim-cli-test-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** GET over HTTPS trusting only the given CA (the CLI's own certificate, not the test one). */
function getJson(url: string, ca: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 10_000 }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('npm run sim (src/sim/cli.ts) persists under DATA_DIR, prints paste-ready env lines that work, and stops on SIGINT', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, DATA_DIR: dataDir, SIM_AUTHORITY_PORT: '0', SIM_GRAPH_PORT: '0', SIM_EXCHANGE_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`CLI did not become ready:\n${out}`)), 30_000);
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('Press Ctrl-C to stop.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`CLI exited early with ${code}:\n${out}`)));
    });
    const env = Object.fromEntries(
      out
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(env).sort()).toEqual(['AUTHORITY_HOST', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT_ID', 'EXCHANGE_ENDPOINT', 'GRAPH_ENDPOINT', 'NODE_EXTRA_CA_CERTS']);
    expect(env.NODE_EXTRA_CA_CERTS).toBe(join(dataDir, 'sim-tls', 'sim-cert.pem'));
    const ca = readFileSync(env.NODE_EXTRA_CA_CERTS!, 'utf8');

    // The printed credential really signs in at the printed authority.
    const tokenRes = await fetchWithCa(`${env.AUTHORITY_HOST}/${env.AZURE_TENANT_ID}/oauth2/v2.0/token`, ca, {
      grant_type: 'client_credentials',
      client_id: env.AZURE_CLIENT_ID!,
      client_secret: env.AZURE_CLIENT_SECRET!,
      scope: `${env.GRAPH_ENDPOINT}/.default`,
    });
    expect(tokenRes.status).toBe(200);
    const info = await getJson(`${env.GRAPH_ENDPOINT}/_sim/info`, ca);
    expect(info.body).toMatchObject({ tenantId: env.AZURE_TENANT_ID, exchangeEndpoint: env.EXCHANGE_ENDPOINT });
    const state = JSON.parse(readFileSync(join(dataDir, 'sim-tenant.json'), 'utf8'));
    expect(state.tenantId).toBe(env.AZURE_TENANT_ID);
    expect(readFileSync(join(dataDir, 'sim-tenant.json'), 'utf8')).not.toContain(env.AZURE_CLIENT_SECRET!);

    // The commented delegated-mode lines name the seeded read-only identity and bot app, and their secrets work.
    const delegated = Object.fromEntries(
      out
        .split('\n')
        .filter((l) => /^# [A-Z_]+=/.test(l))
        .map((l) => [l.slice(2, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(delegated).toMatchObject({ PROVISIONING_AUTH: 'delegated', AZURE_CLIENT_ID: info.body.readOnlyClientId, SSO_CLIENT_ID: info.body.botAppClientId });
    for (const [id, secret] of [[delegated.AZURE_CLIENT_ID!, delegated.AZURE_CLIENT_SECRET!], [delegated.SSO_CLIENT_ID!, delegated.SSO_CLIENT_SECRET!]]) {
      const r = await fetchWithCa(`${env.AUTHORITY_HOST}/${env.AZURE_TENANT_ID}/oauth2/v2.0/token`, ca, { grant_type: 'client_credentials', client_id: id, client_secret: secret, scope: `${env.GRAPH_ENDPOINT}/.default` });
      expect(r.status).toBe(200);
    }

    const exitCode = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (code) => resolve(code));
      child.kill('SIGINT');
    });
    expect(exitCode).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

function fetchWithCa(url: string, ca: string, form: Record<string, string>): Promise<{ status: number; body: any }> {
  const payload = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, timeout: 10_000, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
