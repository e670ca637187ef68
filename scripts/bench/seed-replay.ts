/**
 * The seed script (regmsgraph.ps1) replayed call for call through the product's real adapters:
 * strictly sequential, no look-ups before writes, no retries of our own, no verification — the baseline the engine
 * is compared with in benchmark P1.
 *
 *   Connect-MgGraph                          → token for Graph (the credential, on the first Graph call)
 *   New-MgApplication                        → POST /applications
 *   New-MgServicePrincipal -AppId            → POST /servicePrincipals
 *   Add-MgApplicationPassword                → POST /applications/{id}/addPassword
 *   Get-MgServicePrincipal -Filter appId eq  → GET /servicePrincipals?$filter=appId eq '00000003-…'
 *   New-MgServicePrincipalAppRoleAssignment  → POST /servicePrincipals/{sp}/appRoleAssignments
 *   Connect-ExchangeOnline                   → token for Exchange (on the first Exchange call)
 *   New-DistributionGroup -Type Security     → InvokeCommand New-DistributionGroup
 *   Add-DistributionGroupMember (per member) → InvokeCommand Add-DistributionGroupMember
 *   New-ApplicationAccessPolicy              → InvokeCommand New-ApplicationAccessPolicy
 *
 * The Graph SDK's own RetryHandler still sits under every Graph call (as it does under the Microsoft.Graph module
 * the script uses); nothing else retries. The client secret is dropped the moment it arrives.
 */
import type { TenantAdapters } from '../../src/adapters';
import { classifyError, odataEqFilter } from '../../src/adapters';
import { GRAPH_APP_ID, SIGN_IN_AUDIENCE } from '../../src/provisioning/engine';
import { addYearsUtc, deriveNames, formatRoundTripUtc } from '../../src/provisioning/names';

export interface SeedReplayInput {
  appDisplayName: string;
  /** The script's -InitialGroupMembers. */
  members: string[];
  /** The script's -SecretValidYears (default 10). */
  secretValidYears?: number;
}

export interface SeedReplayOutcome {
  appObjectId: string;
  appId: string;
  servicePrincipalId: string;
  secretKeyId: string;
  groupSmtp: string;
  membersAdded: number;
  policyIdentity: string;
  /** API calls the script makes (token requests not included; the credential makes one per service). */
  scriptCalls: number;
}

interface GraphObject {
  id: string;
  appId: string;
}

interface GraphServicePrincipal extends GraphObject {
  appRoles?: Array<{ id: string; value: string | null; allowedMemberTypes?: string[] }>;
}

async function graphCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw classifyError(e, { service: 'graph', operation });
  }
}

export async function replaySeedScript(adapters: TenantAdapters, input: SeedReplayInput): Promise<SeedReplayOutcome> {
  const { directory, exchange } = adapters;
  const graph = directory.client;
  const names = deriveNames(input.appDisplayName);
  let calls = 0;
  const counted = async <T>(p: () => Promise<T>): Promise<T> => {
    calls += 1;
    return p();
  };

  const app = await counted(() =>
    graphCall('New-MgApplication', () => graph.api('/applications').post({ displayName: input.appDisplayName, signInAudience: SIGN_IN_AUDIENCE }) as Promise<GraphObject>),
  );
  const sp = await counted(() => graphCall('New-MgServicePrincipal', () => graph.api('/servicePrincipals').post({ appId: app.appId }) as Promise<GraphObject>));

  const end = formatRoundTripUtc(addYearsUtc(new Date(), input.secretValidYears ?? 10));
  // Only the keyId is kept: the script prints the value at the end, a benchmark has no use for it.
  const secretKeyId = (await counted(() => directory.addPassword(app.id, { displayName: names.secretDisplayName, endDateTime: end }))).keyId;

  const found = await counted(() =>
    graphCall('Get-MgServicePrincipal', () => graph.api(`/servicePrincipals?$filter=${odataEqFilter('appId', GRAPH_APP_ID)}`).get() as Promise<{ value: GraphServicePrincipal[] }>),
  );
  const graphSp = found.value[0];
  if (!graphSp) throw new Error('Microsoft Graph service principal not found in tenant.');
  const mailSend = graphSp.appRoles?.find((r) => r.value === 'Mail.Send' && (r.allowedMemberTypes ?? []).includes('Application'));
  if (!mailSend) throw new Error("Could not find Microsoft Graph app role 'Mail.Send' (Application).");
  await counted(() =>
    graphCall('New-MgServicePrincipalAppRoleAssignment', () =>
      graph.api(`/servicePrincipals/${encodeURIComponent(sp.id)}/appRoleAssignments`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: mailSend.id }),
    ),
  );

  const dg = await counted(() => exchange.newDistributionGroup({ name: names.groupName, alias: names.groupAlias, members: [] }));
  let membersAdded = 0;
  for (const m of input.members) {
    const r = await counted(() => exchange.addDistributionGroupMember(dg.identity, m));
    if (r.created) membersAdded += 1;
  }
  const policy = await counted(() =>
    exchange.newApplicationAccessPolicy({
      appId: app.appId,
      policyScopeGroupId: dg.primarySmtpAddress,
      accessRight: 'RestrictAccess',
      description: `Restrict app-only Graph mail access to members of ${dg.primarySmtpAddress}`,
    }),
  );

  return {
    appObjectId: app.id,
    appId: app.appId,
    servicePrincipalId: sp.id,
    secretKeyId,
    groupSmtp: dg.primarySmtpAddress,
    membersAdded,
    policyIdentity: policy.identity,
    scriptCalls: calls,
  };
}
