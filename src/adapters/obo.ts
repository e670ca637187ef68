/**
 * The On-Behalf-Of grant, asked for exactly as delegated mode needs it (docs/delegated-mode.md): one resource's
 * `.default` scope and nothing else. @azure/identity's OnBehalfOfCredential goes through MSAL, which adds the OIDC
 * scopes `openid profile offline_access` to every OBO request (msal-common RequestParameterBuilder.addScopes), so
 * the identity platform answers with a refresh token that MSAL then keeps in its cache. A refresh token would
 * let this process act for the approver long after their click — exactly the standing privilege delegated mode
 * removes — so the grant is made here, over the platform's documented protocol:
 *   POST {authority}/{tenant}/oauth2/v2.0/token
 *   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer, requested_token_use=on_behalf_of, assertion, scope,
 *   client_id + client_secret, or client_assertion (a JWT signed with the app's certificate)
 * (learn.microsoft.com entra identity-platform v2-oauth2-on-behalf-of-flow; certificate-credentials).
 * Tokens are cached in this object only, until five minutes before they end.
 */
import { createHash, createPrivateKey, createSign, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { TenantConnection } from './config';

export interface OboClient {
  clientId: string;
  clientSecret?: string | null;
  /** PEM with the private key and the certificate registered on the app. */
  certificatePath?: string | null;
}

/** A refused grant: the platform's `error`, its AADSTS codes and description (never the assertion). */
export class OboError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
    this.name = 'OboError';
  }
}

const RENEW_BEFORE_MS = 5 * 60_000;

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** RFC 7523 client assertion for a certificate credential (header x5t = SHA-1 thumbprint, RS256). */
function clientAssertion(clientId: string, audience: string, pem: string): string {
  const key = createPrivateKey(pem);
  const cert = new X509Certificate(pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0] ?? pem);
  const header = { alg: 'RS256', typ: 'JWT', x5t: b64url(createHash('sha1').update(cert.raw).digest()) };
  const now = Math.floor(Date.now() / 1000);
  const claims = { aud: audience, iss: clientId, sub: clientId, jti: randomUUID(), nbf: now, iat: now, exp: now + 600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key);
  return `${input}.${b64url(signature)}`;
}

export class OnBehalfOfGrant implements TokenCredential {
  private readonly cache = new Map<string, AccessToken>();
  private readonly tokenUrl: string;

  constructor(
    conn: Pick<TenantConnection, 'tenantId' | 'authorityHost'>,
    private readonly client: OboClient,
    private readonly assertion: string,
    private readonly send: typeof fetch = fetch,
  ) {
    this.tokenUrl = `${new URL(conn.authorityHost).origin}/${encodeURIComponent(conn.tenantId)}/oauth2/v2.0/token`;
  }

  async getToken(scopes: string | string[]): Promise<AccessToken | null> {
    const scope = (Array.isArray(scopes) ? scopes : [scopes]).join(' ');
    const cached = this.cache.get(scope);
    if (cached && cached.expiresOnTimestamp - RENEW_BEFORE_MS > Date.now()) return cached;
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: this.client.clientId,
      assertion: this.assertion,
      scope,
    });
    if (this.client.clientSecret) form.set('client_secret', this.client.clientSecret);
    else if (this.client.certificatePath) {
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', clientAssertion(this.client.clientId, this.tokenUrl, readFileSync(this.client.certificatePath, 'utf8')));
    } else throw new Error('the SSO app has neither a client secret nor a certificate');
    const res = await this.send(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number | string; error?: string; error_description?: string };
    if (!res.ok || !body.access_token) throw new OboError(res.status, body.error ?? `HTTP ${res.status}`, body.error_description ?? '');
    const token = { token: body.access_token, expiresOnTimestamp: Date.now() + Number(body.expires_in ?? 3600) * 1000 };
    this.cache.set(scope, token);
    return token;
  }
}
