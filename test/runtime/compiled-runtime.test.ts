/**
 * The compiled runtime (`npm run build` → dist/) as `npm start`, production and `opter-mail` run it:
 *  - on the embedded tenant it is one process — nothing re-launched to trust the simulator's certificate — that
 *    leaves the caller's NODE_EXTRA_CA_CERTS as it was;
 *  - `opter-mail` provisions on the embedded tenant in that one process, its HTTPS to the simulator trusted in-process;
 *  - configured for a tenant (AZURE_*), it never loads the simulator or the playground.
 * dist/ is built by the test setup when stale (test/setup/global-setup.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_INFO, ROOT, startArguments } from '../../scripts/build.mjs';
import { processTree } from '../../scripts/bench/p4-startup';
import type { Simulator } from '../../src/sim';
import { createSelfSignedCertificate } from '../../src/sim/x509';
import { startTestSimulator, tenantEnvFor } from '../adapters/helpers';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const LOAD_LOG_HOOK = fileURLToPath(new URL('./load-log.mjs', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'compiled-runtime-'));
/** A private CA of the caller's (say a TLS-inspecting proxy), given to Node the documented way. */
const callerCaFile = join(scratch, 'caller-ca.pem');
const children: ChildProcess[] = [];
let sim: Simulator;

beforeAll(async () => {
  const now = Date.now();
  const ca = createSelfSignedCertificate({ commonName: 'Example corporate CA', dnsNames: [], ipAddresses: [], notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 86_400_000) });
  writeFileSync(callerCaFile, ca.certPem);
  sim = await startTestSimulator();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
});
afterAll(async () => {
  await sim?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function dataDir(): string {
  return mkdtempSync(join(scratch, 'data-'));
}

/** Only what a fresh shell has, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', PLAYGROUND_PORT: '0', ...extra };
}

interface Started {
  child: ChildProcess;
  botUrl: string;
  playgroundUrl: string | null;
  output: () => string;
}

/** `npm start`'s own command line (package.json), without npm in front; resolves once the banner is printed. */
async function npmStart(env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, [...nodeArgs, ...startArguments()], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const bot = /Bot\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/messages/.exec(out);
    if (bot && out.includes('Press Ctrl-C to stop.')) {
      const playground = /Playground\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      return { child, botUrl: bot[1]!, playgroundUrl: playground?.[1] ?? null, output: () => out };
    }
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`npm start printed no banner within ${START_TIMEOUT_MS} ms:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(s: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  process.kill(-s.child.pid!, 'SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
  const result = await Promise.race([exited, timeout]);
  if (result === 'timeout') throw new Error(`npm start did not stop within ${STOP_TIMEOUT_MS} ms:\n${s.output()}`);
  return result;
}

function environOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** The sources (src/…) compiled into the dist/ files whose URLs are in `loadLog`. */
function sourcesLoaded(loadLog: string): string[] {
  const outputs = (JSON.parse(readFileSync(BUILD_INFO, 'utf8')) as { outputs: Record<string, string[]> }).outputs;
  const files = readFileSync(loadLog, 'utf8').split('\n').filter(Boolean).map((url) => relative(ROOT, fileURLToPath(url)));
  const distFiles = files.filter((f) => f.startsWith('dist/'));
  expect(distFiles).toContain('dist/main.js');
  return [...new Set(distFiles.flatMap((f) => outputs[f] ?? []))].sort();
}

const onlyLocal = (sources: string[]) => sources.filter((s) => s.startsWith('src/sim/') || (s.startsWith('src/playground/') && !/^src\/playground\/(product|team)\.ts$/.test(s)));

describe('the compiled runtime', () => {
  it('npm start on the embedded tenant is one process that keeps the caller’s NODE_EXTRA_CA_CERTS and serves bot and playground', async () => {
    const s = await npmStart(cleanEnv({ DATA_DIR: dataDir(), NODE_EXTRA_CA_CERTS: callerCaFile }));
    expect(s.output()).toContain('SIMULATED Microsoft 365 tenant');
    expect(processTree(s.child.pid!)).toEqual([s.child.pid]);
    expect(environOf(s.child.pid!).NODE_EXTRA_CA_CERTS).toBe(callerCaFile);
    expect(await (await fetch(`${s.botUrl}/healthz`)).json()).toEqual({ status: 'ok', mode: 'local' });
    const page = await fetch(s.playgroundUrl!);
    expect(page.status).toBe(200);
    // The playground's static files resolve from dist/, not from src/.
    expect((await fetch(`${s.playgroundUrl}/static/app.js`)).status).toBe(200);
    expect(await stop(s)).toBe(0);
  });

  it('opter-mail provisions on the embedded tenant in one process, trusting the simulator in-process', async () => {
    const bin = join(ROOT, 'bin', 'opter-mail.mjs');
    const env = cleanEnv({ DATA_DIR: dataDir(), NODE_EXTRA_CA_CERTS: callerCaFile, OPTER_RETRY_BASE_MS: '100' });
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'provision', '--app-name', 'OpterMessageProxy', '--sender', 'info@exempel.se'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      // A re-launched copy would be a child of this process; there must never be one.
      const watch = setInterval(() => {
        if (child.pid && child.exitCode === null && processTree(child.pid).length > 1) stderr += '\n[test] the CLI started a child process\n';
      }, 20);
      const timer = setTimeout(() => reject(new Error(`opter-mail timed out:\n${stderr}`)), START_TIMEOUT_MS);
      child.on('exit', (code) => {
        clearInterval(watch);
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    expect(run.stderr).not.toContain('[test] the CLI started a child process');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('=== OUTPUT (save securely) ===');
  });

  it('configured for a tenant, npm start loads neither the simulator nor the playground; on the embedded tenant it loads both', async () => {
    const configuredLog = join(scratch, 'configured.log');
    const configured = await npmStart(
      cleanEnv({
        DATA_DIR: dataDir(),
        LOAD_LOG: configuredLog,
        // A tenant through the configuration contract (here: a simulator elsewhere on this machine).
        ...tenantEnvFor(sim),
        NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!,
      }),
      ['--import', LOAD_LOG_HOOK],
    );
    expect(configured.playgroundUrl).toBeNull();
    expect((await fetch(`${configured.botUrl}/healthz`)).status).toBe(200);
    const configuredSources = sourcesLoaded(configuredLog);
    expect(configuredSources).toContain('src/bot/host/server.ts');
    expect(onlyLocal(configuredSources)).toEqual([]);
    expect(await stop(configured)).toBe(0);

    // The control: the same detector sees the simulator and the playground when they are used.
    const embeddedLog = join(scratch, 'embedded.log');
    const embedded = await npmStart(cleanEnv({ DATA_DIR: dataDir(), LOAD_LOG: embeddedLog }), ['--import', LOAD_LOG_HOOK]);
    const embeddedSources = onlyLocal(sourcesLoaded(embeddedLog));
    expect(embeddedSources).toEqual(expect.arrayContaining(['src/sim/index.ts', 'src/playground/server.ts', 'src/playground/world.ts']));
    expect(await stop(embedded)).toBe(0);
  });
});
