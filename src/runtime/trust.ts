/**
 * Node reads NODE_EXTRA_CA_CERTS only at process start. When the product runs against the embedded simulator
 * (self-signed HTTPS), the process re-launches itself once with that variable set, so the real @azure/identity and
 * Graph SDK code paths trust the simulator without any "insecure" switch.
 */
import { spawn } from 'node:child_process';

export const RELAUNCHED_FLAG = 'OPTER_TRUST_RELAUNCHED';

/** Returns true in the process that may continue; otherwise re-launches and never resolves (exits with the child). */
export async function ensureTrustedCa(certPath: string): Promise<true> {
  if (process.env.NODE_EXTRA_CA_CERTS === certPath) return true;
  if (process.env[RELAUNCHED_FLAG]) {
    throw new Error(`NODE_EXTRA_CA_CERTS is ${process.env.NODE_EXTRA_CA_CERTS ?? 'unset'} after relaunch; expected ${certPath}`);
  }
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: certPath, [RELAUNCHED_FLAG]: '1' },
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  return new Promise<true>(() => {
    child.on('exit', (code, signal) => {
      if (signal) process.kill(process.pid, signal);
      process.exit(code ?? 1);
    });
  });
}
