/**
 * `opter-mail` as a user runs it: a child process pointed at the simulated tenant through the configuration
 * contract (AZURE_* and endpoint variables), including SIGKILL at every step boundary followed by `resume`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { startTestSimulator } from '../adapters/helpers';

const BIN = resolve(__dirname, '../../bin/opter-mail.mjs');
let sim: Simulator;
const dirs: string[] = [];

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The bot's SECRET_ENCRYPTION_KEY, which the CLI needs against a real tenant: a test value, not a secret. */
const TEST_ENCRYPTION_KEY = 'cd'.repeat(32);

function envFor(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AZURE_TENANT_ID: sim.tenantId,
    AZURE_CLIENT_ID: sim.provisioning.clientId,
    AZURE_CLIENT_SECRET: sim.provisioning.clientSecret,
    AUTHORITY_HOST: sim.authorityHost,
    GRAPH_ENDPOINT: sim.graphEndpoint,
    EXCHANGE_ENDPOINT: sim.exchangeEndpoint,
    VERIFY_DENIED_MAILBOX: sim.mailboxes.outside,
    DATA_DIR: dataDir,
    OPTER_RETRY_BASE_MS: '100',
    SECRET_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  };
}

function newDataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'opter-cli-'));
  dirs.push(d);
  return d;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `killWhen` sees each stderr line (and may poll the simulator) and SIGKILLs the process when true. */
function runCli(args: string[], dataDir: string, killWhen?: (stderrSoFar: string) => boolean, timeoutMs = 60_000, env: NodeJS.ProcessEnv = envFor(dataDir)): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let poll: NodeJS.Timeout | undefined;
    const check = () => {
      if (killWhen && child.exitCode === null && killWhen(stderr)) child.kill('SIGKILL');
    };
    if (killWhen) poll = setInterval(check, 2);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opter-mail ${args.join(' ')} timed out; stderr:\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      check();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

function tenantCounts(displayName: string) {
  const snap = sim.snapshot();
  const apps = snap.applications.filter((a) => a.displayName === displayName);
  const appIds = new Set(apps.map((a) => a.appId as string));
  const sps = snap.servicePrincipals.filter((s) => appIds.has(s.appId as string));
  const spIds = new Set(sps.map((s) => s.id as string));
  return {
    apps: apps.length,
    sps: sps.length,
    grants: snap.appRoleAssignments.filter((a) => spIds.has(a.principalId as string)).length,
    groups: snap.groups.filter((g) => g.name === `${displayName} - MailSend Allowed`).length,
    policies: snap.accessPolicies.filter((p) => appIds.has(p.appId as string)).length,
    secrets: apps.reduce((n, a) => n + (a.passwordCredentials as unknown[]).length, 0),
  };
}

describe('opter-mail CLI', () => {
  it('provisions with --json: one document with the OUTPUT fields, exit 0', async () => {
    const dir = newDataDir();
    const r = await runCli(['provision', '--app-name', 'Cli Json', '--sender', sim.mailboxes.info, '--sender', sim.mailboxes.faktura, '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.output).toMatchObject({ tenantId: sim.tenantId, groupSmtp: `cli-json-mailsend-allowed@${sim.domain}` });
    expect(doc.output.clientSecret).toMatch(/^.{16,64}$/);
    expect(doc.result.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(tenantCounts('Cli Json')).toEqual({ apps: 1, sps: 1, grants: 1, groups: 1, policies: 1, secrets: 1 });

    const again = await runCli(['provision', '--app-name', 'Cli Json', '--sender', sim.mailboxes.info, '--sender', sim.mailboxes.faktura], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Ms Graph Client Secret   : (unchanged');
    expect(tenantCounts('Cli Json')).toEqual({ apps: 1, sps: 1, grants: 1, groups: 1, policies: 1, secrets: 1 });

    const status = await runCli(['status', '--app-name', 'Cli Json'], dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Mail.Send granted  : yes');
    expect(status.stdout).toContain(`${sim.mailboxes.info}, ${sim.mailboxes.faktura}`);
  });

  it('writes the same audit log as the bot: every step keyed into the chain, by the OS user as the provisioning identity', async () => {
    const dir = newDataDir();
    const r = await runCli(['provision', '--app-name', 'Cli Audit', '--sender', sim.mailboxes.info], dir);
    expect(r.code, r.stderr).toBe(0);
    const verified = await runCli(['audit', 'verify', '--json'], dir);
    expect(verified.code, verified.stderr).toBe(0);
    const doc = JSON.parse(verified.stdout);
    expect(doc).toMatchObject({ ok: true, legacyCount: 0 });
    expect(doc.count).toBeGreaterThan(10);

    const db = new Database(join(dir, 'opter-mail.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT seq, actor, action, objects, chain_version FROM audit_log ORDER BY seq').all() as Array<{ actor: string; action: string; objects: string; chain_version: number }>;
      expect(rows).toHaveLength(doc.count);
      const actions = rows.map((e) => e.action);
      for (const a of ['job.requested', 'job.started', 'step.app.succeeded', 'step.policy.succeeded', 'verify.check', 'job.succeeded', 'secret.revealed']) expect(actions).toContain(a);
      const actors = new Set(rows.map((e) => e.actor));
      expect([...actors].map((a) => JSON.parse(a))).toEqual([{ kind: 'cli', name: `${userInfo().username}@${hostname()}`, identity: sim.provisioning.clientId }]);
      expect(rows.every((e) => e.chain_version === 2)).toBe(true);
      // The secret printed once is named by its key id, like the bot's reveal; the value is nowhere.
      const app = sim.snapshot().applications.find((a) => a.displayName === 'Cli Audit')!;
      const revealed = JSON.parse(rows.find((e) => e.action === 'secret.revealed')!.objects);
      expect(revealed.keyId).toBe((app.passwordCredentials as Array<{ keyId: string }>)[0]!.keyId);
      const printed = /Client Secret\s*:\s*(\S{16,})/.exec(r.stdout)?.[1];
      expect(printed).toBeTruthy();
      expect(JSON.stringify(rows)).not.toContain(printed);
      // One thread (the job's) and one queued audit post per entry, for the bot to deliver to the audit channel.
      expect(db.prepare('SELECT COUNT(*) AS n FROM audit_threads').get()).toEqual({ n: 1 });
      expect(db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'audit' AND status = 'pending'").get()).toEqual({ n: doc.count });
    } finally {
      db.close();
    }
  });

  it('needs SECRET_ENCRYPTION_KEY against a real tenant to change it: refused before any call, no key file made up; reading needs none', async () => {
    const dir = newDataDir();
    sim.clearRequests();
    const r = await runCli(['provision', '--app-name', 'Cli No Key', '--sender', sim.mailboxes.info], dir, undefined, 60_000, { ...envFor(dir), SECRET_ENCRYPTION_KEY: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_AUDIT_KEY_MISSING');
    expect(sim.requests()).toHaveLength(0);
    expect(existsSync(join(dir, 'secret.key'))).toBe(false);
    const verify = await runCli(['audit', 'verify'], dir, undefined, 60_000, { ...envFor(dir), SECRET_ENCRYPTION_KEY: '' });
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain('E_AUDIT_KEY_MISSING');
    // Reading the tenant writes nothing to the audit chain, so it needs no key.
    const list = await runCli(['list'], dir, undefined, 60_000, { ...envFor(dir), SECRET_ENCRYPTION_KEY: '' });
    expect(list.code, list.stderr).toBe(0);
    expect(existsSync(join(dir, 'secret.key'))).toBe(false);
  });

  it('refuses bad input with exit 2 before any call is made', async () => {
    const dir = newDataDir();
    sim.clearRequests();
    for (const args of [
      ['provision', '--sender', 'not-an-address'],
      ['provision', '--sender', sim.mailboxes.info, '--sender', sim.mailboxes.info.toUpperCase()],
      ['provision', '--app-name', '🚚 Åäö', '--sender', sim.mailboxes.info],
      ['provision', '--app-name', 'X', '--sender', sim.mailboxes.info, '--secret-years', '0'],
      ['provision', '--bogus'],
    ]) {
      const r = await runCli(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(sim.requests()).toHaveLength(0);
  });

  it('exits 3 on a missing permission and 0 after resume once it is granted', async () => {
    const dir = newDataDir();
    sim.setFaults({ revokedPermissions: ['Exchange.ManageAsApp'] });
    try {
      const r = await runCli(['provision', '--app-name', 'Cli Perm', '--sender', sim.mailboxes.info], dir);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('E_EXCHANGE_PERMISSION');
    } finally {
      sim.setFaults({ revokedPermissions: [] });
    }
    const resumed = await runCli(['resume'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(tenantCounts('Cli Perm')).toEqual({ apps: 1, sps: 1, grants: 1, groups: 1, policies: 1, secrets: 1 });
  });

  const boundaries = [
    ['validate', 'Check sender mailboxes'],
    ['app', 'App registration'],
    ['servicePrincipal', 'Enterprise app (service principal)'],
    ['grant', 'Microsoft Graph Mail.Send (application) permission'],
    ['group', 'Mail-enabled security group and members'],
    ['policy', 'Application Access Policy (RestrictAccess)'],
    ['secret', 'Client secret'],
  ] as const;

  it.each(boundaries)('killed right after the %s step, resume converges to exactly one of everything', async (step, title) => {
    const dir = newDataDir();
    const name = `Crash After ${step}`;
    const killed = await runCli(['provision', '--app-name', name, '--sender', sim.mailboxes.info], dir, (err) => err.includes(`✓ ${title}`));
    expect(killed.signal).toBe('SIGKILL');
    const resumed = await runCli(['resume', '--json'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const doc = JSON.parse(resumed.stdout);
    expect(doc.resumed).toHaveLength(1);
    expect(tenantCounts(name)).toEqual({ apps: 1, sps: 1, grants: 1, groups: 1, policies: 1, secrets: 1 });
    // The secret printed by resume is the one that exists.
    const keyId = doc.resumed[0].result.secret.keyId;
    const app = sim.snapshot().applications.find((a) => a.displayName === name)!;
    expect((app.passwordCredentials as { keyId: string }[]).map((c) => c.keyId)).toEqual([keyId]);
    expect(doc.resumed[0].output.clientSecret).toMatch(/^.{16,64}$/);
  }, 90_000);

  it('killed while addPassword is in flight, resume removes the orphan and leaves exactly one secret', async () => {
    const dir = newDataDir();
    const name = 'Crash During Secret';
    sim.setFaults({ latencyMs: 150 });
    sim.clearRequests();
    try {
      const killed = await runCli(['provision', '--app-name', name, '--sender', sim.mailboxes.info], dir, () =>
        sim.requests().some((r) => r.path.includes('addPassword')),
      );
      expect(killed.signal).toBe('SIGKILL');
    } finally {
      sim.setFaults({ latencyMs: 0 });
    }
    expect(tenantCounts(name).secrets).toBe(1); // created by the killed run, its plaintext lost with it
    const resumed = await runCli(['resume', '--json'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).resumed).toHaveLength(1);
    expect(tenantCounts(name)).toEqual({ apps: 1, sps: 1, grants: 1, groups: 1, policies: 1, secrets: 1 });
    // The killed run and the resume both wrote to the chain; it is whole.
    const verified = await runCli(['audit', 'verify'], dir);
    expect(verified.stdout, verified.stderr).toMatch(/audit chain OK: \d+ entries/);
    expect(verified.code).toBe(0);
  }, 90_000);
});
