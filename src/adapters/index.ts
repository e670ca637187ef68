/**
 * The tenant adapters wired from one TenantConnection: one provisioning credential shared by Graph and Exchange
 * (each asks it for its own audience), plus the new-app sign-in.
 */
import type { TokenCredential } from '@azure/identity';
import { AppSignIn } from './app-signin';
import type { TenantConnection } from './config';
import { createCredential } from './credential';
import { ExchangeOnline, type ExchangeOnlineOptions } from './exchange';
import { GraphDirectory, type GraphDirectoryOptions } from './graph-directory';
import { RenewableCredential, renewOnPermissionError } from './renewable-credential';

export interface TenantAdapters {
  credential: TokenCredential;
  directory: GraphDirectory;
  exchange: ExchangeOnline;
  appSignIn: AppSignIn;
}

export interface TenantAdapterOptions {
  graph?: GraphDirectoryOptions;
  exchange?: ExchangeOnlineOptions;
  /** Use this credential instead of building one from the connection (tests, custom hosting). */
  credential?: TokenCredential;
}

export function createTenantAdapters(conn: TenantConnection, options: TenantAdapterOptions = {}): TenantAdapters {
  if (options.credential) {
    const credential = options.credential;
    return {
      credential,
      directory: new GraphDirectory(conn, credential, options.graph),
      exchange: new ExchangeOnline(conn, credential, options.exchange),
      appSignIn: new AppSignIn(conn, options.graph),
    };
  }
  const credential = new RenewableCredential(() => createCredential(conn));
  return {
    credential,
    directory: renewOnPermissionError(new GraphDirectory(conn, credential, options.graph), credential),
    exchange: renewOnPermissionError(new ExchangeOnline(conn, credential, options.exchange), credential),
    appSignIn: new AppSignIn(conn, options.graph),
  };
}

export { AppSignIn, claimsOf, rolesOf, stringsClaim } from './app-signin';
export { createApproverAccess, type ApproverAccess, type SsoApp } from './delegated';
export { RenewableCredential, renewOnPermissionError } from './renewable-credential';
export { classifyError, failureInfoOf, hasExchangeException, parseExchangeDetail, parseRetryAfter, ServiceHttpError } from './classify';
export type { ClassifyContext, FailureInfo, Service } from './classify';
export { delegatedWritesIn, describeCredential, hasTenantConfiguration, readDataDir, readTenantConnection } from './config';
export type { TenantConnection } from './config';
export { authorityOptions, createCredential, defaultScope, isMicrosoftAuthorityHost } from './credential';
export { ExchangeOnline, encodeParameters, stripAnnotations } from './exchange';
export type { CmdletParameters, ExchangeOnlineOptions, ExchangeRow, InvokeOptions } from './exchange';
export { GRAPH_PERMISSION, GraphDirectory, maxPasswordLifetimeOf } from './graph-directory';
export type { GraphDirectoryOptions } from './graph-directory';
export { createGraphClient, odataEqFilter, odataKey, odataQuote } from './graph-client';
export type { GraphClientOptions } from './graph-client';
