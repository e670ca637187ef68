/**
 * `npm start`. With no configuration: the simulated tenant, the bot (local mode, PORT 3978 on 127.0.0.1) and the
 * Teams playground (PLAYGROUND_PORT 3979) in one process, with a printed "what to click first". With configuration
 * (BOT_ID, AZURE_CLIENT_ID, …): the real bot, playground off unless PLAYGROUND=1. Ctrl-C stops everything.
 * The work is in src/playground/product.ts (startProduct), which the browser tests call the same way.
 */
import type { Product } from './playground/product';

const STOP_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const dataDir = process.env.DATA_DIR?.trim() || './data';
  let product: Product | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    setTimeout(() => {
      console.error(`Still stopping after ${STOP_TIMEOUT_MS / 1000} s; exiting anyway.`);
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    (product?.close() ?? Promise.resolve()).then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (err: unknown) => {
        console.error('Stopping failed:', err instanceof Error ? err.message : err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const { startProduct } = await import('./playground/product');
  // Microsoft-like delays on the embedded tenant: on an instant one a setup ends before anyone can watch it.
  product = await startProduct({ dataDir, simulatorDelays: 'microsoft-like' });
  if (stopping) {
    await product.close();
    return;
  }
  console.log(product.banner.join('\n'));
}

main().catch(async (err: unknown) => {
  const [{ BotConfigError }, { ProductStartError }] = await Promise.all([import('./bot/host/config'), import('./playground/product')]);
  if (err instanceof BotConfigError || err instanceof ProductStartError) {
    console.error(err.message);
    process.exit(2);
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') {
    console.error(`${(err as Error).message}: a port is already in use (another npm start?). Set PORT, PLAYGROUND_PORT or SIM_*_PORT, or stop the other process.`);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
