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
import { startTestSimulator, tenantEnvFor } from '../adapters/helpers';

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
const TEST_ENCRYPTION_KEY = 'f62bbbaf7626606942ce3fd4eae2da672cc3bcb16ccef9081cfcefb31dbe03a0';

function envFor(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...tenantEnvFor(sim),
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

    expect(doc.verification).toMatchObject({ verified: true, passed: 4, skipped: 0, restrictionVerified: true });

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

  it('in delegated mode, as the read-only identity, reads and stops before the first write: exit 4, nothing created', async () => {
    const dir = newDataDir();
    const env = { ...envFor(dir), PROVISIONING_AUTH: 'delegated', AZURE_CLIENT_ID: sim.readOnly.clientId, AZURE_CLIENT_SECRET: sim.readOnly.clientSecret };
    const r = await runCli(['provision', '--app-name', 'Cli Delegated', '--sender', sim.mailboxes.info, '--json'], dir, undefined, 60_000, env);
    expect(r.code).toBe(4);
    const doc = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; action: string } };
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('E_APPROVER_NEEDED');
    expect(doc.error.action).toMatch(/approver’s own sign-in/);
    expect(sim.snapshot().applications.filter((a) => a.displayName === 'Cli Delegated')).toEqual([]);
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

  it('refuses a tenant that forbids client secrets with exit 3, the reason and the exemption, and creates nothing', async () => {
    const dir = newDataDir();
    sim.setFaults({ blockPasswordAddition: {} });
    try {
      sim.clearRequests();
      const r = await runCli(['provision', '--app-name', 'Cli No Secrets', '--sender', sim.mailboxes.info], dir);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('E_SECRETS_BLOCKED_BY_POLICY');
      expect(r.stderr).toContain('tenant default app management policy restricts passwordAddition');
      expect(r.stderr).toContain('create an app management policy without the passwordAddition restriction and assign it to the app registration');
      expect(sim.requests().filter((q) => q.method !== 'GET' && !(q.family === 'exchange' && /^(Get|Test)-/.test(q.cmdlet ?? '')) && q.family !== 'token')).toEqual([]);
      expect(tenantCounts('Cli No Secrets')).toMatchObject({ apps: 0, groups: 0, policies: 0 });
    } finally {
      sim.setFaults({ blockPasswordAddition: null });
    }
  });

  const boundaries = [
    ['validate', 'Check sender mailboxes and the group’s owner'],
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
    const doc = JSON.parse(resumed.stdout);
    expect(doc.resumed).toHaveLength(1);
    if (step === 'secret') {
      // The secret was made by the killed process, which alone held its value: the sign-in proof cannot run.
      expect(resumed.code, resumed.stderr).toBe(6);
      expect(doc).toMatchObject({ ok: true, verified: false });
      expect(doc.resumed[0].verification).toMatchObject({ verified: false, skipped: 1, failed: 0 });
      expect(doc.resumed[0].verification.checks).toContainEqual({
        name: 'Token as the new app',
        state: 'skipped',
        detail: expect.stringMatching(/^not run: the secret was created by an earlier run of this job/),
      });
      expect(doc.resumed[0].result.checks.find((c: { name: string }) => c.name === 'Token as the new app')).toMatchObject({ ok: false, skipped: true });
    } else {
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(doc.resumed[0].verification.verified).toBe(true);
    }
    expect(tenantCounts(name)).toEqual({ apps: 1, sps: 1, grants: 1, groups: 1, policies: 1, secrets: 1 });
    // The secret printed by resume is the one that exists.
    const keyId = doc.resumed[0].result.secret.keyId;
    const app = sim.snapshot().applications.find((a) => a.displayName === name)!;
    expect((app.passwordCredentials as { keyId: string }[]).map((c) => c.keyId)).toEqual([keyId]);
    if (step === 'secret') {
      // Nobody has that secret's value: resume says so and how to get one, instead of pretending it was delivered.
      expect(doc.resumed[0].output.clientSecret).toBe(`(made by an interrupted earlier run and not kept: run "opter-mail rotate --app-name ${name}" for one you can use)`);
    } else {
      const secret = doc.resumed[0].output.clientSecret as string;
      expect(secret).toMatch(/^[A-Za-z0-9~._-]{16,64}$/);
    }
  }, 90_000);

  it('says plainly that the restriction was not verified when the control mailbox is a sender, and exits 6', async () => {
    // A tenant with no other registration: their senders, proven Denied, would show the restriction instead.
    sim.reset();
    const dir = newDataDir();
    const r = await runCli(['provision', '--app-name', 'Cli Control Sender', '--sender', sim.mailboxes.info, '--sender', sim.mailboxes.outside], dir);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain(`○ Refused for a mailbox outside the group: skipped — not run: the control mailbox ${sim.mailboxes.outside} is itself a sender`);
    expect(r.stderr).toContain(`! The restriction to the sender group was not verified: the control mailbox ${sim.mailboxes.outside} is itself a sender.`);
    expect(r.stderr).not.toMatch(/\d+ checks passed(?!;)/);

    const json = await runCli(['add-sender', '--app-name', 'Cli Control Sender', '--sender', sim.mailboxes.faktura, '--json'], dir);
    expect(json.code).toBe(6);
    const doc = JSON.parse(json.stdout);
    expect(doc.verification).toMatchObject({ verified: false, skipped: 1, restrictionVerified: false, restrictionNotVerifiedBecause: `the control mailbox ${sim.mailboxes.outside} is itself a sender` });
    expect(doc.verification.checks).toContainEqual({ name: 'Refused for a mailbox outside the group', state: 'skipped', detail: `not run: the control mailbox ${sim.mailboxes.outside} is itself a sender` });
  });

  it('as an identity with only what the script needs: add-sender and expiring work and say what they could not check', async () => {
    const dir = newDataDir();
    sim.setFaults({ revokedPermissions: ['Policy.Read.All', 'Role Management'] });
    try {
      expect((await runCli(['provision', '--app-name', 'Cli Least', '--sender', sim.mailboxes.info], dir)).code).toBe(0);
      const added = await runCli(['add-sender', '--app-name', 'Cli Least', '--sender', sim.mailboxes.faktura], dir);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toContain(`Added as senders for Cli Least: ${sim.mailboxes.faktura}`);
      // Asking again for a mailbox that already sends adds nothing, and says so.
      const again = await runCli(['add-sender', '--app-name', 'Cli Least', '--sender', sim.mailboxes.info], dir);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('Added as senders for Cli Least: (none)');
      expect(again.stdout).toContain(`Already senders: ${sim.mailboxes.info}.`);
      expect(added.stderr).toContain('note: RBAC for Applications was not checked: the provisioning identity may not run Get-ServicePrincipal');
      const expiring = await runCli(['expiring', '--days', '4000', '--json'], dir);
      expect(expiring.code, expiring.stderr).toBe(0);
      const doc = JSON.parse(expiring.stdout);
      expect(doc.expiring.map((e: { appDisplayName: string }) => e.appDisplayName)).toContain('Cli Least');
      expect(doc.unchecked[0]).toMatch(/could not be looked for, nor their secrets: the provisioning identity may not run Get-ServicePrincipal/);
    } finally {
      sim.setFaults({ revokedPermissions: [] });
    }
  });

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

describe('opter-mail and a group of another registration', () => {
  const owner = 'Opter Message Proxy';
  const alias = 'opter-message-proxy-mailsend-allowed';
  const membersOf = (a: string) => (sim.snapshot().groups.find((g) => g.alias === a)?.members as string[] | undefined)?.map((m) => m.toLowerCase()).sort();

  it('refuses every name that normalises to the owner’s base, naming the owner and a free name; the suggestion works', async () => {
    const dir = newDataDir();
    const first = await runCli(['provision', '--app-name', owner, '--sender', sim.mailboxes.faktura], dir);
    expect(first.code, first.stderr).toBe(0);
    const clientId = sim.snapshot().applications.find((a) => a.displayName === owner)!.appId as string;
    const suggestion = 'use the group name "Opter Message Proxy 2 - MailSend Allowed" and alias "opter-message-proxy-2-mailsend-allowed"';
    const attempts: [string[], string][] = [
      [['--app-name', 'Opter Message Proxy.'], suggestion],
      [['--app-name', 'Opter  Message   Proxy'], suggestion],
      [['--app-name', 'Opter Message Proxy!!!'], suggestion],
      [['--app-name', 'Opter_Message_Proxy'], suggestion],
      [['--app-name', 'Opter Message Proxy\u0301'], suggestion],
      [['--app-name', 'Cli Other Team', '--group-name', 'Opter Message Proxy - MailSend Allowed', '--group-alias', alias], 'use the group name "Cli Other Team - MailSend Allowed" and alias "cli-other-team-mailsend-allowed"'],
    ];
    for (const [args, instead] of attempts) {
      const r = await runCli(['provision', ...args, '--sender', sim.mailboxes.info], dir);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('E_GROUP_OTHER_REGISTRATION');
      expect(r.stderr).toContain(`belongs to the registration "${owner}" (client id ${clientId})`);
      expect(r.stderr).toContain(instead);
      expect(r.stderr).not.toMatch(/Reusing group/);
    }
    expect(membersOf(alias)).toEqual([sim.mailboxes.faktura]);
    // A refusal is final: resume does not run it again.
    expect(JSON.parse((await runCli(['resume', '--json'], dir)).stdout).resumed).toEqual([]);


    const own = await runCli(
      ['provision', '--app-name', 'Opter Message Proxy.', '--sender', sim.mailboxes.info, '--group-name', 'Opter Message Proxy 2 - MailSend Allowed', '--group-alias', 'opter-message-proxy-2-mailsend-allowed'],
      dir,
    );
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toContain(`Test-ApplicationAccessPolicy ${sim.mailboxes.faktura} (sender of "${owner}")`);
    expect(membersOf('opter-message-proxy-2-mailsend-allowed')).toEqual([sim.mailboxes.info]);
    expect(membersOf(alias)).toEqual([sim.mailboxes.faktura]);
  }, 120_000);
});
