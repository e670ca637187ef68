/**
 * HTTPS that trusts one more certificate authority — the embedded simulator's self-signed one — inside this
 * process, without NODE_EXTRA_CA_CERTS (which Node reads only at process start) and so without re-launching.
 *
 * The three HTTP layers we use each take it their own way: @azure/identity an `agent` (core-rest-pipeline's
 * PipelineOptions), the Graph SDK and our Exchange client a `fetch`. Node 20's global fetch cannot take a CA
 * without the `undici` package, so `fetch` here is a small fetch over `https.request` with the same agent.
 *
 * The agent's CA list is Node's bundled roots + whatever NODE_EXTRA_CA_CERTS names + the extra CA: a `ca` option
 * replaces Node's default store, so the caller's own extra CAs (a corporate proxy, say) are added back, never lost.
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { Readable, type Transform } from 'node:stream';
import { createSecureContext, rootCertificates } from 'node:tls';
import { createBrotliDecompress, createGunzip, createInflate, constants as zlib } from 'node:zlib';

export interface HttpTransport {
  /** For @azure/identity credentials (`agent` option). */
  agent: Agent;
  /** For the Graph SDK's last middleware and the Exchange client. */
  fetch: typeof fetch;
}

const transports = new Map<string, HttpTransport>();

/** The transport that also trusts `extraCaPem`, or undefined without one (then Node's defaults apply unchanged). */
export function transportFor(conn: { trustedCa?: string }): HttpTransport | undefined {
  const pem = conn.trustedCa?.trim();
  if (!pem) return undefined;
  // One agent per CA for the whole process, so keep-alive sockets are shared by every adapter and credential.
  let t = transports.get(pem);
  if (!t) {
    // The extra CA comes first: OpenSSL takes the first CA whose subject matches, and another simulator's
    // certificate in NODE_EXTRA_CA_CERTS (same subject, other key) must not shadow this one. The context is made
    // once: with a `ca` option every new connection would parse the ~150 certificates again (tens of ms each).
    const secureContext = createSecureContext({ ca: [pem, ...rootCertificates, ...environmentCas()] });
    const agent = new Agent({ keepAlive: true, secureContext });
    t = { agent, fetch: fetchVia(agent) };
    transports.set(pem, t);
  }
  return t;
}

/** The certificates of NODE_EXTRA_CA_CERTS, which Node trusts by default but drops when a `ca` option is given. */
export function environmentCas(env: Record<string, string | undefined> = process.env): string[] {
  const file = env.NODE_EXTRA_CA_CERTS?.trim();
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  } catch {
    // Node itself only warns about an unreadable file; so do we, by trusting nothing extra from it.
    return [];
  }
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * `fetch` semantics where our callers rely on them: a rejected `TypeError('fetch failed', { cause })` for a network
 * or TLS failure (classify.ts reads the cause's code), the signal's reason on abort or timeout, and bodies decoded
 * by Content-Encoding. Redirects are returned as they are (the Graph SDK follows them itself; the simulator, the only
 * endpoint this serves, never redirects), and `redirect: 'error'` rejects on one as fetch does.
 */
export function fetchVia(agent: Agent): typeof fetch {
  return async function trustedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.protocol !== 'https:') return fetch(request);
    const signal = request.signal;
    signal.throwIfAborted();
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    if (body) headers['content-length'] = String(body.length);

    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: request.method, headers, agent, signal }, (res) => {
        const status = res.statusCode ?? 0;
        if (request.redirect === 'error' && status >= 300 && status < 400 && res.headers.location) {
          res.destroy();
          reject(new TypeError('fetch failed', { cause: new Error(`redirect to ${res.headers.location} refused (redirect: "error")`) }));
          return;
        }
        const nullBody = NULL_BODY_STATUS.has(status) || request.method === 'HEAD';
        if (nullBody) res.resume();
        resolve(
          new Response(nullBody ? null : (Readable.toWeb(decoded(res)) as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage,
            headers: responseHeaders(res),
          }),
        );
      });
      req.on('error', (e) => reject(signal.aborted ? signal.reason : new TypeError('fetch failed', { cause: e })));
      req.end(body);
    });
  };
}

function responseHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  return headers;
}

/** The body as fetch hands it out: decoded per Content-Encoding, so a bad gzip body fails when read, as in fetch. */
function decoded(res: IncomingMessage): Readable {
  const codings = (res.headers['content-encoding'] ?? '').toLowerCase().split(',').map((c) => c.trim()).filter((c) => c && c !== 'identity');
  let stream: Readable = res;
  for (const coding of codings.reverse()) {
    const decoder = decoderFor(coding);
    if (!decoder) break;
    stream.on('error', (e) => decoder.destroy(e));
    stream = stream.pipe(decoder);
  }
  return stream;
}

function decoderFor(coding: string): Transform | null {
  // Same lenient flushing as fetch in Node (undici), so a body cut short still yields what arrived.
  const lenient = { flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH };
  if (coding === 'gzip' || coding === 'x-gzip') return createGunzip(lenient);
  if (coding === 'deflate') return createInflate(lenient);
  if (coding === 'br') return createBrotliDecompress({ flush: zlib.BROTLI_OPERATION_FLUSH, finishFlush: zlib.BROTLI_OPERATION_FLUSH });
  return null;
}
