/** Command-line options of `npm run bench` (scripts/bench.ts), validated and bounded. */
import { parseArgs } from 'node:util';
import type { BenchName, BenchSettings } from './report';

export const USAGE = `npm run bench -- [options]

  --only <list>          benchmarks to run, comma-separated: p1,p2,p3,p4 (default: all)
  --runs <n>             runs per benchmark, the median is reported (default 5, 1..20)
  --latency <ms>         fixed latency per simulated call (default 100, 10..5000)
  --p2-levels <list>     concurrent clients for P2 (default 1,10,50; at most 75)
  --p2-messages <n>      timed messages per P2 level (default 200)
  --p2-invokes <n>       timed approvals and reveals per P2 level, at least 2 per client (default 30, at most 150)
  --p3-jobs <n>          concurrent provisioning jobs for P3 (default 100, 1..150)
                         (Exchange holds about 150 access policies of this size: each registration makes one)
  --p3-throttle <share>  share of Graph/Exchange calls answered 429 (default 0.1)
  --p3-retry-after <s>   Retry-After of each 429 in seconds (default 1)
  --note <text>          a sentence for the report (e.g. "the machine was busy with other test runs")
  --out <dir>            where the JSON goes (default artifacts/bench)
  --docs <file>          the Markdown page to rewrite (default docs/performance.md)
  --no-docs              do not rewrite the Markdown page
  --from <results.json>  run nothing: rewrite the Markdown page from an earlier results file (with --note, its note)
  --help`;

export const ALL_BENCHMARKS: BenchName[] = ['p1', 'p2', 'p3', 'p4'];

function intArg(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
}

function numberArg(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
  return n;
}

export function parseBenchArgs(argv: string[]): {
  settings: BenchSettings;
  note: string | null;
  outDir: string;
  docs: string | null;
  from: string | null;
  help: boolean;
} {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      only: { type: 'string' },
      runs: { type: 'string' },
      latency: { type: 'string' },
      'p2-levels': { type: 'string' },
      'p2-messages': { type: 'string' },
      'p2-invokes': { type: 'string' },
      'p3-jobs': { type: 'string' },
      'p3-throttle': { type: 'string' },
      'p3-retry-after': { type: 'string' },
      note: { type: 'string' },
      out: { type: 'string' },
      docs: { type: 'string' },
      'no-docs': { type: 'boolean' },
      from: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const only = values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()) : ALL_BENCHMARKS;
  for (const b of only) if (!ALL_BENCHMARKS.includes(b as BenchName)) throw new Error(`--only: unknown benchmark "${b}" (use ${ALL_BENCHMARKS.join(', ')})`);
  const levels = (values['p2-levels'] ?? '1,10,50').split(',').map((s) => intArg('p2-levels', s.trim(), 1, 1, 75));
  return {
    settings: {
      latencyMs: intArg('latency', values.latency, 100, 10, 5_000),
      runs: intArg('runs', values.runs, 5, 1, 20),
      only: ALL_BENCHMARKS.filter((b) => only.includes(b)),
      p2: {
        levels,
        messageSamples: intArg('p2-messages', values['p2-messages'], 200, 1, 5_000),
        invokeSamples: intArg('p2-invokes', values['p2-invokes'], 30, 1, 150),
      },
      p3: {
        jobs: intArg('p3-jobs', values['p3-jobs'], 100, 1, 150),
        throttleShare: numberArg('p3-throttle', values['p3-throttle'], 0.1, 0, 0.9),
        retryAfterSeconds: intArg('p3-retry-after', values['p3-retry-after'], 1, 0, 60),
      },
    },
    note: values.note?.trim() || null,
    outDir: values.out ?? 'artifacts/bench',
    docs: values['no-docs'] ? null : (values.docs ?? 'docs/performance.md'),
    from: values.from ?? null,
    help: !!values.help,
  };
}
