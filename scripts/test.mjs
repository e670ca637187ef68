#!/usr/bin/env node
// The README's one test command. Runs the linter (eslint.config.js), every vitest suite, then the browser suite
// when Chromium is present, and ends with one plain "N passed, N failed, N skipped" line that CI can read; a lint
// error counts as one failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const outDir = mkdtempSync(join(tmpdir(), 'opter-test-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
let exitCode = 0;

function runVitest(label, extraArgs) {
  const out = join(outDir, `${label}.json`);
  const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extraArgs, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: process.env,
  });
  if (r.status !== 0) exitCode = r.status ?? 1;
  if (existsSync(out)) {
    const j = JSON.parse(readFileSync(out, 'utf8'));
    totals.passed += j.numPassedTests ?? 0;
    totals.failed += j.numFailedTests ?? 0;
    totals.skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  } else if (r.status !== 0) {
    totals.failed += 1;
  }
}

const lint = spawnSync('npx', ['eslint', '.'], { stdio: 'inherit', env: process.env });
if (lint.status === 0) {
  console.log('Lint: no problems.');
} else {
  exitCode = lint.status ?? 1;
  totals.failed += 1;
  console.log('Lint failed (run `npm run lint`); counted as one failed test.');
}

runVitest('main', []);

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync('test/browser')) {
  if (existsSync(chromium)) runVitest('browser', ['--config', 'vitest.browser.config.ts']);
  else console.log(`Browser tests skipped: no Chromium at ${chromium} (install Debian's "chromium" package; .ci/run does).`);
}

console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(exitCode);
