import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { OpterError } from '../core/errors';
import { describeCredential, hasTenantConfiguration, readDataDir, readTenantConnection } from './config';
import { authorityOptions, createCredential, defaultScope, isMicrosoftAuthorityHost } from './credential';

const TENANT = '7e1c2d3a-4b5c-4d6e-8f90-a1b2c3d4e5f6';
const CLIENT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('readTenantConnection', () => {
  it('uses Microsoft public-cloud defaults for the endpoints', () => {
    expect(readTenantConnection({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 's' })).toEqual({
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret: 's',
      certificatePath: undefined,
      certificatePassword: undefined,
      authorityHost: 'https://login.microsoftonline.com',
      graphEndpoint: 'https://graph.microsoft.com',
      exchangeEndpoint: 'https://outlook.office365.com',
    });
  });

  it('reads the exact variable names and normalises endpoints to origins', () => {
    const c = readTenantConnection({
      AZURE_TENANT_ID: ` ${TENANT.toUpperCase()} `,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_CERTIFICATE_PATH: '/etc/opter/cert.pem',
      AZURE_CLIENT_CERTIFICATE_PASSWORD: 'pw',
      AUTHORITY_HOST: 'https://127.0.0.1:8443/',
      GRAPH_ENDPOINT: 'https://127.0.0.1:8444',
      EXCHANGE_ENDPOINT: 'https://localhost:8445/',
    });
    expect(c).toMatchObject({
      tenantId: TENANT,
      certificatePath: '/etc/opter/cert.pem',
      certificatePassword: 'pw',
      authorityHost: 'https://127.0.0.1:8443',
      graphEndpoint: 'https://127.0.0.1:8444',
      exchangeEndpoint: 'https://localhost:8445',
    });
  });

  it.each([
    [{}, 'AZURE_TENANT_ID'],
    [{ AZURE_TENANT_ID: 'contoso.onmicrosoft.com' }, 'AZURE_TENANT_ID'],
    [{ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: 'my-app' }, 'AZURE_CLIENT_ID'],
    [{ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_SECRET: 's' }, 'AZURE_CLIENT_ID'],
    [{ AZURE_TENANT_ID: TENANT, GRAPH_ENDPOINT: 'http://127.0.0.1:8080' }, 'GRAPH_ENDPOINT'],
    [{ AZURE_TENANT_ID: TENANT, GRAPH_ENDPOINT: 'https://graph.microsoft.com/v1.0' }, 'GRAPH_ENDPOINT'],
    [{ AZURE_TENANT_ID: TENANT, EXCHANGE_ENDPOINT: 'outlook' }, 'EXCHANGE_ENDPOINT'],
  ])('refuses unusable configuration %j with E_AUTH_FAILED on the right field', (env, field) => {
    let error: unknown;
    try {
      readTenantConnection(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OpterError);
    expect(error).toMatchObject({ code: 'E_AUTH_FAILED', field });
  });

  it('says whether a real tenant is configured and where data lives', () => {
    expect(hasTenantConfiguration({})).toBe(false);
    expect(hasTenantConfiguration({ AZURE_CLIENT_ID: ' ' })).toBe(false);
    expect(hasTenantConfiguration({ AZURE_CLIENT_ID: CLIENT })).toBe(true);
    expect(readDataDir({})).toBe('./data');
    expect(readDataDir({ DATA_DIR: '/var/lib/opter' })).toBe('/var/lib/opter');
  });

  it('describes the credential without ever including the secret', () => {
    const text = describeCredential(readTenantConnection({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 'very-secret' }));
    expect(text).toBe(`client secret for app ${CLIENT}`);
    expect(text).not.toContain('very-secret');
  });
});

describe('createCredential', () => {
  const base = { tenantId: TENANT, authorityHost: 'https://login.microsoftonline.com', graphEndpoint: 'https://graph.microsoft.com', exchangeEndpoint: 'https://outlook.office365.com' };

  it('picks secret, then certificate, then managed identity (the @azure/identity convention)', () => {
    expect(createCredential({ ...base, clientId: CLIENT, clientSecret: 's' })).toBeInstanceOf(ClientSecretCredential);
    expect(createCredential({ ...base, clientId: CLIENT, certificatePath: '/nonexistent/cert.pem' })).toBeInstanceOf(ClientCertificateCredential);
    expect(createCredential({ ...base, clientId: CLIENT })).toBeInstanceOf(ManagedIdentityCredential);
    expect(createCredential(base)).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('keeps instance discovery for Microsoft clouds and disables it for any other authority', () => {
    expect(isMicrosoftAuthorityHost('https://login.microsoftonline.com')).toBe(true);
    expect(isMicrosoftAuthorityHost('https://login.microsoftonline.us')).toBe(true);
    expect(isMicrosoftAuthorityHost('https://login.chinacloudapi.cn')).toBe(true);
    expect(isMicrosoftAuthorityHost('https://127.0.0.1:8443')).toBe(false);
    expect(authorityOptions('https://login.microsoftonline.com')).toEqual({ authorityHost: 'https://login.microsoftonline.com', disableInstanceDiscovery: false });
    expect(authorityOptions('https://127.0.0.1:8443')).toEqual({ authorityHost: 'https://127.0.0.1:8443', disableInstanceDiscovery: true });
  });

  it('asks for <resource origin>/.default', () => {
    expect(defaultScope('https://graph.microsoft.com')).toBe('https://graph.microsoft.com/.default');
    expect(defaultScope('https://127.0.0.1:8445/')).toBe('https://127.0.0.1:8445/.default');
  });
});
