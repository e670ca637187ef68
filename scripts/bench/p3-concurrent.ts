/**
 * P3: many provisioning jobs at once on one engine (as the bot runs them: one process, one credential, one
 * journal) while the simulator answers a seeded share of Graph and Exchange calls with 429 + Retry-After.
 *
 * The throttle-imposed minimum (see docs/performance.md): per job, its unthrottled round trips per step — measured on
 * a reference job of the same shape run alone on the same engine just before — at L each, plus for every 429 it got
 * on a step one extra round trip and the Retry-After wait, along the longest path of the dependency model. The batch
 * cannot finish before its slowest job's minimum. 429s are attributed to jobs by a client-side recorder (fetch, keyed
 * by the job's async context); the token endpoint is not throttled, so every 429 passes through it.
 */
import { performance } from 'node:perf_hooks';
import type { ProgressEvent } from '../../src/core/ports';
import { classifyCalls, countByStep, criticalPath, stepWindows, throttledMinimumMs, type StepCount } from './critical-path';
import { transportFor } from '../../src/adapters/tls-trust';
import { CallRecorder, connectionFor, createBenchEngine, freshAdapters, processCpuMs, runJob, startBenchSimulator } from './fixture';
import type { BenchSimulator } from './remote-sim';
import { median, percentile, round } from './stats';

export interface P3Options {
  latencyMs: number;
  runs: number;
  /** Concurrent jobs (default 100). */
  jobs?: number;
  /** Share of Graph and Exchange calls answered 429 (default 0.1). */
  throttleShare?: number;
  /** Retry-After of each 429, seconds (default 1). */
  retryAfterSeconds?: number;
  tlsDir?: string;
  log?: (line: string) => void;
}

export interface P3Run {
  jobs: number;
  succeeded: number;
  failed: number;
  failures: Record<string, number>;
  totalMs: number;
  /** The slowest job's throttle-imposed minimum (the batch cannot end sooner). */
  throttleMinimumMs: number;
  /** One job's unthrottled critical path × L. */
  unthrottledMinimumMs: number;
  ratioToMinimum: number;
  jobWallMs: { p50: number; max: number };
  /** 429s the simulator sent, and those attributed to a job by the client-side recorder. */
  throttled: { bySimulator: number; attributed: number; maxPerJob: number; graph: number; exchange: number };
  calls: { bySimulator: number };
  /** step-retrying events (engine-level retries; Graph SDK retries inside one call are not events). */
  engineRetries: number;
  /** Where the time went in the benchmark process during the batch (the simulator runs in its own process). */
  process: { eventLoopUtilization: number; cpuMs: number; journalMs: number; simulatorCpuMs: number | null };
  /** Objects in the tenant afterwards: one app and one policy per succeeded job, no duplicates. */
  tenant: { apps: number; distinctAppNames: number; policies: number };
}

export interface P3Result {
  latencyMs: number;
  jobs: number;
  throttleShare: number;
  retryAfterSeconds: number;
  reference: { levels: number; steps: Record<string, StepCount> };
  runs: P3Run[];
  median: {
    succeeded: number;
    failed: number;
    totalMs: number;
    throttleMinimumMs: number;
    ratioToMinimum: number;
    throttled: number;
  };
}

const NAME_PREFIX = 'Bench P3';

async function referenceJob(sim: BenchSimulator, bench: ReturnType<typeof createBenchEngine>, senders: string[], name: string) {
  const job = bench.engine.createJob('provision', { appDisplayName: name, senders });
  await sim.clearRequests();
  const { events } = await runJob(bench.engine, job.id);
  return criticalPath(await sim.requests(), events);
}

async function oneRun(sim: BenchSimulator, opts: Required<Pick<P3Options, 'latencyMs' | 'jobs' | 'throttleShare' | 'retryAfterSeconds'>>, runIndex: number) {
  await sim.reset();
  const recorder = new CallRecorder({ graph: sim.graphEndpoint, exchange: sim.exchangeEndpoint }, transportFor(connectionFor(sim))!.fetch);
  const adapters = freshAdapters(sim, recorder.fetch);
  const bench = createBenchEngine(sim, adapters);
  const senders = [sim.mailboxes.info, sim.mailboxes.faktura];
  try {
    // Warm the shared credential (tokens cached, as in a running bot), then measure the unthrottled shape.
    await referenceJob(sim, bench, senders, `${NAME_PREFIX} warmup ${runIndex}`);
    const reference = await referenceJob(sim, bench, senders, `${NAME_PREFIX} reference ${runIndex}`);
    if (reference.unclassified.length) throw new Error(`P3 reference job has ${reference.unclassified.length} calls outside the dependency model`);

    const ids = Array.from({ length: opts.jobs }, (_, i) => bench.engine.createJob('provision', { appDisplayName: `${NAME_PREFIX} ${runIndex}-${i + 1}`, senders }).id);
    await sim.clearRequests();
    await sim.setFaults({ throttle: { share: opts.throttleShare, retryAfterSeconds: opts.retryAfterSeconds, families: ['graph', 'exchange'] } });
    recorder.install();
    const journalBefore = bench.journalMs();
    const simCpuBefore = processCpuMs(sim.pid);
    const cpuBefore = process.cpuUsage();
    const eluBefore = performance.eventLoopUtilization();
    const start = performance.now();
    const outcomes = await Promise.all(
      ids.map((id) =>
        recorder.run(id, async () => {
          const events: ProgressEvent[] = [];
          const t0 = performance.now();
          const outcome = await bench.engine.run(id, { listener: (e) => events.push(e) });
          return { id, outcome, events, wallMs: performance.now() - t0 };
        }),
      ),
    );
    const totalMs = performance.now() - start;
    const elu = performance.eventLoopUtilization(eluBefore);
    const cpu = process.cpuUsage(cpuBefore);
    const simCpuAfter = processCpuMs(sim.pid);
    const journalMs = bench.journalMs() - journalBefore;
    recorder.uninstall();
    await sim.setFaults({ throttle: null });
    const simLog = await sim.requests();

    const retryAfterMs = opts.retryAfterSeconds * 1000;
    let worstMinimum = 0;
    let attributed = 0;
    let maxPerJob = 0;
    const byFamily = { graph: 0, exchange: 0 };
    let engineRetries = 0;
    const failures: Record<string, number> = {};
    for (const o of outcomes) {
      const calls = classifyCalls(recorder.calls(o.id), stepWindows(o.events));
      const perStep = countByStep(calls);
      const throttledByStep = Object.fromEntries(Object.entries(perStep).map(([s, c]) => [s, c.throttled]));
      const jobThrottled = calls.filter((c) => c.status === 429).length;
      for (const c of calls) if (c.status === 429 && (c.family === 'graph' || c.family === 'exchange')) byFamily[c.family] += 1;
      attributed += jobThrottled;
      maxPerJob = Math.max(maxPerJob, jobThrottled);
      engineRetries += o.events.filter((e) => e.type === 'step-retrying').length;
      worstMinimum = Math.max(worstMinimum, throttledMinimumMs(reference.steps, throttledByStep, opts.latencyMs, retryAfterMs).total);
      if (o.outcome.error) failures[o.outcome.error.code] = (failures[o.outcome.error.code] ?? 0) + 1;
    }
    const snap = await sim.snapshot();
    const apps = snap.applications.filter((a) => String(a.displayName).startsWith(`${NAME_PREFIX} ${runIndex}-`));
    const appIds = new Set(apps.map((a) => String(a.appId)));
    const succeeded = outcomes.filter((o) => !o.outcome.error).length;
    const run: P3Run = {
      jobs: opts.jobs,
      succeeded,
      failed: opts.jobs - succeeded,
      failures,
      totalMs: round(totalMs, 1),
      throttleMinimumMs: worstMinimum,
      unthrottledMinimumMs: reference.levels * opts.latencyMs,
      ratioToMinimum: round(totalMs / worstMinimum, 3),
      jobWallMs: { p50: round(percentile(outcomes.map((o) => o.wallMs), 50), 1), max: round(Math.max(...outcomes.map((o) => o.wallMs)), 1) },
      throttled: { bySimulator: simLog.filter((r) => r.status === 429).length, attributed, maxPerJob, ...byFamily },
      calls: { bySimulator: simLog.length },
      engineRetries,
      process: {
        eventLoopUtilization: round(elu.utilization, 3),
        cpuMs: round((cpu.user + cpu.system) / 1000, 0),
        journalMs: round(journalMs, 0),
        simulatorCpuMs: simCpuBefore === null || simCpuAfter === null ? null : round(simCpuAfter - simCpuBefore, 0),
      },
      tenant: {
        apps: apps.length,
        distinctAppNames: new Set(apps.map((a) => String(a.displayName))).size,
        policies: snap.accessPolicies.filter((p) => appIds.has(p.appId)).length,
      },
    };
    return { run, reference };
  } finally {
    recorder.uninstall();
    bench.close();
  }
}

export async function runP3(opts: P3Options): Promise<P3Result> {
  const log = opts.log ?? (() => {});
  const settings = {
    latencyMs: opts.latencyMs,
    // Exchange holds about 150 access policies of this size (each job makes one; the simulator models the limit).
    jobs: Math.max(1, Math.min(150, Math.floor(opts.jobs ?? 100))),
    throttleShare: opts.throttleShare ?? 0.1,
    retryAfterSeconds: opts.retryAfterSeconds ?? 1,
  };
  if (!(settings.throttleShare >= 0 && settings.throttleShare < 1)) throw new RangeError('throttleShare must be within [0, 1)');
  const runs = Math.max(1, Math.min(20, Math.floor(opts.runs)));
  const sim = await startBenchSimulator({ latencyMs: opts.latencyMs, tlsDir: opts.tlsDir, seed: 31 });
  try {
    const results: P3Run[] = [];
    let reference: P3Result['reference'] | null = null;
    for (let i = 0; i < runs; i++) {
      const { run, reference: ref } = await oneRun(sim, settings, i + 1);
      reference ??= { levels: ref.levels, steps: ref.steps };
      log(
        `P3 run ${i + 1}/${runs}: ${run.succeeded}/${run.jobs} succeeded in ${run.totalMs} ms (throttle minimum ${run.throttleMinimumMs} ms, ${run.throttled.bySimulator} × 429)`,
      );
      results.push(run);
    }
    return {
      ...settings,
      reference: reference!,
      runs: results,
      median: {
        succeeded: median(results.map((r) => r.succeeded)),
        failed: median(results.map((r) => r.failed)),
        totalMs: round(median(results.map((r) => r.totalMs)), 1),
        throttleMinimumMs: median(results.map((r) => r.throttleMinimumMs)),
        ratioToMinimum: round(median(results.map((r) => r.ratioToMinimum)), 2),
        throttled: median(results.map((r) => r.throttled.bySimulator)),
      },
    };
  } finally {
    await sim.close();
  }
}
