/**
 * The whole product in one process, as `npm start` runs it (src/main.ts is only the command-line wrapper):
 *
 *  - no configuration → the embedded simulated tenant (state in DATA_DIR), the bot in local mode on PORT (127.0.0.1),
 *    and the playground on PLAYGROUND_PORT, wired together: the bot allows the simulated tenant, its ADMINS are the
 *    two admin personas, approvals go to #Requests and audit posts to #Audit (each only if not set by the user);
 *    PLAYGROUND=0 wires the bot the same way without our playground (for Microsoft's Agents Playground);
 *  - local mode in front of a real tenant is refused unless ALLOW_LOCAL_MODE_ON_REAL_TENANT is set;
 *  - configuration (BOT_ID, AZURE_CLIENT_ID, …) → the real bot; the playground only with PLAYGROUND=1, and only
 *    while the bot runs in local mode (it cannot sign Bot Framework tokens).
 *
 * The simulator (runtime/tenant.ts) and the playground (server, world, personas) are imported only when used, so a
 * bot on a real tenant never loads them.
 */
import { join, resolve } from 'node:path';
import { startBot, type BotHandle } from '../bot';
import { assertLocalModeTenantAllowed, readBotConfig, REAL_TENANT_OPT_IN, type BotConfig } from '../bot/host/config';
import type { BotLogger } from '../bot/host/server';
import { openTenant, type TenantRuntime } from '../runtime/tenant';
import type { Persona } from './personas';
import type { Playground, PlaygroundLogger } from './server';
import { channelIdOf, playgroundTeam } from './team';

type Env = Record<string, string | undefined>;

export interface StartProductOptions {
  /** Default: process.env. */
  env?: Env;
  /** Default: DATA_DIR or ./data. */
  dataDir?: string;
  logger?: BotLogger;
  /** The bot's background worker period (outbox, expiry); tests make it short. Default: the bot's own. */
  workerIntervalMs?: number;
  /**
   * How slow the embedded simulated tenant is: `microsoft-like` (what `npm start` asks for, so a setup takes long
   * enough to switch persona and watch its progress) or `none` (the default: tests run fast). SIM_LATENCY_MS,
   * SIM_REPLICATION_DELAY_MS and SIM_SECRET_ACTIVATION_DELAY_MS override single values either way.
   */
  simulatorDelays?: 'microsoft-like' | 'none';
}

/** The embedded tenant's delays that `simulatorDelays` sets (a subset of the simulator's faults). */
export interface SimulatorDelays {
  latencyMs: number;
  replicationDelayMs: number;
  secretActivationDelayMs: number;
}

/**
 * Delays like a real tenant's, small enough that one setup takes only seconds: every call takes a while, and a new
 * app, service principal, group or secret cannot be used at once (Entra ID and Exchange Online replicate new objects
 * after the write has returned; docs/playground.md has the figures and their sources).
 */
export const MICROSOFT_LIKE_DELAYS: Readonly<SimulatorDelays> = { latencyMs: 100, replicationDelayMs: 1500, secretActivationDelayMs: 1500 };
const NO_DELAYS: Readonly<SimulatorDelays> = { latencyMs: 0, replicationDelayMs: 0, secretActivationDelayMs: 0 };
const DELAY_ENV: Record<keyof SimulatorDelays, string> = {
  latencyMs: 'SIM_LATENCY_MS',
  replicationDelayMs: 'SIM_REPLICATION_DELAY_MS',
  secretActivationDelayMs: 'SIM_SECRET_ACTIVATION_DELAY_MS',
};
/** The playground's own knobs stop at these; the start-up values may not be wilder. */
const MAX_DELAY_MS: Record<keyof SimulatorDelays, number> = { latencyMs: 10_000, replicationDelayMs: 600_000, secretActivationDelayMs: 600_000 };

/** The delays for the embedded tenant: the preset, each value overridable by its environment variable. */
export function simulatorDelaysFor(env: Env, preset: 'microsoft-like' | 'none' = 'none'): SimulatorDelays {
  const out: SimulatorDelays = { ...(preset === 'microsoft-like' ? MICROSOFT_LIKE_DELAYS : NO_DELAYS) };
  for (const key of Object.keys(DELAY_ENV) as Array<keyof SimulatorDelays>) {
    const name = DELAY_ENV[key];
    const raw = (env[name] ?? '').trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n > MAX_DELAY_MS[key]) throw new ProductStartError(`${name} must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS[key]}; got "${raw}"`);
    out[key] = n;
  }
  return out;
}

export interface Product {
  /** `playground` = local bot + playground; `bot` = the bot alone (or with PLAYGROUND=1 in front of a real tenant). */
  mode: 'playground' | 'bot';
  dataDir: string;
  tenant: TenantRuntime;
  config: BotConfig;
  /** The bot's base URL (its endpoint is `${botUrl}/api/messages`). */
  botUrl: string;
  bot: BotHandle;
  playground: Playground | null;
  personas: Persona[];
  /** What `npm start` prints: where things are and what to click first. */
  banner: string[];
  close(): Promise<void>;
}

export class ProductStartError extends Error {
  override readonly name = 'ProductStartError';
}

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off)$/i;

function set(env: Env, name: string): boolean {
  return (env[name] ?? '').trim() !== '';
}

/** Whether the playground runs: PLAYGROUND=1/0 decides; otherwise only with no BOT_ID and the simulated tenant. */
export function playgroundWanted(env: Env, simulated: boolean): boolean {
  const raw = (env.PLAYGROUND ?? '').trim();
  if (TRUE.test(raw)) return true;
  if (FALSE.test(raw)) return false;
  return !set(env, 'BOT_ID') && simulated;
}

/** A port from the environment, or undefined when unset (the server's own default applies). */
function port(env: Env, name: string): number | undefined {
  const raw = (env[name] ?? '').trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new ProductStartError(`${name} must be a port number (0–65535); got "${raw}"`);
  return n;
}

/**
 * The bot's environment in playground mode: what the user did not set is filled so the bot accepts the playground's
 * tenant and people. Never overrides a value the user gave.
 */
export function playgroundBotEnv(env: Env, tenantId: string, personas: Persona[]): Env {
  const team = playgroundTeam(tenantId);
  const out: Env = { ...env };
  if (!set(env, 'AZURE_TENANT_ID') && !set(env, 'ALLOWED_TENANT_IDS')) out.AZURE_TENANT_ID = tenantId;
  const admins = personas.filter((p) => p.key !== 'nonAdmin').map((p) => p.aadObjectId);
  if (!set(env, 'ADMINS')) out.ADMINS = admins.join(',');
  if (!set(env, 'APPROVALS_CHANNEL_ID')) out.APPROVALS_CHANNEL_ID = channelIdOf(team, 'requests');
  if (!set(env, 'AUDIT_CHANNEL_ID')) out.AUDIT_CHANNEL_ID = channelIdOf(team, 'audit');
  return out;
}

export async function startProduct(options: StartProductOptions = {}): Promise<Product> {
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir ?? (env.DATA_DIR?.trim() || './data'));
  const playgroundPort = port(env, 'PLAYGROUND_PORT');
  // Decided on the environment alone, before a tenant is opened or anyone signs in.
  assertLocalModeTenantAllowed(env);
  const delays = simulatorDelaysFor(env, options.simulatorDelays);

  const tenant = await openTenant({ dataDir, env });
  const cleanups: Array<() => Promise<void>> = [() => tenant.close()];
  const unwind = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    const sim = tenant.simulator;
    sim?.setFaults(delays);
    const withPlayground = playgroundWanted(env, !!sim);
    if (withPlayground && set(env, 'BOT_ID')) {
      throw new ProductStartError(
        'PLAYGROUND=1 needs the bot in local mode (no BOT_ID): with BOT_ID the bot only accepts requests signed by Azure Bot Service, which the playground cannot do.',
      );
    }

    let personas: Persona[] = [];
    let botEnv: Env = env;
    let tenantId = tenant.conn.tenantId;
    if (sim && !set(env, 'BOT_ID')) {
      // The local bot on the embedded tenant is wired the same way with or without our playground, so Microsoft's
      // Agents Playground (PLAYGROUND=0, docs/playground.md) finds the same tenant, people and channels.
      const { simulatorPersonas } = await import('./personas');
      personas = simulatorPersonas(sim.snapshot().users, sim.tenantId, sim.domain);
      tenantId = sim.tenantId;
      botEnv = playgroundBotEnv(env, tenantId, personas);
    } else if (withPlayground) {
      const configured = readBotConfig(env);
      tenantId = configured.allowedTenantIds[0] ?? tenantId;
      const { configuredPersonas } = await import('./personas');
      personas = configuredPersonas(configured.admins, configured.approvers, tenantId);
      botEnv = playgroundBotEnv(env, tenantId, personas);
    }
    const config = readBotConfig(botEnv);

    const bot = await startBot({ env: botEnv, dataDir, tenant, config, logger: options.logger, workerIntervalMs: options.workerIntervalMs });
    cleanups.push(() => bot.close());

    let playground: Playground | null = null;
    if (withPlayground) {
      const logger: PlaygroundLogger | undefined = options.logger ? { info: options.logger.info, warn: options.logger.warn } : undefined;
      const { startPlayground } = await import('./server');
      playground = await startPlayground({
        botUrl: bot.url,
        tenantId,
        personas,
        simulator: sim,
        port: playgroundPort,
        stateFile: join(dataDir, 'playground-chats.json'),
        logger,
        // The app the bot redeems sign-ins for (delegated mode): a configured one, else the simulated tenant's bot app.
        ...(bot.config.sso ? { ssoAppId: bot.config.sso.clientId } : {}),
      });
      cleanups.push(() => playground!.close());
    }

    const predatesFixedIds = !!sim && sim.tenantId !== (await import('../sim/tenant')).EMBEDDED_TENANT.tenantId;
    let closing: Promise<void> | null = null;
    return {
      mode: withPlayground ? 'playground' : 'bot',
      dataDir,
      tenant,
      config,
      botUrl: bot.url,
      bot,
      playground,
      personas,
      banner: banner({ tenant, config, botUrl: bot.url, playground, personas, dataDir, predatesFixedIds }),
      close() {
        closing ??= unwind();
        return closing;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** What `npm start` prints. Exported for tests: the REAL TENANT warning must be impossible to miss. */
export function banner(p: {
  tenant: TenantRuntime;
  config: BotConfig;
  botUrl: string;
  playground: Playground | null;
  personas: Persona[];
  dataDir: string;
  /** The embedded tenant's state file was made before its ids were fixed (so Agents Playground's file does not match). */
  predatesFixedIds?: boolean;
}): string[] {
  const lines: string[] = [];
  const sim = p.tenant.simulator;
  lines.push('');
  if (sim) lines.push(`Opter Mail is running on a SIMULATED Microsoft 365 tenant (${sim.domain}); nothing real is touched.`);
  else if (p.config.tenantTarget === 'local-simulator') lines.push(`Opter Mail is running against a simulated tenant on this machine: ${p.tenant.description}.`);
  else lines.push(`Opter Mail is running against a REAL TENANT: ${p.tenant.description}.`);
  if (!sim && p.config.mode === 'local' && p.config.tenantTarget === 'real') {
    lines.push(`  LOCAL MODE ON A REAL TENANT (${REAL_TENANT_OPT_IN}): nothing authenticates requests to the bot. Use a test tenant, stop it when done.`);
  }
  lines.push('');
  if (p.playground) lines.push(`  Playground  ${p.playground.url}    <- open this in a browser`);
  lines.push(`  Bot         ${p.botUrl}/api/messages  (${p.config.mode === 'local' ? 'local mode: no Bot Framework authentication, 127.0.0.1 only' : `authenticated as ${p.config.botId}`})`);
  lines.push(`  Data        ${p.dataDir}`);
  if (p.playground) {
    const [requester, approver, nonAdmin] = p.personas;
    const domain = sim?.domain ?? 'your domain';
    lines.push('');
    lines.push('What to click first:');
    lines.push(`  1. You start as ${requester!.name} (an admin). In the chat with Opter Mail, type: set up Opter email`);
    lines.push(`  2. In the form, enter the senders, e.g. info@${domain} and faktura@${domain}, then press "Submit for approval".`);
    lines.push(`  3. Switch to ${approver!.name} (top right), open #Requests and press "Approve".`);
    lines.push(`  4. Switch back to ${requester!.name}: the progress card fills in; then press "Reveal secret" (it works once).`);
    lines.push('  5. Watch the tenant panel on the right and the #Audit channel; try "add sender" next.');
    lines.push(`  ${nonAdmin!.name} is not an admin: the bot refuses their requests and approvals.`);
    if (p.config.provisioningAuth === 'delegated') {
      lines.push('');
      lines.push('Delegated mode (PROVISIONING_AUTH=delegated): the bot itself can only read the tenant. Approve signs the approver in');
      lines.push(`  (Teams single sign-on) and their own rights make every change; ${requester!.name} holds only Global Reader, so the`);
      lines.push('  bot refuses their approval of a request before anything is written.');
    }
  } else if (sim && p.config.mode === 'local') {
    lines.push('');
    lines.push('Microsoft 365 Agents Playground (its .m365agentsplayground.yml matches this tenant; see docs/playground.md):');
    lines.push(`  agentsplayground -e ${p.botUrl}/api/messages -c msteams --disable-telemetry`);
    if (p.predatesFixedIds) {
      lines.push(`  This DATA_DIR's simulated tenant (${sim.tenantId}) predates the fixed ids in that file: run \`npx opter-mail sim-reset\` to use them.`);
    }
  }
  lines.push('');
  lines.push('Press Ctrl-C to stop.');
  return lines;
}
