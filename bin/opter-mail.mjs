#!/usr/bin/env node
// The opter-mail command: the compiled CLI (dist/cli/index.js, made by `npm run build`). In a checkout with the
// devDependencies a stale or missing dist/ is rebuilt first, so the command always runs what the sources say.
import { existsSync } from 'node:fs';

const builder = new URL('../scripts/build.mjs', import.meta.url);
const cli = new URL('../dist/cli/index.js', import.meta.url);
try {
  if (existsSync(builder)) await (await import(builder.href)).ensureBuilt();
} catch (e) {
  process.stderr.write(`opter-mail: ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
}
if (!existsSync(cli)) {
  process.stderr.write('opter-mail: dist/cli/index.js is missing; run `npm run build` in the package folder first.\n');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exit(await main(process.argv.slice(2)));
