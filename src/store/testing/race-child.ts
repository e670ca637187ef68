/**
 * A second (and third) process for the store's concurrency tests: opens the same SQLite file, waits for a shared
 * start instant so the processes really overlap, runs one kind of contended operation and prints JSON results.
 * Run: node --import tsx race-child.ts '<json args>'
 */
import { openStore } from '../store';

interface Args {
  dataDir: string;
  keyHex: string;
  mode: 'claim' | 'decide' | 'append' | 'outbox';
  who: string;
  ids: string[];
  repeats: number;
  /** The test's clock instant (ISO); default real time. */
  now?: string;
  /** Outbox mode: simulated send time per item, so the workers' runs overlap for long enough to contend. */
  workMs?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const store = openStore({ dataDir: args.dataDir, encryptionKey: Buffer.from(args.keyHex, 'hex'), busyTimeoutMs: 20_000 });

// Tell the parent we are loaded, read the shared start instant from stdin, then busy-wait to it so all processes
// hit the file at the same moment (bounded: at most 5 s).
process.stdout.write('READY\n');
const startAt = await new Promise<number>((resolve) => {
  let buf = '';
  process.stdin.on('data', (d) => {
    buf += d;
    if (buf.includes('\n')) resolve(Number(buf.trim()));
  });
});
process.stdin.destroy();
const deadline = Math.min(startAt, Date.now() + 5_000);
while (Date.now() < deadline) {
  /* spin */
}

const now = args.now ? new Date(args.now) : new Date();
const results: unknown[] = [];
const errors: string[] = [];
for (const id of args.ids) {
  for (let i = 0; i < args.repeats; i++) {
    try {
      switch (args.mode) {
        case 'claim': {
          const r = store.secrets.claim(id, { aadObjectId: 'owner-1', name: args.who }, now);
          results.push(r.ok ? { id, ok: true, secretText: r.secretText } : { id, ok: false, reason: r.reason });
          break;
        }
        case 'decide': {
          const r = store.requests.decide(id, { decision: i % 2 ? 'reject' : 'approve', by: { aadObjectId: `approver-${args.who}`, name: args.who }, reason: 'race', now });
          results.push({ id, won: r.won, by: r.request?.decision?.by.aadObjectId ?? null });
          break;
        }
        case 'append': {
          const e = store.audit.append({ actor: { kind: 'system', name: args.who }, action: 'race.append', requestId: id, result: 'info', detail: `${args.who}-${i}`, at: now });
          results.push({ seq: e.seq });
          break;
        }
        case 'outbox': {
          const items = store.outbox.claimDue(now, 1, { leaseMs: 600_000, owner: args.who });
          for (const item of items) {
            results.push({ id: item.id });
            const until = Date.now() + (args.workMs ?? 0);
            while (Date.now() < until) {
              /* "sending" */
            }
            store.outbox.markSent(item.id, now);
          }
          break;
        }
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
}
store.close();
process.stdout.write(JSON.stringify({ who: args.who, results, errors }));
