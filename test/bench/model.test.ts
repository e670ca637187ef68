/**
 * The benchmark's arithmetic, pinned on hand-built inputs: which step a logged call belongs to, how round trips are
 * counted, which branch is critical, the throttle-imposed minimum, the statistics, the options and the report.
 */
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/core/ports';
import { parseBenchArgs } from '../../scripts/bench/args';
import {
  classifyCalls,
  countByStep,
  criticalPath,
  longestPath,
  stepWindows,
  throttledMinimumMs,
  type CallRecord,
} from '../../scripts/bench/critical-path';
import { renderMarkdown, type BenchResults } from '../../scripts/bench/report';
import { median, percentile, summarize } from '../../scripts/bench/stats';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function window(step: string, from: number, to: number): ProgressEvent[] {
  return [
    { type: 'step-started', jobId: 'j', step, at: at(from) },
    { type: 'step-succeeded', jobId: 'j', step, summary: '', at: at(to) },
  ];
}

/** A provisioning job as the engine shapes it: validate, two concurrent chains, then policy, secret, verify. */
const EVENTS: ProgressEvent[] = [
  { type: 'job-started', jobId: 'j', at: at(0) },
  ...window('validate', 0, 400),
  ...window('app', 400, 700),
  ...window('group', 401, 650),
  ...window('servicePrincipal', 700, 900),
  ...window('grant', 900, 1200),
  ...window('policy', 1200, 1400),
  ...window('secret', 1400, 1700),
  ...window('verify', 1700, 2200),
];

function call(ms: number, family: CallRecord['family'], cmdlet?: string, status = 200): CallRecord {
  return { at: at(ms), family, method: family === 'graph' ? 'GET' : 'POST', path: '/x', status, ...(cmdlet ? { cmdlet } : {}) };
}

const RECORDS: CallRecord[] = [
  call(5, 'token'),
  call(100, 'exchange', 'Get-AcceptedDomain'),
  call(200, 'exchange', 'Get-Recipient'),
  call(201, 'exchange', 'Get-Recipient'),
  call(202, 'exchange', 'Get-Recipient'),
  call(405, 'token'), // the Graph chain's token, although the group window is open too
  call(410, 'exchange', 'Get-DistributionGroup'),
  call(510, 'exchange', 'New-DistributionGroup'),
  call(500, 'graph'),
  call(600, 'graph'),
  call(800, 'graph'),
  call(900, 'graph'), // sent in the millisecond servicePrincipal ended and grant began: grant's
  call(1000, 'graph'),
  call(1100, 'graph'),
  call(1300, 'exchange', 'Get-ApplicationAccessPolicy'),
  call(1350, 'exchange', 'New-ApplicationAccessPolicy'),
  call(1450, 'graph'),
  call(1550, 'graph'),
  call(1650, 'graph'),
  call(1800, 'exchange', 'Test-ApplicationAccessPolicy'),
  call(1900, 'exchange', 'Test-ApplicationAccessPolicy'),
  call(2000, 'token'),
];

describe('step attribution', () => {
  it('puts every call in the step whose window and family fit, preferring the later-started window', () => {
    const steps = classifyCalls(RECORDS, stepWindows(EVENTS)).map((c) => `${c.at.slice(20, 23)}:${c.step}`);
    expect(steps).toEqual([
      '005:validate',
      '100:validate',
      '200:validate',
      '201:validate',
      '202:validate',
      '405:app',
      '410:group',
      '500:app',
      '510:group',
      '600:app',
      '800:servicePrincipal',
      '900:grant',
      '000:grant',
      '100:grant',
      '300:policy',
      '350:policy',
      '450:secret',
      '550:secret',
      '650:secret',
      '800:verify',
      '900:verify',
      '000:verify',
    ]);
  });

  it('reports a call that fits no step of its family instead of guessing', () => {
    // A Graph call during the Exchange-only policy step (validate may make Graph reads: the app management policy).
    const cp = criticalPath([...RECORDS, call(1320, 'graph')], EVENTS);
    expect(cp.unclassified).toHaveLength(1);
    expect(cp.unclassified[0]!.at).toBe(at(1320));
  });

  it('closes a step that never ended at the last event (a job that failed elsewhere)', () => {
    const w = stepWindows([{ type: 'step-started', jobId: 'j', step: 'app', at: at(10) }, { type: 'job-finished', jobId: 'j', status: 'failed', at: at(90) }]);
    expect(w).toEqual([{ step: 'app', startMs: T0 + 10, endMs: T0 + 90 }]);
  });
});

describe('round trips and the critical path', () => {
  it('counts concurrent Get-Recipient look-ups as one round trip and takes the heavier concurrent branch', () => {
    const cp = criticalPath(RECORDS, EVENTS);
    expect(cp.unclassified).toEqual([]);
    expect(cp.steps.validate).toEqual({ calls: 5, levels: 3, throttled: 0 });
    expect(cp.steps.group).toEqual({ calls: 2, levels: 2, throttled: 0 });
    // Graph chain: token + 2 (app) + 1 (servicePrincipal) + 3 (grant) = 7 beats the group's 2.
    expect(cp.path).toEqual(['validate', 'app', 'servicePrincipal', 'grant', 'policy', 'secret', 'verify']);
    expect(cp.levels).toBe(3 + 7 + 2 + 3 + 3);
    expect(cp.calls).toBe(RECORDS.length);
  });

  it('counts a repeated fan-out after another call (a retried step) as a new round trip', () => {
    const classified = classifyCalls(
      [call(100, 'exchange', 'Get-Recipient'), call(101, 'exchange', 'Get-Recipient', 429), call(150, 'exchange', 'Get-AcceptedDomain'), call(250, 'exchange', 'Get-Recipient')],
      stepWindows(EVENTS),
    );
    expect(countByStep(classified).validate).toEqual({ calls: 4, levels: 3, throttled: 1 });
  });

  it('switches to the Exchange branch when throttling makes it the longer one', () => {
    const reference = criticalPath(RECORDS, EVENTS).steps;
    const quiet = throttledMinimumMs(reference, {}, 100, 1000);
    expect(quiet.total).toBe(18 * 100);
    const groupThrottled = throttledMinimumMs(reference, { group: 3 }, 100, 1000);
    expect(groupThrottled.path).toContain('group');
    expect(groupThrottled.total).toBe((3 + 2 + 2 + 3 + 3) * 100 + 3 * 1100);
    // A 429 on the shorter branch that still leaves it shorter costs nothing.
    expect(throttledMinimumMs(reference, { group: 0 }, 100, 0).total).toBe(quiet.total);
    expect(longestPath(() => 1).total).toBe(1 + 3 + 1 + 1 + 1);
  });
});

describe('statistics', () => {
  it('uses nearest-rank percentiles, so every value shown was observed', () => {
    const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 95)).toBe(10);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(xs, 101)).toThrow(RangeError);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(summarize([1, 2, 3])).toEqual({ count: 3, p50: 2, p95: 3, p99: 3, max: 3 });
  });
});

describe('options', () => {
  it('defaults to the issue: all four, 5 runs, 100 ms, 1/10/50 clients, 100 jobs with 10 % 429s', () => {
    const a = parseBenchArgs([]);
    expect(a.settings).toEqual({
      latencyMs: 100,
      runs: 5,
      only: ['p1', 'p2', 'p3', 'p4'],
      p2: { levels: [1, 10, 50], messageSamples: 200, invokeSamples: 30 },
      p3: { jobs: 100, throttleShare: 0.1, retryAfterSeconds: 1 },
    });
    expect(a.docs).toBe('docs/performance.md');
    expect(a.outDir).toBe('artifacts/bench');
  });

  it('bounds every loop and refuses what it does not know', () => {
    expect(parseBenchArgs(['--only', 'p3,p1', '--runs', '3', '--no-docs']).settings.only).toEqual(['p1', 'p3']);
    expect(parseBenchArgs(['--no-docs']).docs).toBeNull();
    expect(parseBenchArgs([]).from).toBeNull();
    expect(parseBenchArgs(['--from', 'artifacts/bench/results-x.json']).from).toBe('artifacts/bench/results-x.json');
    expect(() => parseBenchArgs(['--runs', '21'])).toThrow(/--runs/);
    expect(() => parseBenchArgs(['--runs', '2.5'])).toThrow(/--runs/);
    expect(() => parseBenchArgs(['--latency', '5'])).toThrow(/--latency/);
    expect(() => parseBenchArgs(['--p3-jobs', '151'])).toThrow(/--p3-jobs/);
    expect(() => parseBenchArgs(['--p2-levels', '76'])).toThrow(/--p2-levels/);
    expect(() => parseBenchArgs(['--p2-invokes', '151'])).toThrow(/--p2-invokes/);
    expect(() => parseBenchArgs(['--p3-throttle', '1'])).toThrow(/--p3-throttle/);
    expect(() => parseBenchArgs(['--p2-levels', '1,0'])).toThrow(/--p2-levels/);
    expect(() => parseBenchArgs(['--only', 'p9'])).toThrow(/unknown benchmark/);
    expect(() => parseBenchArgs(['--frobnicate'])).toThrow();
  });
});

function p2Level(concurrency: number, approveP99: number) {
  const op = (p99: number) => ({ count: 30, p50: 10, p95: 20, p99, max: p99 });
  return {
    concurrency,
    message: op(30),
    approve: op(approveP99),
    reveal: op(40),
    errors: 0,
    eventLoop: { message: 0.5, approve: 0.9, reveal: 0.6 },
    perSecond: { message: 100, approve: 50, reveal: 80 },
  };
}

describe('the report', () => {
  it('holds the invoke latencies against the ~5 s Teams gives an invoke', () => {
    const load = { before: { at: at(0), loadavg: [1, 1, 1] as [number, number, number] }, after: { at: at(1), loadavg: [1, 1, 1] as [number, number, number] } };
    const base: BenchResults = {
      version: 1,
      startedAt: '2026-01-01T10:00:00.000Z',
      finishedAt: '2026-01-01T10:05:00.000Z',
      command: 'npm run bench -- --only p2',
      machine: { cores: 2, cpuModel: 'Test CPU', node: 'v20.20.2', os: 'Linux', memoryGiB: 8 },
      settings: parseBenchArgs(['--only', 'p2']).settings,
      note: null,
    };
    const p2 = (levels: ReturnType<typeof p2Level>[]) => ({
      ok: true as const,
      durationMs: 1,
      load,
      result: { latencyMs: 100, levels: levels.map((l) => l.concurrency), runs: [], median: levels, botLog: { warn: 0, error: 0, lastWarn: null, lastError: null } },
    });
    expect(renderMarkdown({ ...base, p2: p2([p2Level(1, 80), p2Level(50, 4_900)]) })).toContain('every p99 above is within that');
    const over = renderMarkdown({ ...base, p2: p2([p2Level(1, 80), p2Level(50, 5_180)]) });
    expect(over).toContain('**Approve p99 at 50 clients (5.18 s) is over it**');
  });

  it('states the machine, the command and the date, and says plainly when a benchmark did not complete', () => {
    const load = { before: { at: at(0), loadavg: [0.5, 0.4, 0.3] as [number, number, number] }, after: { at: at(1), loadavg: [0.6, 0.5, 0.4] as [number, number, number] } };
    const results: BenchResults = {
      version: 1,
      startedAt: '2026-01-01T10:00:00.000Z',
      finishedAt: '2026-01-01T10:05:00.000Z',
      command: 'npm run bench -- --only p4',
      machine: { cores: 2, cpuModel: 'Test CPU', node: 'v20.20.2', os: 'Linux test x64', memoryGiB: 8 },
      settings: parseBenchArgs(['--only', 'p4']).settings,
      note: 'the machine was busy',
      p4: { ok: false, error: 'Error: the bot port did not answer within 90 s:\nsecond line', durationMs: 90_000, load },
    };
    const md = renderMarkdown(results);
    expect(md).toContain('`npm run bench -- --only p4` on 2026-01-01');
    expect(md).toContain('2 cores (Test CPU)');
    expect(md).toContain('Node v20.20.2');
    expect(md).toContain('**Note:** the machine was busy');
    expect(md).toContain('**P4 did not complete:** `Error: the bot port did not answer within 90 s:`');
    expect(md).not.toContain('second line');
    expect(md).not.toContain('### P1 —');
    expect(md).toContain('### P1: the critical-path model');
  });
});
