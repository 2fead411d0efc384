/**
 * Credential contracts. Configs are plain data built by src/pipeline from what
 * the agent hands the task; src/auth turns them into authorizers.
 */

/** Adds authentication headers to a request; implementations cache and refresh tokens. */
export interface RequestAuthorizer {
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /**
   * The service rejected `rejected` (the headers a request carried) as an invalid or
   * expired token: drop the cached tokens it used, unless another request already
   * replaced them. Returns true when the next headers() call brings fresh credentials,
   * false when nothing can be refreshed (a personal access token). Absent: false.
   */
  invalidate?(rejected: Record<string, string>): boolean;
}

export interface TokenProvider {
  /** A valid access token; cached and refreshed before expiry. */
  getToken(signal?: AbortSignal): Promise<string>;
}

export type AzureCredentialConfig =
  | {
      scheme: 'ServicePrincipal';
      tenantId: string;
      clientId: string;
      authorityHost: string;
      clientSecret?: string;
      /** PEM with certificate and private key. */
      certificatePem?: string;
    }
  | {
      scheme: 'ManagedServiceIdentity';
      clientId?: string;
      tenantId?: string;
      authorityHost?: string;
    }
  | {
      scheme: 'WorkloadIdentityFederation';
      tenantId: string;
      clientId: string;
      authorityHost: string;
      oidc: {
        /** System.OidcRequestUri */
        requestUri: string;
        /** SystemVssConnection AccessToken */
        accessToken: string;
        serviceConnectionId: string;
      };
    };

/** An AzureRM service connection, resolved. */
export interface AzureConnection {
  credential: AzureCredentialConfig;
  /** Resource Manager URL from the endpoint, e.g. https://management.azure.com/ */
  resourceManagerUrl: string;
  subscriptionId: string;
  /** Audience for ARM tokens (endpoint data activeDirectoryServiceEndpointResourceId, else the RM URL). */
  resourceManagerAudience: string;
}

export type DatabricksCredentialConfig =
  | { kind: 'pat'; token: string }
  | { kind: 'oauth-m2m'; clientId: string; clientSecret: string }
  | { kind: 'azure'; azure: AzureConnection; workspaceResourceId?: string };

/** A Databricks workspace and how to authenticate to it. */
export interface DatabricksTarget {
  workspaceUrl: string;
  credential: DatabricksCredentialConfig;
}

export const AZURE_DATABRICKS_RESOURCE_ID = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d';
