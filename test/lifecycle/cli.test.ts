/**
 * The lifecycle commands of `opter-mail` as an admin runs them: a child process against the simulated tenant
 * through the configuration contract, including SIGKILL in the middle of a job followed by `resume`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

function newDataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'opter-lifecycle-'));
  dirs.push(d);
  return d;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], dataDir: string, killWhen?: (stderr: string) => boolean, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        ...tenantEnvFor(sim),
        VERIFY_DENIED_MAILBOX: sim.mailboxes.outside,
        DATA_DIR: dataDir,
        OPTER_RETRY_BASE_MS: '100',
        // Against a real tenant the CLI needs the bot's key (it keys the audit chain); a test value, not a secret.
        SECRET_ENCRYPTION_KEY: 'f62bbbaf7626606942ce3fd4eae2da672cc3bcb16ccef9081cfcefb31dbe03a0', // a test value, not a secret (a repeated pattern is refused as degenerate)
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const check = () => {
      if (killWhen && child.exitCode === null && killWhen(stderr)) child.kill('SIGKILL');
    };
    const poll = killWhen ? setInterval(check, 2) : undefined;
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

const json = (r: Run) => {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr:\n${r.stderr}`);
  }
};

const appOf = (name: string) => sim.snapshot().applications.find((a) => a.displayName === name)!;
const secretsOf = (name: string) => (appOf(name).passwordCredentials as { keyId: string; displayName: string }[]);
const tenantWrites = () =>
  sim.requests().filter((r) => (r.family === 'exchange' && r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet)) || (r.family === 'graph' && ['POST', 'PATCH', 'DELETE'].includes(r.method) && !r.path.includes('/_sim/')));

async function provision(dir: string, name: string, extra: string[] = []) {
  const r = await runCli(['provision', '--app-name', name, '--sender', sim.mailboxes.info, '--sender', sim.mailboxes.faktura, ...extra, '--json'], dir);
  expect(r.code, r.stderr).toBe(0);
  return json(r);
}

describe('opter-mail lifecycle commands', () => {
  it('provision --scoping rbac, list, remove-sender, test-email (ok and refused), expiring', async () => {
    const dir = newDataDir();
    const doc = await provision(dir, 'Cli Rbac', ['--scoping', 'rbac']);
    expect(doc.result.scoping).toBe('rbac');
    expect(doc.result.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);

    const listed = await runCli(['list', '--json'], dir);
    expect(listed.code, listed.stderr).toBe(0);
    const reg = json(listed).registrations.find((x: { appDisplayName: string }) => x.appDisplayName === 'Cli Rbac');
    expect(reg).toMatchObject({ managed: true, scoping: 'rbac', intendedScoping: 'rbac', drift: [] });
    const text = await runCli(['list'], dir);
    expect(text.stdout).toContain('=== Cli Rbac');
    expect(text.stdout).toContain('Scoping      : rbac');

    const removed = await runCli(['remove-sender', '--app-name', 'Cli Rbac', '--sender', sim.mailboxes.faktura, '--json'], dir);
    expect(removed.code, removed.stderr).toBe(0);
    expect(json(removed).result).toMatchObject({ kind: 'remove-sender', removed: [sim.mailboxes.faktura], members: [sim.mailboxes.info] });

    const ok = await runCli(['test-email', '--app-name', 'Cli Rbac', '--from', sim.mailboxes.info, '--to', 'admin@kund.example'], dir);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('ACCEPTED');
    expect(ok.stdout).toContain('The temporary secret was removed.');
    const refused = await runCli(['test-email', '--app-name', 'Cli Rbac', '--from', sim.mailboxes.faktura, '--to', 'admin@kund.example', '--json'], dir);
    expect(refused.code).toBe(5);
    expect(json(refused).result.layers.map((l: { ok: boolean }) => l.ok)).toEqual([true, false, false]);
    expect(secretsOf('Cli Rbac').filter((s) => s.displayName.endsWith('-test'))).toEqual([]);

    const expiring = await runCli(['expiring', '--days', '5000', '--json'], dir);
    expect(expiring.code).toBe(0);
    expect(json(expiring).expiring.map((e: { appDisplayName: string }) => e.appDisplayName)).toContain('Cli Rbac');
    const none = await runCli(['expiring', '--days', '1'], dir);
    expect(none.stdout).toContain('No secret expires within 1 days.');
  }, 120_000);

  it('migrate --plan-only writes nothing; migrate with the default wait stops as unfinished (exit 4) and --settle-minutes 0 finishes it', async () => {
    const dir = newDataDir();
    await provision(dir, 'Cli Migrate');
    sim.clearRequests();
    const plan = await runCli(['migrate', '--app-name', 'Cli Migrate', '--plan-only'], dir);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Migration plan: Cli Migrate');
    expect(plan.stdout).toContain('Why this order keeps mail flowing');
    expect(tenantWrites()).toEqual([]);

    const waiting = await runCli(['migrate', '--app-name', 'Cli Migrate', '--json'], dir);
    expect(waiting.code).toBe(4);
    const w = json(waiting);
    expect(w.error.code).toBe('E_JOB_UNFINISHED');
    expect(new Date(w.resumeAfter).getTime()).toBeGreaterThan(Date.now() + 100 * 60_000);

    const done = await runCli(['migrate', '--app-name', 'Cli Migrate', '--settle-minutes', '0', '--json'], dir);
    expect(done.code, done.stderr).toBe(0);
    expect(json(done).result).toMatchObject({ kind: 'migrate-rbac', removedGraphGrant: true });
    const appId = appOf('Cli Migrate').appId as string;
    expect(sim.snapshot().accessPolicies.filter((p) => p.appId === appId)).toEqual([]);
  }, 120_000);

  it('rotate prints the new secret once; retire-old-secrets removes the old one; repair fixes drift seen by list', async () => {
    const dir = newDataDir();
    const first = await provision(dir, 'Cli Rotate');
    const oldKey = first.result.secret.keyId;
    const rotated = await runCli(['rotate', '--app-name', 'Cli Rotate', '--overlap-days', '2', '--json'], dir);
    expect(rotated.code, rotated.stderr).toBe(0);
    const r = json(rotated);
    expect(r.clientSecret).toMatch(/^[A-Za-z0-9_~.-]{40}$/);
    expect(r.result.previous.map((p: { keyId: string }) => p.keyId)).toEqual([oldKey]);
    expect(secretsOf('Cli Rotate').map((s) => s.keyId).sort()).toEqual([oldKey, r.result.keyId].sort());

    const text = await runCli(['rotate', '--app-name', 'Cli Rotate'], dir);
    expect(text.stdout).toContain('=== NEW SECRET (save securely) ===');
    expect(text.stdout).toContain('opter-mail retire-old-secrets');

    const retired = await runCli(['retire-old-secrets', '--app-name', 'Cli Rotate', '--json'], dir);
    expect(retired.code, retired.stderr).toBe(0);
    // The latest rotation is finished: its "old" secrets are the first two.
    expect(json(retired).result.removedKeyIds).toHaveLength(2);
    expect(secretsOf('Cli Rotate')).toHaveLength(1);
    const nothing = await runCli(['retire-old-secrets', '--app-name', 'Cli Rotate'], dir);
    expect(nothing.code).toBe(2);
    const due = await runCli(['retire-old-secrets', '--due'], dir);
    expect(due.code).toBe(0);
    expect(due.stderr).toContain('No rotation has reached the end of its overlap.');

    // Drift made by hand, seen by list, fixed by repair.
    const appId = appOf('Cli Rotate').appId as string;
    const policy = sim.snapshot().accessPolicies.find((p) => p.appId === appId)!;
    const { ExchangeOnline } = await import('../../src/adapters/exchange');
    const { createCredential } = await import('../../src/adapters/credential');
    const { connectionFor } = await import('../adapters/helpers');
    const conn = connectionFor(sim);
    await new ExchangeOnline(conn, createCredential(conn)).removeApplicationAccessPolicy(policy.identity);
    const drifted = await runCli(['list'], dir);
    expect(drifted.stdout).toContain('! policy-missing');
    expect(drifted.stdout).toContain('opter-mail repair --app-name "Cli Rotate"');
    const repaired = await runCli(['repair', '--app-name', 'Cli Rotate'], dir);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain('Repaired Cli Rotate');
    expect(sim.snapshot().accessPolicies.filter((p) => p.appId === appId)).toHaveLength(1);
  }, 120_000);

  it('refuses bad input with exit 2 before any call', async () => {
    const dir = newDataDir();
    sim.clearRequests();
    for (const args of [
      ['provision', '--app-name', 'X', '--sender', sim.mailboxes.info, '--scoping', 'acl'],
      ['migrate'],
      ['rotate', '--app-name', 'X', '--overlap-days', 'many'],
      ['test-email', '--app-name', 'X', '--from', 'nope', '--to', 'me@kund.example'],
      ['remove-sender', '--app-name', 'X'],
    ]) {
      const r = await runCli(args, dir);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
    }
    expect(sim.requests().filter((r) => r.family !== 'token')).toHaveLength(0);
  }, 60_000);
});

describe('SIGKILL in the middle of a lifecycle job, then resume', () => {
  it.each([
    ['RBAC role assignment (Application Mail.Send, group scope)'],
    ['Remove the tenant-wide Graph Mail.Send grant'],
  ])('migrate killed right after "%s" converges on resume: one assignment, no grant, no policy', async (title) => {
    const dir = newDataDir();
    const name = `Kill Migrate ${title.slice(0, 10)}`;
    await provision(dir, name);
    // Latency keeps the later steps slow enough for the kill to land between steps.
    sim.setFaults({ latencyMs: 100 });
    try {
      const killed = await runCli(['migrate', '--app-name', name, '--settle-minutes', '0'], dir, (err) => err.includes(`✓ ${title}`));
      expect(killed.signal, `exit ${killed.code}\n${killed.stderr}`).toBe('SIGKILL');
    } finally {
      sim.setFaults({ latencyMs: 0 });
    }
    const resumed = await runCli(['resume', '--json'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed).resumed.map((d: { kind: string }) => d.kind)).toEqual(['migrate-rbac']);
    // The name ends in a space on purpose: every command trims it the same way.
    const appId = appOf(name.trim()).appId as string;
    const snap = sim.snapshot();
    expect(snap.roleAssignments.filter((a) => a.appId === appId)).toHaveLength(1);
    expect(snap.accessPolicies.filter((p) => p.appId === appId)).toEqual([]);
    const sp = snap.servicePrincipals.find((s) => s.appId === appId)!;
    expect(snap.appRoleAssignments.filter((a) => a.principalId === sp.id)).toEqual([]);
  }, 90_000);

  it('rotate killed while addPassword is in flight: resume removes the orphan and prints the one secret that exists', async () => {
    const dir = newDataDir();
    const first = await provision(dir, 'Kill Rotate');
    sim.setFaults({ latencyMs: 150 });
    sim.clearRequests();
    try {
      const killed = await runCli(['rotate', '--app-name', 'Kill Rotate'], dir, () => sim.requests().some((r) => r.path.includes('addPassword')));
      expect(killed.signal).toBe('SIGKILL');
    } finally {
      sim.setFaults({ latencyMs: 0 });
    }
    const resumed = await runCli(['resume', '--json'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const doc = json(resumed).resumed[0];
    expect(doc.kind).toBe('rotate-secret');
    expect(doc.clientSecret).toMatch(/^[A-Za-z0-9_~.-]{40}$/);
    expect(secretsOf('Kill Rotate').map((s) => s.keyId).sort()).toEqual([first.result.secret.keyId, doc.result.keyId].sort());
  }, 90_000);

  it('test-email killed after its temporary secret was created: resume removes it and runs the test', async () => {
    const dir = newDataDir();
    await provision(dir, 'Kill Test');
    sim.setFaults({ latencyMs: 150 });
    sim.clearRequests();
    try {
      const killed = await runCli(['test-email', '--app-name', 'Kill Test', '--from', sim.mailboxes.info, '--to', 'admin@kund.example'], dir, () =>
        sim.requests().some((r) => r.path.includes('addPassword') && r.status === 200),
      );
      expect(killed.signal).toBe('SIGKILL');
    } finally {
      sim.setFaults({ latencyMs: 0 });
    }
    expect(secretsOf('Kill Test').filter((s) => s.displayName.endsWith('-test'))).toHaveLength(1);
    const resumed = await runCli(['resume', '--json'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const doc = json(resumed).resumed[0];
    expect(doc.result).toMatchObject({ kind: 'test-email', ok: true, temporaryKeyRemoved: true });
    expect(secretsOf('Kill Test').filter((s) => s.displayName.endsWith('-test'))).toEqual([]);
  }, 90_000);
});
