/**
 * P4: what `npm start` costs — time from spawning `node dist/main.js` (the compiled runtime `npm start` runs; built
 * first when dist/ is stale) until the bot's HTTP port answers (and the playground's), and the resident memory once
 * it sits idle. Cold = a fresh DATA_DIR (certificates, keys, store and simulated tenant are created); warm = the
 * same DATA_DIR started again.
 *
 * The environment is built from scratch (PATH, HOME, locale + DATA_DIR, ports), so no tenant or bot setting of the
 * caller leaks in and the product starts in its default mode: embedded simulator, local-mode bot, playground.
 * RSS is read from /proc (Linux) for the whole process tree, so a process the product started would be counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, startArguments } from '../build.mjs';
import { median, round } from './stats';

export interface P4Options {
  runs: number;
  /** Repository root (where package.json and dist/main.js are). Default: two levels above this file. */
  root?: string;
  /** Give up on a start after this long (default 90 s). */
  timeoutMs?: number;
  /** Idle time after both ports answer before RSS is read (default 3 s). */
  settleMs?: number;
  log?: (line: string) => void;
}

export interface StartMeasurement {
  /** Spawn → first HTTP answer on the bot port. */
  listeningMs: number;
  /** Spawn → first HTTP answer on the playground port. */
  playgroundMs: number;
  /** Sum of VmRSS over the process tree after settling, MiB. */
  treeRssMiB: number;
  /** The process that serves (the deepest of the tree; the only one when nothing is re-launched), MiB. */
  productRssMiB: number;
  processes: number;
  /** Each process of the tree: its command line (shortened) and RSS. */
  tree: Array<{ command: string; rssMiB: number; serving: boolean }>;
  /** Every process of the group ended after SIGTERM, without needing SIGKILL. */
  stoppedCleanly: boolean;
}

export interface P4Run {
  cold: StartMeasurement;
  warm: StartMeasurement;
}

export interface P4Result {
  command: string;
  settleMs: number;
  runs: P4Run[];
  median: { cold: StartMeasurement; warm: StartMeasurement };
}

const POLL_MS = 20;
const STOP_TIMEOUT_MS = 15_000;
const OUTPUT_TAIL = 4_000;

export function defaultRoot(): string {
  return resolve(fileURLToPath(new URL('../..', import.meta.url)));
}

export function freePort(): Promise<number> {
  return new Promise((resolveFn, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolveFn(port));
    });
  });
}

/** True when something answers HTTP on the port (any status counts: the server is listening and serving). */
async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Pids of `root` and all its descendants, from /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** VmRSS in KiB, or 0 when the process is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The command line of a process, paths shortened to their last segment, at most 120 characters. */
export function commandOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return argv.map((a) => (a.includes('/') && !a.startsWith('-') ? a.slice(a.lastIndexOf('/') + 1) : a)).join(' ').slice(0, 120);
  } catch {
    return '?';
  }
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ']) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  return { ...env, ...extra };
}

/** Pids whose process group is `pgid` (field 5 of /proc/<pid>/stat). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) out.push(Number(name));
    } catch {
      // ended while we looked
    }
  }
  return out;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

/**
 * Stops the whole tree: the child leads its own process group (detached), so SIGTERM to the group reaches it and
 * anything it started; whatever is still there after the grace period gets SIGKILL.
 */
async function stopTree(child: ChildProcess): Promise<boolean> {
  const pgid = child.pid!;
  let clean = true;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    signalGroup(pgid, 'SIGTERM');
    const timer = setTimeout(() => {
      clean = false;
      signalGroup(pgid, 'SIGKILL');
    }, STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() > deadline) {
      clean = false;
      signalGroup(pgid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return clean;
}

async function startOnce(root: string, dataDir: string, timeoutMs: number, settleMs: number): Promise<StartMeasurement> {
  let measured: Omit<StartMeasurement, 'stoppedCleanly'>;
  let stoppedCleanly: boolean;
  const [botPort, playgroundPort] = [await freePort(), await freePort()];
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
  };
  const t0 = performance.now();
  const child = spawn(process.execPath, startArguments(), {
    cwd: root,
    env: cleanEnv({ DATA_DIR: dataDir, PORT: String(botPort), PLAYGROUND_PORT: String(playgroundPort), HOST: '127.0.0.1' }),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  try {
    const deadline = t0 + timeoutMs;
    const waitFor = async (port: number, what: string): Promise<number> => {
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm start exited (${child.exitCode ?? child.signalCode}) before ${what} answered:\n${output}`);
        if (await answers(port)) return performance.now() - t0;
        if (performance.now() > deadline) throw new Error(`${what} did not answer within ${timeoutMs / 1000} s:\n${output}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };
    const listeningMs = await waitFor(botPort, 'the bot port');
    const playgroundMs = await waitFor(playgroundPort, 'the playground port');
    await new Promise((r) => setTimeout(r, settleMs));
    const pids = processTree(child.pid!);
    const rss = pids.map(rssKiB);
    const productIndex = pids.length - 1;
    measured = {
      listeningMs: round(listeningMs, 0),
      playgroundMs: round(playgroundMs, 0),
      treeRssMiB: round(rss.reduce((a, b) => a + b, 0) / 1024, 1),
      productRssMiB: round(rss[productIndex]! / 1024, 1),
      processes: pids.length,
      tree: pids.map((pid, i) => ({ command: commandOf(pid), rssMiB: round(rss[i]! / 1024, 1), serving: i === productIndex })),
    };
  } finally {
    stoppedCleanly = await stopTree(child);
  }
  return { ...measured, stoppedCleanly };
}

function medianStart(list: StartMeasurement[]): StartMeasurement {
  return {
    listeningMs: median(list.map((m) => m.listeningMs)),
    playgroundMs: median(list.map((m) => m.playgroundMs)),
    treeRssMiB: round(median(list.map((m) => m.treeRssMiB)), 1),
    productRssMiB: round(median(list.map((m) => m.productRssMiB)), 1),
    processes: median(list.map((m) => m.processes)),
    // The tree of the run whose product RSS is the median (a tree has no meaningful element-wise median).
    tree: [...list].sort((a, b) => a.productRssMiB - b.productRssMiB)[Math.floor((list.length - 1) / 2)]!.tree,
    stoppedCleanly: list.every((m) => m.stoppedCleanly),
  };
}

export async function runP4(opts: P4Options): Promise<P4Result> {
  const log = opts.log ?? (() => {});
  const root = opts.root ?? defaultRoot();
  if (root === defaultRoot()) await ensureBuilt({ log });
  if (!existsSync(join(root, 'dist', 'main.js'))) throw new Error(`P4 needs ${join(root, 'dist', 'main.js')} (what npm start runs; npm run build)`);
  const runs = Math.max(1, Math.min(20, Math.floor(opts.runs)));
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const settleMs = opts.settleMs ?? 3_000;
  const results: P4Run[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'opter-bench-start-'));
    try {
      const cold = await startOnce(root, dataDir, timeoutMs, settleMs);
      const warm = await startOnce(root, dataDir, timeoutMs, settleMs);
      log(`P4 run ${i + 1}/${runs}: cold ${cold.listeningMs} ms / ${cold.productRssMiB} MiB, warm ${warm.listeningMs} ms / ${warm.productRssMiB} MiB`);
      results.push({ cold, warm });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return {
    command: `node ${startArguments().join(' ')} (npm start)`,
    settleMs,
    runs: results,
    median: { cold: medianStart(results.map((r) => r.cold)), warm: medianStart(results.map((r) => r.warm)) },
  };
}
