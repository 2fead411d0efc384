/**
 * Routes @azure/identity's (and MSAL's) HTTP traffic through our HttpClient, so
 * token requests use the agent's proxy and CA settings, our retry policy and
 * secret-safe errors, like every other call (docs/architecture.md).
 */
import type {
  HttpClient as AzureHttpClient,
  HttpHeaders,
  PipelineRequest,
  PipelineResponse,
  RawHttpHeaders,
} from '@azure/core-rest-pipeline';
import { redactAndTruncate } from '../common/secrets';
import type { HttpClient, HttpMethod } from '../http/types';

/** Statuses handed back to MSAL as responses (it reads Entra's error bodies itself). */
const PASS_THROUGH_STATUSES: number[] = [];
for (let s = 300; s < 600; s++) {
  // 429 and 5xx stay with our client, which retries them with backoff and Retry-After.
  if (s === 429 || s === 500 || s === 502 || s === 503 || s === 504) continue;
  PASS_THROUGH_STATUSES.push(s);
}

class SimpleHeaders implements HttpHeaders {
  private readonly map = new Map<string, { name: string; value: string }>();
  constructor(init?: Record<string, string>) {
    for (const [k, v] of Object.entries(init ?? {})) this.set(k, v);
  }
  get(name: string): string | undefined {
    return this.map.get(name.toLowerCase())?.value;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string | number | boolean): void {
    this.map.set(name.toLowerCase(), { name, value: String(value) });
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  toJSON(options?: { preserveCase?: boolean }): RawHttpHeaders {
    const out: RawHttpHeaders = {};
    for (const [key, e] of this.map) out[options?.preserveCase ? e.name : key] = e.value;
    return out;
  }
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const [key, e] of this.map) yield [key, e.value];
  }
}

export interface IdentityHttpAdapter extends AzureHttpClient {
  /** The last transport failure (DNS, TLS, refused, retries exhausted), cleared by takeTransportError(). */
  takeTransportError(): unknown;
  /** The body of the last error response (MSAL drops some, e.g. a failed OpenID configuration), cleared when taken. */
  takeErrorBody(): string | undefined;
}

// Headers our client sets itself or that must not be forwarded verbatim.
const DROPPED_HEADERS = new Set(['content-length', 'host', 'connection', 'accept-encoding']);

export function createIdentityHttpClient(http: HttpClient, operation: string): IdentityHttpAdapter {
  let transportError: unknown;
  let errorBody: string | undefined;
  return {
    takeTransportError(): unknown {
      const e = transportError;
      transportError = undefined;
      return e;
    },
    takeErrorBody(): string | undefined {
      const b = errorBody;
      errorBody = undefined;
      return b;
    },
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const headers: Record<string, string> = {};
      for (const [name, value] of request.headers) {
        if (!DROPPED_HEADERS.has(name.toLowerCase())) headers[name] = value;
      }
      let body: string | Buffer | undefined;
      if (typeof request.body === 'string') body = request.body;
      else if (request.body instanceof Uint8Array) body = Buffer.from(request.body);
      else if (request.body != null) throw new Error('identity request body type not supported');
      const linked = linkSignal(request.abortSignal);
      try {
        const res = await http.request<string>({
          method: request.method as HttpMethod,
          url: request.url,
          headers,
          body,
          // Token and metadata requests are safe to repeat.
          idempotent: true,
          timeoutMs: request.timeout > 0 ? request.timeout : undefined,
          signal: linked?.signal,
          responseType: 'text',
          acceptStatuses: PASS_THROUGH_STATUSES,
          skipAuth: true,
          operation,
        });
        const bodyAsText =
          typeof res.data === 'string' ? res.data : res.data == null ? '' : JSON.stringify(res.data);
        // Masked before the cut: a secret across it would otherwise keep its start.
        if (res.status >= 400) errorBody = redactAndTruncate(bodyAsText, 2000);
        return { request, status: res.status, headers: new SimpleHeaders(res.headers), bodyAsText };
      } catch (err) {
        transportError = err;
        throw err;
      } finally {
        linked?.dispose();
      }
    },
  };
}

interface AbortSignalLikeish {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** core-rest-pipeline hands an AbortSignalLike; our client wants a real AbortSignal. */
function linkSignal(
  like: AbortSignalLikeish | undefined,
): { signal: AbortSignal; dispose(): void } | undefined {
  if (!like) return undefined;
  if (like instanceof AbortSignal) return { signal: like, dispose: () => undefined };
  const ac = new AbortController();
  if (like.aborted) ac.abort();
  const onAbort = () => ac.abort();
  like.addEventListener('abort', onAbort);
  return { signal: ac.signal, dispose: () => like.removeEventListener('abort', onAbort) };
}
