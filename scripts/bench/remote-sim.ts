/**
 * A simulated tenant in a child process (scripts/bench/sim-process.ts), driven through its loopback admin surface.
 * Its admin surface is reached over HTTPS trusting the simulator's certificate in-process (src/adapters/tls-trust.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { transportFor } from '../../src/adapters/tls-trust';
import type { RequestLogEntry, SimFaults, TenantSnapshot } from '../../src/sim';

export const SIM_READY_PREFIX = 'BENCH_SIM_READY ';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const ADMIN_TIMEOUT_MS = 30_000;

export interface BenchSimulator {
  tenantId: string;
  domain: string;
  authorityHost: string;
  graphEndpoint: string;
  exchangeEndpoint: string;
  caCertPath: string;
  provisioning: { clientId: string; clientSecret: string };
  mailboxes: { info: string; faktura: string; outside: string; shared: string; admin: string; [k: string]: string };
  /** Process id of the simulator (for the report: its CPU is not the product's). */
  pid: number;
  /** Back to the seeded tenant, start-up faults (the fixed latency) and an empty request log. */
  reset(): Promise<void>;
  clearRequests(): Promise<void>;
  requests(): Promise<RequestLogEntry[]>;
  setFaults(p: Partial<SimFaults>): Promise<void>;
  snapshot(): Promise<TenantSnapshot>;
  close(): Promise<void>;
}

type SimInfo = Pick<BenchSimulator, 'tenantId' | 'domain' | 'authorityHost' | 'graphEndpoint' | 'exchangeEndpoint' | 'caCertPath' | 'provisioning' | 'mailboxes'>;

export interface StartSimProcessOptions {
  tlsDir: string;
  latencyMs: number;
  seed?: number;
  /** Tenant GUID (e.g. to match the Teams tenant of the bot's personas). Default: random. */
  tenantId?: string;
}

export async function startSimulatorProcess(opts: StartSimProcessOptions): Promise<BenchSimulator> {
  const entry = fileURLToPath(new URL('./sim-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      BENCH_SIM_OPTIONS: JSON.stringify({ tlsDir: opts.tlsDir, seed: opts.seed ?? 7, latencyMs: opts.latencyMs, tenantId: opts.tenantId }),
    },
  });
  let info: SimInfo;
  try {
    info = await readyLine(child);
  } catch (e) {
    await stopChild(child);
    throw e;
  }

  const trusted = transportFor({ trustedCa: readFileSync(info.caCertPath, 'utf8') })!.fetch;
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await trusted(`${info.graphEndpoint}/_sim/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator admin ${method} /_sim/${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  };

  let closed: Promise<void> | null = null;
  return {
    ...info,
    pid: child.pid!,
    reset: async () => void (await admin('POST', 'reset')),
    clearRequests: async () => void (await admin('DELETE', 'requests')),
    requests: async () => (await admin('GET', 'requests')) as RequestLogEntry[],
    setFaults: async (p) => void (await admin('POST', 'faults', p)),
    snapshot: async () => (await admin('GET', 'state')) as TenantSnapshot,
    close: () => (closed ??= stopChild(child)),
  };
}

function readyLine(child: ChildProcess): Promise<SimInfo> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`the simulator process did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the simulator process exited (code ${code}) before it was ready`));
    };
    child.once('exit', onExit);
    lines.on('line', (line) => {
      if (!line.startsWith(SIM_READY_PREFIX)) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout!.resume();
      resolve(JSON.parse(line.slice(SIM_READY_PREFIX.length)));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
