import { describe, expect, it } from 'vitest';
import { OpterError } from '../core/errors';
import type { DirectoryPort } from '../core/ports';
import { DIRECTORY_ACCESS, EXCHANGE_ACCESS, routeWrites, type ExchangeAccessPort, type WriteAccess } from './write-access';

/** A port whose every method records which side answered it. */
function recordingPort<T>(side: string, methods: string[], calls: string[]): T {
  return Object.fromEntries([['tenantId', `${side}-tenant`], ...methods.map((m) => [m, async () => void calls.push(`${side}:${m}`)])]) as T;
}

function ports(side: string, calls: string[]) {
  return {
    directory: recordingPort<DirectoryPort>(side, Object.keys(DIRECTORY_ACCESS), calls),
    exchange: recordingPort<ExchangeAccessPort>(side, Object.keys(EXCHANGE_ACCESS), calls),
  };
}

describe('routeWrites', () => {
  it('sends every read to the standing ports and every write to the approver’s', async () => {
    const calls: string[] = [];
    const writes: WriteAccess = { ...ports('approver', calls), approver: { aadObjectId: 'a', upn: null } };
    const routed = routeWrites(ports('standing', calls), writes);
    for (const m of Object.keys(DIRECTORY_ACCESS)) await (routed.directory as unknown as Record<string, () => Promise<void>>)[m]!();
    for (const m of Object.keys(EXCHANGE_ACCESS)) await (routed.exchange as unknown as Record<string, () => Promise<void>>)[m]!();
    const expected = [...Object.entries(DIRECTORY_ACCESS), ...Object.entries(EXCHANGE_ACCESS)].map(([m, a]) => `${a === 'write' ? 'approver' : 'standing'}:${m}`);
    expect(calls).toEqual(expected);
    expect(routed.directory.tenantId).toBe('standing-tenant');
  });

  it('without the approver, a write fails with E_APPROVER_NEEDED and calls nothing; reads still work', async () => {
    const calls: string[] = [];
    const routed = routeWrites(ports('standing', calls), null);
    await routed.directory.getApplication('x');
    const err = await routed.exchange.newDistributionGroup({ name: 'g', alias: 'g', members: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpterError);
    expect((err as OpterError).code).toBe('E_APPROVER_NEEDED');
    expect((err as OpterError).transient).toBe(false);
    await expect(routed.directory.addPassword('o', { displayName: 'd', endDateTime: 'e' })).rejects.toMatchObject({ code: 'E_APPROVER_NEEDED' });
    expect(calls).toEqual(['standing:getApplication']);
  });

  it('classes exactly the calls that change the tenant as writes', () => {
    const isWrite = (name: string) => /^(upsert|delete|assign|remove|add|new|enable)/.test(name);
    for (const [m, a] of [...Object.entries(DIRECTORY_ACCESS), ...Object.entries(EXCHANGE_ACCESS)]) expect(a, m).toBe(isWrite(m) ? 'write' : 'read');
  });
});
