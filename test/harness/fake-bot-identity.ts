/**
 * A local stand-in for the Bot Framework's identity endpoints, so authenticated mode can be tested for real:
 *  - the channel's OpenID metadata + JWKS (what botbuilder fetches to validate inbound tokens), with an RS256 key
 *    endorsed for `msteams`, and a signer for channel tokens (good ones and every kind of bad one);
 *  - a token endpoint the bot's outbound credentials use (client_credentials), whose tokens the fake connector checks.
 *
 * Why outbound needs LocalTokenCredentialsFactory: botbuilder obtains outbound tokens with MSAL, and MSAL refuses a
 * non-https authority and validates unknown authorities against login.microsoftonline.com (no network here). The
 * factory keeps botbuilder's own app-id checks (it extends ConfigurationServiceClientCredentialFactory, which inbound
 * validation also uses for the `aud` check) and replaces only the token fetch.
 */
import { createSign, generateKeyPairSync, randomBytes, createHmac, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';
import { MicrosoftAppCredentials, type ServiceClientCredentials } from 'botframework-connector';
import type { BotAuthOverrides } from '../../src/bot/host/auth';

interface RsaKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function rsaKey(kid: string): RsaKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export interface ChannelTokenOptions {
  /** Claims to set or override (`undefined` removes a claim). */
  claims?: Record<string, unknown>;
  /** Sign with the published key (default), with a key nobody published, or not at all (`alg: none`). */
  signWith?: 'trusted' | 'untrusted' | 'none' | 'hs256-with-public-key';
  /** Header kid (default: the published key's kid). */
  kid?: string | null;
}

export interface FakeBotIdentity {
  readonly url: string;
  /** Issuer the bot is configured to accept (`iss` of good tokens). */
  readonly issuer: string;
  readonly appId: string;
  /** botbuilder options that point every Bot Framework endpoint at this server. */
  readonly authOverrides: BotAuthOverrides;
  /** A channel → bot token as Azure Bot Service would send it for an activity with this serviceUrl. */
  channelToken(serviceUrl: string, options?: ChannelTokenOptions): string;
  /** `Bearer …` header for channelToken(). */
  channelAuthorization(serviceUrl: string, options?: ChannelTokenOptions): string;
  /** Outbound token requests the bot made (never the secret itself). */
  readonly tokenRequests: { clientId: string; scope: string; secretMatched: boolean; path: string }[];
  /** For FakeConnector's `authorize`: was this header a token this server issued to the bot? */
  isIssuedBotToken(authorizationHeader: string | undefined): boolean;
  readonly metadataRequests: number;
  close(): Promise<void>;
}

export async function startFakeBotIdentity(options: { appId: string; appPassword: string }): Promise<FakeBotIdentity> {
  const trusted = rsaKey(`test-key-${randomBytes(4).toString('hex')}`);
  const untrusted = rsaKey(trusted.kid); // same kid on purpose: "signed by someone else, claiming our key"
  const issued = new Set<string>();
  const tokenRequests: FakeBotIdentity['tokenRequests'] = [];
  let metadataRequests = 0;
  let base = '';

  const jwk = (key: RsaKey) => {
    const pub = key.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    return { kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: pub.n, e: pub.e, endorsements: ['msteams'] };
  };

  function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (req.method === 'GET' && path === '/v1/.well-known/openidconfiguration') {
      metadataRequests += 1;
      return json(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/v1/.well-known/authorize`,
        jwks_uri: `${base}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (req.method === 'GET' && path === '/v1/.well-known/keys') return json(res, 200, { keys: [jwk(trusted)] });
    // The emulator path must never reach the internet in tests, and must trust nothing.
    if (req.method === 'GET' && path === '/emulator/.well-known/openid-configuration') {
      return json(res, 200, { issuer: `${base}/emulator`, jwks_uri: `${base}/emulator/keys` });
    }
    if (req.method === 'GET' && path === '/emulator/keys') return json(res, 200, { keys: [] });
    if (req.method === 'POST' && /\/oauth2\/v2\.0\/token$/.test(path)) {
      const form = new URLSearchParams(await readBody(req));
      const clientId = form.get('client_id') ?? '';
      const secretMatched = form.get('client_secret') === options.appPassword;
      const scope = form.get('scope') ?? '';
      tokenRequests.push({ clientId, scope, secretMatched, path });
      if (form.get('grant_type') !== 'client_credentials' || clientId !== options.appId || !secretMatched) {
        return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      }
      const accessToken = `bot-token-${randomBytes(16).toString('hex')}`;
      issued.add(accessToken);
      return json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken });
    }
    json(res, 404, { error: 'not_found' });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => json(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/channel-issuer`;

  function channelToken(serviceUrl: string, opts: ChannelTokenOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { iss: issuer, aud: options.appId, serviceurl: serviceUrl, nbf: now - 60, exp: now + 3600 };
    for (const [k, v] of Object.entries(opts.claims ?? {})) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    const signWith = opts.signWith ?? 'trusted';
    const kid = opts.kid === undefined ? trusted.kid : opts.kid;
    const alg = signWith === 'none' ? 'none' : signWith === 'hs256-with-public-key' ? 'HS256' : 'RS256';
    const header: Record<string, unknown> = { alg, typ: 'JWT' };
    if (kid !== null) {
      header.kid = kid;
      header.x5t = kid;
    }
    const data = `${b64url(header)}.${b64url(claims)}`;
    if (signWith === 'none') return `${data}.`;
    if (signWith === 'hs256-with-public-key') {
      const secret = trusted.publicKey.export({ type: 'spki', format: 'pem' });
      return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`;
    }
    const key = signWith === 'untrusted' ? untrusted : trusted;
    return `${data}.${createSign('RSA-SHA256').update(data).sign(key.privateKey).toString('base64url')}`;
  }

  return {
    url: base,
    issuer,
    appId: options.appId,
    authOverrides: {
      ToBotFromChannelOpenIdMetadataUrl: `${base}/v1/.well-known/openidconfiguration`,
      ToBotFromChannelTokenIssuer: issuer,
      ToBotFromEmulatorOpenIdMetadataUrl: `${base}/emulator/.well-known/openid-configuration`,
      ToChannelFromBotLoginUrl: `${base}/botframework.com`,
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
      OAuthUrl: `${base}/oauth`,
      ValidateAuthority: false,
    },
    channelToken,
    channelAuthorization: (serviceUrl, opts) => `Bearer ${channelToken(serviceUrl, opts)}`,
    tokenRequests,
    isIssuedBotToken(header) {
      const m = /^Bearer (\S+)$/.exec(header ?? '');
      return !!m && issued.has(m[1]!);
    },
    get metadataRequests() {
      return metadataRequests;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Outbound credentials that fetch a client_credentials token from `loginEndpoint` over plain HTTP (test only). */
class LocalTokenAppCredentials extends MicrosoftAppCredentials {
  private cached: { token: string; expiresAt: number } | null = null;
  constructor(
    appId: string,
    private readonly secret: string,
    private readonly loginEndpoint: string,
    scope: string,
  ) {
    super(appId, '', undefined, scope);
  }
  override async getToken(forceRefresh = false): Promise<string> {
    if (!forceRefresh && this.cached && this.cached.expiresAt > Date.now()) return this.cached.token;
    const scope = this.oAuthScope.endsWith('/.default') ? this.oAuthScope : `${this.oAuthScope}/.default`;
    const res = await fetch(`${this.loginEndpoint.replace(/\/$/, '')}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.appId, client_secret: this.secret, scope }).toString(),
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    const body = (await res.json()) as { access_token: string; expires_in: number };
    this.cached = { token: body.access_token, expiresAt: Date.now() + (body.expires_in - 300) * 1000 };
    return body.access_token;
  }
}

export class LocalTokenCredentialsFactory extends ConfigurationServiceClientCredentialFactory {
  private readonly secret: string;
  constructor(settings: { MicrosoftAppId: string; MicrosoftAppPassword: string; MicrosoftAppType?: string; MicrosoftAppTenantId?: string }) {
    super(settings);
    this.secret = settings.MicrosoftAppPassword;
  }
  override async createCredentials(appId: string, audience: string, loginEndpoint: string, _validateAuthority: boolean): Promise<ServiceClientCredentials> {
    if (await this.isAuthenticationDisabled()) return MicrosoftAppCredentials.Empty;
    // Same check botbuilder makes: only our own app id may get credentials.
    if (!(await this.isValidAppId(appId))) throw new Error('Invalid appId.');
    return new LocalTokenAppCredentials(appId, this.secret, loginEndpoint, audience);
  }
}
