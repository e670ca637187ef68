/**
 * The dependency model of one provisioning job, and the critical path computed from the calls a run really made.
 *
 * The engine (src/provisioning/engine.ts) runs `validate`, then two independent chains concurrently — the Graph
 * chain app → servicePrincipal → grant and the Exchange chain group (+ members) — which meet at `policy`, then
 * `secret`, then `verify`. Inside a step every call is awaited before the next one is sent, except the
 * Get-Recipient look-ups of `validate`, which are issued together (one round trip however many senders).
 *
 * A call is attributed to a step by its family and by time: the engine's own progress events give each step's
 * window [step-started, step-succeeded|failed], and a call belongs to the window of a step of its family that
 * contains its arrival time (the latest-started one, so a call sent in the millisecond the previous step ended goes
 * to the new step). Graph calls can only belong to Graph-chain steps, Exchange calls to Exchange steps. Token
 * requests can belong to any step but `group`: the Exchange chain got its token in `validate`, so a token request
 * during the concurrent phase is the Graph chain's.
 *
 * The critical path is then Σ over sequential phases of the longest branch, each step weighing its number of
 * sequential round trips ("levels"). With a fixed latency L per call, levels × L is the time the run could not
 * have beaten without changing which calls it makes or their order of dependence.
 */
import type { ProgressEvent } from '../../src/core/ports';

export type CallFamily = 'token' | 'graph' | 'exchange';

/** The shape of the simulator's request log (src/sim RequestLogEntry), also produced by the client-side recorder. */
export interface CallRecord {
  /** ISO time the call was sent (client) or arrived (simulator). */
  at: string;
  family: CallFamily;
  method: string;
  path: string;
  cmdlet?: string;
  /** HTTP status; 0 for a dropped connection. */
  status: number;
}

export interface DependencyModel {
  /** Sequential phases; each phase is a set of concurrent branches; each branch a sequence of steps. */
  phases: string[][][];
  /** Which steps may contain calls of each family. */
  stepsByFamily: Record<CallFamily, string[]>;
  /** Per step, cmdlets issued concurrently (a run of them counts as one level). */
  fanOut: Record<string, string[]>;
}

export const PROVISION_MODEL: DependencyModel = {
  phases: [[['validate']], [['app', 'servicePrincipal', 'grant'], ['group']], [['policy']], [['secret']], [['verify']]],
  stepsByFamily: {
    exchange: ['validate', 'group', 'policy', 'verify'],
    // validate reads the app management policy (after the sender look-ups) before any write.
    graph: ['validate', 'app', 'servicePrincipal', 'grant', 'secret'],
    token: ['validate', 'app', 'servicePrincipal', 'grant', 'policy', 'secret', 'verify'],
  },
  fanOut: { validate: ['Get-Recipient'] },
};

export interface StepWindow {
  step: string;
  startMs: number;
  endMs: number;
}

/** Step windows from a job's progress events. A step still open at the end closes at the job's last event. */
export function stepWindows(events: readonly ProgressEvent[]): StepWindow[] {
  const open = new Map<string, number>();
  const windows: StepWindow[] = [];
  let lastMs = 0;
  for (const e of events) {
    const ms = Date.parse(e.at);
    lastMs = Math.max(lastMs, ms);
    if (e.type === 'step-started') open.set(e.step, ms);
    else if ((e.type === 'step-succeeded' || e.type === 'step-failed') && open.has(e.step)) {
      windows.push({ step: e.step, startMs: open.get(e.step)!, endMs: ms });
      open.delete(e.step);
    }
  }
  for (const [step, startMs] of open) windows.push({ step, startMs, endMs: lastMs });
  return windows;
}

export interface ClassifiedCall extends CallRecord {
  step: string | null;
}

export function classifyCalls(records: readonly CallRecord[], windows: readonly StepWindow[], model: DependencyModel = PROVISION_MODEL): ClassifiedCall[] {
  return [...records]
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .map((r) => {
      const t = Date.parse(r.at);
      const allowed = new Set(model.stepsByFamily[r.family] ?? []);
      const candidates = windows.filter((w) => allowed.has(w.step) && w.startMs <= t && t <= w.endMs).sort((a, b) => b.startMs - a.startMs);
      return { ...r, step: candidates[0]?.step ?? null };
    });
}

export interface StepCount {
  calls: number;
  /** Sequential round trips: calls, with each run of concurrent fan-out calls counted once. */
  levels: number;
  /** Calls answered 429. */
  throttled: number;
}

export function countByStep(calls: readonly ClassifiedCall[], model: DependencyModel = PROVISION_MODEL): Record<string, StepCount> {
  const counts: Record<string, StepCount> = {};
  const previousWasFanOut = new Map<string, boolean>();
  for (const c of calls) {
    if (!c.step) continue;
    const n = (counts[c.step] ??= { calls: 0, levels: 0, throttled: 0 });
    n.calls += 1;
    if (c.status === 429) n.throttled += 1;
    const fanOut = !!c.cmdlet && (model.fanOut[c.step] ?? []).includes(c.cmdlet);
    if (!(fanOut && previousWasFanOut.get(c.step))) n.levels += 1;
    previousWasFanOut.set(c.step, fanOut);
  }
  return counts;
}

export interface PathResult {
  /** Σ over phases of the heaviest branch. */
  total: number;
  /** The heaviest branch of each phase, as its steps. */
  path: string[];
}

/** Longest path through the model with a weight per step. */
export function longestPath(weightOf: (step: string) => number, model: DependencyModel = PROVISION_MODEL): PathResult {
  let total = 0;
  const path: string[] = [];
  for (const phase of model.phases) {
    let best: { weight: number; steps: string[] } | null = null;
    for (const branch of phase) {
      const weight = branch.reduce((n, s) => n + weightOf(s), 0);
      if (!best || weight > best.weight) best = { weight, steps: branch };
    }
    total += best?.weight ?? 0;
    path.push(...(best?.steps ?? []));
  }
  return { total, path };
}

export interface CriticalPath {
  /** Round trips on the longest chain of dependent calls. */
  levels: number;
  path: string[];
  steps: Record<string, StepCount>;
  calls: number;
  /** Calls that fit no step window (should be none; reported so a broken model is visible). */
  unclassified: CallRecord[];
}

/** The critical path of one job from the calls it made and its progress events. */
export function criticalPath(records: readonly CallRecord[], events: readonly ProgressEvent[], model: DependencyModel = PROVISION_MODEL): CriticalPath {
  const classified = classifyCalls(records, stepWindows(events), model);
  const steps = countByStep(classified, model);
  const { total, path } = longestPath((s) => steps[s]?.levels ?? 0, model);
  return {
    levels: total,
    path,
    steps,
    calls: records.length,
    unclassified: classified.filter((c) => c.step === null).map(({ step: _step, ...r }) => r),
  };
}

/**
 * The throttle-imposed minimum of one job: its unthrottled round trips per step (`reference`, from an unthrottled
 * job of the same shape) at L each, plus for every 429 it received on a step, the 429's own round trip and the
 * Retry-After wait the service demanded — along the longest path. Waits on the shorter concurrent branch can hide
 * behind the longer one; the longest path accounts for that.
 */
export function throttledMinimumMs(
  reference: Record<string, StepCount>,
  throttledByStep: Record<string, number>,
  latencyMs: number,
  retryAfterMs: number,
  model: DependencyModel = PROVISION_MODEL,
): PathResult {
  return longestPath((s) => (reference[s]?.levels ?? 0) * latencyMs + (throttledByStep[s] ?? 0) * (latencyMs + retryAfterMs), model);
}
