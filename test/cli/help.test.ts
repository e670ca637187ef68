/**
 * `opter-mail --help` and `-h` as a person types them (a child process, exit 0, the usage on stdout), and the usage
 * text naming every command the CLI knows.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, USAGE, main } from '../../src/cli/index';

const BIN = resolve(__dirname, '../../bin/opter-mail.mjs');

function run(args: string[]) {
  // No tenant and no DATA_DIR needed: help never opens either.
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
}

describe('opter-mail help', () => {
  it.each([['--help'], ['-h'], ['help']])('"opter-mail %s" prints the usage and exits 0', (flag) => {
    const r = run([flag]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('usage:');
    expect(r.stdout).toContain('opter-mail provision --app-name <name>');
    expect(r.stderr).not.toContain('unknown command');
  });

  it('the usage lists every command', () => {
    for (const command of COMMANDS) expect(USAGE, command).toMatch(new RegExp(`^  opter-mail ${command}\\b`, 'm'));
  });

  it('"--help" after a command also prints the usage; an unknown command is exit 2 with the usage on stderr', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
    expect(await main(['rotate', '--help'], io, {})).toBe(0);
    expect(out.join('\n')).toBe(USAGE);
    expect(await main(['frobnicate'], io, {})).toBe(2);
    expect(err.join('\n')).toContain('unknown command "frobnicate"');
    expect(err.join('\n')).toContain(USAGE);
  });
});
