/**
 * `npm run agents-playground-config`: writes Microsoft 365 Agents Playground's `.m365agentsplayground.yml` and the
 * Agents Toolkit's `m365agents.playground.yml` for the embedded simulated tenant into the repository root
 * (src/playground/agents-playground.ts; docs/playground.md). The committed files must equal what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AGENTS_PLAYGROUND_CONTEXT_FILE,
  AGENTS_TOOLKIT_PLAYGROUND_FILE,
  renderAgentsPlaygroundContext,
  renderAgentsToolkitPlayground,
} from '../src/playground/agents-playground';

const root = resolve(import.meta.dirname, '..');
for (const [file, text] of [
  [AGENTS_PLAYGROUND_CONTEXT_FILE, renderAgentsPlaygroundContext()],
  [AGENTS_TOOLKIT_PLAYGROUND_FILE, renderAgentsToolkitPlayground()],
] as const) {
  writeFileSync(join(root, file), text);
  console.log(`wrote ${file}`);
}
