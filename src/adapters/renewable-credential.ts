/**
 * Tokens carry the permissions granted when they were issued (docs/microsoft-facts.md §1.1: "get a new token after every grant";
 * Exchange reads the admin role from the token). A cached token keeps failing for up to an hour after an admin fixes
 * a missing permission, so after a permission error the credential is rebuilt: the admin's Retry then signs in anew.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { OpterError } from '../core/errors';

export class RenewableCredential implements TokenCredential {
  private current: TokenCredential;
  renewals = 0;

  constructor(private readonly factory: () => TokenCredential) {
    this.current = factory();
  }

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    return this.current.getToken(scopes, options);
  }

  /** Drops the cached tokens by building a fresh credential. */
  renew(): void {
    this.current = this.factory();
    this.renewals += 1;
  }
}

const PERMISSION_CODES = new Set(['E_GRAPH_PERMISSION', 'E_EXCHANGE_PERMISSION']);

const isPermissionError = (e: unknown) => e instanceof OpterError && PERMISSION_CODES.has(e.code);

/**
 * Wraps an adapter so that a permission failure renews the credential and tries the call once more with a fresh
 * token before the error goes up. Renewing alone is not enough: any call made between the renewal and the admin's
 * fix mints a new token without the permission, and the admin's first Retry would then fail on that cached token.
 * A call refused with a permission error changed nothing, so repeating it is safe.
 */
export function renewOnPermissionError<T extends object>(adapter: T, credential: RenewableCredential): T {
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return function (this: unknown, ...args: unknown[]) {
        const result = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((e: unknown) => {
          if (!isPermissionError(e)) throw e;
          credential.renew();
          return (value.apply(target, args) as Promise<unknown>).catch((again: unknown) => {
            if (isPermissionError(again)) credential.renew();
            throw again;
          });
        });
      };
    },
  });
}
