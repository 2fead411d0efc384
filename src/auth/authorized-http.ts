/**
 * Binds a RequestAuthorizer to the HTTP client: every attempt gets fresh
 * headers, and a request rejected as unauthorized (a token expired early or
 * revoked server-side) drops the cached token and is sent once more. A PAT
 * cannot be refreshed, so its 401 is reported at once instead of looping.
 */
import type { HttpClient } from '../http/types';
import type { RequestAuthorizer } from './types';

export function authorizedHttp(
  http: HttpClient,
  authorizer: RequestAuthorizer,
  signal?: AbortSignal,
): HttpClient {
  return http.withAuth(
    (req) => authorizer.headers(req.signal ?? signal),
    ({ sentAuthHeaders }) => authorizer.invalidate?.(sentAuthHeaders) ?? false,
  );
}

/** A header's value, whatever the case of its name. */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The token of an `Authorization: Bearer …` header, if any. */
export function bearerTokenOf(headers: Record<string, string>): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(headerValue(headers, 'authorization') ?? '');
  return m ? m[1].trim() : undefined;
}
