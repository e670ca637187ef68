/**
 * Who may talk to the bot: botbuilder's Bot Framework JWT validation (inbound) and credentials (outbound), plus the
 * tenant allow-list. We configure and wrap botbuilder here; we never re-implement or switch off its validation.
 */
import { CallerIdConstants, ConfigurationServiceClientCredentialFactory, type Activity } from 'botbuilder';
import {
  AuthenticationConstants,
  AuthenticationError,
  BotFrameworkAuthentication,
  GovernmentConstants,
  type AuthenticateRequestResult,
  type BotFrameworkClient,
  type ClaimsIdentity,
  type ConnectorFactory,
  type UserTokenClient,
} from 'botframework-connector';
import type { BotConfig } from './config';
import { tenantFields, type ActivityLike } from './teams-context';

/**
 * Endpoints and issuers botbuilder's `ConfigurationBotFrameworkAuthentication` accepts (names exactly as botbuilder
 * spells them). Production leaves them unset (public Azure cloud); tests point them at a local OpenID metadata /
 * JWKS / token server; a sovereign cloud sets ChannelService.
 */
export interface BotAuthOverrides {
  ChannelService?: string;
  ToBotFromChannelOpenIdMetadataUrl?: string;
  ToBotFromChannelTokenIssuer?: string;
  ToBotFromEmulatorOpenIdMetadataUrl?: string;
  ToChannelFromBotLoginUrl?: string;
  ToChannelFromBotOAuthScope?: string;
  OAuthUrl?: string;
  CallerId?: string;
  ValidateAuthority?: boolean;
}

const PARAMETERIZED_KEYS = [
  'ToBotFromChannelOpenIdMetadataUrl',
  'ToBotFromChannelTokenIssuer',
  'ToBotFromEmulatorOpenIdMetadataUrl',
  'ToChannelFromBotLoginUrl',
  'ToChannelFromBotOAuthScope',
  'OAuthUrl',
  'CallerId',
] as const;

/**
 * The options object for `new TeamsAdapter(options, …)`. Trap: as soon as ONE endpoint/issuer key is set, botbuilder
 * (BotFrameworkAuthenticationFactory.create) uses ALL of them as given, and an unset issuer then rejects every
 * token. So when anything is overridden we fill every other key with the cloud's defaults.
 */
export function botFrameworkAuthOptions(overrides: BotAuthOverrides = {}): Record<string, string | boolean | undefined> {
  const anyParameterized = PARAMETERIZED_KEYS.some((k) => typeof overrides[k] === 'string' && overrides[k] !== '');
  if (!anyParameterized) {
    return overrides.ChannelService ? { ChannelService: overrides.ChannelService } : {};
  }
  const gov = overrides.ChannelService === GovernmentConstants.ChannelService;
  const cloud = gov ? GovernmentConstants : AuthenticationConstants;
  return {
    ToBotFromChannelOpenIdMetadataUrl: overrides.ToBotFromChannelOpenIdMetadataUrl || cloud.ToBotFromChannelOpenIdMetadataUrl,
    ToBotFromChannelTokenIssuer: overrides.ToBotFromChannelTokenIssuer || cloud.ToBotFromChannelTokenIssuer,
    ToBotFromEmulatorOpenIdMetadataUrl: overrides.ToBotFromEmulatorOpenIdMetadataUrl || cloud.ToBotFromEmulatorOpenIdMetadataUrl,
    ToChannelFromBotLoginUrl: overrides.ToChannelFromBotLoginUrl || cloud.ToChannelFromBotLoginUrl,
    ToChannelFromBotOAuthScope: overrides.ToChannelFromBotOAuthScope || cloud.ToChannelFromBotOAuthScope,
    OAuthUrl: overrides.OAuthUrl || cloud.OAuthUrl,
    CallerId: overrides.CallerId || (gov ? CallerIdConstants.USGovChannel : CallerIdConstants.PublicAzureChannel),
    ValidateAuthority: overrides.ValidateAuthority ?? true,
  };
}

/**
 * botbuilder's credentials for this config. Empty app id ⇔ local mode: botbuilder then accepts unauthenticated
 * requests and sends no token (which is why local mode is loopback-only).
 */
export function credentialsFactoryFor(config: BotConfig): ConfigurationServiceClientCredentialFactory {
  if (config.mode === 'local') {
    return new ConfigurationServiceClientCredentialFactory({ MicrosoftAppId: '', MicrosoftAppPassword: '', MicrosoftAppType: 'MultiTenant' });
  }
  return new ConfigurationServiceClientCredentialFactory({
    MicrosoftAppId: config.botId ?? '',
    MicrosoftAppPassword: config.botPassword ?? '',
    MicrosoftAppType: config.botType,
    MicrosoftAppTenantId: config.botTenantId ?? '',
  });
}

/** Errors `jsonwebtoken.verify` throws for a token that is bad (not for a server-side failure). */
const JWT_REJECTIONS = new Set(['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError']);

function asUnauthorized(err: unknown): unknown {
  if (err instanceof AuthenticationError) return err;
  if (err instanceof Error && JWT_REJECTIONS.has(err.name)) {
    // jsonwebtoken's messages ("invalid signature", "jwt signature is required", …) describe the token, never contain it.
    return new AuthenticationError(`Unauthorized. Token rejected: ${err.message}`, 401);
  }
  return err;
}

/**
 * Delegates everything to botbuilder's authentication and changes one thing: a token whose signature does not
 * verify (wrong key with a known kid, or `alg: none`) makes `jsonwebtoken` throw a plain JsonWebTokenError, which
 * CloudAdapter answers with HTTP 500 and the error text. It is a rejected credential, so we answer 401 like every
 * other rejected token. Validation itself stays botbuilder's.
 */
export class RejectedTokensAre401 extends BotFrameworkAuthentication {
  constructor(private readonly inner: BotFrameworkAuthentication) {
    super();
  }
  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    try {
      return await this.inner.authenticateRequest(activity, authHeader);
    } catch (err) {
      throw asUnauthorized(err);
    }
  }
  override async authenticateStreamingRequest(authHeader: string, channelIdHeader: string): Promise<AuthenticateRequestResult> {
    try {
      return await this.inner.authenticateStreamingRequest(authHeader, channelIdHeader);
    } catch (err) {
      throw asUnauthorized(err);
    }
  }
  override async authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    try {
      return await this.inner.authenticateChannelRequest(authHeader);
    } catch (err) {
      throw asUnauthorized(err);
    }
  }
  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.inner.createConnectorFactory(claimsIdentity);
  }
  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.inner.createUserTokenClient(claimsIdentity);
  }
  override createBotFrameworkClient(): BotFrameworkClient {
    return this.inner.createBotFrameworkClient();
  }
  override getOriginatingAudience(): string {
    return this.inner.getOriginatingAudience();
  }
}

/** Installs RejectedTokensAre401 around the authentication a CloudAdapter (TeamsAdapter) was built with. */
export function hardenAdapterAuthentication(adapter: object): void {
  const holder = adapter as { botFrameworkAuthentication?: unknown };
  const current = holder.botFrameworkAuthentication;
  if (!(current instanceof BotFrameworkAuthentication)) {
    // Fail loudly if a botbuilder upgrade moves the field: silently skipping would bring the 500s back.
    throw new Error('hardenAdapterAuthentication: adapter has no botFrameworkAuthentication field (botbuilder layout changed)');
  }
  if (current instanceof RejectedTokensAre401) return;
  holder.botFrameworkAuthentication = new RejectedTokensAre401(current);
}

export type TenantCheck =
  | { allowed: true; tenantId: string }
  | { allowed: false; tenantId: string | null; reason: 'missing' | 'mismatch' | 'not-allowed' };

/**
 * May this activity be processed? Reads `channelData.tenant.id`, falling back to `conversation.tenantId`; both
 * present but different ⇒ refused (a hand-made envelope). Fails closed: no tenant ⇒ refused.
 */
export function checkTenant(activity: ActivityLike, config: Pick<BotConfig, 'allowedTenantIds'>): TenantCheck {
  const fields = tenantFields(activity);
  if (fields.channelData && fields.conversation && fields.channelData !== fields.conversation) {
    return { allowed: false, tenantId: fields.channelData, reason: 'mismatch' };
  }
  const tenantId = fields.channelData ?? fields.conversation;
  if (!tenantId) return { allowed: false, tenantId: null, reason: 'missing' };
  if (!config.allowedTenantIds.includes(tenantId)) return { allowed: false, tenantId, reason: 'not-allowed' };
  return { allowed: true, tenantId };
}
