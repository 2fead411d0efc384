/**
 * Connections of every kind the tasks accept, wired to a lane's emulator: Databricks PAT,
 * Databricks OAuth M2M, and Azure Resource Manager connections with a client secret, a
 * certificate (PEM with the private key) or workload identity federation (System.AccessToken
 * and an OIDC token from the emulated Azure DevOps). The soak rotates through them by seed;
 * the secret scan runs each one with System.Debug on and off.
 */
import { generateCertificate, type GeneratedCertificate } from '../emulator/certificate';
import type { Workspace } from '../emulator/databricks';
import type { EndpointSpec, RunTaskOptions } from '../harness/run-task';
import type { Lane } from './lane';

export type AuthKind = 'pat' | 'databricks-oauth' | 'azure-secret' | 'azure-certificate' | 'azure-wif';
export const DATABRICKS_AUTH: AuthKind[] = [
  'pat',
  'databricks-oauth',
  'azure-secret',
  'azure-certificate',
  'azure-wif',
];
export const AZURE_AUTH: AuthKind[] = ['azure-secret', 'azure-certificate', 'azure-wif'];

export const SUBSCRIPTION = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
export const RESOURCE_GROUP = 'rg-soak';

const PAT = 'dapi-soak-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const DATABRICKS_SP = {
  clientId: '5c0a7d1e-3b2f-4e6a-9d8c-1f0e2d3c4b5a',
  secret: 'dose-soak-oauth-secret-a1b2c3d4e5f60718',
};
const SECRET_APP = {
  clientId: '1a2b3c4d-0000-4000-8000-00000000a001',
  secret: 'soak~entra~client~secret~Q8r7s6t5u4v3',
};
const CERT_APP = '1a2b3c4d-0000-4000-8000-00000000a002';
const WIF_APP = '1a2b3c4d-0000-4000-8000-00000000a003';
const WIF_CONNECTION = { id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a', name: 'soak-wif' };

let certificate: Promise<GeneratedCertificate> | undefined;

/** One certificate per test process (RSA key generation is slow). */
export function soakCertificate(): Promise<GeneratedCertificate> {
  certificate ??= generateCertificate('soak-service-principal');
  return certificate;
}

/** The pieces of RunTaskOptions a connection contributes. */
export interface ConnectionParts {
  inputs: Record<string, string>;
  endpoints: Record<string, EndpointSpec>;
  variables: Record<string, string>;
  systemAccessToken?: string;
  /** Static secrets of this connection (minted tokens are collected by the lane). */
  secrets: string[];
}

/** Every static secret any connection here uses, for scans that look for all of them. */
export async function allStaticSecrets(): Promise<string[]> {
  const cert = await soakCertificate();
  return [PAT, DATABRICKS_SP.secret, SECRET_APP.secret, `${cert.certPem}\n${cert.keyPem}`, cert.keyPem];
}

/**
 * Registers every identity on a freshly reset lane: the Entra apps, the Azure DevOps
 * service connection, the subscription, resource group and role grants, and (for a
 * workspace) its PAT, OAuth service principal and Entra principals.
 */
export async function registerIdentities(lane: Lane, ws?: Workspace): Promise<void> {
  const { entra, devops, arm } = lane.full;
  const cert = await soakCertificate();
  const tenantId = entra.defaultTenantId;
  entra.addApp({ tenantId, clientId: SECRET_APP.clientId, secret: SECRET_APP.secret });
  entra.addApp({ tenantId, clientId: CERT_APP, certificatePem: cert.certPem });
  devops.addServiceConnection({ name: WIF_CONNECTION.name, id: WIF_CONNECTION.id });
  entra.addApp({
    tenantId,
    clientId: WIF_APP,
    federated: { issuer: devops.issuer, subject: devops.subjectFor(WIF_CONNECTION.name) },
  });
  if (!arm.state.subscription(SUBSCRIPTION))
    arm.addSubscription(SUBSCRIPTION, { tenantId, displayName: 'Soak' });
  if (!arm.state.resourceGroup(SUBSCRIPTION, RESOURCE_GROUP))
    arm.addResourceGroup(SUBSCRIPTION, RESOURCE_GROUP);
  for (const app of [SECRET_APP.clientId, CERT_APP, WIF_APP]) arm.grant(SUBSCRIPTION, app, 'Contributor');
  if (ws) {
    ws.addPat(PAT);
    ws.addServicePrincipal(DATABRICKS_SP);
    for (const app of [SECRET_APP.clientId, CERT_APP, WIF_APP]) ws.addEntraPrincipal(app);
  }
}

/** An AzureRM service connection of the given kind, under `id` (WIF uses its own id). */
export async function azureConnection(
  lane: Lane,
  kind: AuthKind,
  inputName = 'azureSubscription',
): Promise<ConnectionParts> {
  const { entra, devops, arm } = lane.full;
  const cert = await soakCertificate();
  const data = {
    subscriptionId: SUBSCRIPTION,
    activeDirectoryAuthority: entra.authorityHost,
    environment: 'AzureCloud',
    activeDirectoryServiceEndpointResourceId: 'https://management.core.windows.net/',
  };
  const url = `${arm.url}/`;
  const tenantid = entra.defaultTenantId;
  switch (kind) {
    case 'azure-secret':
      return {
        inputs: { [inputName]: 'arm-secret' },
        endpoints: {
          'arm-secret': {
            url,
            scheme: 'ServicePrincipal',
            parameters: {
              serviceprincipalid: SECRET_APP.clientId,
              tenantid,
              authenticationType: 'spnKey',
              serviceprincipalkey: SECRET_APP.secret,
            },
            data,
          },
        },
        variables: {},
        secrets: [SECRET_APP.secret],
      };
    case 'azure-certificate': {
      const pem = `${cert.certPem}\n${cert.keyPem}`;
      return {
        inputs: { [inputName]: 'arm-cert' },
        endpoints: {
          'arm-cert': {
            url,
            scheme: 'ServicePrincipal',
            parameters: {
              serviceprincipalid: CERT_APP,
              tenantid,
              authenticationType: 'spnCertificate',
              servicePrincipalCertificate: pem,
            },
            data,
          },
        },
        variables: {},
        secrets: [pem, cert.keyPem],
      };
    }
    case 'azure-wif':
      return {
        inputs: { [inputName]: WIF_CONNECTION.id },
        endpoints: {
          [WIF_CONNECTION.id]: {
            url,
            scheme: 'WorkloadIdentityFederation',
            parameters: { serviceprincipalid: WIF_APP, tenantid },
            data,
          },
        },
        variables: { 'System.OidcRequestUri': devops.oidcRequestUri },
        // Minted by the emulator, so the lane records it with the other tokens.
        systemAccessToken: devops.issueAccessToken(),
        secrets: [],
      };
    default:
      throw new Error(`${kind} is not an Azure Resource Manager connection`);
  }
}

/** The shared Databricks target inputs (authType, databricksConnection | azureSubscription + workspaceUrl). */
export async function databricksConnection(
  lane: Lane,
  ws: Workspace,
  kind: AuthKind,
): Promise<ConnectionParts> {
  switch (kind) {
    case 'pat':
      return {
        inputs: { authType: 'databricks', databricksConnection: 'dbx' },
        endpoints: { dbx: { url: ws.url, scheme: 'Token', parameters: { apitoken: PAT } } },
        variables: {},
        secrets: [PAT],
      };
    case 'databricks-oauth':
      return {
        inputs: { authType: 'databricks', databricksConnection: 'dbx' },
        endpoints: {
          dbx: {
            url: ws.url,
            scheme: 'UsernamePassword',
            parameters: { username: DATABRICKS_SP.clientId, password: DATABRICKS_SP.secret },
          },
        },
        variables: {},
        secrets: [DATABRICKS_SP.secret],
      };
    default: {
      const azure = await azureConnection(lane, kind);
      return { ...azure, inputs: { authType: 'azureRM', ...azure.inputs, workspaceUrl: ws.url } };
    }
  }
}

/** Merges connection parts into task options (inputs and variables add to what is there). */
export function withConnection(opts: RunTaskOptions, c: ConnectionParts): RunTaskOptions {
  return {
    ...opts,
    inputs: { ...opts.inputs, ...c.inputs },
    endpoints: { ...opts.endpoints, ...c.endpoints },
    variables: { ...opts.variables, ...c.variables },
    systemAccessToken: c.systemAccessToken ?? opts.systemAccessToken,
    secrets: [...(opts.secrets ?? []), ...c.secrets],
  };
}
