/**
 * Actionable authentication errors. Entra ID (AADSTS…), Databricks OAuth and
 * Azure DevOps OIDC failures are turned into messages that say which part of
 * which service connection to fix. Messages never contain a secret: every text
 * passes through redact() and only ids (client id, tenant id) are named.
 */
import { redact, redactAndTruncate } from '../common/secrets';

export type AuthErrorCode =
  | 'invalidSecret'
  | 'expiredSecret'
  | 'unknownApp'
  | 'unknownTenant'
  | 'noFederatedMatch'
  | 'assertionExpired'
  | 'invalidCertificate'
  | 'appDisabled'
  | 'resourceNotFound'
  | 'invalidScope'
  | 'invalidClient'
  | 'managedIdentityUnavailable'
  | 'managedIdentityNotFound'
  | 'oidcRequestFailed'
  | 'databricksOAuth'
  | 'network'
  | 'unknown';

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  /** AADSTS number when Entra sent one. */
  readonly aadsts?: number;
  constructor(code: AuthErrorCode, message: string, opts: { aadsts?: number; cause?: unknown } = {}) {
    super(redact(message), opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'AuthError';
    this.code = code;
    this.aadsts = opts.aadsts;
  }
}

/** What the failing credential was, for the message. Ids only, never secrets. */
export interface CredentialDescription {
  scheme: 'ServicePrincipal' | 'ManagedServiceIdentity' | 'WorkloadIdentityFederation';
  clientId?: string;
  tenantId?: string;
  /** 'secret' | 'certificate' for ServicePrincipal. */
  secretKind?: 'secret' | 'certificate';
  scope: string;
  /** Issuer and subject of the federated token (not secret), for AADSTS70021 guidance. */
  federated?: { issuer?: string; subject?: string };
}

const CONNECTION = 'Azure Resource Manager service connection';

function who(d: CredentialDescription): string {
  if (d.scheme === 'ManagedServiceIdentity') {
    return d.clientId ? `managed identity (client id ${d.clientId})` : 'the system-assigned managed identity';
  }
  const kind =
    d.scheme === 'WorkloadIdentityFederation' ? 'workload identity federation' : 'service principal';
  return `${kind} ${d.clientId ?? '?'} in tenant ${d.tenantId ?? '?'}`;
}

/** Pulls the AADSTS number, the OAuth error code and the description out of any error text. */
export function parseEntraError(text: string): { aadsts?: number; error?: string; description?: string } {
  const m = /AADSTS(\d{4,})/.exec(text);
  const err =
    /\b(invalid_client|unauthorized_client|invalid_request|invalid_scope|invalid_grant|invalid_resource|temporarily_unavailable)\b/.exec(
      text,
    );
  let description: string | undefined;
  if (m) {
    // Keep the first sentence of the Entra description: it names the problem without echoing request data.
    // Masked before it is split, flattened or cut, so no part of a secret survives any of those.
    const rest = redact(text.slice(m.index));
    const firstLine = rest.split(/\r?\n|\s-\s(?:Timestamp|Trace ID|Correlation ID)/)[0];
    description = redactAndTruncate(firstLine.replace(/\s+/g, ' ').trim(), 400);
  }
  return { aadsts: m ? Number(m[1]) : undefined, error: err?.[1], description };
}

/**
 * Turns a failure of @azure/identity (or MSAL underneath it) into an AuthError that
 * says what to check. `cause` keeps the original for debug logs.
 */
export function describeAzureAuthFailure(err: unknown, d: CredentialDescription): AuthError {
  if (err instanceof AuthError) return err;
  const raw = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const { aadsts, error, description } = parseEntraError(raw);
  const prefix = `Could not get an Entra ID token for ${who(d)} (scope ${d.scope})`;
  const detail = description ? ` Entra ID said: ${description}` : '';
  const fix = (code: AuthErrorCode, text: string) =>
    new AuthError(code, `${prefix}: ${text}${detail}`, { aadsts, cause: err });

  switch (aadsts) {
    case 7000215:
      return fix(
        'invalidSecret',
        `the client secret is wrong. Update the service principal key of the ${CONNECTION} (Project settings > Service connections) with the secret's Value (not its Secret ID), or create a new client secret for the app registration.`,
      );
    case 7000222:
      return fix(
        'expiredSecret',
        `the client secret has expired. Create a new client secret for the app registration and update the ${CONNECTION}.`,
      );
    case 700016:
      return fix(
        'unknownApp',
        `no application with this client id exists in the tenant. Check the service principal (client) id and the tenant id of the ${CONNECTION}, and that the app registration has not been deleted.`,
      );
    case 90002:
    case 900023:
    case 900022:
      return fix('unknownTenant', `the tenant was not found. Check the tenant id of the ${CONNECTION}.`);
    case 70021: {
      const f = d.federated;
      const claim =
        f?.issuer || f?.subject
          ? ` The pipeline presented issuer '${f?.issuer ?? '?'}' and subject '${f?.subject ?? '?'}'.`
          : '';
      return fix(
        'noFederatedMatch',
        `no federated identity credential on the app registration (or managed identity) matches the token Azure DevOps issued for this pipeline.${claim} Add a federated credential with exactly that issuer and subject (the ${CONNECTION} shows both), or convert the service connection to workload identity federation again.`,
      );
    }
    case 700024:
      return fix(
        'assertionExpired',
        `the client assertion was outside its valid time range. For workload identity federation the pipeline's OIDC token had expired; check the agent's clock and retry.`,
      );
    case 700027:
    case 700023:
      return fix(
        'invalidCertificate',
        `the client assertion was rejected: the certificate of the ${CONNECTION} is not registered on the app registration (or has been replaced). Upload the certificate's public key to the app registration, or update the PEM in the service connection.`,
      );
    case 7000112:
      return fix(
        'appDisabled',
        `the application is disabled in the tenant. Ask a tenant administrator to enable it.`,
      );
    case 500011:
      return fix(
        'resourceNotFound',
        `the resource of the requested scope is not known in the tenant. For Azure Databricks the tenant must contain the AzureDatabricks enterprise application (app id 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d); check the tenant id of the ${CONNECTION}.`,
      );
    case 70011:
      return fix(
        'invalidScope',
        `the requested scope is invalid. Check the environment (cloud) of the ${CONNECTION}.`,
      );
    default:
      break;
  }
  if (d.scheme === 'ManagedServiceIdentity') return describeManagedIdentityFailure(err, raw, d);
  if (/endpoints_resolution_error/.test(raw)) {
    return fix(
      'unknownTenant',
      `Entra ID did not return the OpenID configuration of the tenant. Check the tenant id and the environment (authority URL) of the ${CONNECTION}.`,
    );
  }
  if (error === 'invalid_client' || error === 'unauthorized_client') {
    const what =
      d.scheme === 'WorkloadIdentityFederation'
        ? 'the federated credential'
        : d.secretKind === 'certificate'
          ? 'the certificate'
          : 'the client secret';
    return fix(
      'invalidClient',
      `Entra ID rejected the client (${error}). Check the client id, the tenant id and ${what} of the ${CONNECTION}.`,
    );
  }
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network/i.test(raw) && !aadsts) {
    return fix(
      'network',
      `the Entra ID authority could not be reached (${firstLine(raw)}). Check the agent's network and proxy, and the environment (authority URL) of the ${CONNECTION}.`,
    );
  }
  return fix('unknown', firstLine(raw));
}

export function describeManagedIdentityFailure(
  err: unknown,
  raw: string,
  d: CredentialDescription,
): AuthError {
  const prefix = `Could not get a token for ${who(d)} (scope ${d.scope})`;
  if (/identity not found|no managed identity found|identity.*not.*assigned/i.test(raw)) {
    return new AuthError(
      'managedIdentityNotFound',
      `${prefix}: the agent machine has no such identity. Assign the managed identity to the agent's VM or scale set, and check the managed identity client id of the ${CONNECTION}. (${firstLine(raw)})`,
      { cause: err },
    );
  }
  return new AuthError(
    'managedIdentityUnavailable',
    `${prefix}: the Azure Instance Metadata Service is not reachable. The ManagedServiceIdentity scheme only works on self-hosted agents running on Azure VMs or scale sets with a managed identity assigned; use a workload identity federation connection for Microsoft-hosted agents. (${firstLine(raw)})`,
    { cause: err },
  );
}

function firstLine(text: string): string {
  return redactAndTruncate(redact(text).split(/\r?\n/)[0], 300);
}
