/** Request/response plumbing shared by the three listeners. */
import type { IncomingHttpHeaders } from 'node:http';
import type { FaultEngine, SimFamily } from './faults';
import type { SigningKey } from './jwt';
import type { TenantStore } from './store';

export interface SimRequest {
  family: SimFamily;
  method: string;
  /** Parsed URL (pathname still percent-encoded). */
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  remoteAddress: string;
  requestId: string;
  /** Exchange only: the cmdlet named in the body, for the request log. */
  cmdlet?: string;
  /** Set by authentication: whose token the call carried, for the request log. */
  principal?: { token: 'app' | 'user'; id: string; upn?: string };
}

export interface SimReply {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are; null/undefined as an empty body. */
  body?: unknown;
}

export interface Origins {
  authority: string;
  graph: string;
  exchange: string;
}

/** Everything a family handler needs; one per simulator. */
export interface SimContext {
  store: TenantStore;
  faults: FaultEngine;
  signingKey: SigningKey;
  origins: Origins;
  tokenLifetimeSeconds: number;
  /** Lifetime of delegated (OBO) tokens; Entra gives user tokens 60–90 minutes. */
  delegatedTokenLifetimeSeconds: number;
  provisioningAppId: string;
}

export type Handler = (ctx: SimContext, req: SimRequest) => SimReply | Promise<SimReply>;

export function header(req: SimRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function parseJsonBody(req: SimRequest): { ok: true; value: unknown } | { ok: false } {
  if (req.body.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(req.body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** Graph-style timestamps: second precision, UTC, trailing Z. */
export function isoNow(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
