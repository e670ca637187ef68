/**
 * opter-mail: the provisioning engine from a terminal — regmsgraph.ps1 without PowerShell, re-runnable and resumable.
 *
 *   opter-mail provision --app-name <name> --sender <addr> [--sender …] [--secret-years N] [--group-name …]
 *                        [--group-alias …] [--secret-name …] [--new-secret] [--scoping access-policy|rbac] [--json]
 *   opter-mail add-sender --app-name <name> --sender <addr> [--sender …] [--json]
 *   opter-mail remove-sender --app-name <name> --sender <addr> [--sender …] [--json]
 *   opter-mail status --app-name <name> [--json]
 *   opter-mail list [--json]
 *   opter-mail repair --app-name <name> [--json]
 *   opter-mail adopt --app-name <name> [--json]
 *   opter-mail migrate --app-name <name> [--plan-only] [--settle-minutes N] [--json]
 *   opter-mail rotate --app-name <name> [--secret-years N] [--overlap-days N] [--json]
 *   opter-mail retire-old-secrets (--app-name <name> | --due) [--json]
 *   opter-mail expiring [--days N] [--json]
 *   opter-mail test-email --app-name <name> --from <sender> --to <recipient> [--json]
 *   opter-mail resume [--json]
 *   opter-mail sim-reset
 *   opter-mail audit verify [--last-posted-seq N [--last-posted-hash PREFIX]] [--json]
 *
 * Every command that changes the tenant writes the same audit entries as the bot (actor: the OS user and the
 * provisioning identity), into the keyed chain in DATA_DIR; the bot posts them to the audit channel when it runs.
 *
 * Exit codes: 0 done and verified · 2 bad input · 3 permission/policy · 4 unfinished (run resume) · 5 conflict or
 * failed verification · 6 done, but a check did not run (e.g. the restriction was not verified) · 1 anything else.
 */
import { rmSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { addSender } from '../actions/add-sender';
import { workflowsOf } from '../actions/registry';
import { adopt } from '../actions/adopt';
import { migrateRbac } from '../actions/migrate-rbac';
import { removeSender } from '../actions/remove-sender';
import { repair } from '../actions/repair';
import { retireSecrets } from '../actions/retire-secrets';
import { rotateSecret } from '../actions/rotate-secret';
import { setup } from '../actions/setup';
import { testEmail } from '../actions/test-email';
import { ERROR_CATALOGUE, OpterError, exitCodeFor, toOpterError, type ErrorCode } from '../core/errors';
import { systemClock, type ProgressEvent, type SecretSink } from '../core/ports';
import { delegatedWritesIn, describeCredential, readDataDir } from '../adapters/config';
import { ProvisioningEngine, validateProvisionInput, type JobOutcome, type ProvisionInput } from '../provisioning';
import { secretsExpiringWithin } from '../provisioning';
import { inspectRegistration } from '../provisioning';
import { inspectMigration } from '../provisioning';
import { surveyRegistrations, type RegistrationSurvey } from '../provisioning';
import { checkState, tallyChecks, unverifiedNotice } from '../provisioning';
import type { VerificationCheck } from '../provisioning';
import { findDueRetirements } from '../provisioning';
import { retryPolicyFromEnv } from '../provisioning';
import { SCOPING_MODELS, type ScopingModel } from '../provisioning';
import { formatDerivedNames, deriveNames } from '../provisioning';
import { outputFields } from '../provisioning';
import { parseSenderList } from '../provisioning';
import { appendAudit, progressAuditor } from '../runtime/audit';
import { loadOrCreateEncryptionKey, openStore, type AuditActor, type Store } from '../store';
import { openTenant, simulatorPaths, usesEmbeddedSimulator, type TenantRuntime } from '../runtime/tenant';
import { actionLines, formatExpiring, formatLifecycle, formatPlan, formatRegistrations } from './lifecycle';
import { renderProgressLine } from './render';

export const USAGE = `usage:
  opter-mail provision --app-name <name> --sender <addr> [--sender <addr> …] [--secret-years N]
                       [--group-name <name>] [--group-alias <alias>] [--secret-name <name>] [--new-secret]
                       [--scoping access-policy|rbac] [--json]
  opter-mail add-sender --app-name <name> --sender <addr> [--sender <addr> …] [--json]
  opter-mail remove-sender --app-name <name> --sender <addr> [--sender <addr> …] [--json]
  opter-mail status --app-name <name> [--json]
  opter-mail list [--json]
  opter-mail repair --app-name <name> [--json]
  opter-mail adopt --app-name <name> [--json]
  opter-mail migrate --app-name <name> [--plan-only] [--settle-minutes N] [--json]
  opter-mail rotate --app-name <name> [--secret-years N] [--overlap-days N] [--json]
  opter-mail retire-old-secrets (--app-name <name> | --due) [--json]
  opter-mail expiring [--days N] [--json]
  opter-mail test-email --app-name <name> --from <sender> --to <recipient> [--json]
  opter-mail resume [--json]
  opter-mail sim-reset
  opter-mail audit verify [--last-posted-seq N [--last-posted-hash PREFIX]] [--json]
                          (N and PREFIX: "Chain #N · PREFIX" on the newest post in the audit channel)
  opter-mail help | --help | -h                     this text

Without AZURE_CLIENT_ID every command works on the embedded simulated tenant (state in DATA_DIR, default ./data).
Exit codes: 0 done and verified · 2 bad input · 3 permission/policy · 4 unfinished (run resume) · 5 conflict or
failed verification · 6 done, but a check did not run · 1 anything else.`;

const OPTIONS = {
  'app-name': { type: 'string' },
  sender: { type: 'string', multiple: true },
  'secret-years': { type: 'string' },
  'group-name': { type: 'string' },
  'group-alias': { type: 'string' },
  'secret-name': { type: 'string' },
  'new-secret': { type: 'boolean' },
  scoping: { type: 'string' },
  'plan-only': { type: 'boolean' },
  'settle-minutes': { type: 'string' },
  'overlap-days': { type: 'string' },
  due: { type: 'boolean' },
  days: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  json: { type: 'boolean' },
  'last-posted-seq': { type: 'string' },
  'last-posted-hash': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const defaultIo: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };

/** Secrets created by this process, kept in memory only until printed once. */
class MemorySecretSink implements SecretSink {
  private readonly secrets = new Map<string, { keyId: string; secretText: string }>();
  deliver(s: { jobId: string; keyId: string; secretText: string }): void {
    this.secrets.set(s.jobId, { keyId: s.keyId, secretText: s.secretText });
  }
  holds(jobId: string, keyId: string): boolean {
    return this.secrets.get(jobId)?.keyId === keyId;
  }
  take(jobId: string): { keyId: string; secretText: string } | null {
    const s = this.secrets.get(jobId);
    this.secrets.delete(jobId);
    return s ?? null;
  }
}

/** Every command `main` knows, in the order USAGE lists them (the switch below is checked against this list). */
export const COMMANDS = [
  'provision',
  'add-sender',
  'remove-sender',
  'status',
  'list',
  'repair',
  'adopt',
  'migrate',
  'rotate',
  'retire-old-secrets',
  'expiring',
  'test-email',
  'resume',
  'sim-reset',
  'audit',
  'help',
] as const;
type CommandName = (typeof COMMANDS)[number];

const HELP_FLAGS = new Set(['--help', '-h']);

export async function main(argv: string[], io: Io = defaultIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // `opter-mail --help` / `-h`: the flag stands where the command would (people type it first).
  if (argv[0] !== undefined && HELP_FLAGS.has(argv[0])) {
    io.out(USAGE);
    return 0;
  }
  const [command, ...rest] = argv;
  let args: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    args = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const v = args.values;
  if (!command || v.help) {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  const dataDir = readDataDir(env);
  const json = !!v.json;

  try {
    const name = command as CommandName;
    switch (name) {
      case 'help':
        io.out(USAGE);
        return 0;
      case 'provision':
      case 'add-sender': {
        const input = readProvisionArgs(v, command === 'add-sender');
        return await withRuntime(dataDir, env, io, json, {}, async (rt) => {
          const job = rt.started(
            command === 'provision'
              ? setup.job.start(rt.engine, input)
              : addSender.job.start(rt.engine, { appDisplayName: input.appDisplayName, senders: input.senders, overrides: input.overrides }),
          );
          if (!json && command === 'provision') io.err(['', ...formatDerivedNames(deriveNames(input.appDisplayName, input.overrides)), ''].join('\n'));
          const outcome = await rt.engine.run(job.id, { listener: rt.listener });
          return report(outcome, rt, io, json);
        });
      }
      case 'remove-sender': {
        const appDisplayName = required(v['app-name'], '--app-name');
        const senders = parseSenderList(v.sender ?? []);
        return await runJob(dataDir, env, io, json, (rt) =>
          removeSender.job.start(rt.engine, { appDisplayName, senders, overrides: overridesFrom(v) }),
        );
      }
      case 'repair': {
        const appDisplayName = required(v['app-name'], '--app-name');
        return await runJob(dataDir, env, io, json, (rt) => repair.job.start(rt.engine, { appDisplayName, overrides: overridesFrom(v) }));
      }
      case 'adopt': {
        const appDisplayName = required(v['app-name'], '--app-name');
        return await runJob(dataDir, env, io, json, (rt) => adopt.job.start(rt.engine, { appDisplayName, overrides: overridesFrom(v) }));
      }
      case 'rotate': {
        const appDisplayName = required(v['app-name'], '--app-name');
        const secretValidYears = numberArg(v['secret-years'], '--secret-years');
        const overlapDays = numberArg(v['overlap-days'], '--overlap-days');
        return await runJob(dataDir, env, io, json, (rt) =>
          rotateSecret.job.start(rt.engine, { appDisplayName, overrides: overridesFrom(v), secretValidYears, overlapDays }),
        );
      }
      case 'retire-old-secrets': {
        if (v.due) {
          // For a daily cron: every rotation whose overlap has ended (no confirmation needed then).
          return await withRuntime(dataDir, env, io, json, {}, async (rt) => {
            const due = findDueRetirements(rt.store.journal, systemClock.now());
            const docs: unknown[] = [];
            let code = 0;
            for (const d of due) {
              const job = rt.started(retireSecrets.job.start(rt.engine, { appDisplayName: d.appDisplayName, rotateJobId: d.rotateJobId, confirmed: false }));
              code = code || report(await rt.engine.run(job.id, { listener: rt.listener }), rt, io, json, docs);
            }
            if (json) io.out(JSON.stringify({ ok: code === 0, retired: docs }, null, 2));
            else if (!due.length) io.err('No rotation has reached the end of its overlap.');
            else for (const d of docs) io.out(formatLifecycle(d as never).join('\n'));
            return code;
          });
        }
        const appDisplayName = required(v['app-name'], '--app-name');
        return await runJob(dataDir, env, io, json, (rt) =>
          // Running this command is the admin's confirmation that Opter uses the new secret.
          retireSecrets.job.start(rt.engine, { appDisplayName, overrides: overridesFrom(v), confirmed: true }),
        );
      }
      case 'test-email': {
        const appDisplayName = required(v['app-name'], '--app-name');
        const from = required(v.from, '--from');
        const to = required(v.to, '--to');
        return await runJob(dataDir, env, io, json, (rt) => testEmail.job.start(rt.engine, { appDisplayName, overrides: overridesFrom(v), from, to }));
      }
      case 'migrate': {
        const appDisplayName = required(v['app-name'], '--app-name');
        const settleMinutes = numberArg(v['settle-minutes'], '--settle-minutes');
        return await withRuntime(dataDir, env, io, json, { readOnly: !!v['plan-only'] }, async (rt) => {
          const { plan } = await inspectMigration({ directory: rt.tenant.adapters.directory, exchange: rt.tenant.adapters.exchange }, { appDisplayName, overrides: overridesFrom(v), settleMinutes });
          if (v['plan-only']) {
            if (json) io.out(JSON.stringify({ ok: plan.blockers.length === 0, plan }, null, 2));
            else io.out(formatPlan(plan).join('\n'));
            return plan.blockers.length ? 5 : 0;
          }
          if (!json) io.err(formatPlan(plan).join('\n'));
          if (plan.blockers.length) throw new OpterError('E_NOT_FOUND', { detail: plan.blockers.join(' ') });
          const job = rt.started(migrateRbac.job.start(rt.engine, { appDisplayName, overrides: overridesFrom(v), settleMinutes }));
          return report(await rt.engine.run(job.id, { listener: rt.listener }), rt, io, json);
        });
      }
      case 'list':
        return await withRuntime(dataDir, env, io, json, { readOnly: true }, async (rt) => {
          const { registrations: regs, unchecked } = await survey(rt, systemClock.now(), io, json);
          if (json) io.out(JSON.stringify({ ok: true, registrations: regs, unchecked }, null, 2));
          else io.out(formatRegistrations(regs, systemClock.now()).join('\n'));
          return 0;
        });
      case 'expiring': {
        const days = numberArg(v.days, '--days') ?? 30;
        return await withRuntime(dataDir, env, io, json, { readOnly: true }, async (rt) => {
          const now = systemClock.now();
          const { registrations: regs, unchecked } = await survey(rt, now, io, json);
          const expiring = secretsExpiringWithin(regs, now, days);
          if (json) io.out(JSON.stringify({ ok: true, days, expiring, unchecked }, null, 2));
          else io.out(formatExpiring(expiring, days).join('\n'));
          return 0;
        });
      }
      case 'resume':
        return await withRuntime(dataDir, env, io, json, {}, async (rt) => {
          // Interrupted jobs, and failed ones that a retry can fix (bad input needs a new request instead).
          const retryable = rt.store.journal.listJobs().filter((j) => j.status === 'waiting' || (j.status === 'failed' && !isInputError(j.lastError?.code)));
          const jobs = [...rt.store.journal.listJobs({ status: 'running' }), ...retryable];
          if (jobs.length === 0) {
            if (json) io.out(JSON.stringify({ ok: true, resumed: [] }));
            else io.err('No interrupted or failed jobs to resume.');
            return 0;
          }
          let code = 0;
          const docs: unknown[] = [];
          for (const job of jobs) {
            if (!json) io.err(`\n=== Resuming job ${job.id} (${job.kind}) ===`);
            rt.started(job, 'job.resumed');
            const outcome = await rt.engine.run(job.id, { listener: rt.listener });
            const c = report(outcome, rt, io, json, docs);
            code = code || c;
          }
          if (json) io.out(JSON.stringify({ ok: code === 0 || code === EXIT_NOT_VERIFIED, verified: code === 0, resumed: docs }, null, 2));
          return code;
        });
      case 'status': {
        const appName = required(v['app-name'], '--app-name');
        return await withRuntime(dataDir, env, io, json, { readOnly: true }, async (rt) => {
          const st = await inspectRegistration(
            { directory: rt.tenant.adapters.directory, exchange: rt.tenant.adapters.exchange, now: systemClock.now() },
            appName,
            { groupName: v['group-name'], groupAlias: v['group-alias'] },
          );
          if (json) io.out(JSON.stringify(st, null, 2));
          else io.out(formatStatus(st).join('\n'));
          return st.app ? 0 : 5;
        });
      }
      case 'sim-reset': {
        if (!usesEmbeddedSimulator(env)) {
          io.err('sim-reset only applies to the embedded simulator (AZURE_CLIENT_ID is set: a real tenant is configured).');
          return 2;
        }
        const { stateFile } = simulatorPaths(dataDir);
        rmSync(stateFile, { force: true });
        io.err(`Simulated tenant reset (${stateFile} removed); the next run starts from the seeded tenant.`);
        return 0;
      }
      case 'audit':
        if (args.positionals[0] !== 'verify') throw new OpterError('E_INPUT_INVALID', { detail: 'use: opter-mail audit verify' });
        return auditVerify(dataDir, env, io, json, v);
      default: {
        // Compile-time check that every name in COMMANDS has its case; at run time, anything else lands here.
        const unknown: never = name;
        io.err(`unknown command "${String(unknown)}"\n${USAGE}`);
        return 2;
      }
    }
  } catch (e) {
    const err = toOpterError(e);
    if (json) io.out(JSON.stringify({ ok: false, error: { code: err.code, message: err.summary, action: err.actionIn('cli'), field: err.field ?? null } }, null, 2));
    else io.err(`✗ ${err.code}: ${err.summary}\n  What to do: ${err.actionIn('cli')}`);
    return exitCodeFor(err.code);
  }
}

function isInputError(code: string | undefined): boolean {
  return !!code && code in ERROR_CATALOGUE && ERROR_CATALOGUE[code as ErrorCode].category === 'input';
}

function required(value: string | undefined, flag: string): string {
  if (!value || !value.trim()) throw new OpterError('E_INPUT_INVALID', { detail: `${flag} is required.` });
  return value;
}

function numberArg(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n)) throw new OpterError('E_INPUT_INVALID', { detail: `${flag} must be a number (got "${value}").` });
  return n;
}

function overridesFrom(v: Record<string, unknown>) {
  const o = { groupName: v['group-name'] as string | undefined, groupAlias: v['group-alias'] as string | undefined, secretDisplayName: v['secret-name'] as string | undefined };
  return o.groupName || o.groupAlias || o.secretDisplayName ? o : undefined;
}

function scopingArg(value: unknown): ScopingModel | undefined {
  if (value === undefined) return undefined;
  if (!SCOPING_MODELS.includes(value as ScopingModel)) {
    throw new OpterError('E_INPUT_INVALID', { detail: `--scoping must be one of ${SCOPING_MODELS.join(', ')} (got "${String(value)}").`, field: 'scoping' });
  }
  return value as ScopingModel;
}

function readProvisionArgs(v: Record<string, unknown>, addSender: boolean): ProvisionInput {
  const years = v['secret-years'] === undefined ? undefined : Number(v['secret-years']);
  const input: ProvisionInput = {
    appDisplayName: (v['app-name'] as string | undefined) ?? 'OpterMessageProxy',
    senders: parseSenderList((v.sender as string[] | undefined) ?? []),
    secretValidYears: years,
    newSecret: !!v['new-secret'],
    ...(addSender ? {} : { scoping: scopingArg(v.scoping) }),
    overrides: {
      groupName: v['group-name'] as string | undefined,
      groupAlias: v['group-alias'] as string | undefined,
      secretDisplayName: v['secret-name'] as string | undefined,
    },
  };
  if (addSender) required(v['app-name'] as string | undefined, '--app-name');
  // Everything that can be checked without Microsoft is checked before any call is made.
  validateProvisionInput(input);
  return input;
}

interface CliRuntime {
  tenant: TenantRuntime;
  store: Store;
  engine: ProvisioningEngine;
  sink: MemorySecretSink;
  listener: (e: ProgressEvent) => void;
  /** Who runs this command, as the audit log records it. */
  actor: AuditActor;
  /** Audits that this command starts (or resumes) the job, as the root of the job's thread; returns the job. */
  started<J extends { id: string; kind: string }>(job: J, action?: string): J;
}

/**
 * The key that seals secrets and keys the audit chain: SECRET_ENCRYPTION_KEY (the bot's), else DATA_DIR/secret.key —
 * created only for the embedded simulated tenant (local mode), never next to a real tenant's store.
 */
function encryptionKeyFor(dataDir: string, env: NodeJS.ProcessEnv, allowCreate: boolean): Buffer {
  try {
    return loadOrCreateEncryptionKey(dataDir, { env, allowCreate });
  } catch (e) {
    throw new OpterError('E_AUDIT_KEY_MISSING', { detail: (e as Error).message, cause: e });
  }
}

/** The person at the terminal (OS user on this host) and the provisioning identity the command signs in as. */
function cliActor(tenant: TenantRuntime): AuditActor {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): keep $USER
  }
  return { kind: 'cli', name: `${user}@${hostname()}`, identity: tenant.conn.clientId ?? describeCredential(tenant.conn) };
}

/**
 * Opens the tenant, the store and the engine for one command. A command that changes the tenant needs the key (it
 * writes the keyed audit chain); a read-only one (`readOnly`) runs without it and writes nothing to the chain.
 */
async function withRuntime(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  io: Io,
  json: boolean,
  options: { readOnly?: boolean },
  fn: (rt: CliRuntime) => Promise<number>,
): Promise<number> {
  let encryptionKey: Buffer | undefined;
  try {
    encryptionKey = encryptionKeyFor(dataDir, env, usesEmbeddedSimulator(env));
  } catch (e) {
    if (!options.readOnly) throw e;
  }
  const tenant = await openTenant({ dataDir, env });
  if (tenant.mode === 'simulator') io.err(`\n!!! Using the ${tenant.description}\n`);
  let store: Store;
  try {
    store = openStore({ dataDir, encryptionKey });
  } catch (e) {
    await tenant.close();
    throw e;
  }
  const sink = new MemorySecretSink();
  const engine = new ProvisioningEngine({
    directory: tenant.adapters.directory,
    exchange: tenant.adapters.exchange,
    appSignIn: tenant.adapters.appSignIn,
    journal: store.journal,
    clock: systemClock,
    secretSink: sink,
    controlMailbox: tenant.controlMailbox,
    retry: retryPolicyFromEnv(env),
    // The registry's workflows: each action runs the one it names.
    workflows: workflowsOf(),
    // Delegated mode: the CLI holds no one's sign-in, so its jobs read and stop before their first write (the
    // approver continues them in Teams); the standing identity it signs in with only reads (docs/delegated-mode.md).
    writes: delegatedWritesIn(env) ? 'delegated' : 'standing',
  });
  const actor = cliActor(tenant);
  // A job the bot made for a request (resumed here) stays in that request's thread.
  const audit = progressAuditor(store, { requestId: (jobId) => store.requests.getByJobId(jobId)?.id ?? null, actor });
  const listener = (e: ProgressEvent) => {
    audit(e);
    if (json) return;
    const line = renderProgressLine(e);
    if (line) io.err(line);
  };
  const started = <J extends { id: string; kind: string }>(job: J, action = 'job.requested'): J => {
    appendAudit(store, {
      actor,
      action,
      requestId: store.requests.getByJobId(job.id)?.id ?? null,
      objects: { jobId: job.id },
      result: 'info',
      detail: `opter-mail ${job.kind} (${tenant.mode === 'simulator' ? 'simulated tenant' : `tenant ${tenant.conn.tenantId}`})`,
    });
    return job;
  };
  try {
    return await fn({ tenant, store, engine, sink, listener, actor, started });
  } finally {
    store.close();
    await tenant.close();
  }
}

/** The registrations; what could not be looked at (least privilege) is said as a note, not a failure. */
async function survey(rt: CliRuntime, now: Date, io: Io, json: boolean): Promise<RegistrationSurvey> {
  const s = await surveyRegistrations({ directory: rt.tenant.adapters.directory, exchange: rt.tenant.adapters.exchange, journal: rt.store.journal }, now);
  if (!json) for (const u of s.unchecked) io.err(`note: not checked: ${u}`);
  return s;
}

/** Exit code 6: the job finished and nothing failed, but a check did not run, so it is not "done and verified". */
export const EXIT_NOT_VERIFIED = 6;

/** What the --json document says about the checks: each with its state, and whether everything was verified. */
function verificationDoc(checks: VerificationCheck[]) {
  const t = tallyChecks(checks);
  return {
    verified: t.verified,
    passed: t.passed,
    failed: t.failed,
    skipped: t.skipped,
    restrictionVerified: t.restrictionNotVerified === null,
    ...(t.restrictionNotVerified ? { restrictionNotVerifiedBecause: t.restrictionNotVerified } : {}),
    checks: checks.map((c) => ({ name: c.name, state: checkState(c), detail: c.detail })),
  };
}

/** Creates one job (input validated before any call), runs it and reports it. */
function runJob(dataDir: string, env: NodeJS.ProcessEnv, io: Io, json: boolean, create: (rt: CliRuntime) => { id: string; kind: string }): Promise<number> {
  return withRuntime(dataDir, env, io, json, {}, async (rt) => {
    const job = rt.started(create(rt));
    return report(await rt.engine.run(job.id, { listener: rt.listener }), rt, io, json);
  });
}

function report(outcome: JobOutcome, rt: CliRuntime, io: Io, json: boolean, collect?: unknown[]): number {
  const secret = rt.sink.take(outcome.job.id);
  const secretText = secret?.secretText ?? null;
  if (secret) {
    // The CLI's one-time reveal: the secret goes to this terminal (or the --json document) exactly once.
    appendAudit(rt.store, {
      actor: rt.actor,
      action: 'secret.revealed',
      requestId: rt.store.requests.getByJobId(outcome.job.id)?.id ?? null,
      objects: { jobId: outcome.job.id, keyId: secret.keyId },
      result: 'success',
      detail: `Printed once to the terminal of ${rt.actor.name}.`,
    });
  }
  if (outcome.error) {
    const err = outcome.error;
    const unfinished = err.transient || err.category === 'transient';
    const resumable = err.category !== 'input';
    const code = unfinished ? 4 : exitCodeFor(err.code);
    const doc = {
      ok: false,
      jobId: outcome.job.id,
      kind: outcome.job.kind,
      error: { code: err.code, message: err.summary, action: err.actionIn('cli-job'), field: err.field ?? null },
      resumable,
      ...(outcome.resumeAfter ? { resumeAfter: outcome.resumeAfter } : {}),
    };
    if (collect) collect.push(doc);
    else if (json) io.out(JSON.stringify(doc, null, 2));
    else {
      io.err(`\n✗ Job ${outcome.job.id} stopped: ${err.code} — ${err.summary}\n  What to do: ${err.actionIn('cli-job')}`);
      if (outcome.resumeAfter) io.err(`  Run "opter-mail resume" after ${outcome.resumeAfter} to continue.`);
      else if (resumable) io.err('  Finished steps are kept; run "opter-mail resume" to continue.');
    }
    return code;
  }
  if (outcome.lifecycle) {
    const l = outcome.lifecycle;
    const checks = 'checks' in l ? l.checks : [];
    const notice = unverifiedNotice(checks);
    const doc = {
      ok: l.kind !== 'test-email' || l.ok,
      jobId: outcome.job.id,
      kind: l.kind,
      result: l,
      ...(checks.length ? { verification: verificationDoc(checks) } : {}),
      ...(secretText ? { clientSecret: secretText } : {}),
      tenantId: rt.tenant.conn.tenantId,
    };
    if (collect) collect.push(doc);
    else if (json) io.out(JSON.stringify(doc, null, 2));
    else {
      for (const n of l.notes) io.err(`note: ${n}`);
      io.out(formatLifecycle(doc).join('\n'));
      if (notice) io.err(`! ${notice}`);
    }
    return !doc.ok ? 5 : notice ? EXIT_NOT_VERIFIED : 0;
  }
  const r = outcome.result!;
  const fields = outputFields(r, secretText, rt.tenant.controlMailbox);
  const notice = unverifiedNotice(r.checks);
  const doc = { ok: true, jobId: r.jobId, kind: outcome.job.kind, output: fields, verification: verificationDoc(r.checks), result: r };
  if (collect) collect.push(doc);
  else if (json) io.out(JSON.stringify(doc, null, 2));
  else {
    for (const n of r.notes) io.err(`note: ${n}`);
    io.out(actionLines(outcome.job.kind, { result: r, output: fields, notice }).join('\n'));
    // After the output, where it is seen: a check that did not run is not a pass (exit code 6).
    if (notice) io.err(`! ${notice}`);
  }
  return notice ? EXIT_NOT_VERIFIED : 0;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  const n = numberArg(value, flag);
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new OpterError('E_INPUT_INVALID', { detail: `${flag} must be a whole number ≥ 1 (got "${value}").` });
  return n;
}

/**
 * `audit verify`: the keyed chain from its first entry, no gaps, and — against the recorded deliveries and, when
 * given, the seq and hash prefix read from the newest post in the audit channel — no dropped newest entries.
 */
function auditVerify(dataDir: string, env: NodeJS.ProcessEnv, io: Io, json: boolean, v: Record<string, unknown>): number {
  const lastPostedSeq = positiveInt(v['last-posted-seq'] as string | undefined, '--last-posted-seq');
  const lastPostedHash = v['last-posted-hash'] as string | undefined;
  if (lastPostedHash !== undefined && lastPostedSeq === undefined) throw new OpterError('E_INPUT_INVALID', { detail: '--last-posted-hash needs --last-posted-seq.' });
  const store = openStore({ dataDir, encryptionKey: encryptionKeyFor(dataDir, env, false) });
  try {
    const r = store.audit.verify({ lastPostedSeq, lastPostedHash });
    if (r.ok) {
      if (json) io.out(JSON.stringify(r, null, 2));
      else {
        const legacy = r.legacyCount ? ` (${r.legacyCount} from before the chain was keyed)` : '';
        const posted = r.postedSeq ? `; reaches the newest posted entry #${r.postedSeq}` : '';
        io.out(`audit chain OK: ${r.count} entries${legacy}, head seq ${r.headSeq}, hash ${r.headHash}${posted}`);
      }
      return 0;
    }
    if (r.reason === 'no-key') throw new OpterError('E_AUDIT_KEY_MISSING');
    const err = new OpterError('E_AUDIT_CHAIN_BROKEN', { detail: `${r.reason} at seq ${r.brokenSeq}` });
    if (json) io.out(JSON.stringify({ ok: false, count: r.count, brokenSeq: r.brokenSeq, reason: r.reason, error: { code: err.code, message: err.summary, action: err.action } }, null, 2));
    else {
      io.out(`audit chain BROKEN at seq ${r.brokenSeq}: ${r.reason}`);
      io.err(`✗ ${err.code}: ${err.summary}\n  What to do: ${err.action}`);
    }
    return exitCodeFor(err.code);
  } finally {
    store.close();
  }
}

function formatStatus(st: Awaited<ReturnType<typeof inspectRegistration>>): string[] {
  const lines = [`=== ${st.names.appDisplayName} ===`];
  if (!st.app) return [...lines, 'No app registration with this name exists.', ...st.problems.map((p) => `  ! ${p}`)];
  lines.push(
    `Client Id          : ${st.app.appId}`,
    `App (objectId)     : ${st.app.objectId}${st.app.managedByUs ? '' : ' (not created by this tool)'}`,
    `SP (objectId)      : ${st.servicePrincipal?.objectId ?? '(missing)'}`,
    `Mail.Send granted  : ${st.mailSendGranted ? 'yes' : 'NO'}`,
    `Group              : ${st.group ? `${st.group.name} <${st.group.smtp}> (${st.group.type})` : '(missing)'}`,
    `Members            : ${st.members.join(', ') || '(none)'}`,
    `Access policies    : ${st.policies.map((p) => `${p.accessRight} → ${p.scopeName}`).join('; ') || '(none)'}`,
    `Secrets            : ${st.secrets.map((s) => `${s.displayName ?? '(no name)'} ${s.keyId} expires ${s.endDateTime}`).join('; ') || '(none)'}`,
  );
  for (const p of st.problems) lines.push(`  ! ${p}`);
  return lines;
}

// Run when executed directly (node dist/cli/index.js …, or tsx src/cli/index.ts …); bin/opter-mail.mjs calls main itself.
if (process.argv[1] && /cli[\\/]index\.(ts|js|mjs)$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${toOpterError(e).message}\n`);
      process.exit(1);
    },
  );
}
