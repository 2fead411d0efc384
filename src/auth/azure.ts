/**
 * Entra ID tokens for an Azure Resource Manager service connection, through
 * @azure/identity: service principal (secret or PEM certificate), managed
 * identity, and workload identity federation (a fresh Azure DevOps OIDC token
 * as the client assertion each time Entra is asked). authorityHost always comes
 * from the connection and instance discovery is off, so sovereign clouds and
 * the emulator work the same way.
 */
import type { TokenCredential } from '@azure/identity';
import type * as Identity from './identity-credentials';
import type { Logger } from '../common/logger';
import { redactAndTruncate, registerSecret } from '../common/secrets';
import type { HttpClient } from '../http/types';
import { bearerTokenOf } from './authorized-http';
import {
  AuthError,
  describeAzureAuthFailure,
  describeManagedIdentityFailure,
  type CredentialDescription,
} from './errors';
import { createIdentityHttpClient, type IdentityHttpAdapter } from './identity-http';
import { fetchPipelineOidcToken } from './oidc';
import { RefreshingTokenCache, type AccessTokenInfo, type TokenCacheOptions } from './token-cache';
import type { AzureConnection, AzureCredentialConfig, RequestAuthorizer, TokenProvider } from './types';

let identityModule: typeof Identity | undefined;

/** @azure/identity (with MSAL) is loaded on first use: tasks using a PAT never pay its start-up cost. */
function identity(): typeof Identity {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  identityModule ??= require('./identity-credentials') as typeof Identity;
  return identityModule;
}

/** `<resource>/.default` without a doubled slash ('https://management.core.windows.net/' → '…windows.net/.default'). */
export function scopeForResource(resource: string): string {
  const r = resource.trim();
  if (r.endsWith('/.default')) return r;
  return `${r.replace(/\/+$/, '')}/.default`;
}

export function normaliseAuthorityHost(host: string): string {
  return host.trim().replace(/\/+$/, '');
}

/** A credential plus what the provider needs to explain its failures. */
export interface AzureCredentialHandle {
  credential: TokenCredential;
  describe(scope: string): CredentialDescription;
  /** Errors raised by our own code inside the credential (OIDC request, transport). */
  takeInnerError(): unknown;
  /** The last error response body Entra sent, when the credential's error lost it. */
  takeErrorBody?(): string | undefined;
}

/** Registers a PEM, and each line of its private key, so partial echoes are masked too. */
function registerPem(pem: string): void {
  registerSecret(pem);
  let inKey = false;
  for (const line of pem.split(/\r?\n/)) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(line)) inKey = true;
    else if (/-----END [A-Z ]*PRIVATE KEY-----/.test(line)) inKey = false;
    else if (inKey && line.trim().length >= 16) registerSecret(line.trim());
  }
}

export function createAzureCredentialHandle(
  conn: AzureCredentialConfig,
  http: HttpClient,
): AzureCredentialHandle {
  const transport: IdentityHttpAdapter = createIdentityHttpClient(http, 'get an Entra ID token');
  // Our client retries (with Retry-After); identity's own pipeline must not multiply that.
  const common = { httpClient: transport, retryOptions: { maxRetries: 0 } };
  let innerError: unknown;
  const takeInnerError = (): unknown => {
    const e = innerError ?? transport.takeTransportError();
    innerError = undefined;
    transport.takeTransportError();
    return e;
  };
  const takeErrorBody = (): string | undefined => transport.takeErrorBody();

  switch (conn.scheme) {
    case 'ServicePrincipal': {
      const options = {
        ...common,
        authorityHost: normaliseAuthorityHost(conn.authorityHost),
        disableInstanceDiscovery: true,
      };
      let credential: TokenCredential;
      let secretKind: 'secret' | 'certificate';
      if (conn.certificatePem) {
        registerPem(conn.certificatePem);
        if (
          !/-----BEGIN CERTIFICATE-----/.test(conn.certificatePem) ||
          !/PRIVATE KEY-----/.test(conn.certificatePem)
        ) {
          throw new AuthError(
            'invalidCertificate',
            `The service principal certificate of the Azure Resource Manager service connection must be a PEM holding both the certificate and its private key (client id ${conn.clientId}).`,
          );
        }
        credential = new (identity().ClientCertificateCredential)(
          conn.tenantId,
          conn.clientId,
          { certificate: conn.certificatePem },
          options,
        );
        secretKind = 'certificate';
      } else if (conn.clientSecret) {
        registerSecret(conn.clientSecret);
        credential = new (identity().ClientSecretCredential)(
          conn.tenantId,
          conn.clientId,
          conn.clientSecret,
          options,
        );
        secretKind = 'secret';
      } else {
        throw new AuthError(
          'invalidClient',
          `The Azure Resource Manager service connection for service principal ${conn.clientId} has neither a client secret nor a certificate.`,
        );
      }
      return {
        credential,
        takeInnerError,
        takeErrorBody,
        describe: (scope) => ({
          scheme: 'ServicePrincipal',
          clientId: conn.clientId,
          tenantId: conn.tenantId,
          secretKind,
          scope,
        }),
      };
    }
    case 'ManagedServiceIdentity': {
      const credential = conn.clientId
        ? new (identity().ManagedIdentityCredential)({ ...common, clientId: conn.clientId })
        : new (identity().ManagedIdentityCredential)({ ...common });
      return {
        credential,
        takeInnerError,
        takeErrorBody,
        describe: (scope) => ({
          scheme: 'ManagedServiceIdentity',
          clientId: conn.clientId,
          tenantId: conn.tenantId,
          scope,
        }),
      };
    }
    case 'WorkloadIdentityFederation': {
      registerSecret(conn.oidc.accessToken);
      let federated: { issuer?: string; subject?: string } | undefined;
      let last: { token: string; fetchedAt: number; expiresOn?: number } | undefined;
      // MSAL calls this whenever it goes to Entra: a new short-lived assertion each time. MSAL
      // asks twice within one acquisition (client config, then request), so an assertion fetched
      // seconds ago with most of its life left is handed out again rather than minting another.
      const getAssertion = async (): Promise<string> => {
        const now = Date.now();
        const fresh =
          last &&
          now - last.fetchedAt < 10_000 &&
          (last.expiresOn === undefined || last.expiresOn - now > (last.expiresOn - last.fetchedAt) / 2);
        if (last && fresh) {
          return last.token;
        }
        try {
          const t = await fetchPipelineOidcToken(http, conn.oidc);
          federated = { issuer: t.issuer, subject: t.subject };
          last = { token: t.token, fetchedAt: Date.now(), expiresOn: t.expiresOn };
          return t.token;
        } catch (err) {
          innerError = err;
          throw err;
        }
      };
      const credential = new (identity().ClientAssertionCredential)(
        conn.tenantId,
        conn.clientId,
        getAssertion,
        {
          ...common,
          authorityHost: normaliseAuthorityHost(conn.authorityHost),
          disableInstanceDiscovery: true,
        },
      );
      return {
        credential,
        takeInnerError,
        takeErrorBody,
        describe: (scope) => ({
          scheme: 'WorkloadIdentityFederation',
          clientId: conn.clientId,
          tenantId: conn.tenantId,
          scope,
          federated,
        }),
      };
    }
    default: {
      const never: never = conn;
      throw new AuthError(
        'unknown',
        `Unsupported Azure credential scheme ${(never as { scheme: string }).scheme}.`,
      );
    }
  }
}

/** The bare @azure/identity credential for a connection (token requests go through `http`). */
export function createAzureCredential(conn: AzureCredentialConfig, http: HttpClient): TokenCredential {
  return createAzureCredentialHandle(conn, http).credential;
}

export interface AzureTokenProviderOptions extends TokenCacheOptions {
  logger?: Logger;
  /** Share one credential between scopes (e.g. Databricks and ARM tokens of one connection). */
  handle?: AzureCredentialHandle;
}

/** Fetches one token from the handle's credential and explains failures. */
async function fetchAzureToken(
  handle: AzureCredentialHandle,
  scope: string,
  signal?: AbortSignal,
): Promise<AccessTokenInfo> {
  handle.takeInnerError();
  handle.takeErrorBody?.();
  let token;
  try {
    token = await handle.credential.getToken(scope, { abortSignal: signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : err;
    const inner = handle.takeInnerError();
    const d = handle.describe(scope);
    if (inner instanceof AuthError) throw inner;
    if (inner instanceof Error && !/AADSTS\d+/.test(String(err))) {
      // No IMDS answering means this is not an Azure VM with an identity: say so.
      if (d.scheme === 'ManagedServiceIdentity')
        throw describeManagedIdentityFailure(inner, inner.message, d);
      // Our HTTP client's message already says what to check (DNS, proxy, TLS, retries exhausted).
      throw new AuthError('network', `Could not get an Entra ID token (scope ${scope}): ${inner.message}`, {
        cause: inner,
      });
    }
    // MSAL drops the body of some failures (e.g. the OpenID configuration of an unknown tenant).
    const body = handle.takeErrorBody?.();
    const withBody =
      body && !/AADSTS\d+/.test(String(err)) && /AADSTS\d+/.test(body)
        ? new Error(`${err instanceof Error ? err.message : String(err)}\n${describeBody(body)}`, {
            cause: err,
          })
        : err;
    throw describeAzureAuthFailure(withBody, d);
  }
  if (!token?.token) {
    throw new AuthError('unknown', `Entra ID returned no access token for scope ${scope}.`);
  }
  registerSecret(token.token);
  return {
    token: token.token,
    expiresOnTimestamp: token.expiresOnTimestamp,
    refreshAfterTimestamp: token.refreshAfterTimestamp,
  };
}

/** A cached, self-refreshing token for one scope. */
export function createAzureTokenProvider(
  conn: AzureCredentialConfig,
  scope: string,
  http: HttpClient,
  opts: AzureTokenProviderOptions = {},
): RefreshingTokenCache {
  let handle = opts.handle ?? createAzureCredentialHandle(conn, http);
  const logger = opts.logger;
  return new RefreshingTokenCache(
    async (signal) => {
      logger?.debug(`Requesting an Entra ID token for scope ${scope} (${conn.scheme}).`);
      const t = await fetchAzureToken(handle, scope, signal);
      logger?.debug(
        `Got an Entra ID token for scope ${scope}, valid until ${new Date(t.expiresOnTimestamp).toISOString()}.`,
      );
      return t;
    },
    {
      ...opts,
      onRefreshError:
        opts.onRefreshError ??
        ((err) =>
          logger?.warn(
            `Refreshing the Entra ID token failed; using the current one while it lasts: ${errText(err)}`,
          )),
      // MSAL caches tokens inside each credential, so after a rejection a fresh credential
      // asks Entra again. A managed identity cannot: MSAL and IMDS both cache its tokens.
      canForceRefresh: opts.canForceRefresh ?? conn.scheme !== 'ManagedServiceIdentity',
      onInvalidate: () => {
        opts.onInvalidate?.();
        if (conn.scheme !== 'ManagedServiceIdentity') handle = createAzureCredentialHandle(conn, http);
      },
    },
  );
}

/** Scope for Resource Manager tokens of a connection. */
export function armScope(conn: AzureConnection): string {
  return scopeForResource(conn.resourceManagerAudience || conn.resourceManagerUrl);
}

export function createArmTokenProvider(
  conn: AzureConnection,
  http: HttpClient,
  opts: AzureTokenProviderOptions = {},
): RefreshingTokenCache {
  return createAzureTokenProvider(conn.credential, armScope(conn), http, opts);
}

export function bearerAuthorizer(provider: TokenProvider): RequestAuthorizer {
  return {
    async headers(signal?: AbortSignal) {
      return { Authorization: `Bearer ${await provider.getToken(signal)}` };
    },
    invalidate(rejected) {
      // Only a refreshing cache can mint a new token.
      if (!(provider instanceof RefreshingTokenCache)) return false;
      return provider.invalidate(bearerTokenOf(rejected));
    },
  };
}

export function createArmAuthorizer(
  conn: AzureConnection,
  http: HttpClient,
  opts: AzureTokenProviderOptions = {},
): RequestAuthorizer {
  return bearerAuthorizer(createArmTokenProvider(conn, http, opts));
}

/** error and error_description of an Entra error body, or its start. */
function describeBody(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    if (typeof j.error_description === 'string') return `${String(j.error ?? '')}: ${j.error_description}`;
  } catch {
    // not JSON
  }
  return redactAndTruncate(body, 300);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
