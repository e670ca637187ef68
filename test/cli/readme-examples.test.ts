/**
 * README's `opter-mail` examples, run exactly as written on the embedded simulated tenant (no configuration, a fresh
 * DATA_DIR): every address they name is a mailbox the simulated tenant seeds, and every example exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SEEDED_MAILBOXES } from '../../src/sim/tenant';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/opter-mail.mjs');
/** The simulated tenant's default domain (src/sim/index.ts). */
const SIM_DOMAIN = 'exempel.se';

/** The `npx opter-mail …` lines of README's command-line section, as argument lists (comments dropped). */
function readmeExamples(): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The command line'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.startsWith('npx opter-mail '))
    .map((l) => l.slice('npx opter-mail '.length).split(/\s+/));
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runCli(args: string[], dataDir: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    // What a fresh shell has: no tenant configured, so the CLI uses the embedded simulated tenant in DATA_DIR.
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`opter-mail ${args.join(' ')} timed out:\n${out}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

describe("README's opter-mail examples", () => {
  const examples = readmeExamples();

  it('name only mailboxes the simulated tenant has', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const seeded = new Set(Object.values(SEEDED_MAILBOXES).map((alias) => `${alias}@${SIM_DOMAIN}`));
    const named = examples.flat().filter((a) => a.includes('@'));
    expect(named.length).toBeGreaterThan(0);
    for (const address of named) expect(seeded, `${address} is not a mailbox of the simulated tenant`).toContain(address);
  });

  it('all exit 0 when run in order on a fresh embedded tenant', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opter-readme-'));
    dirs.push(dataDir);
    for (const args of examples) {
      const r = await runCli(args, dataDir);
      expect(r.code, `opter-mail ${args.join(' ')}\n${r.out}`).toBe(0);
    }
  }, 240_000);
});
