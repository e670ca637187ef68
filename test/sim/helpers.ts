/** Real-client plumbing shared by the simulator tests: @azure/identity → Graph SDK, and fetch for InvokeCommand. */
import { ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import type { SimOptions, Simulator } from '../../src/sim';
import { startTestSimulator as startSeeded } from '../harness/simulator';

export function startTestSimulator(opts: SimOptions = {}): Promise<Simulator> {
  return startSeeded({ seed: 42, ...opts });
}

export function credential(sim: Simulator, clientId = sim.provisioning.clientId, secret = sim.provisioning.clientSecret): ClientSecretCredential {
  return new ClientSecretCredential(sim.tenantId, clientId, secret, { authorityHost: sim.authorityHost, disableInstanceDiscovery: true });
}

export function graphClient(sim: Simulator, cred: TokenCredential = credential(sim)): Client {
  return Client.initWithMiddleware({
    baseUrl: sim.graphEndpoint,
    customHosts: new Set([new URL(sim.graphEndpoint).hostname]),
    authProvider: new TokenCredentialAuthenticationProvider(cred, { scopes: [`${sim.graphEndpoint}/.default`] }),
  });
}

export async function exchangeToken(sim: Simulator, cred: TokenCredential = credential(sim)): Promise<string> {
  const t = await cred.getToken(`${sim.exchangeEndpoint}/.default`);
  if (!t) throw new Error('the credential returned no token');
  return t.token;
}

export function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

export interface InvokeResult {
  status: number;
  headers: Headers;
  json: any;
  text: string;
  unreadable: boolean;
}

/** One InvokeCommand POST exactly as a client sends it [docs/microsoft-facts.md §7.1–7.3]. */
export async function invoke(
  sim: Simulator,
  token: string,
  cmdlet: string,
  parameters: Record<string, unknown> = {},
  opts: { url?: string; maxPageSize?: number } = {},
): Promise<InvokeResult> {
  const url = opts.url ?? `${sim.exchangeEndpoint}/adminapi/beta/${sim.tenantId}/InvokeCommand`;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-anchormailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${sim.tenantId}`,
      ...(opts.maxPageSize ? { prefer: `odata.maxpagesize=${opts.maxPageSize}` } : {}),
    },
    body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }),
  });
  let text = '';
  let unreadable = false;
  try {
    text = await res.text();
  } catch {
    // The 403 for an unknown cmdlet is NUL bytes labelled gzip: reading it throws [docs/microsoft-facts.md §7.6].
    unreadable = true;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text, unreadable };
}

/** Parses both observed Exchange error-detail formats [docs/microsoft-facts.md §7.6]. */
export function exchangeErrorDetail(body: any): { type: string; message: string; format: 'ex' | 'json' } {
  const m: string = body.error.details[0].message;
  if (m.startsWith('{')) {
    const j = JSON.parse(m);
    return { type: j.TypeName, message: j.Message, format: 'json' };
  }
  const [, type, ...rest] = m.split('|');
  return { type: type!, message: rest.join('|'), format: 'ex' };
}
