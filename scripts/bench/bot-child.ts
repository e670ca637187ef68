/** The benchmark's handle on the bot running in its own process (scripts/bench/bot-process.ts). */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const START_TIMEOUT_MS = 120_000;
const COMMAND_TIMEOUT_MS = 600_000;
const STOP_TIMEOUT_MS = 20_000;

export interface BotUsage {
  /** Cumulative event-loop idle and active time, ms (performance.eventLoopUtilization). */
  elu: { idle: number; active: number };
  /** Cumulative user + system CPU, µs. */
  cpuMicros: number;
  log: { warn: number; error: number; lastWarn: string | null; lastError: string | null };
}

export interface BotChild {
  url: string;
  pid: number;
  /** Resolves when the bot has no provisioning run in flight. */
  idle(): Promise<void>;
  usage(): Promise<BotUsage>;
  close(): Promise<void>;
}

/** Event-loop utilisation and CPU between two usage samples. */
export function usageBetween(a: BotUsage, b: BotUsage): { eventLoopUtilization: number; cpuMs: number } {
  const active = b.elu.active - a.elu.active;
  const idle = b.elu.idle - a.elu.idle;
  return { eventLoopUtilization: active + idle > 0 ? active / (active + idle) : 0, cpuMs: (b.cpuMicros - a.cpuMicros) / 1000 };
}

export async function startBotProcess(opts: { env: Record<string, string>; dataDir: string }): Promise<BotChild> {
  const entry = fileURLToPath(new URL('./bot-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--no-deprecation', '--import', 'tsx', entry], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_BOT_OPTIONS: JSON.stringify(opts) },
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let onReady: ((url: string) => void) | null = null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`the bot process exited (${code ?? signal})`));
    }
    pending.clear();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let msg: { id?: number; ok?: boolean; result?: unknown; error?: string; ready?: { url: string } };
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not a protocol line
    }
    if (msg.ready) {
      onReady?.(msg.ready.url);
      return;
    }
    const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
    if (!p) return;
    pending.delete(msg.id!);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`bot process: ${msg.error ?? 'failed'}`));
  });

  const command = (cmd: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error('the bot process is not running'));
        return;
      }
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the bot process did not answer "${cmd}" within ${COMMAND_TIMEOUT_MS / 1000} s`));
      }, COMMAND_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      child.stdin!.write(`${JSON.stringify({ id, cmd })}\n`);
    });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bot process did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      onReady = (u) => {
        clearTimeout(timer);
        resolve(u);
      };
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the bot process exited (code ${child.exitCode ?? child.signalCode}) before it was ready`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }

  let closed: Promise<void> | null = null;
  return {
    url,
    pid: child.pid!,
    idle: async () => void (await command('idle')),
    usage: async () => (await command('usage')) as BotUsage,
    // Closing stdin is the stop signal: the bot closes (like a crash for running jobs) and the process exits.
    close: () => (closed ??= stop()),
  };
}

