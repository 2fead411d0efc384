import assert from 'node:assert/strict';
import { clearSecretsForTest, redact } from '../../../src/common/secrets';
import {
  EndpointReader,
  parseServiceUrl,
  validateWorkspaceResourceId,
  validateWorkspaceUrl,
} from '../../../src/pipeline/endpoints';
import { InputError } from '../../../src/pipeline/errors';
import { fakeSource, type FakeEndpoint } from './fake-source';

const WS = 'https://adb-1234567890123456.7.azuredatabricks.net';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const RID =
  '/subscriptions/0a1b2c3d-0000-4000-8000-00000000abcd/resourceGroups/rg-data/providers/Microsoft.Databricks/workspaces/ws-dev';
const PEM =
  '-----BEGIN CERTIFICATE-----\nMIIBcertificatebody\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIEprivatekeybodyline0123456789\n-----END PRIVATE KEY-----\n';

function armEndpoint(
  scheme: string,
  parameters: Record<string, string>,
  data: Record<string, string> = {},
): FakeEndpoint {
  return {
    url: 'https://management.azure.com/',
    scheme,
    parameters: { tenantid: TENANT, ...parameters },
    data: {
      subscriptionId: '0a1b2c3d-0000-4000-8000-00000000abcd',
      environment: 'AzureCloud',
      environmentAuthorityUrl: 'https://login.windows.net/',
      activeDirectoryAuthority: 'https://login.microsoftonline.com/',
      activeDirectoryServiceEndpointResourceId: 'https://management.core.windows.net/',
      ...data,
    },
  };
}

function reader(
  inputs: Record<string, string>,
  endpoints: Record<string, FakeEndpoint>,
  variables: Record<string, string> = {},
) {
  return new EndpointReader(fakeSource({ inputs, endpoints, variables }));
}

function inputErr(fn: () => unknown, input: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.input, input);
    assert.match(e.message, re);
    return true;
  });
}

describe('endpoints', () => {
  afterEach(() => clearSecretsForTest());

  describe('URL validation', () => {
    it('accepts Azure Databricks hosts in every cloud and loopback, returning the origin', () => {
      assert.equal(validateWorkspaceUrl('workspaceUrl', `${WS}/`), WS);
      assert.equal(validateWorkspaceUrl('workspaceUrl', `${WS}/?o=1234567890123456#notebook/1`), WS);
      assert.equal(
        validateWorkspaceUrl('workspaceUrl', 'https://adb-1.2.databricks.azure.us'),
        'https://adb-1.2.databricks.azure.us',
      );
      assert.equal(
        validateWorkspaceUrl('workspaceUrl', 'https://adb-1.2.databricks.azure.cn'),
        'https://adb-1.2.databricks.azure.cn',
      );
      assert.equal(validateWorkspaceUrl('workspaceUrl', 'https://127.0.0.1:8443'), 'https://127.0.0.1:8443');
      assert.equal(validateWorkspaceUrl('workspaceUrl', 'http://localhost:8080'), 'http://localhost:8080');
    });

    it('rejects other hosts, http and garbage with a message naming the input', () => {
      inputErr(
        () => validateWorkspaceUrl('workspaceUrl', 'https://example.com'),
        'workspaceUrl',
        /must be an Azure Databricks workspace URL/,
      );
      inputErr(
        () => validateWorkspaceUrl('workspaceUrl', 'https://azuredatabricks.net'),
        'workspaceUrl',
        /Azure Databricks workspace URL/,
      );
      inputErr(
        () => validateWorkspaceUrl('workspaceUrl', 'https://adb-1.azuredatabricks.net.evil.com'),
        'workspaceUrl',
        /Azure Databricks/,
      );
      inputErr(
        () => validateWorkspaceUrl('workspaceUrl', `http://adb-1.2.azuredatabricks.net`),
        'workspaceUrl',
        /must be an https:\/\/ URL/,
      );
      inputErr(
        () => validateWorkspaceUrl('workspaceUrl', 'adb-1.2.azuredatabricks.net'),
        'workspaceUrl',
        /not a valid URL/,
      );
      inputErr(
        () => validateWorkspaceUrl('workspaceUrl', 'https://u:p@adb-1.2.azuredatabricks.net'),
        'workspaceUrl',
        /credentials/,
      );
    });

    it('workspace resource ids', () => {
      assert.equal(validateWorkspaceResourceId('workspaceResourceId', `${RID}/`), RID);
      assert.equal(validateWorkspaceResourceId('workspaceResourceId', RID.toLowerCase()), RID.toLowerCase());
      inputErr(
        () =>
          validateWorkspaceResourceId(
            'workspaceResourceId',
            '/subscriptions/abc/resourceGroups/rg/providers/Microsoft.Databricks/workspaces/ws',
          ),
        'workspaceResourceId',
        /must be an Azure Databricks workspace resource id like \/subscriptions\/<subscription guid>/,
      );
      inputErr(
        () =>
          validateWorkspaceResourceId(
            'workspaceResourceId',
            RID.replace('Microsoft.Databricks', 'Microsoft.Storage'),
          ),
        'workspaceResourceId',
        /resource id/,
      );
    });

    it('service URLs: https, or http only on loopback', () => {
      assert.equal(parseServiceUrl('http://127.0.0.1:1/', () => 'x').host, '127.0.0.1:1');
      assert.throws(
        () => parseServiceUrl('http://management.azure.com/', () => 'The URL'),
        /The URL must be an https:\/\/ URL/,
      );
    });
  });

  describe('DatabricksWorkspace connection', () => {
    it('Token scheme → PAT, registered as a secret', () => {
      const t = reader(
        { conn: 'ep1' },
        { ep1: { url: `${WS}/`, scheme: 'Token', parameters: { apitoken: 'dapi-secret-token-1' } } },
      ).readDatabricksConnection('conn');
      assert.deepEqual(t, { workspaceUrl: WS, credential: { kind: 'pat', token: 'dapi-secret-token-1' } });
      assert.equal(redact('dapi-secret-token-1'), '***');
    });

    it('UsernamePassword scheme → OAuth M2M (client id / secret)', () => {
      const t = reader(
        { conn: 'ep1' },
        {
          ep1: {
            url: WS,
            scheme: 'UsernamePassword',
            parameters: { username: 'sp-client-id', password: 'dose-oauth-secret' },
          },
        },
      ).readDatabricksConnection('conn');
      assert.deepEqual(t.credential, {
        kind: 'oauth-m2m',
        clientId: 'sp-client-id',
        clientSecret: 'dose-oauth-secret',
      });
      assert.equal(redact('dose-oauth-secret'), '***');
    });

    it('errors name the input', () => {
      inputErr(
        () => reader({}, {}).readDatabricksConnection('conn'),
        'conn',
        /Input 'conn' is required: choose a DatabricksWorkspace service connection\./,
      );
      inputErr(
        () =>
          reader(
            { conn: 'ep1' },
            { ep1: { url: WS, scheme: 'Token', parameters: {} } },
          ).readDatabricksConnection('conn'),
        'conn',
        /no personal access token/,
      );
      inputErr(
        () =>
          reader({ conn: 'ep1' }, { ep1: { url: WS, scheme: 'Certificate' } }).readDatabricksConnection(
            'conn',
          ),
        'conn',
        /authentication scheme 'Certificate'/,
      );
      inputErr(
        () => reader({ conn: 'ep1' }, { ep1: { scheme: 'Token' } }).readDatabricksConnection('conn'),
        'conn',
        /no workspace URL/,
      );
      inputErr(
        () =>
          reader(
            { conn: 'ep1' },
            { ep1: { url: WS, scheme: 'UsernamePassword', parameters: { username: 'x' } } },
          ).readDatabricksConnection('conn'),
        'conn',
        /client id as user name and an OAuth secret as password/,
      );
    });
  });

  describe('AzureRM connection', () => {
    it('ServicePrincipal with a key', () => {
      const c = reader(
        { azureSubscription: 'arm1' },
        {
          arm1: armEndpoint('ServicePrincipal', {
            serviceprincipalid: 'sp-id',
            serviceprincipalkey: 'sp-secret-key',
            authenticationType: 'spnKey',
          }),
        },
      ).readAzureConnection('azureSubscription');
      assert.deepEqual(c, {
        credential: {
          scheme: 'ServicePrincipal',
          tenantId: TENANT,
          clientId: 'sp-id',
          authorityHost: 'https://login.microsoftonline.com',
          clientSecret: 'sp-secret-key',
        },
        resourceManagerUrl: 'https://management.azure.com/',
        subscriptionId: '0a1b2c3d-0000-4000-8000-00000000abcd',
        resourceManagerAudience: 'https://management.core.windows.net/',
      });
      assert.equal(redact('sp-secret-key'), '***');
    });

    it('ServicePrincipal with a PEM certificate', () => {
      const c = reader(
        { azureSubscription: 'arm1' },
        {
          arm1: armEndpoint('ServicePrincipal', {
            serviceprincipalid: 'sp-id',
            servicePrincipalCertificate: PEM,
            authenticationType: 'spnCertificate',
          }),
        },
      ).readAzureConnection('azureSubscription');
      assert.equal(c.credential.scheme, 'ServicePrincipal');
      assert.equal(c.credential.scheme === 'ServicePrincipal' && c.credential.certificatePem, PEM);
      assert.equal(redact(PEM), '***');
    });

    it('prefers activeDirectoryAuthority, then environmentAuthorityUrl, then the known cloud', () => {
      const read = (data: Record<string, string>) =>
        reader(
          { a: 'arm1' },
          {
            arm1: armEndpoint(
              'ServicePrincipal',
              { serviceprincipalid: 'id', serviceprincipalkey: 'k-1234' },
              data,
            ),
          },
        ).readAzureConnection('a').credential;
      const host = (data: Record<string, string>) => {
        const c = read(data);
        return c.scheme === 'ServicePrincipal' ? c.authorityHost : undefined;
      };
      assert.equal(host({}), 'https://login.microsoftonline.com');
      assert.equal(host({ activeDirectoryAuthority: '' }), 'https://login.windows.net');
      assert.equal(
        host({ activeDirectoryAuthority: '', environmentAuthorityUrl: '', environment: 'AzureUSGovernment' }),
        'https://login.microsoftonline.us',
      );
      assert.equal(host({ activeDirectoryAuthority: 'https://127.0.0.1:4443/' }), 'https://127.0.0.1:4443');
      inputErr(
        () => read({ activeDirectoryAuthority: 'http://login.example/' }),
        'a',
        /authority URL must be https/,
      );
      inputErr(
        () => read({ activeDirectoryAuthority: '', environmentAuthorityUrl: '', environment: 'Stack' }),
        'a',
        /no Entra ID authority/,
      );
    });

    it('ManagedServiceIdentity with a client id', () => {
      const c = reader(
        { a: 'arm1' },
        { arm1: armEndpoint('ManagedServiceIdentity', {}, { msiclientId: 'mi-client' }) },
      ).readAzureConnection('a');
      assert.deepEqual(c.credential, {
        scheme: 'ManagedServiceIdentity',
        clientId: 'mi-client',
        tenantId: TENANT,
        authorityHost: 'https://login.microsoftonline.com',
      });
    });

    it('WorkloadIdentityFederation takes the OIDC request URI and the job access token', () => {
      const c = reader(
        { a: 'arm-wif' },
        {
          'arm-wif': armEndpoint('WorkloadIdentityFederation', { serviceprincipalid: 'wif-app' }),
          SystemVssConnection: {
            url: 'https://dev.azure.com/org/',
            scheme: 'OAuth',
            parameters: { AccessToken: 'job-access-token' },
          },
        },
        {
          'System.OidcRequestUri':
            'https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken',
        },
      ).readAzureConnection('a');
      assert.deepEqual(c.credential, {
        scheme: 'WorkloadIdentityFederation',
        tenantId: TENANT,
        clientId: 'wif-app',
        authorityHost: 'https://login.microsoftonline.com',
        oidc: {
          requestUri:
            'https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken',
          accessToken: 'job-access-token',
          serviceConnectionId: 'arm-wif',
        },
      });
      assert.equal(redact('job-access-token'), '***');
    });

    it('WIF without the OIDC URI or access token fails with guidance', () => {
      const ep = { a: armEndpoint('WorkloadIdentityFederation', { serviceprincipalid: 'wif-app' }) };
      inputErr(() => reader({ x: 'a' }, ep).readAzureConnection('x'), 'x', /System\.OidcRequestUri/);
      inputErr(
        () =>
          reader({ x: 'a' }, ep, {
            'System.OidcRequestUri': 'https://dev.azure.com/o/p/oidctoken',
          }).readAzureConnection('x'),
        'x',
        /System\.AccessToken/,
      );
    });

    it('unsupported schemes and missing fields', () => {
      inputErr(
        () => reader({ x: 'a' }, { a: armEndpoint('PublishProfile', {}) }).readAzureConnection('x'),
        'x',
        /scheme 'PublishProfile'/,
      );
      inputErr(
        () =>
          reader(
            { x: 'a' },
            { a: armEndpoint('ServicePrincipal', { serviceprincipalid: 'id' }) },
          ).readAzureConnection('x'),
        'x',
        /no service principal key/,
      );
      inputErr(
        () =>
          reader(
            { x: 'a' },
            {
              a: armEndpoint('ServicePrincipal', {
                serviceprincipalid: 'id',
                authenticationType: 'spnCertificate',
                servicePrincipalCertificate: 'nope',
              }),
            },
          ).readAzureConnection('x'),
        'x',
        /PEM with both the certificate and the private key/,
      );
      inputErr(
        () =>
          reader(
            { x: 'a' },
            {
              a: {
                ...armEndpoint('ServicePrincipal', {
                  serviceprincipalid: 'id',
                  serviceprincipalkey: 'k-123',
                }),
                url: 'http://management.azure.com/',
              },
            },
          ).readAzureConnection('x'),
        'x',
        /must be an https/,
      );
    });

    it('requires the Resource Manager URL: no public-cloud guess', () => {
      for (const url of ['', '   ']) {
        inputErr(
          () =>
            reader(
              { x: 'a' },
              {
                a: {
                  ...armEndpoint(
                    'ServicePrincipal',
                    { serviceprincipalid: 'id', serviceprincipalkey: 'k-123' },
                    { environment: 'AzureUSGovernment' },
                  ),
                  url,
                },
              },
            ).readAzureConnection('x'),
          'x',
          /Input 'x': the Azure Resource Manager service connection has no Resource Manager URL/,
        );
      }
    });
  });

  describe('readDatabricksTarget', () => {
    const endpoints = {
      dbx: { url: WS, scheme: 'Token', parameters: { apitoken: 'dapi-1234' } },
      arm: armEndpoint('ServicePrincipal', { serviceprincipalid: 'sp-id', serviceprincipalkey: 'key-1234' }),
    };

    it('authType databricks (the default) reads the DatabricksWorkspace connection', () => {
      const t = reader({ databricksConnection: 'dbx' }, endpoints).readDatabricksTarget();
      assert.equal(t.credential.kind, 'pat');
    });

    it('authType azureRM needs the workspace URL and takes an optional resource id', () => {
      const t = reader(
        { authType: 'azureRM', azureSubscription: 'arm', workspaceUrl: `${WS}/`, workspaceResourceId: RID },
        endpoints,
      ).readDatabricksTarget();
      assert.equal(t.workspaceUrl, WS);
      assert.equal(t.credential.kind, 'azure');
      assert.equal(t.credential.kind === 'azure' && t.credential.workspaceResourceId, RID);
      inputErr(
        () => reader({ authType: 'azureRM', azureSubscription: 'arm' }, endpoints).readDatabricksTarget(),
        'workspaceUrl',
        /is required when authenticating with an Azure Resource Manager/,
      );
      inputErr(
        () =>
          reader(
            {
              authType: 'azureRM',
              azureSubscription: 'arm',
              workspaceUrl: WS,
              workspaceResourceId: 'ws-dev',
            },
            endpoints,
          ).readDatabricksTarget(),
        'workspaceResourceId',
        /resource id/,
      );
      inputErr(
        () => reader({ authType: 'aad' }, endpoints).readDatabricksTarget(),
        'authType',
        /must be one of databricks, azureRM/,
      );
    });

    it('input names can be overridden', () => {
      const t = reader({ conn2: 'dbx' }, endpoints).readDatabricksTarget({ databricksConnection: 'conn2' });
      assert.equal(t.workspaceUrl, WS);
    });
  });
});
