/**
 * A Microsoft Graph SDK client for an endpoint and a credential: the SDK's own middleware (auth, retry, redirect,
 * telemetry, HTTP) plus one outermost handler that keeps a transport or sign-in failure intact.
 *
 * Why a custom chain rather than `initWithMiddleware({ authProvider })`: the default chain turns a thrown error
 * (e.g. `TypeError: fetch failed` whose cause says ECONNRESET vs. an untrusted certificate, or an identity error
 * carrying AADSTS codes) into a GraphError that keeps only the message. The SDK passes GraphClientError through
 * unchanged, so PreserveCauseHandler wraps the original in one (`customError`) and classify.ts reads it. The
 * handlers, their order and the token provider are exactly the SDK's defaults otherwise.
 *
 * RetryHandler: retries 429/503/504 up to `maxRetries` times (default 3), honouring Retry-After; what still fails
 * reaches the caller and the engine's bounded retry. Not for addPassword, which is not idempotent: that request
 * turns the handler off (graph-directory.ts).
 */
import {
  AuthenticationHandler,
  Client,
  GraphClientError,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import type { TokenCredential } from '@azure/identity';
import { defaultScope } from './credential';

export interface GraphClientOptions {
  /** SDK RetryHandler retries for 429/503/504 within one call (default 3). */
  maxRetries?: number;
  /** SDK RetryHandler base delay in seconds when the service sent no Retry-After (default 3). */
  retryDelaySeconds?: number;
  /** Sends the requests instead of the global fetch (the SDK's HTTPMessageHandler), e.g. one that trusts the simulator's CA (tls-trust.ts). */
  fetch?: typeof fetch;
}

/** Re-throws anything thrown inside the chain as GraphClientError { customError } so the SDK does not flatten it. */
class PreserveCauseHandler implements Middleware {
  private next?: Middleware;

  async execute(context: Context): Promise<void> {
    try {
      await this.next!.execute(context);
    } catch (e) {
      if (e instanceof GraphClientError) throw e;
      const wrapped = new GraphClientError(e instanceof Error ? e.message : String(e));
      wrapped.name = 'GraphClientError';
      wrapped.customError = e;
      throw wrapped;
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** The SDK's HTTPMessageHandler with a fetch of our choosing: the last handler of the chain. */
class FetchHandler implements Middleware {
  constructor(private readonly send: typeof fetch) {}

  async execute(context: Context): Promise<void> {
    context.response = await this.send(context.request, context.options);
  }

  setNext(): void {}
}

export function createGraphClient(graphEndpoint: string, credential: TokenCredential, options: GraphClientOptions = {}): Client {
  const origin = new URL(graphEndpoint).origin;
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: [defaultScope(origin)] });
  const hostname = new URL(origin).hostname;
  return Client.initWithMiddleware({
    baseUrl: origin,
    defaultVersion: 'v1.0',
    // The SDK attaches the bearer token only to https hosts it knows; any other Graph endpoint must be listed.
    customHosts: hostname === 'graph.microsoft.com' ? undefined : new Set([hostname]),
    middleware: [
      new PreserveCauseHandler(),
      new AuthenticationHandler(authProvider),
      new RetryHandler(new RetryHandlerOptions(options.retryDelaySeconds ?? 3, options.maxRetries ?? 3)),
      new RedirectHandler(new RedirectHandlerOptions()),
      new TelemetryHandler(),
      options.fetch ? new FetchHandler(options.fetch) : new HTTPMessageHandler(),
    ],
  });
}

/** HTTP status of a Graph SDK error (GraphError.statusCode), or undefined. */
export function graphStatusOf(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' && s > 0 ? s : undefined;
}

/** The Graph error message (GraphError.message is `error.message` of the body). */
export function graphMessageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An OData string literal body: single quotes doubled (docs/microsoft-facts.md §1.4). */
export function odataQuote(value: string): string {
  return value.replace(/'/g, "''");
}

/**
 * A string value for a URL path alternate key, e.g. `applications(uniqueName='…')`: quotes doubled, then
 * percent-encoded; `'` stays literal (it is the OData delimiter and legal in a path), everything else that could
 * end the segment or the path (`/ ? # %` …) is encoded.
 */
export function odataKey(value: string): string {
  return encodeURIComponent(odataQuote(value));
}

/** `$filter=<prop> eq '<value>'` with quotes doubled and the whole expression percent-encoded (docs/microsoft-facts.md §1.4). */
export function odataEqFilter(property: string, value: string): string {
  return encodeURIComponent(`${property} eq '${odataQuote(value)}'`);
}

/** A path segment for a user id or UPN: `@` stays readable (it is a legal path character), the rest is encoded. */
export function userSegment(idOrUpn: string): string {
  return encodeURIComponent(idOrUpn).replace(/%40/g, '@');
}
