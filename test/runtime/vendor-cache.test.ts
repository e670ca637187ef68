/**
 * The code cache of dist/node_modules/vendor.js (scripts/vendor-loader.mjs) can only make loading faster: a cache
 * that is valid is used, and one that is damaged, belongs to another source or cannot be read is ignored — the
 * bundle then loads as if there were none. Each case runs in a fresh process, as the loader loads once per process.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/build.mjs';

const LOADER = pathToFileURL(join(ROOT, 'scripts', 'vendor-loader.mjs')).href;
const scratch = mkdtempSync(join(tmpdir(), 'vendor-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A dist/ folder with a vendor bundle of one "package" whose value is `answer`. */
function fakeDist(answer: number): string {
  const dist = mkdtempSync(join(scratch, 'dist-'));
  mkdirSync(join(dist, 'node_modules'));
  writeFileSync(
    join(dist, 'node_modules', 'vendor.js'),
    `(function (exports, require, module, __filename, __dirname) {module.exports = { pkg: () => ({ answer: ${answer}, twice: (n) => n * 2 }) };\n})`,
  );
  return dist;
}

function inFreshProcess(dist: string, code: string): { status: number | null; stdout: string; stderr: string } {
  const script = `const m = await import(${JSON.stringify(LOADER)}); const dist = ${JSON.stringify(`${pathToFileURL(dist).href}/`)}; ${code}`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}

const USE = `const p = m.vendorModule(dist, 'pkg'); console.log(JSON.stringify({ answer: p.answer, twice: p.twice(21), cache: m.vendorCacheUsed() }));`;
const cacheFile = (dist: string) => join(dist, 'node_modules', 'vendor.js.cache');

describe('the vendor bundle’s code cache', () => {
  it('is made by the build’s writer and then used', () => {
    const dist = fakeDist(42);
    expect(inFreshProcess(dist, 'm.writeCodeCache(dist);').status).toBe(0);
    expect(JSON.parse(inFreshProcess(dist, USE).stdout)).toEqual({ answer: 42, twice: 42, cache: true });
  });

  it('is ignored when damaged, when the source changed (same length), or when it cannot be read', () => {
    const damaged = fakeDist(42);
    inFreshProcess(damaged, 'm.writeCodeCache(dist);');
    const bytes = readFileSync(cacheFile(damaged));
    for (let i = 24; i < bytes.length; i += 7) bytes[i]! ^= 0x5a;
    writeFileSync(cacheFile(damaged), bytes);
    expect(JSON.parse(inFreshProcess(damaged, USE).stdout)).toEqual({ answer: 42, twice: 42, cache: null });

    const edited = fakeDist(42);
    inFreshProcess(edited, 'm.writeCodeCache(dist);');
    const source = join(edited, 'node_modules', 'vendor.js');
    writeFileSync(source, readFileSync(source, 'utf8').replace('answer: 42', 'answer: 43'));
    expect(JSON.parse(inFreshProcess(edited, USE).stdout)).toEqual({ answer: 43, twice: 42, cache: null });

    const unreadable = fakeDist(42);
    mkdirSync(cacheFile(unreadable));
    expect(JSON.parse(inFreshProcess(unreadable, USE).stdout)).toEqual({ answer: 42, twice: 42, cache: null });
  });

  it('made with other V8 flags is refused by V8 and the bundle still loads', () => {
    const dist = fakeDist(42);
    const script = `const m = await import(${JSON.stringify(LOADER)}); m.writeCodeCache(${JSON.stringify(`${pathToFileURL(dist).href}/`)});`;
    expect(spawnSync(process.execPath, ['--max-semi-space-size=4', '--input-type=module', '-e', script]).status).toBe(0);
    expect(JSON.parse(inFreshProcess(dist, USE).stdout)).toEqual({ answer: 42, twice: 42, cache: false });
  });
});
