/**
 * P1: wall time of one full provisioning job (one app, N senders) against the simulator with a fixed latency per
 * call, compared with (a) the critical-path lower bound computed from that run's own request log and (b) the seed
 * script's strictly sequential call order replayed through the same simulator and adapters.
 *
 * Each run starts from the seeded tenant (sim.reset()) with fresh adapters, so both sides pay for their own
 * sign-in exactly as a newly started process would.
 */
import { criticalPath, type CallRecord, type CriticalPath } from './critical-path';
import { countByFamily, createBenchEngine, freshAdapters, runJob, startBenchSimulator } from './fixture';
import type { BenchSimulator } from './remote-sim';
import { replaySeedScript } from './seed-replay';
import { median, round } from './stats';

export interface P1Options {
  latencyMs: number;
  runs: number;
  /** Senders of the job (taken from the seeded mailboxes; default 2 = info@ and faktura@). */
  senders?: number;
  /** One unreported run first (module loading, JIT, first TLS handshakes). Default true. */
  warmup?: boolean;
  tlsDir?: string;
  log?: (line: string) => void;
}

export interface P1Side {
  wallMs: number;
  calls: number;
  callsByFamily: Record<string, number>;
}

export interface P1Run {
  engine: P1Side & {
    criticalPath: Pick<CriticalPath, 'levels' | 'path' | 'steps'>;
    lowerBoundMs: number;
    unclassified: CallRecord[];
  };
  replay: P1Side & { sequentialBoundMs: number };
  ratioToBound: number;
  ratioToReplay: number;
}

export interface P1Result {
  latencyMs: number;
  senders: number;
  runs: P1Run[];
  median: {
    engineWallMs: number;
    engineCalls: number;
    criticalPathCalls: number;
    lowerBoundMs: number;
    replayWallMs: number;
    replayCalls: number;
    ratioToBound: number;
    ratioToReplay: number;
  };
}

const APP_NAME = 'OpterMessageProxy';

function sendersOf(sim: BenchSimulator, n: number): string[] {
  const pool = [sim.mailboxes.info, sim.mailboxes.faktura, sim.mailboxes.shared, sim.mailboxes.admin];
  if (n < 1 || n > pool.length) throw new RangeError(`P1 supports 1..${pool.length} senders (seeded mailboxes), got ${n}`);
  return pool.slice(0, n);
}

async function oneRun(sim: BenchSimulator, latencyMs: number, senders: string[]): Promise<P1Run> {
  // The engine's job.
  await sim.reset();
  const bench = createBenchEngine(sim, freshAdapters(sim));
  let engineSide: P1Run['engine'];
  try {
    const job = bench.engine.createJob('provision', { appDisplayName: APP_NAME, senders });
    await sim.clearRequests();
    const { events, wallMs } = await runJob(bench.engine, job.id);
    const log = await sim.requests();
    const cp = criticalPath(log, events);
    engineSide = {
      wallMs: round(wallMs, 1),
      calls: log.length,
      callsByFamily: countByFamily(log),
      criticalPath: { levels: cp.levels, path: cp.path, steps: cp.steps },
      lowerBoundMs: cp.levels * latencyMs,
      unclassified: cp.unclassified,
    };
  } finally {
    bench.close();
  }

  // The script, replayed.
  await sim.reset();
  const adapters = freshAdapters(sim);
  await sim.clearRequests();
  const start = performance.now();
  await replaySeedScript(adapters, { appDisplayName: APP_NAME, members: senders });
  const replayWall = performance.now() - start;
  const replayLog = await sim.requests();
  const replay = {
    wallMs: round(replayWall, 1),
    calls: replayLog.length,
    callsByFamily: countByFamily(replayLog),
    // Strictly sequential: every call (token requests included) is its own round trip.
    sequentialBoundMs: replayLog.length * latencyMs,
  };
  return {
    engine: engineSide,
    replay,
    ratioToBound: round(engineSide.wallMs / engineSide.lowerBoundMs, 3),
    ratioToReplay: round(engineSide.wallMs / replay.wallMs, 3),
  };
}

export async function runP1(opts: P1Options): Promise<P1Result> {
  const log = opts.log ?? (() => {});
  const runs = Math.max(1, Math.min(50, Math.floor(opts.runs)));
  const sim = await startBenchSimulator({ latencyMs: opts.latencyMs, tlsDir: opts.tlsDir });
  try {
    const senders = sendersOf(sim, opts.senders ?? 2);
    if (opts.warmup ?? true) {
      log('P1 warm-up run (not reported)');
      await oneRun(sim, opts.latencyMs, senders);
    }
    const results: P1Run[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await oneRun(sim, opts.latencyMs, senders);
      log(`P1 run ${i + 1}/${runs}: engine ${r.engine.wallMs} ms (${r.engine.calls} calls, bound ${r.engine.lowerBoundMs} ms), replay ${r.replay.wallMs} ms (${r.replay.calls} calls)`);
      results.push(r);
    }
    return {
      latencyMs: opts.latencyMs,
      senders: senders.length,
      runs: results,
      median: {
        engineWallMs: round(median(results.map((r) => r.engine.wallMs)), 1),
        engineCalls: median(results.map((r) => r.engine.calls)),
        criticalPathCalls: median(results.map((r) => r.engine.criticalPath.levels)),
        lowerBoundMs: median(results.map((r) => r.engine.lowerBoundMs)),
        replayWallMs: round(median(results.map((r) => r.replay.wallMs)), 1),
        replayCalls: median(results.map((r) => r.replay.calls)),
        ratioToBound: round(median(results.map((r) => r.ratioToBound)), 2),
        ratioToReplay: round(median(results.map((r) => r.ratioToReplay)), 2),
      },
    };
  } finally {
    await sim.close();
  }
}
