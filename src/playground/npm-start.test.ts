/**
 * `npm start` itself, as a person runs it on a fresh machine: one command with no configuration starts the simulated
 * tenant, the bot and the playground, prints where they are and what to click first; Ctrl-C (SIGINT to the process
 * group, as a terminal sends it) stops everything and exits 0; the next start in the same DATA_DIR sees the same
 * tenant and the same chats.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startArguments } from '../../scripts/build.mjs';

const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;

interface Running {
  child: ChildProcess;
  output: () => string;
  playgroundUrl: string;
  botUrl: string;
}

function cleanEnv(dataDir: string): NodeJS.ProcessEnv {
  // Only what a fresh shell has: no tenant, no bot id, nothing from the test runner.
  return { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0', PLAYGROUND_PORT: '0', npm_config_update_notifier: 'false' };
}

async function npmStart(dataDir: string): Promise<Running> {
  // Exactly the command package.json's "start" script runs, the compiled runtime (npm itself dies by the signal, so
  // its exit code says nothing about how the product stopped; its prestart build is done by the test setup).
  const child = spawn(process.execPath, startArguments(), { cwd: ROOT, env: cleanEnv(dataDir), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const playground = /Playground\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    const bot = /Bot\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/messages/.exec(out);
    if (playground && bot && out.includes('Press Ctrl-C to stop.')) return { child, output: () => out, playgroundUrl: playground[1]!, botUrl: bot[1]! };
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`npm start did not print its banner within ${START_TIMEOUT_MS} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ctrl-C in a terminal: SIGINT to the whole foreground process group. */
async function ctrlC(r: Running): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => r.child.once('exit', (code) => resolve(code)));
  process.kill(-r.child.pid!, 'SIGINT');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
  const result = await Promise.race([exited, timeout]);
  if (result === 'timeout') {
    process.kill(-r.child.pid!, 'SIGKILL');
    throw new Error(`npm start did not stop within ${STOP_TIMEOUT_MS} ms after SIGINT:\n${r.output()}`);
  }
  if (result !== 0) throw new Error(`npm start exited with ${result} after SIGINT:\n${r.output()}`);
  return result;
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

describe('npm start on a fresh machine', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('starts tenant, bot and playground with no configuration, stops cleanly on Ctrl-C, and the next start sees the same tenant and chats', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
    dirs.push(dataDir);

    const first = await npmStart(dataDir);
    children.push(first.child);
    expect(first.output()).toContain('SIMULATED Microsoft 365 tenant');
    expect(first.output()).toContain('What to click first');
    expect(first.output()).toContain('set up Opter email');
    expect(await (await fetch(`${first.botUrl}/healthz`)).json()).toEqual({ status: 'ok', mode: 'local' });
    const page = await fetch(first.playgroundUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/vendor/adaptivecards.min.js');
    const boot1 = (await (await fetch(`${first.playgroundUrl}/api/bootstrap`)).json()) as { tenant: { id: string; simulated: boolean } };
    expect(boot1.tenant.simulated).toBe(true);
    // Microsoft-like delays by default, so a setup lasts long enough to switch persona and watch its progress card.
    const knobs = (await (await fetch(`${first.playgroundUrl}/api/faults`)).json()) as { latencyMs: number; replicationDelayMs: number };
    expect(knobs.latencyMs).toBeGreaterThan(0);
    expect(knobs.replicationDelayMs).toBeGreaterThan(0);
    const sent = await fetch(`${first.playgroundUrl}/api/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ persona: 'requester', text: 'help' }) });
    expect(sent.status).toBe(200);
    // Wait for the bot's answer so the chat has both sides before stopping.
    const deadline = Date.now() + 30_000;
    let chat: Array<{ text: string | null; from: { isBot: boolean } }> = [];
    while (Date.now() < deadline) {
      chat = ((await (await fetch(`${first.playgroundUrl}/api/view?persona=requester`)).json()) as { chat: { messages: typeof chat } }).chat.messages;
      if (chat.some((m) => m.text === 'help') && chat.filter((m) => m.from.isBot).length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(chat.some((m) => m.text === 'help')).toBe(true);

    expect(await ctrlC(first)).toBe(0);
    expect(first.output()).toContain('Stopped.');
    expect(await refused(first.playgroundUrl)).toBe(true);
    expect(await refused(`${first.botUrl}/healthz`)).toBe(true);

    const second = await npmStart(dataDir);
    children.push(second.child);
    const boot2 = (await (await fetch(`${second.playgroundUrl}/api/bootstrap`)).json()) as { tenant: { id: string } };
    expect(boot2.tenant.id).toBe(boot1.tenant.id);
    const again = ((await (await fetch(`${second.playgroundUrl}/api/view?persona=requester`)).json()) as { chat: { messages: typeof chat } }).chat.messages;
    expect(again.map((m) => m.text)).toEqual(chat.map((m) => m.text));
    expect(await ctrlC(second)).toBe(0);
  });
});
