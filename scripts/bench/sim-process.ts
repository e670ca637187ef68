/**
 * Child-process entry: one in-memory simulated tenant for a benchmark, in its own process so that the simulator's
 * TLS and request handling do not compete with the product for the benchmark process's event loop (Microsoft's
 * servers do not run on the bot's CPU either).
 *
 * Input: BENCH_SIM_OPTIONS (JSON: tlsDir, seed, latencyMs, tenantId?). Output: one stdout line
 * `BENCH_SIM_READY <json>` with the endpoints and the provisioning identity. Control goes through the simulator's
 * loopback admin surface (/_sim/requests, /_sim/faults, /_sim/reset, /_sim/state). Stops on SIGTERM/SIGINT or when
 * the parent goes away (its stdin pipe closes), so a crashed benchmark leaves no simulator behind.
 */
import { startSimulator } from '../../src/sim';
import { SIM_READY_PREFIX } from './remote-sim';

interface ChildOptions {
  tlsDir: string;
  seed: number;
  latencyMs: number;
  tenantId?: string;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.BENCH_SIM_OPTIONS ?? '{}') as ChildOptions;
  const sim = await startSimulator({ tlsDir: options.tlsDir, seed: options.seed, tenantId: options.tenantId, faults: { latencyMs: options.latencyMs } });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    sim.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  const info = {
    tenantId: sim.tenantId,
    domain: sim.domain,
    authorityHost: sim.authorityHost,
    graphEndpoint: sim.graphEndpoint,
    exchangeEndpoint: sim.exchangeEndpoint,
    caCertPath: sim.caCertPath,
    provisioning: { clientId: sim.provisioning.clientId, clientSecret: sim.provisioning.clientSecret },
    mailboxes: sim.mailboxes,
  };
  process.stdout.write(`${SIM_READY_PREFIX}${JSON.stringify(info)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
