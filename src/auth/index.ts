/** Public surface of src/auth. */
export * from './types';
export { AuthError, describeAzureAuthFailure, parseEntraError, type AuthErrorCode } from './errors';
export { RefreshingTokenCache, type AccessTokenInfo, type TokenCacheOptions } from './token-cache';
export {
  armScope,
  bearerAuthorizer,
  createArmAuthorizer,
  createArmTokenProvider,
  createAzureCredential,
  createAzureCredentialHandle,
  createAzureTokenProvider,
  normaliseAuthorityHost,
  scopeForResource,
  type AzureCredentialHandle,
  type AzureTokenProviderOptions,
} from './azure';
export {
  createDatabricksAuthorizer,
  createDatabricksM2MTokenProvider,
  DATABRICKS_SCOPE,
  workspaceBaseUrl,
  type DatabricksAuthOptions,
} from './databricks';
export {
  decodeJwtClaims,
  fetchPipelineOidcToken,
  oidcTokenUrl,
  type OidcRequest,
  type OidcToken,
} from './oidc';
export { createIdentityHttpClient } from './identity-http';
export { authorizedHttp, bearerTokenOf, headerValue } from './authorized-http';
