/**
 * Runs once in the vitest main process, before any worker is forked:
 *  - builds dist/ when it is stale, so tests that start the compiled runtime (`node dist/main.js`, bin/opter-mail.mjs)
 *    run what the sources say, and workers never race to build it;
 *  - exports NODE_EXTRA_CA_CERTS with the simulator's certificate (kept together with the caller's own extra CAs),
 *    which Node reads only when a process starts, so forked workers and the child processes that tests spawn with a
 *    configured (AZURE_*) connection to a test simulator trust it (test/sim/trust.test.ts proves they do). The
 *    product itself trusts its embedded simulator in-process and needs none of this.
 */
import { ensureBuilt } from '../../scripts/build.mjs';
import { DEFAULT_TEST_TLS_DIR, extraCaCertsWithSimulator } from '../../src/sim/tls';

export default async function setup(): Promise<void> {
  process.env.NODE_EXTRA_CA_CERTS = extraCaCertsWithSimulator(DEFAULT_TEST_TLS_DIR);
  await ensureBuilt();
}
