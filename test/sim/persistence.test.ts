import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { credential, exchangeToken, graphClient, invoke, startTestSimulator } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'sim-state-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('state survives a restart through the state file, which never holds a secret value', async () => {
  const stateFile = join(dir, 'sim-tenant.json');
  const first = await startTestSimulator({ stateFile });
  const g = graphClient(first);
  const app = await g.api('/applications').post({ displayName: 'Persisted app' });
  await g.api('/servicePrincipals').post({ appId: app.appId });
  const pw = await g.api(`/applications/${app.id}/addPassword`).post({});
  const group = await invoke(first, await exchangeToken(first), 'New-DistributionGroup', { Name: 'Persisted group', Alias: 'persisted', Type: 'Security' });
  expect(group.status).toBe(200);
  const oldProvisioningSecret = first.provisioning.clientSecret;
  await first.close();

  const onDisk = readFileSync(stateFile, 'utf8');
  expect(onDisk).not.toContain(pw.secretText);
  expect(onDisk).not.toContain(oldProvisioningSecret);
  expect(JSON.parse(onDisk).tenantId).toBe(first.tenantId);

  const second = await startTestSimulator({ stateFile });
  try {
    expect(second.tenantId).toBe(first.tenantId);
    expect(second.provisioning.clientId).toBe(first.provisioning.clientId);
    // Only a hash was kept, so the provisioning secret is reissued on start; the old one no longer works.
    expect(second.provisioning.clientSecret).not.toBe(oldProvisioningSecret);
    await expect(credential(second, second.provisioning.clientId, oldProvisioningSecret).getToken(`${second.graphEndpoint}/.default`)).rejects.toThrow(/AADSTS7000215/);
    const g2 = graphClient(second);
    expect((await g2.api(`/applications/${app.id}`).get()).displayName).toBe('Persisted app');
    // The new app's secret was hashed to disk and still signs in.
    await expect(credential(second, app.appId, pw.secretText).getToken(`${second.graphEndpoint}/.default`)).resolves.toBeTruthy();
    expect((await invoke(second, await exchangeToken(second), 'Get-DistributionGroup', { Identity: 'persisted' })).status).toBe(200);

    second.reset();
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).applications.some((a: { id: string }) => a.id === app.id)).toBe(false);
  } finally {
    await second.close();
  }
});
