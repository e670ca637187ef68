/**
 * The InvokeCommand wire format (docs/microsoft-facts.md §7.1–7.5), pinned against a recording HTTPS endpoint: the simulator
 * checks behaviour but not every header, and some envelope annotations (@adminapi.warnings/errors) it never sends.
 * The endpoint plays Exchange with captured shapes; the adapter under test is the production one.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExchangeOnline } from '../../src/adapters/exchange';
import { DEFAULT_TEST_TLS_DIR, ensureSimCertificate } from '../../src/sim';
import { failure } from './helpers';

const TENANT = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Responder = (req: Recorded, n: number) => { status?: number; headers?: Record<string, string>; body?: string | object; delayMs?: number };

class Recorder {
  server!: Server;
  origin = '';
  seen: Recorded[] = [];
  respond: Responder = () => ({ body: { value: [] } });

  async start(): Promise<void> {
    const { certPem, keyPem } = ensureSimCertificate(DEFAULT_TEST_TLS_DIR);
    this.server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rec: Recorded = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.seen.push(rec);
        const r = this.respond(rec, this.seen.length);
        const send = () => {
          res.writeHead(r.status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...r.headers });
          res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {}));
        };
        if (r.delayMs) setTimeout(send, r.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Stands in for @azure/identity (the recorder is no identity platform); records the scopes asked for. */
class StaticCredential implements TokenCredential {
  scopes: string[] = [];
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return { token: 'test-access-token', expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

const envelope = (value: object[], extra: object = {}) => ({
  '@odata.context': `https://outlook.office.com/adminapi/beta/${TENANT}/$metadata#Collection(Exchange.GenericHashTable)`,
  'adminapi.warnings@odata.type': '#Collection(String)',
  '@adminapi.warnings': [],
  value,
  ...extra,
});

let exo: Recorder;
let other: Recorder;
let credential: StaticCredential;

beforeAll(async () => {
  exo = new Recorder();
  other = new Recorder();
  await exo.start();
  await other.start();
});

afterAll(async () => {
  await exo?.stop();
  await other?.stop();
});

beforeEach(() => {
  exo.seen = [];
  other.seen = [];
  exo.respond = () => ({ body: envelope([]) });
  credential = new StaticCredential();
});

const adapter = (options: ConstructorParameters<typeof ExchangeOnline>[2] = {}) => new ExchangeOnline({ tenantId: TENANT, exchangeEndpoint: exo.origin }, credential, options);

describe('InvokeCommand request', () => {
  it('POSTs the CmdletInput envelope to /adminapi/beta/{tenant}/InvokeCommand with the module’s headers', async () => {
    const ex = adapter();
    await ex.addDistributionGroupMember('opter-mailsend-allowed', 'info@exempel.se');
    await ex.getAcceptedDomains();

    expect(credential.scopes).toEqual([`${exo.origin}/.default`, `${exo.origin}/.default`]);
    const [first, second] = exo.seen;
    expect(first).toMatchObject({ method: 'POST', url: `/adminapi/beta/${TENANT}/InvokeCommand` });
    expect(first!.headers).toMatchObject({
      authorization: 'Bearer test-access-token',
      'content-type': 'application/json',
      accept: 'application/json',
      'x-anchormailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${TENANT}`,
      prefer: 'odata.maxpagesize=1000',
      'x-responseformat': 'json',
      'x-cmdletname': 'Add-DistributionGroupMember',
      'x-serializationlevel': 'Partial',
    });
    expect(JSON.parse(first!.body)).toEqual({
      CmdletInput: { CmdletName: 'Add-DistributionGroupMember', Parameters: { Identity: 'opter-mailsend-allowed', Member: 'info@exempel.se', BypassSecurityGroupManagerCheck: true } },
    });
    // A fresh client-request-id per request; one connection-id per adapter (support traces).
    expect(first!.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(second!.headers['client-request-id']).not.toBe(first!.headers['client-request-id']);
    expect(second!.headers['connection-id']).toBe(first!.headers['connection-id']);
  });

  it('sends New-ApplicationAccessPolicy with AppId as an array and New-DistributionGroup with -Type Security and Members', async () => {
    exo.respond = (req) => {
      const name = JSON.parse(req.body).CmdletInput.CmdletName;
      if (name === 'New-ApplicationAccessPolicy') return { body: envelope([{ Identity: 'p1', AppId: 'a1', ScopeName: 'G', ScopeIdentity: 'G', AccessRight: 'RestrictAccess', Description: 'd' }]) };
      return { body: envelope([{ Identity: 'G', Name: 'G', DisplayName: 'G', Alias: 'g', PrimarySmtpAddress: 'g@x', RecipientTypeDetails: 'MailUniversalSecurityGroup', ExternalDirectoryObjectId: '', Guid: 'guid-1' }]) };
    };
    const ex = adapter();
    await ex.newApplicationAccessPolicy({ appId: 'a1', policyScopeGroupId: 'g@x', accessRight: 'RestrictAccess', description: 'd' });
    const group = await ex.newDistributionGroup({ name: 'G', alias: 'g', members: ['info@x', 'faktura@x'] });
    expect(JSON.parse(exo.seen[0]!.body).CmdletInput.Parameters).toEqual({ AppId: ['a1'], PolicyScopeGroupId: 'g@x', AccessRight: 'RestrictAccess', Description: 'd' });
    expect(JSON.parse(exo.seen[1]!.body).CmdletInput.Parameters).toEqual({ Name: 'G', Alias: 'g', Type: 'Security', Members: ['info@x', 'faktura@x'] });
    expect(group.externalDirectoryObjectId).toBeNull(); // Exchange sends '' before the group syncs to Entra
  });
});

describe('InvokeCommand response', () => {
  it('follows @odata.nextLink by POSTing the same body again, and strips @odata annotations', async () => {
    exo.respond = (req, n) =>
      n === 1
        ? { body: envelope([{ '@odata.type': '#Exchange.GenericHashTable', Identity: 'a', PrimarySmtpAddress: 'a@x', RecipientTypeDetails: 'UserMailbox', DisplayName: 'A' }], { '@odata.nextLink': `${exo.origin}/adminapi/beta/${TENANT}/InvokeCommand?$skiptoken=abc` }) }
        : { body: envelope([{ Identity: 'b', PrimarySmtpAddress: 'b@x', RecipientTypeDetails: 'UserMailbox', DisplayName: 'B', 'EmailAddresses@odata.type': '#Collection(String)', EmailAddresses: [] }]) };
    const members = await adapter().getDistributionGroupMembers('g');
    expect(members.map((m) => m.primarySmtpAddress)).toEqual(['a@x', 'b@x']);
    expect(exo.seen.map((r) => r.url)).toEqual([`/adminapi/beta/${TENANT}/InvokeCommand`, `/adminapi/beta/${TENANT}/InvokeCommand?$skiptoken=abc`]);
    expect(exo.seen[1]!.body).toBe(exo.seen[0]!.body);

    const raw = await adapter().invokeCommand('Get-DistributionGroupMember', { Identity: 'g' });
    expect(raw.flatMap(Object.keys).filter((k) => k.includes('@odata.'))).toEqual([]);
  });

  it('never follows a nextLink to another host (the bearer token would go with it)', async () => {
    exo.respond = () => ({ body: envelope([], { '@odata.nextLink': `${other.origin}/adminapi/beta/${TENANT}/InvokeCommand?$skiptoken=x` }) });
    const err = await failure(adapter().getApplicationAccessPolicies());
    expect(err.code).toBe('E_INTERNAL');
    expect(other.seen).toEqual([]);
  });

  it('adds $select to the URL when asked', async () => {
    await adapter().invokeCommand('Get-Recipient', {}, { select: ['PrimarySmtpAddress', 'RecipientTypeDetails'] });
    expect(exo.seen[0]!.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand?$select=PrimarySmtpAddress,RecipientTypeDetails`);
  });

  it('reports @adminapi.warnings and treats @adminapi.errors on a 200 as a failure', async () => {
    const warnings: string[] = [];
    exo.respond = () => ({ body: envelope([], { '@adminapi.warnings': ['The group has no owner.'] }) });
    await adapter({ onWarning: (cmdlet, w) => warnings.push(`${cmdlet}: ${w}`) }).getAcceptedDomains();
    expect(warnings).toEqual(['Get-AcceptedDomain: The group has no owner.']);

    exo.respond = () => ({
      body: envelope([], {
        '@adminapi.errors': [
          "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found on 'DC1'.",
        ],
      }),
    });
    expect(await failure(adapter().addDistributionGroupMember('x', 'info@x'))).toMatchObject({ code: 'E_NOT_FOUND', transient: false });

    exo.respond = () => ({ body: envelope([], { '@adminapi.errors': [{ message: 'The recipient "Info" is already a member of the group "G".', TypeName: 'Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException' }] }) });
    expect(await adapter().addDistributionGroupMember('G', 'info@x')).toEqual({ created: false });
  });

  it('a 200 that is not JSON is an E_INTERNAL, not a crash', async () => {
    exo.respond = () => ({ body: '<html>gateway</html>', headers: { 'content-type': 'text/html' } });
    expect(await failure(adapter().getAcceptedDomains())).toMatchObject({ code: 'E_INTERNAL' });
  });

  it('a request that outlives the timeout is a transient failure', async () => {
    exo.respond = () => ({ body: envelope([]), delayMs: 1500 });
    expect(await failure(adapter({ timeoutMs: 200 }).getAcceptedDomains())).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true });
  });

  it("maps Exchange's PascalCase rows onto the port types", async () => {
    exo.respond = () => ({ body: envelope([{ DomainName: 'exempel.se', Default: true }, { DomainName: 'exempel.onmicrosoft.com', Default: 'False' }]) });
    expect(await adapter().getAcceptedDomains()).toEqual([
      { domainName: 'exempel.se', isDefault: true },
      { domainName: 'exempel.onmicrosoft.com', isDefault: false },
    ]);
    exo.respond = () => ({ body: envelope([{ AppId: '6d1e', Identity: 'i', Mailbox: 'info', AccessCheckResult: 'Denied' }]) });
    expect(await adapter().testApplicationAccessPolicy('6d1e', 'info@x')).toBe('Denied');
    exo.respond = () => ({ body: envelope([{ AccessCheckResult: 'Maybe' }]) });
    expect(await failure(adapter().testApplicationAccessPolicy('6d1e', 'info@x'))).toMatchObject({ code: 'E_INTERNAL' });
  });
});
