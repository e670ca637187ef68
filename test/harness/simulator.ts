/**
 * The one way tests start the simulated tenant: over HTTPS with the test certificate that test/setup/global-setup.ts
 * makes (and trusts through NODE_EXTRA_CA_CERTS), with a fixed seed so generated ids repeat from run to run.
 */
import { DEFAULT_TEST_TLS_DIR, startSimulator, type SimOptions, type Simulator } from '../../src/sim';

export function startTestSimulator(opts: SimOptions = {}): Promise<Simulator> {
  return startSimulator({ tlsDir: DEFAULT_TEST_TLS_DIR, seed: 7, ...opts });
}
