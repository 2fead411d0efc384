import assert from 'node:assert/strict';
import {
  AuthError,
  describeAzureAuthFailure,
  describeManagedIdentityFailure,
  parseEntraError,
  type CredentialDescription,
} from '../../../src/auth/errors';
import { clearSecretsForTest, registerSecret } from '../../../src/common/secrets';

const sp: CredentialDescription = {
  scheme: 'ServicePrincipal',
  clientId: '00000000-0000-0000-0000-0000000000c1',
  tenantId: '00000000-0000-0000-0000-0000000000t1',
  secretKind: 'secret',
  scope: '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default',
};

// The shape MSAL gives @azure/identity for a server error.
function msalError(code: string, aadsts: number, text: string): Error {
  const e = new Error(
    `${code}: Error(s): ${aadsts} - Timestamp: 2025-01-01 00:00:00Z - Description: AADSTS${aadsts}: ${text}\r\nTrace ID: abc\r\nCorrelation ID: def - Correlation ID: def - Trace ID: abc`,
  );
  e.name = 'AuthenticationRequiredError';
  return e;
}

describe('auth errors', () => {
  afterEach(() => clearSecretsForTest());

  it('parses AADSTS numbers, OAuth codes and the first sentence of the description', () => {
    const p = parseEntraError(
      msalError('invalid_client', 7000215, 'Invalid client secret provided.').message,
    );
    assert.equal(p.aadsts, 7000215);
    assert.equal(p.error, 'invalid_client');
    assert.equal(p.description, 'AADSTS7000215: Invalid client secret provided.');
  });

  const cases: [number, string, string, RegExp][] = [
    [
      7000215,
      'invalid_client',
      'invalidSecret',
      /client secret is wrong.*service principal key of the Azure Resource Manager service connection/,
    ],
    [7000222, 'invalid_client', 'expiredSecret', /client secret has expired/],
    [
      700016,
      'unauthorized_client',
      'unknownApp',
      /no application with this client id.*tenant id of the Azure Resource Manager service connection/,
    ],
    [90002, 'invalid_request', 'unknownTenant', /tenant was not found/],
    [
      700027,
      'invalid_client',
      'invalidCertificate',
      /certificate of the Azure Resource Manager service connection is not registered/,
    ],
    [700024, 'invalid_client', 'assertionExpired', /outside its valid time range/],
    [500011, 'invalid_resource', 'resourceNotFound', /AzureDatabricks enterprise application/],
    [7000112, 'unauthorized_client', 'appDisabled', /disabled/],
  ];
  for (const [num, oauth, code, re] of cases) {
    it(`AADSTS${num} becomes ${code} with guidance`, () => {
      const err = describeAzureAuthFailure(msalError(oauth, num, 'Something.'), sp);
      assert.ok(err instanceof AuthError);
      assert.equal(err.code, code);
      assert.equal(err.aadsts, num);
      assert.match(err.message, re);
      assert.match(
        err.message,
        /service principal 00000000-0000-0000-0000-0000000000c1 in tenant 00000000-0000-0000-0000-0000000000t1/,
      );
    });
  }

  it('AADSTS70021 names the issuer and subject the pipeline presented', () => {
    const err = describeAzureAuthFailure(
      msalError('invalid_request', 70021, 'No matching federated identity record found.'),
      {
        ...sp,
        scheme: 'WorkloadIdentityFederation',
        federated: { issuer: 'https://vstoken.dev.azure.com/org-id', subject: 'sc://org/proj/conn' },
      },
    );
    assert.equal(err.code, 'noFederatedMatch');
    assert.match(err.message, /workload identity federation/);
    assert.match(
      err.message,
      /issuer 'https:\/\/vstoken\.dev\.azure\.com\/org-id' and subject 'sc:\/\/org\/proj\/conn'/,
    );
    assert.match(err.message, /federated credential/);
  });

  it('a bare invalid_client names what to check for the credential kind', () => {
    const e = new Error('invalid_client: something went wrong');
    assert.match(
      describeAzureAuthFailure(e, { ...sp, secretKind: 'certificate' }).message,
      /the certificate of the Azure/,
    );
    assert.match(describeAzureAuthFailure(e, sp).message, /the client secret of the Azure/);
  });

  it('managed identity: unknown identity vs. no IMDS', () => {
    const mi: CredentialDescription = {
      scheme: 'ManagedServiceIdentity',
      clientId: 'mi-client',
      scope: 'x/.default',
    };
    const notFound = describeAzureAuthFailure(
      new Error(
        'ManagedIdentityCredential: Authentication failed. Message invalid_request: Description: Identity not found',
      ),
      mi,
    );
    assert.equal(notFound.code, 'managedIdentityNotFound');
    assert.match(notFound.message, /Assign the managed identity to the agent's VM/);
    const unreachable = describeAzureAuthFailure(
      new Error(
        'ManagedIdentityCredential: Network unreachable. Message: connect EHOSTUNREACH 169.254.169.254:80',
      ),
      mi,
    );
    assert.equal(unreachable.code, 'managedIdentityUnavailable');
    assert.match(unreachable.message, /self-hosted agents running on Azure VMs/);
  });

  it('never lets a registered secret through', () => {
    registerSecret('super-secret-value-123');
    const err = describeAzureAuthFailure(new Error('invalid_client: bad secret super-secret-value-123'), sp);
    assert.doesNotMatch(err.message, /super-secret-value-123/);
    const direct = new AuthError('unknown', 'leak super-secret-value-123 here');
    assert.equal(direct.message, 'leak *** here');
  });

  it('masks a registered secret straddling the cut of an Entra description or a first line', () => {
    const secret = 'entra-straddling-secret-0123456789abcdef';
    registerSecret(secret);
    // parseEntraError keeps 400 characters of the description (from "AADSTS…").
    const head = 'AADSTS7000215: ';
    const description = `${'d'.repeat(400 - 20 - head.length)}${secret} tail`;
    const parsed = parseEntraError(`invalid_client: ${head}${description}`);
    assert.ok(parsed.description?.includes('***'), parsed.description);
    assert.ok(!parsed.description?.includes(secret.slice(0, 8)), parsed.description);
    const err = describeAzureAuthFailure(msalError('invalid_client', 7000215, description), sp);
    assert.ok(!err.message.includes(secret.slice(0, 8)), err.message);
    // Other failures quote 300 characters of the first line.
    const raw = `${'r'.repeat(300 - 20)}${secret} tail`;
    for (const e of [
      describeAzureAuthFailure(new Error(raw), sp),
      describeManagedIdentityFailure(new Error(raw), raw, {
        scheme: 'ManagedServiceIdentity',
        scope: 'x/.default',
      }),
    ]) {
      assert.match(e.message, /r\*\*\*/);
      assert.ok(!e.message.includes(secret.slice(0, 8)), e.message);
    }
  });

  it('keeps an AuthError as it is', () => {
    const inner = new AuthError('oidcRequestFailed', 'devops said no');
    assert.equal(describeAzureAuthFailure(inner, sp), inner);
  });
});
