/**
 * AppSignInPort: acts as the *new* app with its own client secret, to prove the secret and the grants work.
 *
 * A fresh ClientSecretCredential per call: MSAL caches tokens per credential instance, and a token cached for one
 * secret must never answer for another (or for the same secret after a grant changed the roles).
 * The secret is passed to classify.ts as a string to redact, and never appears in an error or log line.
 */
import { ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { OpterError } from '../core/errors';
import type { AppSignInPort } from '../core/ports';
import { classifyError, type ClassifyContext } from './classify';
import type { TenantConnection } from './config';
import { credentialOptions, defaultScope } from './credential';
import { createGraphClient, graphStatusOf, userSegment, type GraphClientOptions } from './graph-client';
import { transportFor } from './tls-trust';

/** Graph codes that mean "this address has no mailbox Graph can send from" (docs/microsoft-facts.md §10). */
const NO_MAILBOX = /MailboxNotEnabledForRESTAPI|ErrorInvalidUser|Request_ResourceNotFound|ResourceNotFound|ErrorNonExistentMailbox/i;

export class AppSignIn implements AppSignInPort {
  constructor(
    private readonly conn: Pick<TenantConnection, 'tenantId' | 'authorityHost' | 'graphEndpoint' | 'trustedCa'>,
    private readonly graphOptions: GraphClientOptions = {},
  ) {}

  async acquireGraphToken(clientId: string, secret: string): Promise<{ roles: string[] }> {
    const credential = this.credentialFor(clientId, secret);
    let token: string;
    try {
      const t = await credential.getToken(defaultScope(this.conn.graphEndpoint));
      if (!t?.token) throw new Error('the token endpoint returned no access token');
      token = t.token;
    } catch (e) {
      throw classifyError(e, this.context(secret, 'sign in as the new app'));
    }
    return { roles: rolesOf(token) };
  }

  async sendMail(clientId: string, secret: string, mail: { from: string; to: string; subject: string; body: string }): Promise<void> {
    const client = createGraphClient(this.conn.graphEndpoint, this.credentialFor(clientId, secret), { fetch: transportFor(this.conn)?.fetch, ...this.graphOptions });
    try {
      await client.api(`/users/${userSegment(mail.from)}/sendMail`).post({
        message: {
          subject: mail.subject,
          body: { contentType: 'Text', content: mail.body },
          toRecipients: [{ emailAddress: { address: mail.to } }],
        },
        saveToSentItems: false,
      });
    } catch (e) {
      const err = classifyError(e, this.context(secret, `send mail as ${mail.from}`));
      if (graphStatusOf(e) === 404 || (err.code === 'E_NOT_FOUND' && NO_MAILBOX.test(err.detail ?? ''))) {
        throw new OpterError('E_SENDER_NOT_MAILBOX', { detail: `${mail.from} (${err.detail ?? 'no mailbox'})`, status: err.status, field: 'from', cause: err.cause });
      }
      throw err;
    }
  }

  private credentialFor(clientId: string, secret: string): TokenCredential {
    return new ClientSecretCredential(this.conn.tenantId, clientId, secret, credentialOptions(this.conn));
  }

  private context(secret: string, operation: string): ClassifyContext {
    return { service: 'graph', operation, newCredential: true, actingAsNewApp: true, redact: [secret] };
  }
}

/**
 * The claims of a JWT, unverified, or null when it is not one. Microsoft asks clients to treat access tokens as
 * opaque: callers read claims only to explain or to check early, never to grant anything.
 */
export function claimsOf(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A claim that is a list of strings (`roles`, `wids`), or [] (an unreadable token, a missing claim). */
export function stringsClaim(token: string, name: string): string[] {
  const value = claimsOf(token)?.[name];
  return Array.isArray(value) ? value.filter((r): r is string => typeof r === 'string') : [];
}

/** The `roles` claim of an access token; [] for an unreadable one (the caller then reports "no Mail.Send in the token"). */
export function rolesOf(accessToken: string): string[] {
  return stringsClaim(accessToken, 'roles');
}
