/**
 * `npm run sim`: one simulated tenant for people and the playground. State persists in
 * ${DATA_DIR:-./data}/sim-tenant.json, TLS material in ${DATA_DIR:-./data}/sim-tls. Runs until Ctrl-C.
 * Ports default to 44301 (identity), 44302 (Graph), 44303 (Exchange) so pasted settings survive restarts;
 * override with SIM_AUTHORITY_PORT / SIM_GRAPH_PORT / SIM_EXCHANGE_PORT (0 = any free port).
 */
import { resolve } from 'node:path';
import { startSimulator } from './index';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name} must be a port number (0–65535), got "${raw}"`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.DATA_DIR || './data');
  const stateFile = resolve(dataDir, 'sim-tenant.json');
  const tlsDir = resolve(dataDir, 'sim-tls');
  let sim;
  try {
    sim = await startSimulator({
      stateFile,
      tlsDir,
      ports: { authority: port('SIM_AUTHORITY_PORT', 44301), graph: port('SIM_GRAPH_PORT', 44302), exchange: port('SIM_EXCHANGE_PORT', 44303) },
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      console.error(`A simulator port is already in use (${(e as Error).message}). Stop the other process or set SIM_AUTHORITY_PORT / SIM_GRAPH_PORT / SIM_EXCHANGE_PORT.`);
      process.exit(1);
    }
    throw e;
  }

  const lines = [
    'Simulated Microsoft 365 tenant is running (loopback only).',
    '',
    `  tenant            ${sim.tenantId}  (${sim.domain}, ${sim.onMicrosoftDomain})`,
    `  identity platform ${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`,
    `  Microsoft Graph   ${sim.graphEndpoint}/v1.0`,
    `  Exchange admin    ${sim.exchangeEndpoint}/adminapi/beta/${sim.tenantId}/InvokeCommand`,
    `  inspect / faults  ${sim.graphEndpoint}/_sim/state · /_sim/requests · POST /_sim/faults · POST /_sim/reset`,
    `  state file        ${stateFile}`,
    `  CA certificate    ${sim.caCertPath}`,
    '',
    '  mailboxes:',
    ...Object.entries(sim.mailboxes).map(([k, v]) => `    ${k.padEnd(17)} ${v}`),
    '',
    '  Provisioning identity (Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All, Policy.Read.All,',
    '  Exchange.ManageAsApp, Exchange Administrator). The secret is new on every start of the simulator.',
    `  Read-only identity ${sim.readOnly.clientId} (Application.Read.All, Policy.Read.All, Exchange.ManageAsApp,`,
    '  Global Reader) and the bot SSO app',
    `  ${sim.botApp.clientId} (api://botid-${sim.botApp.clientId}, admin consent for Application.ReadWrite.All,`,
    '  AppRoleAssignment.ReadWrite.All, Application.Read.All, Exchange.Manage) serve delegated mode;',
    `  ${sim.mailboxes.outside} approves there (Privileged Role Administrator, Exchange Administrator, Cloud Application`,
    `  Administrator), ${sim.mailboxes.admin} is Global Reader. Their secrets are new on every start too.`,
    '',
    '# --- paste into env/.env.local (or export) to point the product at this simulator ---',
    `AZURE_TENANT_ID=${sim.tenantId}`,
    `AZURE_CLIENT_ID=${sim.provisioning.clientId}`,
    `AZURE_CLIENT_SECRET=${sim.provisioning.clientSecret}`,
    `AUTHORITY_HOST=${sim.authorityHost}`,
    `GRAPH_ENDPOINT=${sim.graphEndpoint}`,
    `EXCHANGE_ENDPOINT=${sim.exchangeEndpoint}`,
    `NODE_EXTRA_CA_CERTS=${sim.caCertPath}`,
    '# (certificate sign-in instead of the secret:)',
    `# AZURE_CLIENT_CERTIFICATE_PATH=${sim.provisioning.certificatePath}`,
    '# (delegated mode instead: the read-only standing identity replaces AZURE_CLIENT_ID/SECRET above,',
    "#  and every write runs with the approver's own tokens, got On-Behalf-Of by the bot's SSO app)",
    '# PROVISIONING_AUTH=delegated',
    `# AZURE_CLIENT_ID=${sim.readOnly.clientId}`,
    `# AZURE_CLIENT_SECRET=${sim.readOnly.clientSecret}`,
    `# SSO_CLIENT_ID=${sim.botApp.clientId}`,
    `# SSO_CLIENT_SECRET=${sim.botApp.clientSecret}`,
    '# ------------------------------------------------------------------------------------',
    '',
    'Press Ctrl-C to stop.',
  ];
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the simulator…`);
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
