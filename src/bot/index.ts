/**
 * startBot: the whole bot in one call — configuration, the store in DATA_DIR (secrets sealed with
 * SECRET_ENCRYPTION_KEY, or a key generated into DATA_DIR in local mode), the tenant (real, or the embedded
 * simulator), the provisioning engine with a store-backed secret sink, the teams-ai Application on the host's
 * TeamsAdapter, and the background worker (outbox delivery, approval and secret expiry). Unfinished jobs are
 * resumed at start, their progress cards re-attached.
 *
 * close() behaves like a crash as far as the journal is concerned: running jobs stop at their next journal write or
 * retry wait without recording anything, so the next start resumes them exactly where they were.
 */
import { mkdirSync } from 'node:fs';
import type { ServiceClientCredentialsFactory } from 'botframework-connector';
import { registry, workflowsOf } from '../actions/registry';
import { systemClock, type Clock, type JournalPort } from '../core/ports';
import { ProvisioningEngine } from '../provisioning';
import { retryPolicyFromEnv, type RetryPolicy } from '../provisioning';
import { roleConfig } from '../requests/rules';
import { openTenant, standingWriteRights, type TenantRuntime } from '../runtime/tenant';
import type { Simulator } from '../sim';
import { openStore, resolveEncryptionKey, type Store } from '../store';
import { createApplication } from './host/app';
import type { BotAuthOverrides } from './host/auth';
import { readBotConfig, type BotConfig, type BotEnv } from './host/config';
import { lifecycleSweep } from './background/lifecycle';
import { sweepRetirements } from './handlers/rotation';
import { createRedactingLogger, type RedactingLogger } from './host/log';
import { describeError } from './describe-error';
import { ProvisioningRunner } from './background/runner';
import { createSecretSink } from './handlers/secrets';
import { consoleLogger, startBotServer, type BotLogger, type BotServer } from './host/server';
import { TeamsIO } from './host/teams-io';
import type { BotServices, BotSettings } from './types';
import { BackgroundWorker } from './background/worker';
import { ApproverSessions } from './delegation';

export interface StartBotOptions {
  /** Environment to read (default process.env): bot settings, DATA_DIR, SECRET_ENCRYPTION_KEY, tenant settings. */
  env?: BotEnv;
  /** Use this configuration instead of readBotConfig(env). */
  config?: BotConfig;
  /** Where the store (and, in simulator mode, the simulated tenant) lives. Default: env DATA_DIR or ./data. */
  dataDir?: string;
  /** Time for expiry, audit and request timestamps (and the engine's waits). Default: the system clock. */
  clock?: Clock;
  /** A tenant opened by the caller (not closed by the bot). Default: openTenant({ dataDir, env, simulator }). */
  tenant?: TenantRuntime;
  /** A running simulator to use as the tenant (not closed by the bot). */
  simulator?: Simulator;
  /** Where log lines go (default: console). Everything is redacted before it gets here. */
  logger?: BotLogger;
  /** Period of the expiry sweep and outbox safety net (default 15 s). Due outbox items are delivered sooner. */
  workerIntervalMs?: number;
  /** The engine's retry policy (tests use small budgets). */
  retry?: Partial<RetryPolicy>;
  verifyRetry?: Partial<RetryPolicy>;
  /** The 32-byte key sealing one-time secrets; default from SECRET_ENCRYPTION_KEY or DATA_DIR (local mode). */
  encryptionKey?: Buffer;
  /** Bot Framework auth endpoints / outbound token factory (authenticated-mode tests). */
  authOverrides?: BotAuthOverrides;
  credentialsFactory?: ServiceClientCredentialsFactory;
  settings?: Partial<BotSettings>;
}

export interface BotHandle {
  url: string;
  port: number;
  config: BotConfig;
  store: Store;
  engine: ProvisioningEngine;
  tenant: TenantRuntime;
  server: BotServer;
  logger: RedactingLogger;
  /**
   * Runs the sweeps (approval and secret expiry; the lifecycle's due waits, secret retirements and daily expiry
   * reminders) and delivers every due outbox item now; resolves when done. Jobs it starts run on: see idle().
   */
  tick(): Promise<void>;
  /** Resolves when no provisioning run is in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_SETTINGS: BotSettings = {
  progressMinIntervalMs: 1_000,
  revealGraceMs: 15 * 60_000,
  outboxRetryBaseMs: 2_000,
  outboxRetryMaxMs: 5 * 60_000,
  auditUnroutedRetryMs: 60_000,
  expiryCheckIntervalMs: 24 * 3_600_000,
  migrationSettleMinutes: 120,
  rotationOverlapDays: 7,
  ssoMinRemainingMs: 5 * 60_000,
};

const DEFAULT_WORKER_INTERVAL_MS = 15_000;
/** How long close() waits for running jobs to reach their stop point. */
const STOP_TIMEOUT_MS = 15_000;

class StoppedError extends Error {
  constructor() {
    super('the bot is shutting down');
    this.name = 'BotStoppedError';
  }
}

/**
 * The engine's journal and clock, with a fence: once closed, every journal call and every retry wait throws, so a
 * running job unwinds without writing a "failed" status the next start would have to undo.
 */
function fenced(journal: JournalPort, clock: Clock) {
  let stopped = false;
  const waiters = new Set<() => void>();
  const guard = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
    if (stopped) throw new StoppedError();
    return fn(...args);
  };
  const fencedJournal: JournalPort = {
    createJob: guard((j) => journal.createJob(j)),
    getJob: guard((id) => journal.getJob(id)),
    listJobs: guard((f) => journal.listJobs(f)),
    setJobStatus: guard((id, s, e) => journal.setJobStatus(id, s, e)),
    finishJob: guard((id, end) => journal.finishJob(id, end)),
    getSteps: guard((id) => journal.getSteps(id)),
    getStep: guard((id, s) => journal.getStep(id, s)),
    recordStepStart: guard((id, s) => journal.recordStepStart(id, s)),
    recordStepOutputs: guard((id, s, o) => journal.recordStepOutputs(id, s, o)),
    recordStepSuccess: guard((id, s, o) => journal.recordStepSuccess(id, s, o)),
    recordStepFailure: guard((id, s, e) => journal.recordStepFailure(id, s, e)),
  };
  const fencedClock: Clock = {
    now: () => clock.now(),
    sleep: (ms) => {
      if (stopped) return Promise.reject(new StoppedError());
      return new Promise<void>((resolve, reject) => {
        const wake = () => {
          waiters.delete(wake);
          reject(new StoppedError());
        };
        waiters.add(wake);
        clock.sleep(ms).then(
          () => {
            if (!waiters.delete(wake)) return;
            resolve();
          },
          (e) => {
            waiters.delete(wake);
            reject(e);
          },
        );
      });
    },
  };
  return {
    journal: fencedJournal,
    clock: fencedClock,
    stop() {
      stopped = true;
      for (const wake of [...waiters]) wake();
    },
  };
}

export async function startBot(options: StartBotOptions = {}): Promise<BotHandle> {
  const env = options.env ?? process.env;
  const config = options.config ?? readBotConfig(env);
  const clock = options.clock ?? systemClock;
  const log = createRedactingLogger(options.logger ?? consoleLogger);
  const dataDir = options.dataDir ?? env.DATA_DIR?.trim() ?? './data';
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const settings: BotSettings = { ...DEFAULT_SETTINGS, ...options.settings };

  let encryptionKey = options.encryptionKey;
  if (!encryptionKey) {
    const resolved = resolveEncryptionKey(dataDir, { env, allowCreate: config.mode === 'local' });
    encryptionKey = resolved.key;
    if (config.mode === 'authenticated' && resolved.source !== 'env') {
      // The key next to the database protects nothing against whoever copies DATA_DIR (docs/security.md).
      log.warn(
        `SECRET_ENCRYPTION_KEY is not set: one-time secrets are sealed with the key file ${resolved.file}, which sits next to the database it protects. Set SECRET_ENCRYPTION_KEY (32 random bytes, e.g. from a key vault) for production.`,
      );
    }
  }
  // Payloads are decoded with their action's schema as they are read (src/actions).
  const store = openStore({ dataDir, encryptionKey, clock, decodePayload: registry.decodePayload });
  const ownsTenant = !options.tenant;
  let tenant: TenantRuntime;
  try {
    tenant = options.tenant ?? (await openTenant({ dataDir, env, simulator: options.simulator }));
  } catch (e) {
    store.close();
    throw e;
  }
  if (!config.allowedTenantIds.includes(tenant.conn.tenantId.toLowerCase())) {
    log.warn(`the provisioning tenant ${tenant.conn.tenantId} is not among the allowed Teams tenants (${config.allowedTenantIds.join(', ')})`);
  }

  const fence = fenced(store.journal, clock);
  const services = {
    config,
    roles: roleConfig(config.admins, config.approvers, config.allowedTenantIds),
    store,
    tenant,
    log,
    clock,
    settings,
    // Delegated mode: approvers' access lives here, for the run it was given for, and nowhere else.
    delegation: config.provisioningAuth === 'delegated' ? new ApproverSessions() : null,
    poke: () => undefined,
  } as unknown as BotServices;
  services.engine = new ProvisioningEngine({
    directory: tenant.adapters.directory,
    exchange: tenant.adapters.exchange,
    appSignIn: tenant.adapters.appSignIn,
    journal: fence.journal,
    clock: fence.clock,
    secretSink: createSecretSink(services),
    controlMailbox: tenant.controlMailbox,
    // The documented OPTER_* tuning variables, unless the caller passes its own values.
    retry: { ...retryPolicyFromEnv(env), ...options.retry },
    verifyRetry: options.verifyRetry,
    // The registry's workflows: each action runs the one it names.
    workflows: workflowsOf(registry),
    writes: config.provisioningAuth === 'delegated' ? 'delegated' : 'standing',
  });
  const runner = new ProvisioningRunner(services);
  const worker = new BackgroundWorker(services, options.workerIntervalMs ?? DEFAULT_WORKER_INTERVAL_MS, () => lifecycleSweep(services, runner));
  services.poke = () => worker.poke();

  // The server needs the turn handler before the Application (which needs the server's adapter) exists.
  let onTurn: ((ctx: Parameters<Parameters<typeof startBotServer>[0]['onTurn']>[0]) => Promise<void>) | null = null;
  let server: BotServer;
  try {
    server = await startBotServer({
      config,
      logger: log,
      authOverrides: options.authOverrides,
      credentialsFactory: options.credentialsFactory,
      onTurn: async (ctx) => {
        if (!onTurn) throw new Error('the bot is still starting');
        await onTurn(ctx);
      },
    });
  } catch (e) {
    if (ownsTenant) await tenant.close();
    store.close();
    throw e;
  }
  services.io = new TeamsIO(server);
  const app = createApplication(services, { adapter: server.adapter, botAppId: server.botAppId, runner });
  onTurn = async (ctx) => {
    await app.run(ctx);
  };

  log.info(`tenant: ${tenant.description}`);
  log.info(`store: ${store.path}`);
  // This is the only bot on DATA_DIR (resumeAll below makes the same assumption), so deliveries an earlier process
  // had leased are from a process that is gone: deliver them now instead of when their leases run out.
  const released = store.outbox.releaseOtherLeases(clock.now());
  if (released) log.info(`${released} Teams deliveries interrupted by the previous process are due again`);
  runner.resumeAll();
  if (config.provisioningAuth === 'delegated') {
    // Not awaited: a slow sign-in must not hold the start; the warning lands in the log a moment later.
    void standingWriteRights(tenant).then((rights) => {
      if (rights.length) {
        log.warn(`PROVISIONING_AUTH=delegated, but the standing identity (${tenant.conn.clientId ?? 'managed identity'}) still holds ${rights.join(', ')}: whoever gets it can still change the tenant. Remove them (docs/delegated-mode.md); it needs only Application.Read.All, Policy.Read.All, Exchange.ManageAsApp and Global Reader.`);
      }
    });
  }
  // Retire jobs are not a request's own job, so resumeAll does not see them; the sweep resumes them (journal only).
  sweepRetirements(services, runner);
  worker.start();

  let closing: Promise<void> | null = null;
  return {
    url: server.url,
    port: server.port,
    config,
    store,
    engine: services.engine,
    tenant,
    server,
    logger: log,
    tick: () => worker.tick(),
    idle: () => runner.settle(),
    close() {
      closing ??= (async () => {
        await server.close();
        fence.stop();
        const stopped = await Promise.race([
          runner.stop().then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), STOP_TIMEOUT_MS).unref?.()),
        ]);
        if (!stopped) log.warn('some provisioning runs did not stop in time; they resume at the next start');
        await worker.stop();
        if (ownsTenant) await tenant.close().catch((e: unknown) => log.warn(`closing the tenant: ${describeError(e)}`));
        store.close();
      })();
      return closing;
    },
  };
}

export type { BotServices, BotSettings } from './types';
