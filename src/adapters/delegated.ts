/**
 * The approver's own access, for delegated mode (docs/delegated-mode.md): the Teams SSO token the approver's
 * client sent with their click is exchanged On-Behalf-Of for a Microsoft Graph token and an Exchange Online token,
 * and the Graph and Exchange adapters run with those. Nothing here is stored: the assertion and the tokens live in
 * this object and die with it; no refresh token is ever asked for (obo.ts asks for one resource's `.default` and
 * never `offline_access`, so the answer carries none).
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { OpterError } from '../core/errors';
import { classifyError } from './classify';
import type { TenantConnection } from './config';
import { defaultScope } from './credential';
import { OnBehalfOfGrant } from './obo';
import { transportFor } from './tls-trust';
import { ExchangeOnline } from './exchange';
import { GraphDirectory } from './graph-directory';

/** The bot's own Entra app, which Teams issues the SSO token to and which redeems it On-Behalf-Of. */
export interface SsoApp {
  clientId: string;
  /** One of the two: the app's client secret or a PEM with its certificate and key. */
  clientSecret?: string | null;
  certificatePath?: string | null;
}

export interface ApproverAccess {
  directory: GraphDirectory;
  exchange: ExchangeOnline;
  /** Gets both tokens now, so a refused exchange (consent missing, bad assertion) shows at the click, not mid-job. */
  ready(): Promise<void>;
}

/** AADSTS codes of a refused On-Behalf-Of exchange (entra-docs v2-oauth2-on-behalf-of-flow.md; docs/delegated-mode.md). */
const EXPIRED_ASSERTION = /AADSTS500133/;
const REFUSED_ASSERTION = /AADSTS(50013|65001|50034|500011|7000215|700016)/;

/** OBO credential whose failures speak the catalogue: an expired sign-in means "ask the approver again". */
class ApproverCredential implements TokenCredential {
  constructor(private readonly inner: TokenCredential) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    try {
      return await this.inner.getToken(scopes, options);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (EXPIRED_ASSERTION.test(message)) {
        throw new OpterError('E_APPROVER_NEEDED', { detail: 'The approver’s sign-in has expired.', cause: e });
      }
      if (REFUSED_ASSERTION.test(message)) {
        const code = /AADSTS\d+/.exec(message)?.[0];
        throw new OpterError('E_SIGN_IN_REFUSED', { detail: `The Microsoft identity platform refused to act for you (${code}).`, cause: e });
      }
      throw classifyError(e, { service: 'identity', operation: 'get a delegated token On-Behalf-Of the approver' });
    }
  }
}

export function createApproverAccess(conn: TenantConnection, app: SsoApp, assertion: string, approverUpn: string, options: { fetch?: typeof fetch } = {}): ApproverAccess {
  const send = options.fetch ?? transportFor(conn)?.fetch ?? fetch;
  const credential = new ApproverCredential(new OnBehalfOfGrant(conn, app, assertion, send));
  const directory = new GraphDirectory(conn, credential);
  const exchange = new ExchangeOnline(conn, credential, { anchorUpn: approverUpn });
  return {
    directory,
    exchange,
    ready: async () => {
      await credential.getToken(defaultScope(conn.graphEndpoint));
      await credential.getToken(defaultScope(conn.exchangeEndpoint));
    },
  };
}
