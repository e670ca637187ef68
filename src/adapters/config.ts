/**
 * The configuration contract (docs/configuration.md): which tenant to act on, as whom, and where Microsoft's
 * endpoints are. Names are exact and part of the public contract; the defaults are Microsoft's public cloud.
 *
 * Credentials follow @azure/identity's conventions: AZURE_CLIENT_SECRET → client secret, otherwise
 * AZURE_CLIENT_CERTIFICATE_PATH (+ optional AZURE_CLIENT_CERTIFICATE_PASSWORD) → certificate, otherwise a managed
 * identity (user-assigned when AZURE_CLIENT_ID is set).
 */
import { OpterError } from '../core/errors';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';
export const DEFAULT_EXCHANGE_ENDPOINT = 'https://outlook.office365.com';
export const DEFAULT_DATA_DIR = './data';

export type TenantConnection = {
  /** Directory (tenant) id, a GUID. */
  tenantId: string;
  clientId?: string;
  clientSecret?: string;
  certificatePath?: string;
  certificatePassword?: string;
  /** Origin of the identity platform, no trailing slash. */
  authorityHost: string;
  /** Origin of Microsoft Graph (without /v1.0), no trailing slash. */
  graphEndpoint: string;
  /** Origin of Exchange Online, no trailing slash. */
  exchangeEndpoint: string;
  /**
   * PEM of one more certificate authority trusted for these endpoints, besides Node's defaults and
   * NODE_EXTRA_CA_CERTS: the embedded simulator's self-signed certificate (tls-trust.ts). Never from the environment.
   */
  trustedCa?: string;
};

type Env = Record<string, string | undefined>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/**
 * An endpoint as a bare https origin. Tokens and secrets travel to these hosts, so plain http is refused, and a
 * path is refused because every caller appends its own (`/v1.0/…`, `/adminapi/beta/…`, `/{tenant}/oauth2/…`).
 */
export function normalizeEndpoint(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError(`${name} is not a URL: "${raw}"`, name);
  }
  if (url.protocol !== 'https:') throw configError(`${name} must be an https:// URL (got ${url.protocol}//)`, name);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw configError(`${name} must be just scheme, host and optional port, e.g. ${url.origin} (got "${raw}")`, name);
  }
  return url.origin;
}

/**
 * Reads the tenant connection. Throws E_AUTH_FAILED (whose action names these variables) when a value is present
 * but unusable; a missing AZURE_CLIENT_ID is not an error here — callers decide (the product then uses the
 * embedded simulator, see hasTenantConfiguration).
 */
export function readTenantConnection(env: Env = process.env): TenantConnection {
  const tenantId = value(env, 'AZURE_TENANT_ID');
  if (!tenantId) throw configError('AZURE_TENANT_ID is not set', 'AZURE_TENANT_ID');
  // Exchange's InvokeCommand route and X-AnchorMailbox want the tenant GUID (docs/microsoft-facts.md §7.1–7.2), not a domain.
  if (!GUID.test(tenantId)) throw configError(`AZURE_TENANT_ID must be the tenant's GUID (Directory ID), got "${tenantId}"`, 'AZURE_TENANT_ID');
  const clientId = value(env, 'AZURE_CLIENT_ID');
  if (clientId && !GUID.test(clientId)) throw configError(`AZURE_CLIENT_ID must be the application (client) id GUID, got "${clientId}"`, 'AZURE_CLIENT_ID');
  const clientSecret = value(env, 'AZURE_CLIENT_SECRET');
  const certificatePath = value(env, 'AZURE_CLIENT_CERTIFICATE_PATH');
  if ((clientSecret || certificatePath) && !clientId) {
    throw configError('AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH need AZURE_CLIENT_ID as well', 'AZURE_CLIENT_ID');
  }
  return {
    tenantId: tenantId.toLowerCase(),
    clientId: clientId?.toLowerCase(),
    clientSecret,
    certificatePath,
    certificatePassword: value(env, 'AZURE_CLIENT_CERTIFICATE_PASSWORD'),
    authorityHost: normalizeEndpoint('AUTHORITY_HOST', value(env, 'AUTHORITY_HOST') ?? DEFAULT_AUTHORITY_HOST),
    graphEndpoint: normalizeEndpoint('GRAPH_ENDPOINT', value(env, 'GRAPH_ENDPOINT') ?? DEFAULT_GRAPH_ENDPOINT),
    exchangeEndpoint: normalizeEndpoint('EXCHANGE_ENDPOINT', value(env, 'EXCHANGE_ENDPOINT') ?? DEFAULT_EXCHANGE_ENDPOINT),
  };
}

/** True when a real tenant is configured (AZURE_CLIENT_ID set); otherwise the product runs on the embedded simulator. */
export function hasTenantConfiguration(env: Env = process.env): boolean {
  return value(env, 'AZURE_CLIENT_ID') !== undefined;
}

/**
 * PROVISIONING_AUTH=delegated (any case): the standing identity only reads and every write needs an approver's own
 * sign-in (docs/delegated-mode.md). The bot's configuration refuses any value but app/delegated at start-up.
 */
export function delegatedWritesIn(env: Env = process.env): boolean {
  return value(env, 'PROVISIONING_AUTH')?.toLowerCase() === 'delegated';
}

/** DATA_DIR: where the journal, request store and (for the embedded simulator) the tenant state live. */
export function readDataDir(env: Env = process.env): string {
  return value(env, 'DATA_DIR') ?? DEFAULT_DATA_DIR;
}

/** Which credential createCredential will build for this connection — for start-up logs (never the secret). */
export function describeCredential(conn: TenantConnection): string {
  if (conn.clientId && conn.clientSecret) return `client secret for app ${conn.clientId}`;
  if (conn.clientId && conn.certificatePath) return `certificate ${conn.certificatePath} for app ${conn.clientId}`;
  return conn.clientId ? `user-assigned managed identity ${conn.clientId}` : 'system-assigned managed identity';
}

function configError(detail: string, field: string): OpterError {
  return new OpterError('E_AUTH_FAILED', { detail, field });
}
