import { describe, expect, it } from 'vitest';
import {
  AuthenticationConstants,
  AuthenticationError,
  BotFrameworkAuthentication,
  type AuthenticateRequestResult,
  type ClaimsIdentity,
  type ConnectorFactory,
  type UserTokenClient,
} from 'botframework-connector';
import { TeamsAdapter } from '@microsoft/teams-ai';
import { botFrameworkAuthOptions, checkTenant, credentialsFactoryFor, hardenAdapterAuthentication, RejectedTokensAre401 } from './auth';
import { readBotConfig } from './config';

const TENANT = '6babcaad-604b-40ac-a9d7-9fd97c0b779f';
const OTHER = '0f0f0f0f-1111-4222-8333-444455556666';
const BOT = '5d2c6f8e-1b3a-4c5d-9e7f-0a1b2c3d4e5f';

describe('checkTenant', () => {
  const config = { allowedTenantIds: [TENANT] };
  const activity = (channelData?: string, conversation?: string) => ({
    channelData: channelData === undefined ? {} : { tenant: { id: channelData } },
    conversation: { id: 'a:1', ...(conversation === undefined ? {} : { tenantId: conversation }) },
  });

  it('allows an allowed tenant from either field, case-insensitively', () => {
    expect(checkTenant(activity(TENANT), config)).toEqual({ allowed: true, tenantId: TENANT });
    expect(checkTenant(activity(undefined, TENANT.toUpperCase()), config)).toEqual({ allowed: true, tenantId: TENANT });
    expect(checkTenant(activity(TENANT, TENANT), config)).toEqual({ allowed: true, tenantId: TENANT });
  });

  it('refuses other tenants, contradictory envelopes and missing tenants', () => {
    expect(checkTenant(activity(OTHER), config)).toEqual({ allowed: false, tenantId: OTHER, reason: 'not-allowed' });
    expect(checkTenant(activity(TENANT, OTHER), config)).toEqual({ allowed: false, tenantId: TENANT, reason: 'mismatch' });
    expect(checkTenant(activity(), config)).toEqual({ allowed: false, tenantId: null, reason: 'missing' });
    expect(checkTenant(activity(TENANT), { allowedTenantIds: [] })).toMatchObject({ allowed: false, reason: 'not-allowed' });
  });
});

describe('botFrameworkAuthOptions', () => {
  it('leaves botbuilder on its public-cloud defaults when nothing is overridden', () => {
    expect(botFrameworkAuthOptions()).toEqual({});
    expect(botFrameworkAuthOptions({ ChannelService: 'https://botframework.azure.us' })).toEqual({ ChannelService: 'https://botframework.azure.us' });
  });

  it('fills every other endpoint with the cloud default once one is overridden (botbuilder would leave them empty)', () => {
    const options = botFrameworkAuthOptions({ ToBotFromChannelOpenIdMetadataUrl: 'http://127.0.0.1:1/meta' });
    expect(options).toEqual({
      ToBotFromChannelOpenIdMetadataUrl: 'http://127.0.0.1:1/meta',
      ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
      ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
      ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
      ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
      OAuthUrl: AuthenticationConstants.OAuthUrl,
      CallerId: 'urn:botframework:azure',
      ValidateAuthority: true,
    });
  });
});

describe('credentialsFactoryFor', () => {
  it('disables authentication exactly in local mode', async () => {
    const local = credentialsFactoryFor(readBotConfig({ AZURE_TENANT_ID: TENANT }));
    expect(await local.isAuthenticationDisabled()).toBe(true);
    const authed = credentialsFactoryFor(readBotConfig({ AZURE_TENANT_ID: TENANT, BOT_ID: BOT, BOT_PASSWORD: 'pw' }));
    expect(await authed.isAuthenticationDisabled()).toBe(false);
    expect(await authed.isValidAppId(BOT)).toBe(true);
    expect(await authed.isValidAppId('00000000-0000-4000-8000-000000000000')).toBe(false);
  });

  it('builds a SingleTenant factory (botbuilder asserts its tenant at construction)', async () => {
    const config = readBotConfig({ AZURE_TENANT_ID: TENANT, BOT_ID: BOT, BOT_PASSWORD: 'pw', BOT_TYPE: 'SingleTenant', BOT_TENANT_ID: TENANT });
    expect(await credentialsFactoryFor(config).isValidAppId(BOT)).toBe(true);
  });
});

class ThrowingAuth extends BotFrameworkAuthentication {
  constructor(private readonly error: unknown) {
    super();
  }
  override async authenticateRequest(): Promise<AuthenticateRequestResult> {
    throw this.error;
  }
  override async authenticateStreamingRequest(): Promise<AuthenticateRequestResult> {
    throw this.error;
  }
  override createConnectorFactory(): ConnectorFactory {
    throw new Error('unused');
  }
  override async createUserTokenClient(_c: ClaimsIdentity): Promise<UserTokenClient> {
    throw new Error('unused');
  }
}

function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

describe('RejectedTokensAre401', () => {
  it('turns jsonwebtoken rejections into 401 AuthenticationErrors', async () => {
    for (const name of ['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError']) {
      const auth = new RejectedTokensAre401(new ThrowingAuth(namedError(name, 'invalid signature')));
      const err = await auth.authenticateRequest({} as never, 'Bearer x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as AuthenticationError).statusCode).toBe(401);
      expect((err as Error).message).toBe('Unauthorized. Token rejected: invalid signature');
      await expect(auth.authenticateStreamingRequest('Bearer x', 'msteams')).rejects.toBeInstanceOf(AuthenticationError);
    }
  });

  it('passes botbuilder AuthenticationErrors and server-side failures through unchanged', async () => {
    const authError = new AuthenticationError('Unauthorized. No valid identity.', 401);
    await expect(new RejectedTokensAre401(new ThrowingAuth(authError)).authenticateRequest({} as never, '')).rejects.toBe(authError);
    const network = namedError('FetchError', 'connect ECONNREFUSED');
    await expect(new RejectedTokensAre401(new ThrowingAuth(network)).authenticateRequest({} as never, 'Bearer x')).rejects.toBe(network);
  });

  it('is installed once on a TeamsAdapter', () => {
    const adapter = new TeamsAdapter({}, credentialsFactoryFor(readBotConfig({ AZURE_TENANT_ID: TENANT })));
    hardenAdapterAuthentication(adapter);
    const installed = (adapter as unknown as { botFrameworkAuthentication: unknown }).botFrameworkAuthentication;
    expect(installed).toBeInstanceOf(RejectedTokensAre401);
    hardenAdapterAuthentication(adapter);
    expect((adapter as unknown as { botFrameworkAuthentication: unknown }).botFrameworkAuthentication).toBe(installed);
    expect(() => hardenAdapterAuthentication({})).toThrow(/botbuilder layout changed/);
  });
});
