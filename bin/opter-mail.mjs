#!/usr/bin/env node
// The opter-mail command. The product is TypeScript run through tsx (a runtime dependency), so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/index.ts');
process.exit(await main(process.argv.slice(2)));
