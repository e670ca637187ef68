/**
 * Child-process entry for P2: the real bot (startBot) alone in its process, so that what is measured is the bot's
 * work — the Teams clients and the fake Bot Connector run in the benchmark process, as Teams runs elsewhere.
 *
 * Input: BENCH_BOT_OPTIONS (JSON: { env, dataDir }); the process must already trust the simulator's certificate
 * (NODE_EXTRA_CA_CERTS inherited from the benchmark process). Protocol: one JSON object per line. Out:
 * `{"ready":{url,port}}`, then one `{"id",...}` answer per command. In: `{"id","cmd"}` with cmd
 *   idle  — resolves when no provisioning run is in flight (BotHandle.idle)
 *   usage — event-loop utilisation counters and CPU time so far, and the log counts
 * Closing stdin (the parent's way to stop it, and what happens when the parent dies) stops the bot and exits.
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startBot } from '../../src/bot';

interface ChildOptions {
  env: Record<string, string>;
  dataDir: string;
}

const log = { warn: 0, error: 0, lastWarn: null as string | null, lastError: null as string | null };

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.BENCH_BOT_OPTIONS ?? '{}') as ChildOptions;
  const bot = await startBot({
    env: options.env,
    dataDir: options.dataDir,
    logger: {
      info: () => undefined,
      warn: (m) => {
        log.warn += 1;
        log.lastWarn = m.slice(0, 300);
      },
      error: (m) => {
        log.error += 1;
        log.lastError = m.slice(0, 300);
      },
    },
  });
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await bot.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void close());
  process.on('SIGINT', () => void close());
  const lines = createInterface({ input: process.stdin });
  lines.on('close', () => void close());
  lines.on('line', (line) => {
    let msg: { id?: number; cmd?: string };
    try {
      msg = JSON.parse(line) as { id?: number; cmd?: string };
    } catch {
      return;
    }
    const { id, cmd } = msg;
    if (cmd === 'idle') {
      bot.idle().then(
        () => send({ id, ok: true }),
        (e: unknown) => send({ id, ok: false, error: String(e) }),
      );
    } else if (cmd === 'usage') {
      const elu = performance.eventLoopUtilization();
      const cpu = process.cpuUsage();
      send({ id, ok: true, result: { elu: { idle: elu.idle, active: elu.active }, cpuMicros: cpu.user + cpu.system, log } });
    } else {
      send({ id, ok: false, error: `unknown command ${String(cmd)}` });
    }
  });
  send({ ready: { url: bot.url, port: bot.port } });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
