/**
 * Service connections to credentials: the custom DatabricksWorkspace endpoint
 * (Token → PAT, UsernamePassword → Databricks OAuth M2M) and AzureRM
 * (ServicePrincipal with a key or a PEM certificate, ManagedServiceIdentity,
 * WorkloadIdentityFederation). Every secret is registered (and so passed to
 * tl.setSecret) the moment it is read.
 */
import type { AzureConnection, AzureCredentialConfig, DatabricksTarget } from '../auth/types';
import { registerSecret } from '../common/secrets';
import { InputError, quoteValue } from './errors';
import { InputReader } from './inputs';
import { isBlank } from './parse';
import { agentSource, type TaskSource } from './tl';

/** Authority hosts by environment name, only for connections that carry no authority URL. */
const KNOWN_AUTHORITIES: Record<string, string> = {
  azurecloud: 'https://login.microsoftonline.com',
  azureusgovernment: 'https://login.microsoftonline.us',
  azurechinacloud: 'https://login.chinacloudapi.cn',
};

const DATABRICKS_HOST_SUFFIXES = ['.azuredatabricks.net', '.databricks.azure.us', '.databricks.azure.cn'];

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Parses a service URL: https, or http only on loopback (the emulator). */
export function parseServiceUrl(raw: string, describe: () => string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`${describe()} is not a valid URL (got ${quoteValue(raw)}).`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new Error(`${describe()} must be an https:// URL (got ${quoteValue(raw)}).`);
}

/** Validates an Azure Databricks workspace URL and returns its origin (no path, query or trailing slash). */
export function validateWorkspaceUrl(inputName: string, raw: string): string {
  let url: URL;
  try {
    url = parseServiceUrl(raw, () => `Input '${inputName}'`);
  } catch (e) {
    throw new InputError(
      inputName,
      (e as Error).message +
        ' Use the workspace URL, e.g. https://adb-1234567890123456.7.azuredatabricks.net.',
    );
  }
  const host = url.hostname.toLowerCase();
  if (
    !isLoopbackHost(host) &&
    !DATABRICKS_HOST_SUFFIXES.some((s) => host.endsWith(s) && host.length > s.length)
  ) {
    throw new InputError(
      inputName,
      `Input '${inputName}' must be an Azure Databricks workspace URL such as https://adb-1234567890123456.7.azuredatabricks.net (host under ${DATABRICKS_HOST_SUFFIXES.map((s) => s.slice(1)).join(', ')}); got ${quoteValue(raw.trim())}.`,
    );
  }
  if (url.username || url.password) {
    throw new InputError(inputName, `Input '${inputName}' must not contain credentials in the URL.`);
  }
  return url.origin;
}

const RESOURCE_ID =
  /^\/subscriptions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/resourceGroups\/([-\w._()]{1,90})\/providers\/Microsoft\.Databricks\/workspaces\/([-\w.]{1,64})$/i;

export function validateWorkspaceResourceId(inputName: string, raw: string): string {
  const v = raw.trim().replace(/\/+$/, '');
  if (!RESOURCE_ID.test(v)) {
    throw new InputError(
      inputName,
      `Input '${inputName}' must be an Azure Databricks workspace resource id like /subscriptions/<subscription guid>/resourceGroups/<group>/providers/Microsoft.Databricks/workspaces/<name> (got ${quoteValue(v, 200)}).`,
    );
  }
  return v;
}

function secret(value: string | undefined): string | undefined {
  if (value) registerSecret(value);
  return value;
}

export interface DatabricksTargetInputNames {
  authType: string;
  databricksConnection: string;
  azureSubscription: string;
  workspaceUrl: string;
  workspaceResourceId: string;
}

export const DEFAULT_DATABRICKS_TARGET_INPUTS: DatabricksTargetInputNames = {
  authType: 'authType',
  databricksConnection: 'databricksConnection',
  azureSubscription: 'azureSubscription',
  workspaceUrl: 'workspaceUrl',
  workspaceResourceId: 'workspaceResourceId',
};

export class EndpointReader {
  private readonly inputs: InputReader;
  constructor(private readonly source: TaskSource) {
    this.inputs = new InputReader(source);
  }

  private connectionId(inputName: string, type: string): string {
    const id = this.inputs.raw(inputName);
    if (!id)
      throw new InputError(
        inputName,
        `Input '${inputName}' is required: choose a ${type} service connection.`,
      );
    return id;
  }

  /** A `connectedService:DatabricksWorkspace` input. */
  readDatabricksConnection(inputName: string): DatabricksTarget {
    const id = this.connectionId(inputName, 'DatabricksWorkspace');
    const url = this.source.getEndpointUrl(id);
    if (isBlank(url)) {
      throw new InputError(
        inputName,
        `Input '${inputName}': the DatabricksWorkspace service connection has no workspace URL.`,
      );
    }
    const workspaceUrl = validateWorkspaceUrl(inputName, url);
    const scheme = this.source.getEndpointAuthorizationScheme(id) ?? '';
    switch (scheme.toLowerCase()) {
      case 'token': {
        const token = secret(this.source.getEndpointAuthorizationParameter(id, 'apitoken'));
        if (!token) {
          throw new InputError(
            inputName,
            `Input '${inputName}': the DatabricksWorkspace service connection has no personal access token.`,
          );
        }
        return { workspaceUrl, credential: { kind: 'pat', token: token.trim() } };
      }
      case 'usernamepassword': {
        const clientId = this.source.getEndpointAuthorizationParameter(id, 'username')?.trim();
        const clientSecret = secret(this.source.getEndpointAuthorizationParameter(id, 'password'));
        if (!clientId || !clientSecret) {
          throw new InputError(
            inputName,
            `Input '${inputName}': the DatabricksWorkspace service connection needs the service principal's client id as user name and an OAuth secret as password.`,
          );
        }
        return {
          workspaceUrl,
          credential: { kind: 'oauth-m2m', clientId, clientSecret: clientSecret.trim() },
        };
      }
      default:
        throw new InputError(
          inputName,
          `Input '${inputName}': the DatabricksWorkspace service connection uses the authentication scheme ${quoteValue(scheme || '(none)')}; use a personal access token or an OAuth service principal (client id and secret).`,
        );
    }
  }

  /** A `connectedService:AzureRM` input. */
  readAzureConnection(inputName: string): AzureConnection {
    const id = this.connectionId(inputName, 'Azure Resource Manager');
    const scheme = this.source.getEndpointAuthorizationScheme(id) ?? '';
    const param = (key: string) =>
      this.source.getEndpointAuthorizationParameter(id, key)?.trim() || undefined;
    const data = (key: string) => this.source.getEndpointDataParameter(id, key)?.trim() || undefined;
    const conn = `Input '${inputName}': the Azure Resource Manager service connection`;

    // No public-cloud default: Microsoft's own tasks (azure-arm-rest AzureRMEndpoint) take the
    // URL from the connection as is, and a guess would send sovereign-cloud tokens elsewhere.
    const rawUrl = this.source.getEndpointUrl(id)?.trim();
    if (!rawUrl) {
      throw new InputError(
        inputName,
        `${conn} has no Resource Manager URL (for Azure public cloud it is https://management.azure.com/). Edit the service connection, or re-create it, so that its environment sets the URL.`,
      );
    }
    let resourceManagerUrl: string;
    try {
      resourceManagerUrl = parseServiceUrl(rawUrl, () => `${conn}'s Resource Manager URL`).toString();
    } catch (e) {
      throw new InputError(inputName, (e as Error).message);
    }
    const authorityRaw =
      data('activeDirectoryAuthority') ??
      data('environmentAuthorityUrl') ??
      KNOWN_AUTHORITIES[(data('environment') ?? 'AzureCloud').toLowerCase()];
    const authorityHost = () => {
      if (!authorityRaw) {
        throw new InputError(
          inputName,
          `${conn} has no Entra ID authority (activeDirectoryAuthority) for environment ${quoteValue(data('environment') ?? '')}.`,
        );
      }
      let u: URL;
      try {
        u = new URL(authorityRaw);
      } catch {
        throw new InputError(
          inputName,
          `${conn}'s authority URL is not a valid URL (got ${quoteValue(authorityRaw)}).`,
        );
      }
      // MSAL only talks to https authorities, loopback included.
      if (u.protocol !== 'https:') {
        throw new InputError(
          inputName,
          `${conn}'s authority URL must be https:// (got ${quoteValue(authorityRaw)}).`,
        );
      }
      return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
    };
    const tenant = () => {
      const t = param('tenantid');
      if (!t) throw new InputError(inputName, `${conn} has no tenant id.`);
      return t;
    };
    const clientId = () => {
      const c = param('serviceprincipalid');
      if (!c) throw new InputError(inputName, `${conn} has no service principal (client) id.`);
      return c;
    };

    let credential: AzureCredentialConfig;
    switch (scheme.toLowerCase()) {
      case 'serviceprincipal': {
        const authType = (param('authenticationType') ?? 'spnKey').toLowerCase();
        if (authType === 'spncertificate') {
          const pem = secret(
            this.source.getEndpointAuthorizationParameter(id, 'servicePrincipalCertificate'),
          );
          if (!pem || !/-----BEGIN CERTIFICATE-----/.test(pem) || !/PRIVATE KEY-----/.test(pem)) {
            throw new InputError(
              inputName,
              `${conn} uses certificate authentication but its certificate is not a PEM with both the certificate and the private key.`,
            );
          }
          credential = {
            scheme: 'ServicePrincipal',
            tenantId: tenant(),
            clientId: clientId(),
            authorityHost: authorityHost(),
            certificatePem: pem,
          };
        } else {
          const key = secret(this.source.getEndpointAuthorizationParameter(id, 'serviceprincipalkey'));
          if (!key) throw new InputError(inputName, `${conn} has no service principal key.`);
          credential = {
            scheme: 'ServicePrincipal',
            tenantId: tenant(),
            clientId: clientId(),
            authorityHost: authorityHost(),
            clientSecret: key,
          };
        }
        break;
      }
      case 'managedserviceidentity': {
        credential = {
          scheme: 'ManagedServiceIdentity',
          clientId: data('msiclientId') ?? param('msiclientId'),
          tenantId: param('tenantid'),
          authorityHost: authorityRaw ? authorityHost() : undefined,
        };
        break;
      }
      case 'workloadidentityfederation': {
        const requestUri = this.source.getVariable('System.OidcRequestUri')?.trim();
        if (!requestUri) {
          throw new InputError(
            inputName,
            `${conn} uses workload identity federation, but the agent did not provide System.OidcRequestUri: update the Azure Pipelines agent.`,
          );
        }
        try {
          parseServiceUrl(requestUri, () => 'System.OidcRequestUri');
        } catch (e) {
          throw new InputError(inputName, (e as Error).message);
        }
        const accessToken = secret(
          this.source.getEndpointAuthorizationParameter('SystemVssConnection', 'AccessToken'),
        );
        if (!accessToken) {
          throw new InputError(
            inputName,
            `${conn} uses workload identity federation, which needs the job's access token (System.AccessToken); allow scripts to access the OAuth token for this job.`,
          );
        }
        credential = {
          scheme: 'WorkloadIdentityFederation',
          tenantId: tenant(),
          clientId: clientId(),
          authorityHost: authorityHost(),
          oidc: { requestUri, accessToken, serviceConnectionId: id },
        };
        break;
      }
      default:
        throw new InputError(
          inputName,
          `${conn} uses the scheme ${quoteValue(scheme || '(none)')}; supported are service principal (secret or certificate), managed identity and workload identity federation.`,
        );
    }
    return {
      credential,
      resourceManagerUrl,
      subscriptionId: data('subscriptionId') ?? '',
      resourceManagerAudience: data('activeDirectoryServiceEndpointResourceId') ?? resourceManagerUrl,
    };
  }

  /**
   * The shared Databricks target inputs: authType (databricks | azureRM),
   * databricksConnection, azureSubscription, workspaceUrl, workspaceResourceId.
   */
  readDatabricksTarget(names: Partial<DatabricksTargetInputNames> = {}): DatabricksTarget {
    const n = { ...DEFAULT_DATABRICKS_TARGET_INPUTS, ...names };
    const authType = this.inputs.getPickList(n.authType, ['databricks', 'azureRM'] as const, 'databricks');
    if (authType === 'databricks') return this.readDatabricksConnection(n.databricksConnection);
    const azure = this.readAzureConnection(n.azureSubscription);
    const url = this.inputs.raw(n.workspaceUrl);
    if (!url) {
      throw new InputError(
        n.workspaceUrl,
        `Input '${n.workspaceUrl}' is required when authenticating with an Azure Resource Manager service connection: give the workspace URL, e.g. https://adb-1234567890123456.7.azuredatabricks.net.`,
      );
    }
    const workspaceUrl = validateWorkspaceUrl(n.workspaceUrl, url);
    const rid = this.inputs.raw(n.workspaceResourceId);
    return {
      workspaceUrl,
      credential: {
        kind: 'azure',
        azure,
        workspaceResourceId: rid ? validateWorkspaceResourceId(n.workspaceResourceId, rid) : undefined,
      },
    };
  }
}

let agentEndpoints: EndpointReader | undefined;

function agent(): EndpointReader {
  agentEndpoints ??= new EndpointReader(agentSource());
  return agentEndpoints;
}

export const readDatabricksConnection = (inputName: string): DatabricksTarget =>
  agent().readDatabricksConnection(inputName);
export const readAzureConnection = (inputName: string): AzureConnection =>
  agent().readAzureConnection(inputName);
export const readDatabricksTarget = (names: Partial<DatabricksTargetInputNames> = {}): DatabricksTarget =>
  agent().readDatabricksTarget(names);
