/**
 * The benchmark's outputs: one JSON file with every run (artifacts/bench/results-<timestamp>.json) and
 * docs/performance.md, generated whole from the results so the prose about the model and the numbers cannot drift
 * apart.
 */
import type { P1Result } from './p1-provisioning';
import type { P2Result } from './p2-bot';
import type { P3Result } from './p3-concurrent';
import type { P4Result, StartMeasurement } from './p4-startup';
import type { LoadSample, MachineInfo } from './machine';
import type { LatencySummary } from './stats';

export type BenchName = 'p1' | 'p2' | 'p3' | 'p4';

export type BenchOutcome<T> =
  | { ok: true; result: T; durationMs: number; load: { before: LoadSample; after: LoadSample } }
  | { ok: false; error: string; durationMs: number; load: { before: LoadSample; after: LoadSample } };

export interface BenchSettings {
  latencyMs: number;
  runs: number;
  only: BenchName[];
  p2: { levels: number[]; messageSamples: number; invokeSamples: number };
  p3: { jobs: number; throttleShare: number; retryAfterSeconds: number };
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: MachineInfo;
  settings: BenchSettings;
  note: string | null;
  p1?: BenchOutcome<P1Result>;
  p2?: BenchOutcome<P2Result>;
  p3?: BenchOutcome<P3Result>;
  p4?: BenchOutcome<P4Result>;
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 10_000) return `${(n / 1000).toFixed(1)} s`;
  if (Math.abs(n) >= 1_000) return `${(n / 1000).toFixed(2)} s`;
  return `${n >= 100 ? Math.round(n) : Math.round(n * 10) / 10} ms`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function ratio(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}×` : '–';
}

function pct(s: LatencySummary): string {
  return `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}`;
}

function loadLine(o: { durationMs: number; load: { before: LoadSample; after: LoadSample } }): string {
  return `load average (1/5/15 min) ${o.load.before.loadavg.join(' / ')} before, ${o.load.after.loadavg.join(' / ')} after; took ${ms(o.durationMs)}`;
}

function failed(name: string, o: { ok: false; error: string }): string[] {
  return [`**${name} did not complete:** \`${o.error.split('\n')[0]!.slice(0, 300)}\``, ''];
}

function families(c: Record<string, number>): string {
  return `${c.token ?? 0} token, ${c.graph ?? 0} Graph, ${c.exchange ?? 0} Exchange`;
}

const STEP_ORDER = ['validate', 'app', 'servicePrincipal', 'grant', 'group', 'policy', 'secret', 'verify'];

function renderP1(o: BenchOutcome<P1Result>, latencyMs: number): string[] {
  const lines = ['### P1 — one provisioning job (one app, two senders)', ''];
  if (!o.ok) return [...lines, ...failed('P1', o)];
  const r = o.result;
  const m = r.median;
  // The run whose engine wall time is the median carries the per-step breakdown shown.
  const typical = [...r.runs].sort((a, b) => a.engine.wallMs - b.engine.wallMs)[Math.floor((r.runs.length - 1) / 2)]!;
  const steps = typical.engine.criticalPath.steps;
  lines.push(
    '| | Engine (the product) | Seed script, replayed |',
    '|---|---|---|',
    `| Wall time (median of ${r.runs.length}) | **${ms(m.engineWallMs)}** | **${ms(m.replayWallMs)}** |`,
    `| API calls | ${m.engineCalls} (${families(typical.engine.callsByFamily)}) | ${m.replayCalls} (${families(typical.replay.callsByFamily)}) |`,
    `| Longest chain of dependent calls | ${m.criticalPathCalls} round trips | ${m.replayCalls} (all sequential) |`,
    `| Lower bound at ${latencyMs} ms per call | ${ms(m.lowerBoundMs)} | ${ms(m.replayCalls * latencyMs)} |`,
    `| Wall time ÷ its lower bound | ${ratio(m.ratioToBound)} | ${ratio(m.replayWallMs / (m.replayCalls * latencyMs))} |`,
    '',
    `**Engine ÷ critical-path bound: ${ratio(m.ratioToBound)}. Engine ÷ script replay: ${ratio(m.ratioToReplay)}.**`,
    '',
    `Per step (median run), calls and round trips; the critical path is ${typical.engine.criticalPath.path.join(' → ')}:`,
    '',
    `| ${STEP_ORDER.join(' | ')} |`,
    `|${STEP_ORDER.map(() => '---').join('|')}|`,
    `| ${STEP_ORDER.map((s) => `${steps[s]?.calls ?? 0} / ${steps[s]?.levels ?? 0}`).join(' | ')} |`,
    '',
  );
  const v = (s: string) => steps[s]?.levels ?? 0;
  const graphChain = v('app') + v('servicePrincipal') + v('grant');
  lines.push(
    `What the difference is made of: the engine checks the senders before it writes anything (${v('validate')} round trips), ` +
      `reads before each write so that a re-run creates nothing twice (app, service principal, grant, group, policy, secret), ` +
      `reads the tenant's secret-lifetime policy, and verifies the result as the script never did (${v('verify')} round trips: ` +
      'Test-ApplicationAccessPolicy per sender and for a mailbox that must be denied, then a token as the new app). ' +
      (v('group') <= graphChain
        ? `Running the Exchange chain (${v('group')} round trips) alongside the Graph chain (${graphChain}) hides it completely; `
        : `Running the Graph chain (${graphChain} round trips) alongside the Exchange chain (${v('group')}) hides it completely; `) +
      `the script pays for its Exchange calls after its Graph calls. ${unclassifiedNote(r)}`,
    '',
    loadLine(o),
    '',
  );
  return lines;
}

function unclassifiedNote(r: P1Result): string {
  const n = r.runs.reduce((k, run) => k + run.engine.unclassified.length, 0);
  return n === 0 ? 'Every logged call fell into a step of the model.' : `**${n} logged calls fit no step of the model** (see the JSON).`;
}

function renderP2(o: BenchOutcome<P2Result>): string[] {
  const lines = ['### P2 — the bot under concurrent clients (`/api/messages`, local mode)', ''];
  if (!o.ok) return [...lines, ...failed('P2', o)];
  const r = o.result;
  const firstErrors = r.runs.flat().flatMap((l) => [l.message, l.approve, l.reveal]).map((x) => x.firstError).filter(Boolean);
  lines.push(
    '| Clients | Message p50 / p95 / p99 | Approve p50 / p95 / p99 | Reveal p50 / p95 / p99 | Answers per second (msg / approve / reveal) | Samples | Errors | Event loop busy |',
    '|---|---|---|---|---|---|---|---|',
    ...r.median.map(
      (l) =>
        `| ${l.concurrency} | ${pct(l.message)} | ${pct(l.approve)} | ${pct(l.reveal)} | ${l.perSecond.message} / ${l.perSecond.approve} / ${l.perSecond.reveal} | ` +
        `${l.message.count} / ${l.approve.count} / ${l.reveal.count} | ${l.errors} | ` +
        `${Math.round(l.eventLoop.message * 100)} % / ${Math.round(l.eventLoop.approve * 100)} % / ${Math.round(l.eventLoop.reveal * 100)} % |`,
    ),
    '',
    invokeBudgetLine(r),
    '',
    `Medians over ${plural(r.runs.length, 'run')} of each run's percentiles. With ${r.median[0]?.approve.count ?? 0} samples a p99 is the slowest sample or close to it. ` +
      '"Event loop busy" is the share of each timed phase the bot process\'s event loop was working (the bot runs alone in its process; the clients and the fake connector run in the benchmark process); ' +
      'approvals start provisioning jobs that keep the bot busy while later clicks of the level are served. ' +
      `Bot log during the runs: ${r.botLog.error} errors, ${r.botLog.warn} warnings${r.botLog.lastWarn ? ` (e.g. "${r.botLog.lastWarn}")` : ''}.` +
      (firstErrors.length ? ` First failed answer: \`${firstErrors[0]}\`.` : ''),
    '',
    loadLine(o),
    '',
  );
  return lines;
}

/**
 * Teams wants an invoke answered within about 5 s (teams-ai's comment in Application.run; no official page states
 * it — docs/teams-facts.md §2.4) and a message turn within 10–15 s.
 */
export const INVOKE_BUDGET_MS = 5_000;
export const MESSAGE_BUDGET_MS = 10_000;

function invokeBudgetLine(r: P2Result): string {
  const worst = r.median.flatMap((l) => [
    { what: 'Approve', c: l.concurrency, p99: l.approve.p99, budget: INVOKE_BUDGET_MS },
    { what: 'Reveal', c: l.concurrency, p99: l.reveal.p99, budget: INVOKE_BUDGET_MS },
    { what: 'Message', c: l.concurrency, p99: l.message.p99, budget: MESSAGE_BUDGET_MS },
  ]);
  const over = worst.filter((w) => w.p99 > w.budget);
  const budgets = 'Teams expects an invoke answer within about 5 s and a message turn within 10–15 s (teams-ai; not an official figure)';
  if (over.length === 0) return `${budgets}: every p99 above is within that.`;
  return `${budgets}: **${over.map((w) => `${w.what} p99 at ${w.c} clients (${ms(w.p99)})`).join(', ')} ${over.length === 1 ? 'is' : 'are'} over it** — a click may then be shown as failed in Teams although the bot acted on it.`;
}

function renderP3(o: BenchOutcome<P3Result>, latencyMs: number): string[] {
  const lines = ['### P3 — concurrent provisioning jobs under throttling', ''];
  if (!o.ok) return [...lines, ...failed('P3', o)];
  const r = o.result;
  const m = r.median;
  const typical = [...r.runs].sort((a, b) => a.totalMs - b.totalMs)[Math.floor((r.runs.length - 1) / 2)]!;
  lines.push(
    `${r.jobs} jobs started at once on one engine; ${Math.round(r.throttleShare * 100)} % of Graph and Exchange calls answered 429 with Retry-After ${r.retryAfterSeconds} s; ${latencyMs} ms per call.`,
    '',
    '| Succeeded | Failed | 429s sent | Total time | Throttle-imposed minimum | Total ÷ minimum | One job alone (critical path) |',
    '|---|---|---|---|---|---|---|',
    `| ${m.succeeded} | ${m.failed} | ${m.throttled} | **${ms(m.totalMs)}** | ${ms(m.throttleMinimumMs)} | **${ratio(m.ratioToMinimum)}** | ${ms(r.reference.levels * latencyMs)} (${r.reference.levels} round trips) |`,
    '',
    `Median run in detail: job wall time p50 ${ms(typical.jobWallMs.p50)}, slowest ${ms(typical.jobWallMs.max)}; at most ${typical.throttled.maxPerJob} × 429 for one job; ` +
      `${typical.throttled.graph} of the 429s hit Graph calls (the Graph SDK's RetryHandler repeats those inside the call, after Retry-After) and ${typical.throttled.exchange} hit Exchange calls (the engine waits Retry-After and runs the step again: ${typical.engineRetries} step retries); ` +
      `${typical.calls.bySimulator} calls in total; the recorder attributed ${typical.throttled.attributed} of the ${typical.throttled.bySimulator} 429s to their jobs. ` +
      `Tenant afterwards: ${typical.tenant.apps} apps with ${typical.tenant.distinctAppNames} distinct names, ${typical.tenant.policies} access policies (one each, no duplicates). ` +
      `Benchmark process during the batch: event-loop utilisation ${typical.process.eventLoopUtilization}, ${ms(typical.process.cpuMs)} CPU, of which ${ms(typical.process.journalMs)} inside synchronous SQLite journal calls; ` +
      `the simulator process used ${typical.process.simulatorCpuMs === null ? 'an unknown amount of' : ms(typical.process.simulatorCpuMs)} CPU.`,
    '',
  );
  const failures = r.runs.flatMap((run) => Object.entries(run.failures));
  if (failures.length) lines.push(`Failure codes over all runs: ${failures.map(([c, n]) => `${c} × ${n}`).join(', ')}.`, '');
  lines.push(loadLine(o), '');
  return lines;
}

function startRow(label: string, s: StartMeasurement): string {
  return `| ${label} | **${ms(s.listeningMs)}** | ${ms(s.playgroundMs)} | **${s.productRssMiB} MiB** | ${s.treeRssMiB} MiB (${s.processes} process${s.processes === 1 ? '' : 'es'}) |`;
}

function renderP4(o: BenchOutcome<P4Result>): string[] {
  const lines = ['### P4 — `npm start`: time to listening and idle memory', ''];
  if (!o.ok) return [...lines, ...failed('P4', o)];
  const r = o.result;
  lines.push(
    '| Start | Spawn → bot port answers | Spawn → playground answers | Idle RSS of the serving process | Idle RSS of the process tree |',
    '|---|---|---|---|---|',
    startRow('cold (new DATA_DIR)', r.median.cold),
    startRow('warm (same DATA_DIR)', r.median.warm),
    '',
    `RSS read ${ms(r.settleMs)} after both ports answered. The tree of the median warm start: ${r.median.warm.tree.map((p) => `\`${p.command}\` ${p.rssMiB} MiB`).join('; ')}. ` +
      `On SIGTERM to its process group every start ${r.median.cold.stoppedCleanly && r.median.warm.stoppedCleanly ? 'stopped cleanly' : '**did not stop within 15 s and was killed**'}.`,
    '',
    loadLine(o),
    '',
  );
  return lines;
}

export function renderMarkdown(res: BenchResults): string {
  const s = res.settings;
  const m = res.machine;
  const out: string[] = [
    '# Performance',
    '',
    'Numbers a reader can reproduce: `npm run bench` measures the product against the simulated tenant (`src/sim`) with a fixed',
    'latency injected into every call, and rewrites this page (the tables *and* the text below them) from its results.',
    'The raw results of every run are in `artifacts/bench/results-<timestamp>.json` (not committed).',
    '',
    '## Latest results',
    '',
    `- **Produced by:** \`${res.command}\` on ${res.startedAt.slice(0, 10)} (${res.startedAt} → ${res.finishedAt})`,
    `- **Machine:** ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node}`,
    `- **Settings:** ${s.latencyMs} ms latency per call (token, Graph and Exchange alike), ${plural(s.runs, 'run')} per benchmark, the median reported`,
    ...(res.note ? [`- **Note:** ${res.note}`] : []),
    '',
  ];
  if (res.p1) out.push(...renderP1(res.p1, s.latencyMs));
  if (res.p2) out.push(...renderP2(res.p2));
  if (res.p3) out.push(...renderP3(res.p3, s.latencyMs));
  if (res.p4) out.push(...renderP4(res.p4));
  out.push(...METHOD);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

const METHOD = [
  '## How the numbers are made',
  '',
  '```bash',
  'npm run bench                                   # everything: P1–P4, 5 runs each, 100 ms per call',
  'npm run bench -- --only p1,p3 --runs 3          # a subset',
  'npm run bench -- --latency 50 --p3-jobs 50      # other settings; --help lists them all',
  '```',
  '',
  '- **The simulator runs in its own process** (`scripts/bench/sim-process.ts`) on 127.0.0.1, so its TLS and request',
  '  handling are not charged to the product, and is reset to the seeded tenant before every run. Its `latencyMs` fault',
  '  delays every request — token, Graph and Exchange — by the same fixed time before it is answered.',
  '- **The product is the real code**: `createTenantAdapters` (@azure/identity, the Graph SDK with its RetryHandler, the',
  '  Exchange InvokeCommand adapter), the `ProvisioningEngine` with its default retry policy on a file-backed SQLite',
  '  journal, and for P2 the whole bot from `startBot`. The benchmark process trusts the simulator\'s certificate as',
  '  `npm start` does, in-process through the connection (`trustedCa`, src/adapters/tls-trust.ts); the bot process of P2',
  '  opens the simulator through the configuration contract and gets `NODE_EXTRA_CA_CERTS`.',
  '- **Runs and medians**: every benchmark runs `--runs` times (default 5, at most 20); tables show the median over',
  '  runs (for latencies, the median of each run\'s percentile). P1 does one unreported warm-up run first. Percentiles',
  '  are nearest-rank: every value shown was observed.',
  '- **Load**: the load average before and after each benchmark is printed with it. On a shared machine other work',
  '  competes for the cores; compare runs made under similar load.',
  '',
  '### P1: the critical-path model',
  '',
  'The engine runs the script\'s procedure as steps with this dependency structure:',
  '',
  '```',
  '             ┌─ app → servicePrincipal → grant ─┐   (Graph chain)',
  'validate ────┤                                  ├── policy → secret → verify',
  '             └─ group (+ members) ──────────────┘   (Exchange chain)',
  '```',
  '',
  'Inside a step every call waits for the previous one, except the Get-Recipient look-ups of `validate`, which are sent',
  'together. The benchmark takes the simulator\'s request log of the run and puts every call into a step: by family',
  '(Graph calls can only be in Graph-chain steps, Exchange calls in Exchange steps) and by time (the step whose window',
  '— from the engine\'s own `step-started` to `step-succeeded` events — contains the call\'s arrival; the later-started',
  'one when windows touch). Token requests can be in any step but `group`: the Exchange chain got its token during',
  '`validate`, so a token request in the concurrent phase is the Graph chain\'s. A step weighs its number of',
  'sequential round trips; the critical path is the sum over the phases of the heavier branch, and',
  '**lower bound = critical path × latency** — the time this run could not have beaten without making fewer calls or',
  'fewer of them depend on each other. The gap above it is the product\'s own work (SDKs, TLS, JSON, SQLite commits).',
  'A call that fits no step is reported, so a change in the engine\'s structure shows up instead of being mis-counted.',
  '',
  '**The seed-script replay** (`scripts/bench/seed-replay.ts`) makes the script\'s calls one after another through the',
  'same adapters: New-MgApplication (`POST /applications`), New-MgServicePrincipal, Add-MgApplicationPassword,',
  'Get-MgServicePrincipal `-Filter "appId eq \'00000003-…\'"`, New-MgServicePrincipalAppRoleAssignment,',
  'New-DistributionGroup, Add-DistributionGroupMember per member, New-ApplicationAccessPolicy — no look-ups, no',
  'checks, no verification, nothing the script did not do. Both sides start with a new credential and pay for their',
  'sign-ins (OpenID metadata + one token per service).',
  '',
  '### P2: how the bot is driven',
  '',
  'The real bot (`startBot`, local mode: no `BOT_ID`, 127.0.0.1) runs alone in its own process',
  '(`scripts/bench/bot-process.ts`) with its store in a temporary directory and opens the simulator as a configured',
  'tenant (`AZURE_*` settings). The Teams side — the test harness\'s Teams client and fake Bot Connector',
  '(`test/harness`), which speak the Bot Framework wire protocol — runs in the benchmark process, as Teams runs',
  'elsewhere. For each level of concurrency, N closed-loop clients (each sends, waits for the HTTP answer, sends the',
  'next):',
  '',
  '- **message**: "help" in the client\'s own 1:1 chat (each client is a different admin); the HTTP answer comes after the',
  '  bot has posted its reply card to the connector. One unmeasured message per client first registers its chat.',
  '- **approve**: the approver clicks Approve on a pending request\'s approval card (`adaptiveCard/action` invoke). The',
  '  requests are made beforehand through the real form; each approval starts provisioning in the background, so later',
  '  clicks of the level are served while earlier approvals provision.',
  '- **reveal**: the requester clicks Reveal on the secret card of each request once its provisioning has finished; the',
  '  answer must contain the secret (checked, never kept).',
  '',
  'The levels run one after the other in one bot process; between levels the benchmark waits for all background work.',
  'Latency is measured at the client: from sending the POST to reading the whole answer.',
  '',
  '### P3: the throttle-imposed minimum',
  '',
  'All jobs start at once on one engine with one credential and one journal, as the bot runs them. The simulator',
  'answers a seeded share of Graph and Exchange calls with 429 and `Retry-After` (the token endpoint is not throttled).',
  'A 429 costs at least its own round trip plus the wait the service demanded before the call may be repeated. So for',
  'each job the minimum is: its unthrottled round trips per step (measured on a reference job of the same shape run',
  'alone on the same, already signed-in engine just before) × latency, plus (latency + Retry-After) for every 429 it',
  'received in a step — summed along the longest path of the model above, so a wait on the shorter concurrent branch',
  'may hide behind the longer one. 429s are attributed to their job by a client-side recorder (`fetch`, keyed by the',
  'job\'s async context); the report checks that it saw every 429 the simulator sent. **The batch cannot finish before',
  'its unluckiest job\'s minimum**; total ÷ minimum is what concurrency on this machine costs on top (CPU for 100 jobs\'',
  'TLS, SDK and JSON work, synchronous SQLite commits blocking the event loop, and step retries re-running the reads of a',
  'step).',
  '',
  '### P4: start-up',
  '',
  'The command line of package.json\'s `start` script (`node … dist/main.js`, the compiled runtime; dist/ is built',
  'first when stale, so the build is not timed) is spawned with a clean environment (PATH, HOME, locale, `DATA_DIR`,',
  '`PORT`, `PLAYGROUND_PORT`; no tenant or bot settings, so it starts in its default mode: embedded simulator, local',
  'bot, playground). Time is from spawn until the bot\'s port answers HTTP (any status), and until the playground\'s does.',
  'RSS (`VmRSS` from `/proc`, Linux) is read after the process has idled, for the serving process and for its whole',
  'process tree (which would show anything it started). Cold start = new `DATA_DIR` (certificates, keys, store and',
  'tenant are created); warm = the same directory again.',
  '',
  '### Checking the harness itself',
  '',
  '`test/bench/` runs every benchmark in a tiny configuration on each `npm test` and checks structure and sanity (every',
  'call classified, a wall time never below its own lower bound, every 429 attributed, no duplicate objects) — never',
  'timings — so the benchmark cannot rot silently.',
];
