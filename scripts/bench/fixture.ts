/**
 * What every benchmark stands on: the simulated tenant with a fixed latency, the product's adapters wired to it the
 * way the product wires them (src/runtime/tenant.ts), a provisioning engine on a real SQLite journal in a temporary
 * directory, and an in-memory secret sink that never prints anything.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTenantAdapters, type TenantAdapters, type TenantConnection } from '../../src/adapters';
import { systemClock, type JournalPort, type ProgressEvent, type SecretSink } from '../../src/core/ports';
import { ProvisioningEngine } from '../../src/provisioning/engine';
import { DEFAULT_TEST_TLS_DIR } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import type { CallFamily, CallRecord } from './critical-path';
import { startSimulatorProcess, type BenchSimulator } from './remote-sim';

/** The simulator every benchmark talks to: its own process, a fixed latency on every call, the seeded tenant. */
export function startBenchSimulator(opts: { latencyMs: number; tlsDir?: string; seed?: number; tenantId?: string }): Promise<BenchSimulator> {
  return startSimulatorProcess({ tlsDir: opts.tlsDir ?? DEFAULT_TEST_TLS_DIR, latencyMs: opts.latencyMs, seed: opts.seed ?? 7, tenantId: opts.tenantId });
}

/** The simulator as the configuration contract describes a tenant (what openTenant builds in simulator mode). */
export function connectionFor(sim: BenchSimulator): TenantConnection {
  return {
    tenantId: sim.tenantId,
    clientId: sim.provisioning.clientId,
    clientSecret: sim.provisioning.clientSecret,
    authorityHost: sim.authorityHost,
    graphEndpoint: sim.graphEndpoint,
    exchangeEndpoint: sim.exchangeEndpoint,
    trustedCa: readFileSync(sim.caCertPath, 'utf8'),
  };
}

/**
 * Fresh adapters = a fresh credential with an empty token cache, as a newly started process has. `send`: the fetch
 * for Graph and Exchange (a CallRecorder's), instead of the one that trusts the simulator (tls-trust.ts).
 */
export function freshAdapters(sim: BenchSimulator, send?: typeof fetch): TenantAdapters {
  return createTenantAdapters(connectionFor(sim), send ? { graph: { fetch: send }, exchange: { fetch: send } } : {});
}

/** Holds each job's secret in memory so the engine can tell delivered from orphaned; never prints or writes it. */
export class MemorySecretSink implements SecretSink {
  private readonly held = new Map<string, string>();
  deliver(s: { jobId: string; keyId: string; secretText: string }): void {
    this.held.set(`${s.jobId}/${s.keyId}`, s.secretText);
  }
  holds(jobId: string, keyId: string): boolean {
    return this.held.has(`${jobId}/${keyId}`);
  }
  get count(): number {
    return this.held.size;
  }
}

export interface BenchEngine {
  engine: ProvisioningEngine;
  store: Store;
  sink: MemorySecretSink;
  /** Milliseconds spent inside (synchronous, event-loop-blocking) journal calls so far. */
  journalMs(): number;
  close(): void;
}

/** The journal with a stopwatch around each call: SQLite commits block the event loop, so their share matters. */
function timedJournal(journal: JournalPort): { journal: JournalPort; total: () => number } {
  let total = 0;
  const timed = {} as Record<string, unknown>;
  for (const key of ['createJob', 'getJob', 'listJobs', 'setJobStatus', 'finishJob', 'getSteps', 'getStep', 'recordStepStart', 'recordStepOutputs', 'recordStepSuccess', 'recordStepFailure'] as const) {
    const fn = (journal[key] as (...a: unknown[]) => unknown).bind(journal);
    timed[key] = (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return fn(...args);
      } finally {
        total += performance.now() - t0;
      }
    };
  }
  return { journal: timed as unknown as JournalPort, total: () => total };
}

/** The engine as the CLI builds it (default retry policies), on a file-backed journal in a temporary directory. */
export function createBenchEngine(sim: Pick<BenchSimulator, 'mailboxes'>, adapters: TenantAdapters): BenchEngine {
  const dataDir = mkdtempSync(join(tmpdir(), 'opter-bench-'));
  const store = openStore({ dataDir });
  const sink = new MemorySecretSink();
  const timed = timedJournal(store.journal);
  const engine = new ProvisioningEngine({
    directory: adapters.directory,
    exchange: adapters.exchange,
    appSignIn: adapters.appSignIn,
    journal: timed.journal,
    clock: systemClock,
    secretSink: sink,
    controlMailbox: sim.mailboxes.outside,
  });
  return {
    engine,
    store,
    sink,
    journalMs: () => timed.total(),
    close() {
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs one job to its end, collecting its progress events; throws when the job failed. */
export async function runJob(engine: ProvisioningEngine, jobId: string): Promise<{ events: ProgressEvent[]; wallMs: number }> {
  const events: ProgressEvent[] = [];
  const start = performance.now();
  const outcome = await engine.run(jobId, { listener: (e) => events.push(e) });
  const wallMs = performance.now() - start;
  if (outcome.error) throw new Error(`provisioning job ${jobId} failed: ${outcome.error.code} ${outcome.error.message}`);
  return { events, wallMs };
}

export function countByFamily(records: readonly CallRecord[]): Record<CallFamily, number> {
  const out: Record<CallFamily, number> = { token: 0, graph: 0, exchange: 0 };
  for (const r of records) out[r.family] += 1;
  return out;
}

/**
 * Attributes Graph and Exchange calls to the job that made them: `fetch` (give it to freshAdapters; both the Graph
 * SDK and the Exchange adapter send through it) records each call, while installed, under the AsyncLocalStorage key
 * the job runs in, and sends it through `send` (the simulator's trusted transport). Token requests go through
 * @azure/identity's own HTTP client and are not seen here.
 */
export class CallRecorder {
  private readonly als = new AsyncLocalStorage<string>();
  private readonly byKey = new Map<string, CallRecord[]>();
  private installed = false;
  readonly fetch: typeof fetch;

  constructor(
    private readonly origins: { graph: string; exchange: string },
    send: typeof fetch,
  ) {
    const original = send;
    const wrapped = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
      const key = this.installed ? this.als.getStore() : undefined;
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const family: CallFamily | null = url.startsWith(this.origins.graph) ? 'graph' : url.startsWith(this.origins.exchange) ? 'exchange' : null;
      if (!key || !family) return original(input, init);
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      const record: CallRecord = { at: new Date().toISOString(), family, method, path: new URL(url).pathname + new URL(url).search, status: 0 };
      if (family === 'exchange' && typeof init?.body === 'string') {
        const name = /"CmdletName"\s*:\s*"([^"]+)"/.exec(init.body)?.[1];
        if (name) record.cmdlet = name;
      }
      let list = this.byKey.get(key);
      if (!list) this.byKey.set(key, (list = []));
      list.push(record);
      const res = await original(input, init);
      record.status = res.status;
      return res;
    };
    this.fetch = wrapped as typeof fetch;
  }

  install(): void {
    this.installed = true;
  }

  uninstall(): void {
    this.installed = false;
  }

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.als.run(key, fn);
  }

  calls(key: string): CallRecord[] {
    return [...(this.byKey.get(key) ?? [])];
  }
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); null where unavailable. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every mainstream Linux build (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;
