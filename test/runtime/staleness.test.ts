/**
 * When `npm start` (prestart), `npm run sim` and `opter-mail` rebuild dist/: when it is missing, when an output is
 * gone, when a source that went into it, a playground static file, the build itself or an install changed, and under
 * another Node version — on a package folder made up here, so the real dist/ is never touched.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTRY_POINTS, staleReason } from '../../scripts/build.mjs';

let root: string;
const builtAt = Date.now() - 60_000;
const before = new Date(builtAt - 60_000);

function file(path: string, content = 'x', mtime = before): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
  utimesSync(join(root, path), mtime, mtime);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'staleness-'));
  for (const f of ['package.json', 'scripts/build.mjs', 'src/main.ts', 'src/bot/host/server.ts', 'src/playground/static/app.js', 'dist/main.js']) file(f);
  utimesSync(join(root, 'src/playground/static'), before, before);
  file('dist/build-info.json', JSON.stringify({ builtAt, entryPoints: ENTRY_POINTS, outputs: { 'dist/main.js': ['src/main.ts', 'src/bot/host/server.ts'] } }));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('staleReason', () => {
  it('is null for a build newer than everything that went into it', () => {
    expect(staleReason(root)).toBeNull();
  });

  it('names a changed source, static file or build script', () => {
    for (const changed of ['src/bot/host/server.ts', 'src/playground/static/app.js', 'scripts/build.mjs', 'package.json']) {
      file(changed, 'y', new Date());
      expect(staleReason(root)).toBe(`${changed} changed`);
      file(changed);
    }
  });

  it('sees a source that is gone, a new static file, a missing output and a missing build', () => {
    rmSync(join(root, 'src/bot/host/server.ts'));
    expect(staleReason(root)).toBe('src/bot/host/server.ts changed');
    file('src/bot/host/server.ts');
    file('src/playground/static/new.css', 'y', new Date());
    expect(staleReason(root)).toMatch(/^src\/playground\/static(\/new\.css)? changed$/);
    rmSync(join(root, 'src/playground/static/new.css'));
    utimesSync(join(root, 'src/playground/static'), before, before);
    rmSync(join(root, 'dist/main.js'));
    expect(staleReason(root)).toBe('dist/main.js is missing');
    rmSync(join(root, 'dist'), { recursive: true });
    expect(staleReason(root)).toBe('dist/ has not been built');
  });

  it('rebuilds after an install (the lockfiles listed for the bundled packages) and under another Node version', () => {
    file('node_modules/.package-lock.json');
    const outputs = { 'dist/main.js': ['src/main.ts'], 'dist/node_modules/vendor.js': ['node_modules/.package-lock.json'] };
    file('dist/node_modules/vendor.js');
    file('dist/build-info.json', JSON.stringify({ builtAt, node: process.version, entryPoints: ENTRY_POINTS, outputs }));
    expect(staleReason(root)).toBeNull();
    file('node_modules/.package-lock.json', 'y', new Date());
    expect(staleReason(root)).toBe('node_modules/.package-lock.json changed');
    file('node_modules/.package-lock.json');
    file('dist/build-info.json', JSON.stringify({ builtAt, node: 'v0.0.1', entryPoints: ENTRY_POINTS, outputs }));
    expect(staleReason(root)).toBe('dist/ was built by Node v0.0.1');
  });
});
