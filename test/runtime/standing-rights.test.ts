/**
 * Delegated mode's start-up check: the standing identity's own tokens say which write rights it still holds.
 * The simulated tenant's provisioning identity holds them all; its read-only identity none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTenant, standingWriteRights } from '../../src/runtime/tenant';
import type { Simulator } from '../../src/sim';
import { startTestSimulator } from '../adapters/helpers';

let sim: Simulator;
const dir = mkdtempSync(join(tmpdir(), 'opter-standing-'));

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('standingWriteRights', () => {
  it('names the write rights of an identity that still has them', async () => {
    const tenant = await openTenant({ dataDir: dir, env: {}, simulator: sim });
    expect(await standingWriteRights(tenant)).toEqual(expect.arrayContaining(['Microsoft Graph Application.ReadWrite.All', 'Microsoft Graph AppRoleAssignment.ReadWrite.All', 'the Exchange Administrator role']));
  });

  it('is empty for the read-only identity delegated mode stands on', async () => {
    const tenant = await openTenant({ dataDir: dir, env: { PROVISIONING_AUTH: 'delegated' }, simulator: sim });
    expect(tenant.conn.clientId).toBe(sim.readOnly.clientId);
    expect(await standingWriteRights(tenant)).toEqual([]);
  });
});
