/**
 * Spawns race-child.ts processes against one data directory, releases them at the same instant once all are loaded,
 * and collects their results (every child is bounded by a timeout and killed if it overruns).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./race-child.ts', import.meta.url));

export interface RaceOutput {
  who: string;
  results: Record<string, unknown>[];
  errors: string[];
}

interface Running {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<RaceOutput>;
}

function start(args: Record<string, unknown>, timeoutMs: number): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<RaceOutput>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`race child ${String(args.who)} timed out; stderr: ${err.slice(0, 2000)}`));
    }, timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.startsWith('READY\n')) markReady();
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      markReady();
      if (code !== 0) return reject(new Error(`race child ${String(args.who)} exited ${code}: ${err.slice(0, 2000)}`));
      try {
        resolve(JSON.parse(out.replace(/^READY\n/, '')) as RaceOutput);
      } catch {
        reject(new Error(`race child ${String(args.who)} printed no JSON: ${out.slice(0, 500)} ${err.slice(0, 2000)}`));
      }
    });
  });
  return { child, ready, done };
}

/** Runs `count` children with the same args (distinct `who`), all released at the same instant. */
export async function race(count: number, args: Record<string, unknown>, timeoutMs = 45_000): Promise<RaceOutput[]> {
  const running = Array.from({ length: count }, (_, i) => start({ ...args, who: `p${i + 1}` }, timeoutMs));
  await Promise.race([Promise.all(running.map((r) => r.ready)), Promise.all(running.map((r) => r.done))]);
  const startAt = Date.now() + 150;
  for (const r of running) r.child.stdin!.end(`${startAt}\n`);
  return Promise.all(running.map((r) => r.done));
}
