/**
 * The bot as its own process, for tests that SIGKILL it: `node --import tsx test/security/bot-child.ts`.
 *
 * It calls startBot exactly as production would — configuration, tenant and DATA_DIR all from the environment (the
 * test points AZURE_* / *_ENDPOINT at a simulator it runs itself) — and only adds fast test timings. It prints one
 * line per event on stdout: `READY <url>` once listening, `LOG <level> <message>` for every log line (so the
 * parent can search them), `FATAL <message>` if start-up fails.
 *
 * Timing variables (test only): BOT_CHILD_WORKER_MS, BOT_CHILD_RETRY_BASE_MS, BOT_CHILD_RETRY_MAX_MS,
 * BOT_CHILD_STEP_MAX_WAIT_MS, BOT_CHILD_OUTBOX_RETRY_MS.
 */
import { startBot } from '../../src/bot';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const line = (kind: string, text: string) => process.stdout.write(`${kind} ${text.replace(/\n/g, '\\n')}\n`);

const retry = {
  baseDelayMs: num('BOT_CHILD_RETRY_BASE_MS', 100),
  maxDelayMs: num('BOT_CHILD_RETRY_MAX_MS', 500),
  maxTotalWaitMs: num('BOT_CHILD_STEP_MAX_WAIT_MS', 60_000),
};

startBot({
  env: process.env,
  workerIntervalMs: num('BOT_CHILD_WORKER_MS', 200),
  retry,
  verifyRetry: retry,
  settings: {
    progressMinIntervalMs: 100,
    outboxRetryBaseMs: num('BOT_CHILD_OUTBOX_RETRY_MS', 50),
    outboxRetryMaxMs: 500,
    auditUnroutedRetryMs: 200,
  },
  logger: {
    info: (m) => line('LOG', `info ${m}`),
    warn: (m) => line('LOG', `warn ${m}`),
    error: (m, err) => line('LOG', `error ${m}${err instanceof Error ? `: ${err.message}` : ''}`),
  },
}).then(
  (bot) => {
    line('READY', bot.url);
    // A graceful stop is not what these tests are about, but a SIGTERM should still leave cleanly.
    process.once('SIGTERM', () => void bot.close().then(() => process.exit(0)));
  },
  (err: unknown) => {
    line('FATAL', err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
