/**
 * `npm run bench`: P1–P4 of issue 7 against the simulated tenant; writes artifacts/bench/results-<timestamp>.json
 * and regenerates docs/performance.md. See docs/performance.md for what each benchmark measures and why.
 *
 * The simulator's certificate is trusted the way `npm start` trusts its embedded simulator: in this process through
 * the connection's `trustedCa` (src/adapters/tls-trust.ts); the child processes it starts get NODE_EXTRA_CA_CERTS.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DEFAULT_TEST_TLS_DIR, extraCaCertsWithSimulator } from '../src/sim/tls';
import { loadNow, machineInfo } from './bench/machine';
import { runP1 } from './bench/p1-provisioning';
import { runP2 } from './bench/p2-bot';
import { runP3 } from './bench/p3-concurrent';
import { defaultRoot, runP4 } from './bench/p4-startup';
import { parseBenchArgs, USAGE } from './bench/args';
import { renderMarkdown, type BenchOutcome, type BenchResults } from './bench/report';

async function measure<T>(name: string, fn: () => Promise<T>): Promise<BenchOutcome<T>> {
  const before = loadNow();
  const t0 = performance.now();
  try {
    const result = await fn();
    return { ok: true, result, durationMs: Math.round(performance.now() - t0), load: { before, after: loadNow() } };
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    console.error(`${name} failed: ${error}`);
    return { ok: false, error, durationMs: Math.round(performance.now() - t0), load: { before, after: loadNow() } };
  }
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.from) {
    const earlier = JSON.parse(readFileSync(resolve(parsed.from), 'utf8')) as BenchResults;
    if (earlier.version !== 1) throw new Error(`${parsed.from} is not a results file of this benchmark (version ${String(earlier.version)})`);
    if (parsed.note) earlier.note = parsed.note;
    const docPath = resolve(defaultRoot(), parsed.docs ?? 'docs/performance.md');
    writeFileSync(docPath, renderMarkdown(earlier));
    console.log(`report: ${relative(defaultRoot(), docPath)} (from ${parsed.from})`);
    return 0;
  }
  // Inherited by the bot process of P2, which opens the simulator through the configuration contract (AZURE_*).
  process.env.NODE_EXTRA_CA_CERTS = extraCaCertsWithSimulator(DEFAULT_TEST_TLS_DIR);

  const root = defaultRoot();
  const { settings } = parsed;
  const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const args = process.argv.slice(2);
  const results: BenchResults = {
    version: 1,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    command: `npm run bench${args.length ? ` -- ${args.map((a) => (/^[\w.,=/-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}` : ''}`,
    machine: machineInfo(),
    settings,
    note: parsed.note,
  };
  log(`machine: ${results.machine.cores} cores, ${results.machine.cpuModel}, Node ${results.machine.node}; load ${loadNow().loadavg.join(' ')}`);
  const common = { latencyMs: settings.latencyMs, runs: settings.runs, tlsDir: DEFAULT_TEST_TLS_DIR, log };
  if (settings.only.includes('p1')) results.p1 = await measure('P1', () => runP1(common));
  if (settings.only.includes('p3')) results.p3 = await measure('P3', () => runP3({ ...common, ...settings.p3 }));
  if (settings.only.includes('p4')) results.p4 = await measure('P4', () => runP4({ runs: settings.runs, root, log }));
  if (settings.only.includes('p2')) {
    results.p2 = await measure('P2', () =>
      runP2({ ...common, levels: settings.p2.levels, messageSamples: settings.p2.messageSamples, invokeSamples: settings.p2.invokeSamples }),
    );
  }
  results.finishedAt = new Date().toISOString();

  const outDir = resolve(root, parsed.outDir);
  mkdirSync(outDir, { recursive: true });
  const jsonPath = join(outDir, `results-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  log(`results: ${relative(root, jsonPath)}`);
  if (parsed.docs) {
    const docPath = resolve(root, parsed.docs);
    writeFileSync(docPath, renderMarkdown(results));
    log(`report: ${relative(root, docPath)}`);
  }
  const failedNames = settings.only.filter((b) => results[b] && !results[b]!.ok);
  if (failedNames.length) {
    console.error(`failed: ${failedNames.join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
