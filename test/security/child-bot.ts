/**
 * Runs test/security/bot-child.ts (startBot) as a separate process that a test can SIGKILL, and tracks every child
 * so afterAll can kill what a failed test left behind. Stdout lines are kept (`READY`, `LOG …`) for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const CHILD_SCRIPT = resolve(__dirname, 'bot-child.ts');
const live = new Set<ChildProcess>();

export interface ChildBot {
  url: string;
  pid: number;
  /** Every stdout/stderr line so far (LOG lines, READY, anything printed). */
  lines: string[];
  /** SIGKILL, then wait until the process is gone. */
  kill(): Promise<void>;
}

export function startChildBot(env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ChildBot> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const lines: string[] = [];
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  void exited.then(() => live.delete(child));

  return new Promise<ChildBot>((resolveStart, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the bot child did not start within ${timeoutMs} ms:\n${lines.join('\n')}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(text);
        if (text.startsWith('READY ')) {
          clearTimeout(timer);
          resolveStart({
            url: text.slice('READY '.length).trim(),
            pid: child.pid!,
            lines,
            async kill() {
              if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
              await exited;
            },
          });
        }
        if (text.startsWith('FATAL ')) {
          clearTimeout(timer);
          reject(new Error(`the bot child failed to start: ${text}\n${lines.join('\n')}`));
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((l) => `stderr ${l}`)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the bot child exited (${code ?? signal}) before it was ready:\n${lines.join('\n')}`));
    });
  });
}

/** Kills every child still running (afterAll). */
export async function killAllChildBots(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
}
