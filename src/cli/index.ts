/**
 * opter-mail: the provisioning engine from a terminal — regmsgraph.ps1 without PowerShell, re-runnable and resumable.
 *
 *   opter-mail provision --app-name <name> --sender <addr> [--sender …] [--secret-years N] [--group-name …]
 *                        [--group-alias …] [--secret-name …] [--new-secret] [--json]
 *   opter-mail add-sender --app-name <name> --sender <addr> [--sender …] [--json]
 *   opter-mail status --app-name <name> [--json]
 *   opter-mail resume [--json]
 *   opter-mail sim-reset
 *   opter-mail audit verify
 *
 * Exit codes: 0 done and verified · 2 bad input · 3 permission/policy · 4 unfinished (run resume) · 5 conflict or
 * failed verification · 1 anything else.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ERROR_CATALOGUE, OpterError, exitCodeFor, toOpterError, type ErrorCode } from '../core/errors';
import { systemClock, type ProgressEvent, type SecretSink } from '../core/ports';
import { readDataDir } from '../adapters/config';
import { ProvisioningEngine, validateProvisionInput, type JobOutcome, type ProvisionInput } from '../provisioning/engine';
import { inspectRegistration } from '../provisioning/inspect';
import { formatDerivedNames, deriveNames } from '../provisioning/names';
import { formatOutputBlock, outputFields } from '../provisioning/output';
import { parseSenderList } from '../provisioning/senders';
import { openStore, type Store } from '../store';
import { openTenant, prepareProcessTrust, simulatorPaths, usesEmbeddedSimulator, type TenantRuntime } from '../runtime/tenant';
import { renderProgressLine } from './render';

export const USAGE = `usage:
  opter-mail provision --app-name <name> --sender <addr> [--sender <addr> …] [--secret-years N]
                       [--group-name <name>] [--group-alias <alias>] [--secret-name <name>] [--new-secret] [--json]
  opter-mail add-sender --app-name <name> --sender <addr> [--sender <addr> …] [--json]
  opter-mail status --app-name <name> [--json]
  opter-mail resume [--json]
  opter-mail sim-reset
  opter-mail audit verify`;

const OPTIONS = {
  'app-name': { type: 'string' },
  sender: { type: 'string', multiple: true },
  'secret-years': { type: 'string' },
  'group-name': { type: 'string' },
  'group-alias': { type: 'string' },
  'secret-name': { type: 'string' },
  'new-secret': { type: 'boolean' },
  json: { type: 'boolean' },
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
  take(jobId: string): string | null {
    const s = this.secrets.get(jobId);
    this.secrets.delete(jobId);
    return s?.secretText ?? null;
  }
}

export async function main(argv: string[], io: Io = defaultIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  let args: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    args = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const v = args.values;
  if (!command || v.help || command === 'help') {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  const dataDir = readDataDir(env);
  const json = !!v.json;

  try {
    switch (command) {
      case 'provision':
      case 'add-sender': {
        const input = readProvisionArgs(v, command === 'add-sender');
        return await withRuntime(dataDir, env, io, json, async (rt) => {
          const job =
            command === 'provision'
              ? rt.engine.createProvisionJob(input)
              : rt.engine.createAddSenderJob({ appDisplayName: input.appDisplayName, senders: input.senders, overrides: input.overrides });
          if (!json && command === 'provision') io.err(['', ...formatDerivedNames(deriveNames(input.appDisplayName, input.overrides)), ''].join('\n'));
          const outcome = await rt.engine.run(job.id, { listener: rt.listener });
          return report(outcome, rt, io, json);
        });
      }
      case 'resume':
        return await withRuntime(dataDir, env, io, json, async (rt) => {
          // Interrupted jobs, and failed ones that a retry can fix (bad input needs a new request instead).
          const retryable = rt.store.journal.listJobs({ status: 'failed' }).filter((j) => !isInputError(j.lastError?.code));
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
            const outcome = await rt.engine.run(job.id, { listener: rt.listener });
            const c = report(outcome, rt, io, json, docs);
            code = code || c;
          }
          if (json) io.out(JSON.stringify({ ok: code === 0, resumed: docs }, null, 2));
          return code;
        });
      case 'status': {
        const appName = required(v['app-name'], '--app-name');
        return await withRuntime(dataDir, env, io, json, async (rt) => {
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
      case 'audit': {
        if (args.positionals[0] !== 'verify') throw new OpterError('E_INPUT_INVALID', { detail: 'use: opter-mail audit verify' });
        const store = openStore({ dataDir });
        try {
          const r = store.audit.verify();
          if (r.ok) io.out(`audit chain OK: ${r.count} entries, head seq ${r.headSeq}, hash ${r.headHash}`);
          else io.out(`audit chain BROKEN at seq ${r.brokenSeq}: ${r.reason}`);
          return r.ok ? 0 : 5;
        } finally {
          store.close();
        }
      }
      default:
        io.err(`unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    const err = toOpterError(e);
    if (json) io.out(JSON.stringify({ ok: false, error: { code: err.code, message: err.summary, action: err.action, field: err.field ?? null } }, null, 2));
    else io.err(`✗ ${err.code}: ${err.summary}\n  What to do: ${err.action}`);
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

function readProvisionArgs(v: Record<string, unknown>, addSender: boolean): ProvisionInput {
  const years = v['secret-years'] === undefined ? undefined : Number(v['secret-years']);
  const input: ProvisionInput = {
    appDisplayName: (v['app-name'] as string | undefined) ?? 'OpterMessageProxy',
    senders: parseSenderList((v.sender as string[] | undefined) ?? []),
    secretValidYears: years,
    newSecret: !!v['new-secret'],
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
}

async function withRuntime(dataDir: string, env: NodeJS.ProcessEnv, io: Io, json: boolean, fn: (rt: CliRuntime) => Promise<number>): Promise<number> {
  await prepareProcessTrust(dataDir, env);
  const tenant = await openTenant({ dataDir, env });
  if (tenant.mode === 'simulator') io.err(`\n!!! Using the ${tenant.description}\n`);
  const store = openStore({ dataDir });
  const sink = new MemorySecretSink();
  const engine = new ProvisioningEngine({
    directory: tenant.adapters.directory,
    exchange: tenant.adapters.exchange,
    appSignIn: tenant.adapters.appSignIn,
    journal: store.journal,
    clock: systemClock,
    secretSink: sink,
    controlMailbox: tenant.controlMailbox,
    retry: retryFromEnv(env),
  });
  const listener = (e: ProgressEvent) => {
    if (json) return;
    const line = renderProgressLine(e);
    if (line) io.err(line);
  };
  try {
    return await fn({ tenant, store, engine, sink, listener });
  } finally {
    store.close();
    await tenant.close();
  }
}

function retryFromEnv(env: NodeJS.ProcessEnv) {
  const max = Number(env.OPTER_STEP_MAX_WAIT_MS);
  const base = Number(env.OPTER_RETRY_BASE_MS);
  return {
    ...(Number.isFinite(max) && max > 0 ? { maxTotalWaitMs: max } : {}),
    ...(Number.isFinite(base) && base > 0 ? { baseDelayMs: base } : {}),
  };
}

function report(outcome: JobOutcome, rt: CliRuntime, io: Io, json: boolean, collect?: unknown[]): number {
  const secretText = rt.sink.take(outcome.job.id);
  if (outcome.error) {
    const err = outcome.error;
    const unfinished = err.transient || err.category === 'transient';
    const resumable = err.category !== 'input';
    const code = unfinished ? 4 : exitCodeFor(err.code);
    const doc = {
      ok: false,
      jobId: outcome.job.id,
      error: { code: err.code, message: err.summary, action: err.action, field: err.field ?? null },
      resumable,
    };
    if (collect) collect.push(doc);
    else if (json) io.out(JSON.stringify(doc, null, 2));
    else {
      io.err(`\n✗ Job ${outcome.job.id} stopped: ${err.code} — ${err.summary}\n  What to do: ${err.action}`);
      if (resumable) io.err('  Finished steps are kept; run "opter-mail resume" to continue.');
    }
    return code;
  }
  const r = outcome.result!;
  const fields = outputFields(r, secretText, rt.tenant.controlMailbox);
  const doc = { ok: true, jobId: r.jobId, kind: outcome.job.kind, output: fields, result: r };
  if (collect) collect.push(doc);
  else if (json) io.out(JSON.stringify(doc, null, 2));
  else {
    for (const n of r.notes) io.err(`note: ${n}`);
    if (outcome.job.kind === 'provision') io.out(['', ...formatOutputBlock(fields)].join('\n'));
    else io.out(`Senders now allowed for ${r.names.appDisplayName}: ${r.senders.join(', ')} (group ${r.groupSmtp}).`);
  }
  return 0;
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

// Run when executed directly (tsx src/cli/index.ts …, or bin/opter-mail.mjs).
if (process.argv[1] && /cli[\\/]index\.(ts|js|mjs)$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${toOpterError(e).message}\n`);
      process.exit(1);
    },
  );
}
