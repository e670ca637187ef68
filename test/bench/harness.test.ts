/**
 * Every benchmark of `npm run bench`, run for real in a tiny configuration, so the harness cannot rot silently.
 * Asserts structure and sanity only — never how fast anything was: every call classified, nothing faster than its
 * own lower bound, every 429 accounted for, no duplicate objects, every server and child process gone afterwards.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEST_TLS_DIR } from '../../src/sim';
import { renderMarkdown, type BenchOutcome, type BenchResults } from '../../scripts/bench/report';
import { parseBenchArgs } from '../../scripts/bench/args';
import { machineInfo, loadNow } from '../../scripts/bench/machine';
import { runP1, type P1Result } from '../../scripts/bench/p1-provisioning';
import { runP2, stoppedJob, type P2Result } from '../../scripts/bench/p2-bot';
import { startFakeConnector } from '../harness/fake-connector';
import { runP3, type P3Result } from '../../scripts/bench/p3-concurrent';
import { commandOf, groupMembers, processTree, runP4, type P4Result } from '../../scripts/bench/p4-startup';
import { startSimulatorProcess } from '../../scripts/bench/remote-sim';

const LATENCY = 20;
const outcomes: Partial<Pick<BenchResults, 'p1' | 'p2' | 'p3' | 'p4'>> = {};

function outcome<T>(result: T): BenchOutcome<T> {
  const sample = loadNow();
  return { ok: true, result, durationMs: 1, load: { before: sample, after: sample } };
}

/** Bot or simulator processes this test process started and that still run. */
function benchChildren(): string[] {
  return processTree(process.pid)
    .slice(1)
    .map(commandOf)
    .filter((c) => /bot-process\.ts|sim-process\.ts/.test(c));
}

function ordered(s: { p50: number; p95: number; p99: number; max: number }): void {
  expect(s.p50).toBeGreaterThan(0);
  expect(s.p50).toBeLessThanOrEqual(s.p95);
  expect(s.p95).toBeLessThanOrEqual(s.p99);
  expect(s.p99).toBeLessThanOrEqual(s.max);
}

describe('the simulator process', () => {
  it('serves the seeded tenant with the fixed latency, logs calls, resets, and stops with its parent asking', async () => {
    const sim = await startSimulatorProcess({ tlsDir: DEFAULT_TEST_TLS_DIR, latencyMs: LATENCY });
    try {
      expect(sim.mailboxes.info).toMatch(/^info@/);
      const t0 = performance.now();
      const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(LATENCY - 1);
      expect((await sim.requests()).map((r) => r.family)).toEqual(['token']);
      await sim.setFaults({ throttle: { every: 1, retryAfterSeconds: 0 } });
      expect((await fetch(`${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`)).status).toBe(429);
      await sim.reset();
      expect(await sim.requests()).toEqual([]);
      expect((await fetch(`${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`)).status).toBe(200);
    } finally {
      await sim.close();
    }
    expect(() => process.kill(sim.pid, 0)).toThrow();
  });
});

describe('benchmarks in a tiny configuration', () => {
  it('P1: the engine job and the script replay, with the critical path computed from the request log', async () => {
    const r: P1Result = await runP1({ latencyMs: LATENCY, runs: 1, warmup: false, tlsDir: DEFAULT_TEST_TLS_DIR });
    const run = r.runs[0]!;
    expect(r.senders).toBe(2);
    expect(run.engine.unclassified).toEqual([]);
    expect(run.engine.criticalPath.path[0]).toBe('validate');
    expect(run.engine.criticalPath.path.at(-1)).toBe('verify');
    const steps = run.engine.criticalPath.steps;
    for (const s of ['validate', 'app', 'servicePrincipal', 'grant', 'group', 'policy', 'secret', 'verify']) expect(steps[s]?.levels).toBeGreaterThan(0);
    expect(Object.values(steps).reduce((n, s) => n + s.calls, 0)).toBe(run.engine.calls);
    expect(Object.values(run.engine.callsByFamily).reduce((a, b) => a + b, 0)).toBe(run.engine.calls);
    expect(run.engine.criticalPath.levels).toBeLessThan(run.engine.calls);
    expect(run.engine.lowerBoundMs).toBe(run.engine.criticalPath.levels * LATENCY);
    // Every call waited LATENCY in the simulator, so no run can beat its own bound.
    expect(run.engine.wallMs).toBeGreaterThanOrEqual(run.engine.lowerBoundMs);
    expect(run.replay.wallMs).toBeGreaterThanOrEqual(run.replay.sequentialBoundMs);
    // The script: 5 Graph calls, New-DistributionGroup + 2 × Add-DistributionGroupMember + New-ApplicationAccessPolicy.
    expect(run.replay.callsByFamily).toMatchObject({ graph: 5, exchange: 4 });
    expect(r.median.ratioToBound).toBeGreaterThanOrEqual(1);
    outcomes.p1 = outcome(r);
  }, 180_000);

  it('P3: concurrent jobs under 429s — every 429 attributed, no duplicates, never faster than the throttle minimum', async () => {
    const r: P3Result = await runP3({ latencyMs: LATENCY, runs: 1, jobs: 4, throttleShare: 0.3, retryAfterSeconds: 0, tlsDir: DEFAULT_TEST_TLS_DIR });
    const run = r.runs[0]!;
    expect(run.succeeded + run.failed).toBe(4);
    expect(run.throttled.bySimulator).toBeGreaterThan(0);
    expect(run.throttled.attributed).toBe(run.throttled.bySimulator);
    expect(run.throttled.graph + run.throttled.exchange).toBe(run.throttled.attributed);
    expect(run.tenant.apps).toBe(run.succeeded);
    expect(run.tenant.distinctAppNames).toBe(run.tenant.apps);
    expect(run.tenant.policies).toBe(run.succeeded);
    expect(r.reference.levels).toBeGreaterThan(10);
    expect(run.throttleMinimumMs).toBeGreaterThanOrEqual(run.unthrottledMinimumMs);
    expect(run.totalMs).toBeGreaterThanOrEqual(run.throttleMinimumMs);
    expect(run.process.eventLoopUtilization).toBeGreaterThan(0);
    expect(run.process.eventLoopUtilization).toBeLessThanOrEqual(1);
    expect(benchChildren()).toEqual([]);
    outcomes.p3 = outcome(r);
  }, 180_000);

  it('P2: messages, approvals and reveals against the real bot, with no error answers', async () => {
    const r: P2Result = await runP2({ latencyMs: LATENCY, runs: 1, levels: [1, 2], messageSamples: 3, invokeSamples: 2, tlsDir: DEFAULT_TEST_TLS_DIR });
    expect(r.median.map((l) => l.concurrency)).toEqual([1, 2]);
    const [one, two] = r.runs[0]!;
    expect(one!.message.count).toBe(3);
    expect(one!.approve.count).toBe(2);
    expect(one!.reveal.count).toBe(2);
    expect(two!.approve.count).toBe(4);
    expect(two!.reveal.count).toBe(4);
    for (const level of r.runs[0]!) {
      for (const op of [level.message, level.approve, level.reveal]) {
        expect(op.errors, op.firstError).toBe(0);
        ordered(op);
        expect(op.perSecond).toBeGreaterThan(0);
      }
    }
    expect(r.botLog.error, r.botLog.lastError ?? '').toBe(0);
    // The bot and simulator processes it started are gone.
    expect(benchChildren()).toEqual([]);
    outcomes.p2 = outcome(r);
  }, 300_000);

  it('P4: npm start answers on both ports, its memory is read, and its whole process group is gone afterwards', async () => {
    const r: P4Result = await runP4({ runs: 1, settleMs: 200 });
    for (const s of [r.median.cold, r.median.warm]) {
      expect(s.listeningMs).toBeGreaterThan(0);
      expect(s.playgroundMs).toBeGreaterThanOrEqual(s.listeningMs);
      expect(s.productRssMiB).toBeGreaterThan(20);
      expect(s.treeRssMiB).toBeGreaterThanOrEqual(s.productRssMiB);
      expect(s.tree.length).toBe(s.processes);
      // The compiled runtime, alone: nothing re-launched, no loader process in front of it.
      expect(s.tree.map((p) => p.command)).toEqual([expect.stringMatching(/^node .*main\.js$/)]);
      expect(s.processes).toBe(1);
      expect(s.stoppedCleanly).toBe(true);
    }
    outcomes.p4 = outcome(r);
  }, 300_000);

  it('renders every completed benchmark into the page', () => {
    const md = renderMarkdown({
      version: 1,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      command: 'npm run bench',
      machine: machineInfo(),
      settings: parseBenchArgs([]).settings,
      note: null,
      ...outcomes,
    });
    for (const [key, heading] of [['p1', '### P1 —'], ['p2', '### P2 —'], ['p3', '### P3 —'], ['p4', '### P4 —']] as const) {
      if (outcomes[key]) expect(md).toContain(heading);
    }
    if (outcomes.p1) expect(md).toMatch(/Engine ÷ critical-path bound: \d+\.\d\d×\. Engine ÷ script replay: \d+\.\d\d×/);
    if (outcomes.p3) expect(md).toContain('attributed');
    expect(md).not.toMatch(/NaN|undefined/);
  });
});

describe('P2 waits only for what can still come', () => {
  it('spots a progress card that says a job of the level stopped, so it fails at once instead of waiting for a secret card', async () => {
    const connector = await startFakeConnector();
    try {
      connector.ensureConversation({ id: 'a:1bench', kind: 'personal', tenantId: null });
      const post = (text: string) =>
        fetch(`${connector.url}v3/conversations/a%3A1bench/activities`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'message',
            attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text }] } }],
          }),
        });
      await post('Request r-1 — Steps … Finished and verified');
      expect(stoppedJob(connector, 'a:1bench', new Set(['r-1', 'r-2']))).toBeNull();
      await post('Request r-9 — Stopped: a step failed');
      expect(stoppedJob(connector, 'a:1bench', new Set(['r-1', 'r-2']))).toBeNull();
      await post('Request r-2 — Stopped: a step failed. The total size of App Access Policies exceeded the limit.');
      expect(stoppedJob(connector, 'a:1bench', new Set(['r-1', 'r-2']))).toMatch(/r-2 .*exceeded the limit/);
    } finally {
      await connector.close();
    }
  });
});

describe('process hygiene', () => {
  it('finds the members of a process group (the check P4 uses to prove nothing is left behind)', () => {
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const ownGroup = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(groupMembers(ownGroup)).toContain(process.pid);
    expect(groupMembers(2 ** 22 + 12345)).toEqual([]);
  });
});
