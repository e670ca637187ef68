/**
 * The provisioning identity's credential, built the @azure/identity way from a TenantConnection.
 */
import {
  AzureAuthorityHosts,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import type { TenantConnection } from './config';
import { transportFor } from './tls-trust';

/** Hosts of Microsoft's own identity clouds, which MSAL can validate through public instance discovery. */
const MICROSOFT_AUTHORITY_HOSTS = new Set(
  [
    ...Object.values(AzureAuthorityHosts),
    'https://login.microsoft.com',
    'https://login.windows.net',
    'https://login.partner.microsoftonline.cn',
  ].map((h) => new URL(h).hostname),
);

export function isMicrosoftAuthorityHost(authorityHost: string): boolean {
  return MICROSOFT_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname.toLowerCase());
}

/**
 * Options for every credential against `authorityHost`. MSAL validates an authority through Microsoft's public
 * instance-discovery endpoint first; any other host (the simulator, a proxy) cannot be discovered there, so
 * discovery is switched off for it (docs/microsoft-facts.md §15).
 */
export function authorityOptions(authorityHost: string): { authorityHost: string; disableInstanceDiscovery: boolean } {
  return { authorityHost, disableInstanceDiscovery: !isMicrosoftAuthorityHost(authorityHost) };
}

/** authorityOptions plus, for a connection that trusts an extra CA, the HTTPS agent that trusts it. */
export function credentialOptions(conn: Pick<TenantConnection, 'authorityHost' | 'trustedCa'>) {
  const agent = transportFor(conn)?.agent;
  return { ...authorityOptions(conn.authorityHost), ...(agent ? { agent } : {}) };
}

/** `<resource origin>/.default`: client credentials can only ask for the app's statically granted permissions. */
export function defaultScope(resourceEndpoint: string): string {
  return `${new URL(resourceEndpoint).origin}/.default`;
}

export function createCredential(conn: TenantConnection): TokenCredential {
  const options = credentialOptions(conn);
  if (conn.clientId && conn.clientSecret) {
    return new ClientSecretCredential(conn.tenantId, conn.clientId, conn.clientSecret, options);
  }
  if (conn.clientId && conn.certificatePath) {
    return new ClientCertificateCredential(
      conn.tenantId,
      conn.clientId,
      { certificatePath: conn.certificatePath, certificatePassword: conn.certificatePassword },
      options,
    );
  }
  // Managed identity gets its token from the hosting platform, not from authorityHost.
  return conn.clientId ? new ManagedIdentityCredential({ clientId: conn.clientId }) : new ManagedIdentityCredential();
}
