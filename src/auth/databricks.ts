/**
 * Authorization headers for Databricks REST calls: a PAT, a Databricks OAuth
 * machine-to-machine token (client credentials at {workspace}/oidc/v1/token),
 * or an Entra ID token for the AzureDatabricks resource, with the ARM
 * management token headers when a workspace resource id is given (service
 * principals that are not workspace users).
 */
import type { Logger } from '../common/logger';
import { redactAndTruncate, registerSecret } from '../common/secrets';
import type { HttpClient } from '../http/types';
import {
  createAzureCredentialHandle,
  createAzureTokenProvider,
  scopeForResource,
  armScope,
  type AzureTokenProviderOptions,
} from './azure';
import { bearerTokenOf, headerValue } from './authorized-http';
import { AuthError } from './errors';
import { RefreshingTokenCache, type TokenCacheOptions } from './token-cache';
import { AZURE_DATABRICKS_RESOURCE_ID, type DatabricksTarget, type RequestAuthorizer } from './types';

export const DATABRICKS_SCOPE = `${AZURE_DATABRICKS_RESOURCE_ID}/.default`;

export interface DatabricksAuthOptions extends TokenCacheOptions {
  /** Used by tests to share a handle; normally built from the target. */
  azure?: AzureTokenProviderOptions;
}

export function workspaceBaseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** Token provider for Databricks OAuth M2M (service principal client id and OAuth secret). */
export function createDatabricksM2MTokenProvider(
  workspaceUrl: string,
  clientId: string,
  clientSecret: string,
  http: HttpClient,
  logger?: Logger,
  opts: TokenCacheOptions = {},
): RefreshingTokenCache {
  registerSecret(clientSecret);
  const basic = Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64');
  registerSecret(basic);
  const tokenUrl = `${workspaceBaseUrl(workspaceUrl)}/oidc/v1/token`;
  const now = opts.now ?? Date.now;
  return new RefreshingTokenCache(
    async (signal) => {
      logger?.debug(`Requesting a Databricks OAuth token for service principal ${clientId}.`);
      const started = now();
      const res = await http.request<unknown>({
        method: 'POST',
        url: tokenUrl,
        headers: { Authorization: `Basic ${basic}` },
        form: { grant_type: 'client_credentials', scope: 'all-apis' },
        idempotent: true,
        skipAuth: true,
        signal,
        responseType: 'json',
        acceptStatuses: [400, 401, 403, 404],
        operation: 'get a Databricks OAuth token',
      });
      if (res.status >= 400) throw m2mError(res.status, res.data, clientId, workspaceUrl);
      const body = (res.data ?? {}) as { access_token?: unknown; expires_in?: unknown };
      if (typeof body.access_token !== 'string' || !body.access_token) {
        throw new AuthError(
          'databricksOAuth',
          `The Databricks OAuth token endpoint of ${workspaceUrl} returned no access_token. Check the workspace URL of the DatabricksWorkspace service connection.`,
        );
      }
      registerSecret(body.access_token);
      const expiresIn = Number(body.expires_in);
      // A missing expires_in means the usual hour; zero or less means "already expiring",
      // so the cache refreshes on next use instead of trusting the token for an hour.
      const lifetimeS = Number.isFinite(expiresIn) ? Math.max(0, expiresIn) : 3600;
      return { token: body.access_token, expiresOnTimestamp: started + lifetimeS * 1000 };
    },
    {
      ...opts,
      onRefreshError:
        opts.onRefreshError ??
        ((err) =>
          logger?.warn(
            `Refreshing the Databricks OAuth token failed; using the current one while it lasts: ${err instanceof Error ? err.message : String(err)}`,
          )),
    },
  );
}

function m2mError(status: number, data: unknown, clientId: string, workspaceUrl: string): AuthError {
  const d = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  const code =
    typeof d.error === 'string' ? d.error : typeof d.error_code === 'string' ? d.error_code : undefined;
  const desc =
    typeof d.error_description === 'string'
      ? d.error_description
      : typeof d.message === 'string'
        ? d.message
        : undefined;
  const said =
    code || desc
      ? ` Databricks said: ${redactAndTruncate([code, desc].filter(Boolean).join(': '), 300)}`
      : '';
  if (status === 404) {
    return new AuthError(
      'databricksOAuth',
      `${workspaceUrl} has no Databricks OAuth token endpoint (HTTP 404 for /oidc/v1/token). Check the workspace URL of the DatabricksWorkspace service connection.${said}`,
    );
  }
  return new AuthError(
    'databricksOAuth',
    `Databricks OAuth (machine-to-machine) sign-in failed for service principal ${clientId} at ${workspaceUrl} (HTTP ${status}). Check the DatabricksWorkspace service connection: the client id (username) must be the service principal's application id and the password one of its OAuth secrets, and the service principal must be added to the workspace.${said}`,
  );
}

/**
 * Builds the authorizer for a Databricks target. The returned headers are fresh
 * on every call (tokens are cached and refreshed before expiry).
 */
export function createDatabricksAuthorizer(
  target: DatabricksTarget,
  http: HttpClient,
  logger?: Logger,
  opts: DatabricksAuthOptions = {},
): RequestAuthorizer {
  const cred = target.credential;
  switch (cred.kind) {
    case 'pat': {
      if (!cred.token) {
        throw new AuthError(
          'invalidClient',
          'The DatabricksWorkspace service connection has an empty personal access token.',
        );
      }
      registerSecret(cred.token);
      const headers = { Authorization: `Bearer ${cred.token}` };
      // A PAT cannot be refreshed: a 401 is final.
      return { headers: async () => ({ ...headers }), invalidate: () => false };
    }
    case 'oauth-m2m': {
      const provider = createDatabricksM2MTokenProvider(
        target.workspaceUrl,
        cred.clientId,
        cred.clientSecret,
        http,
        logger,
        opts,
      );
      return {
        async headers(signal?: AbortSignal) {
          return { Authorization: `Bearer ${await provider.getToken(signal)}` };
        },
        invalidate: (rejected) => provider.invalidate(bearerTokenOf(rejected)),
      };
    }
    case 'azure': {
      const handle = opts.azure?.handle ?? createAzureCredentialHandle(cred.azure.credential, http);
      const providerOpts: AzureTokenProviderOptions = { ...opts, ...opts.azure, handle, logger };
      const databricks = createAzureTokenProvider(
        cred.azure.credential,
        scopeForResource(AZURE_DATABRICKS_RESOURCE_ID),
        http,
        providerOpts,
      );
      const resourceId = cred.workspaceResourceId?.trim();
      if (!resourceId) {
        return {
          async headers(signal?: AbortSignal) {
            return { Authorization: `Bearer ${await databricks.getToken(signal)}` };
          },
          invalidate: (rejected) => databricks.invalidate(bearerTokenOf(rejected)),
        };
      }
      // A service principal that is not a workspace user signs in through its Azure role on the workspace resource.
      const management = createAzureTokenProvider(
        cred.azure.credential,
        armScope(cred.azure),
        http,
        providerOpts,
      );
      return {
        async headers(signal?: AbortSignal) {
          const [token, mgmt] = await Promise.all([databricks.getToken(signal), management.getToken(signal)]);
          return {
            Authorization: `Bearer ${token}`,
            'X-Databricks-Azure-SP-Management-Token': mgmt,
            'X-Databricks-Azure-Workspace-Resource-Id': resourceId,
          };
        },
        invalidate(rejected) {
          // Either token may be the stale one; each cache drops only the token that was sent.
          const a = databricks.invalidate(bearerTokenOf(rejected));
          const b = management.invalidate(headerValue(rejected, 'X-Databricks-Azure-SP-Management-Token'));
          return a || b;
        },
      };
    }
    default: {
      const never: never = cred;
      throw new AuthError(
        'unknown',
        `Unsupported Databricks credential ${(never as { kind: string }).kind}.`,
      );
    }
  }
}
