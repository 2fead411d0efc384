/**
 * Workload identity federation: asks Azure DevOps for a short-lived OIDC token
 * for a service connection ("Oidctoken - Create"), to be exchanged at Entra ID
 * as a client assertion.
 */
import { redactAndTruncate, registerSecret } from '../common/secrets';
import type { HttpClient } from '../http/types';
import { AuthError } from './errors';

export interface OidcRequest {
  /** System.OidcRequestUri */
  requestUri: string;
  /** System.AccessToken (SystemVssConnection AccessToken) */
  accessToken: string;
  serviceConnectionId: string;
}

export interface OidcToken {
  token: string;
  issuer?: string;
  subject?: string;
  /** Epoch ms, when the token says. */
  expiresOn?: number;
}

/** Decodes (does not verify) a JWT's claims; for diagnostics only. */
export function decodeJwtClaims(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length < 2) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function oidcTokenUrl(req: OidcRequest): string {
  const url = new URL(req.requestUri);
  url.searchParams.set('api-version', '7.1');
  url.searchParams.set('serviceConnectionId', req.serviceConnectionId);
  return url.toString();
}

export async function fetchPipelineOidcToken(
  http: HttpClient,
  req: OidcRequest,
  signal?: AbortSignal,
): Promise<OidcToken> {
  registerSecret(req.accessToken);
  const res = await http.request<unknown>({
    method: 'POST',
    url: oidcTokenUrl(req),
    headers: { Authorization: `Bearer ${req.accessToken}`, 'Content-Type': 'application/json' },
    json: {},
    // Minting an id token has no side effect worth guarding; a retry just mints another.
    idempotent: true,
    skipAuth: true,
    signal,
    responseType: 'json',
    acceptStatuses: [203, 400, 401, 403, 404],
    operation: 'request an OIDC token from Azure DevOps',
  });
  const fix =
    'The task needs System.AccessToken (the job must be allowed to use the OAuth token) and System.OidcRequestUri, and the pipeline must be authorized to use the Azure Resource Manager service connection';
  if (res.status === 401 || res.status === 203) {
    throw new AuthError(
      'oidcRequestFailed',
      `Azure DevOps rejected the job's access token when requesting an OIDC token for service connection ${req.serviceConnectionId} (HTTP ${res.status}). ${fix}.`,
    );
  }
  if (res.status >= 400) {
    const msg = serviceMessage(res.data);
    throw new AuthError(
      'oidcRequestFailed',
      `Azure DevOps could not issue an OIDC token for service connection ${req.serviceConnectionId} (HTTP ${res.status}${msg ? `: ${msg}` : ''}). ${fix}.`,
    );
  }
  const token = (res.data as { oidcToken?: unknown } | null)?.oidcToken;
  if (typeof token !== 'string' || token.length === 0) {
    throw new AuthError(
      'oidcRequestFailed',
      `Azure DevOps returned no oidcToken for service connection ${req.serviceConnectionId}. Check that the service connection uses workload identity federation.`,
    );
  }
  registerSecret(token);
  const claims = decodeJwtClaims(token);
  return {
    token,
    issuer: typeof claims?.iss === 'string' ? claims.iss : undefined,
    subject: typeof claims?.sub === 'string' ? claims.sub : undefined,
    expiresOn: typeof claims?.exp === 'number' ? claims.exp * 1000 : undefined,
  };
}

function serviceMessage(data: unknown): string | undefined {
  if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string') {
    return redactAndTruncate((data as { message: string }).message, 300);
  }
  return undefined;
}
