// Module-loader hooks for load-log.mjs (they run on Node's loader thread).
import { appendFileSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  if (process.env.LOAD_LOG && url.startsWith('file:')) appendFileSync(process.env.LOAD_LOG, `${url}\n`);
  return nextLoad(url, context);
}
