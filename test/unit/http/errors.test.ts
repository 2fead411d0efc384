import assert from 'node:assert/strict';
import { clearSecretsForTest, registerSecret } from '../../../src/common/secrets';
import { closeHttpClient, createHttpClient } from '../../../src/http/client';
import {
  HttpError,
  describeError,
  formatHttpErrorMessage,
  isHttpError,
  kindForStatus,
  parseErrorBody,
} from '../../../src/http/errors';
import type { HttpClient } from '../../../src/http/types';
import { json, startHttp, text, type TestServer } from './servers';

describe('http errors: parsing service error bodies', () => {
  it('Databricks {error_code, message}', () => {
    assert.deepEqual(
      parseErrorBody('{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Path (/x) doesn\'t exist."}'),
      { code: 'RESOURCE_DOES_NOT_EXIST', message: "Path (/x) doesn't exist." },
    );
  });

  it('Databricks integer error_code', () => {
    assert.deepEqual(parseErrorBody('{"error_code": 403, "message": "Invalid access token."}'), {
      code: '403',
      message: 'Invalid access token.',
    });
  });

  it('Databricks API 1.2 {error}', () => {
    assert.deepEqual(parseErrorBody('{"error":"Cluster 0123 does not exist"}'), {
      message: 'Cluster 0123 does not exist',
    });
    assert.deepEqual(parseErrorBody('{"error":"INVALID_STATE: Cluster is terminated"}'), {
      code: 'INVALID_STATE',
      message: 'Cluster is terminated',
    });
  });

  it('ARM/ADF {error:{code,message,details}} with inner details', () => {
    assert.deepEqual(
      parseErrorBody(
        JSON.stringify({
          error: {
            code: 'TriggerEnabledCannotUpdate',
            message: 'Cannot update enabled Trigger; the trigger needs to be disabled first. ',
            target: null,
            details: null,
          },
        }),
      ),
      {
        code: 'TriggerEnabledCannotUpdate',
        message: 'Cannot update enabled Trigger; the trigger needs to be disabled first.',
      },
    );
    const nested = parseErrorBody(
      JSON.stringify({
        error: {
          code: 'InvalidTemplateDeployment',
          message: "The template deployment 'x' is not valid. See inner errors for details.",
          details: [
            {
              code: 'PreflightValidationCheckFailed',
              message: 'Preflight validation failed.',
              details: [{ code: 'InvalidName', message: "Factory name 'a b' is invalid", target: 'a b' }],
            },
          ],
        },
      }),
    );
    assert.equal(nested.code, 'InvalidTemplateDeployment');
    assert.match(nested.message ?? '', /PreflightValidationCheckFailed: Preflight validation failed\./);
    assert.match(nested.message ?? '', /InvalidName: Factory name 'a b' is invalid/);
  });

  it('Entra {error, error_description, error_codes}', () => {
    assert.deepEqual(
      parseErrorBody(
        JSON.stringify({
          error: 'invalid_client',
          error_description:
            'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: abc\r\nCorrelation ID: def\r\nTimestamp: 2024-01-01',
          error_codes: [7000215],
          trace_id: 'abc',
          correlation_id: 'def',
        }),
      ),
      { code: 'invalid_client', message: 'AADSTS7000215: Invalid client secret provided.', requestId: 'abc' },
    );
  });

  it('other JSON shapes: {code, message}, {Message}', () => {
    assert.deepEqual(parseErrorBody('{"code":"Conflict","message":"busy"}'), {
      code: 'Conflict',
      message: 'busy',
    });
    assert.deepEqual(parseErrorBody('{"Message":"An error has occurred."}'), {
      message: 'An error has occurred.',
    });
  });

  it('plain text, with and without a code prefix', () => {
    assert.deepEqual(parseErrorBody('Bad Gateway'), { message: 'Bad Gateway' });
    assert.deepEqual(parseErrorBody('RESOURCE_EXHAUSTED: Too many requests'), {
      code: 'RESOURCE_EXHAUSTED',
      message: 'Too many requests',
    });
    assert.deepEqual(parseErrorBody(''), {});
  });

  it('HTML pages: Jetty <pre>, title, stripped and shortened body', () => {
    const jetty =
      '<html><head><title>Error 403 Invalid access token.</title></head><body><h2>HTTP ERROR 403</h2>' +
      '<p>Problem accessing /api/2.0/workspace/list. Reason:<pre>    Invalid access token.</pre></p></body></html>';
    assert.deepEqual(parseErrorBody(jetty, 'text/html'), { message: 'Invalid access token.' });
    const page = `<!DOCTYPE html><html><head><style>p{}</style><script>var x=1</script></head><body><h1>502 Bad Gateway</h1><p>${'x'.repeat(1000)}</p></body></html>`;
    const parsed = parseErrorBody(page, 'text/html');
    assert.ok(parsed.message?.startsWith('502 Bad Gateway x'));
    assert.ok((parsed.message?.length ?? 0) <= 300);
    assert.ok(!parsed.message?.includes('var x'));
  });

  it('classifies statuses and codes into kinds', () => {
    assert.equal(kindForStatus(401), 'unauthorized');
    assert.equal(
      kindForStatus(400, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.'),
      'unauthorized',
    );
    assert.equal(kindForStatus(400, 'invalid_scope'), 'badRequest');
    assert.equal(kindForStatus(403, undefined, 'Invalid access token.'), 'unauthorized');
    assert.equal(kindForStatus(403, 'PERMISSION_DENIED', 'User is not a member'), 'forbidden');
    assert.equal(kindForStatus(404), 'notFound');
    assert.equal(kindForStatus(400, 'RESOURCE_DOES_NOT_EXIST'), 'notFound');
    assert.equal(kindForStatus(409), 'conflict');
    assert.equal(kindForStatus(400, 'RESOURCE_ALREADY_EXISTS'), 'conflict');
    assert.equal(kindForStatus(400, 'INVALID_PARAMETER_VALUE'), 'badRequest');
    assert.equal(kindForStatus(429), 'rateLimited');
    assert.equal(kindForStatus(503), 'server');
  });
});

describe('http errors: messages', () => {
  const base = {
    method: 'GET' as const,
    path: '/api/2.0/workspace/list',
    host: 'adb-1.azuredatabricks.net',
    attempts: 1,
  };

  it('formats "<op> failed: <status> <code>: <message> (request id). <hint>"', () => {
    const msg = formatHttpErrorMessage({
      ...base,
      operation: 'list workspace folder',
      status: 404,
      code: 'RESOURCE_DOES_NOT_EXIST',
      serviceMessage: 'Path (/Shared/x) does not exist.',
      requestId: 'r-1',
      kind: 'notFound',
      retryable: false,
    });
    assert.equal(
      msg,
      'list workspace folder (GET /api/2.0/workspace/list) failed: 404 RESOURCE_DOES_NOT_EXIST: Path (/Shared/x) does not exist. (request id r-1). ' +
        'Not found: /api/2.0/workspace/list on adb-1.azuredatabricks.net. Check the name/path and that it exists (and that the URL points at the right workspace, subscription or resource group).',
    );
  });

  it('gives actionable hints per kind', () => {
    const hint = (over: Partial<ConstructorParameters<typeof HttpError>[0]>) =>
      new HttpError({ ...base, kind: 'badRequest', retryable: false, ...over }).message;
    assert.match(
      hint({ status: 403, kind: 'unauthorized', serviceMessage: 'Invalid access token.' }),
      /token is invalid or expired: check the service connection's token\/secret/,
    );
    assert.match(hint({ status: 401, kind: 'unauthorized' }), /check the service connection's credentials/);
    assert.match(
      hint({ status: 403, kind: 'forbidden' }),
      /member of the Databricks workspace \(or pass the workspace resource id/,
    );
    assert.match(
      hint({
        status: 403,
        kind: 'forbidden',
        path: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataFactory/factories/f',
      }),
      /role with this permission/,
    );
    assert.match(
      hint({ kind: 'network', networkCode: 'ENOTFOUND' }),
      /could not resolve host adb-1\.azuredatabricks\.net: check the URL; with Private Link the agent must resolve the private endpoint/i,
    );
    assert.match(hint({ kind: 'network', networkCode: 'EAI_AGAIN' }), /could not resolve host/i);
    assert.match(hint({ kind: 'network', networkCode: 'SELF_SIGNED_CERT_IN_CHAIN' }), /NODE_EXTRA_CA_CERTS/);
    assert.match(
      hint({ kind: 'network', networkCode: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
      /does not match its name/,
    );
    assert.match(
      hint({ kind: 'network', networkCode: 'ECONNREFUSED', proxyHost: 'proxy:8080' }),
      /proxy proxy:8080/,
    );
    assert.match(
      hint({ kind: 'network', status: 407, proxyHost: 'proxy:8080' }),
      /proxy username and password/,
    );
    assert.match(
      hint({ kind: 'rateLimited', status: 429, attempts: 7 }),
      /\(7 attempts\)\. The service is throttling/,
    );
    assert.match(hint({ kind: 'conflict', status: 409 }), /already exists/);
    assert.match(hint({ kind: 'timeout', timeoutMs: 60000 }), /no response within 60 s\. Check that adb-1/);
    assert.equal(hint({ kind: 'aborted' }), 'GET /api/2.0/workspace/list failed: cancelled');
  });

  it('describeError gives one line for any error', () => {
    assert.equal(describeError(new Error('a\n  b')), 'a b');
    assert.equal(describeError('plain'), 'plain');
    const e = new HttpError({ ...base, kind: 'server', status: 500, retryable: true });
    assert.equal(describeError(e), e.message);
    assert.ok(isHttpError(e, 'server'));
    assert.ok(!isHttpError(e, 'notFound'));
  });
});

describe('http errors: end to end, no secrets in messages', () => {
  let server: TestServer;
  let client: HttpClient;
  const TOKEN = 'dapi0123456789abcdef-secret-token';
  const QUERY_SECRET = 'sv=2020&sig=query-signature-secret';
  const LONG_SECRET = 'registered-straddling-secret-0123456789';

  before(async () => {
    server = await startHttp((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/api/2.0/workspace/list':
          // A careless service that echoes the request back in its error.
          return json(
            res,
            403,
            {
              error_code: 403,
              message: `Invalid access token. got ${req.headers.authorization} for ${req.url}`,
            },
            { 'x-databricks-reason-phrase': 'Invalid access token.', 'x-request-id': 'dbx-req-9' },
          );
        case '/denied':
          return json(res, 403, {
            error_code: 'PERMISSION_DENIED',
            message: 'User is not a member of the workspace.',
          });
        case '/arm':
          return json(
            res,
            400,
            { error: { code: 'InvalidTemplate', message: "Deployment template parse failed: 'x'." } },
            { 'x-ms-request-id': 'arm-req-1', 'x-ms-correlation-request-id': 'corr-1' },
          );
        case '/entra':
          return json(res, 401, {
            error: 'invalid_client',
            error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t-1',
            error_codes: [7000215],
            trace_id: 't-1',
          });
        case '/html':
          res.writeHead(403, { 'content-type': 'text/html' });
          return res.end('<html><body><h2>HTTP ERROR 403</h2><pre>Invalid access token.</pre></body></html>');
        case '/text':
          return text(res, 500, 'INTERNAL_ERROR: something broke');
        case '/long':
          // A registered secret the request did not carry, echoed across the 600-character cut.
          return json(res, 400, {
            error_code: 'INVALID_PARAMETER_VALUE',
            message: `${'v'.repeat(600 - 20)}${LONG_SECRET} tail`,
          });
        case '/redirect':
          res.writeHead(302, { location: `https://login.example.com/signin?token=${TOKEN}` });
          return res.end();
        default:
          return json(res, 404, {
            error_code: 'RESOURCE_DOES_NOT_EXIST',
            message: "Path (/Shared/nb) doesn't exist.",
          });
      }
    });
    client = createHttpClient({ maxRetries: 0 }).withAuth(async () => ({ Authorization: `Bearer ${TOKEN}` }));
  });

  after(async () => {
    closeHttpClient(client);
    await server.close();
    clearSecretsForTest();
  });

  const fail = async (path: string, op?: string): Promise<HttpError> => {
    const err = await client
      .request({ method: 'GET', url: `${server.url}${path}?path=/Shared&${QUERY_SECRET}`, operation: op })
      .catch((e: unknown) => e);
    assert.ok(err instanceof HttpError, String(err));
    return err;
  };

  it('never puts the Authorization header or the query string in the message', async () => {
    // Not registered as a secret: the request scrubber alone must keep it out.
    const err = await fail('/api/2.0/workspace/list', 'list notebooks');
    assert.equal(err.kind, 'unauthorized');
    assert.equal(err.status, 403);
    assert.equal(err.code, undefined, 'integer error_code equal to the status is dropped');
    assert.equal(err.requestId, 'dbx-req-9');
    assert.equal(err.path, '/api/2.0/workspace/list');
    assert.ok(!err.message.includes(TOKEN), err.message);
    assert.ok(!err.message.includes('query-signature-secret'), err.message);
    assert.ok(!(err.serviceMessage ?? '').includes(TOKEN));
    assert.ok(!JSON.stringify(err).includes(TOKEN));
    assert.match(
      err.message,
      /^list notebooks \(GET \/api\/2\.0\/workspace\/list\) failed: 403: Invalid access token\. got \*\*\* for \/api\/2\.0\/workspace\/list\?\*\*\* \(request id dbx-req-9\)/,
    );
    assert.match(err.message, /token is invalid or expired/);
  });

  it('redacts registered secrets the service sends back', async () => {
    registerSecret('Shared/nb');
    const err = await fail('/api/2.0/workspace/get-status');
    assert.ok(!err.message.includes('Shared/nb'), err.message);
    assert.ok(!(err.serviceMessage ?? '').includes('Shared/nb'));
    clearSecretsForTest();
  });

  it('masks a registered secret straddling the cut of a service message before cutting', async () => {
    registerSecret(LONG_SECRET);
    const err = await fail('/long');
    assert.match(err.serviceMessage ?? '', /v\*\*\*/);
    assert.ok(!err.message.includes(LONG_SECRET.slice(0, 8)), err.message);
    assert.ok(!(err.serviceMessage ?? '').includes(LONG_SECRET.slice(0, 8)));
    clearSecretsForTest();
  });

  it('403 without an invalid token message is "forbidden" with the membership hint', async () => {
    const err = await fail('/denied');
    assert.equal(err.kind, 'forbidden');
    assert.equal(err.code, 'PERMISSION_DENIED');
    assert.match(err.message, /member of the Databricks workspace|check the service connection has access/);
  });

  it('ARM errors carry code and x-ms-request-id', async () => {
    const err = await fail('/arm');
    assert.equal(err.kind, 'badRequest');
    assert.equal(err.code, 'InvalidTemplate');
    assert.equal(err.requestId, 'arm-req-1');
    assert.match(
      err.message,
      /400 InvalidTemplate: Deployment template parse failed: 'x'\. \(request id arm-req-1\)/,
    );
  });

  it('Entra errors', async () => {
    const err = await fail('/entra');
    assert.equal(err.kind, 'unauthorized');
    assert.equal(err.code, 'invalid_client');
    assert.equal(err.serviceMessage, 'AADSTS7000215: Invalid client secret provided.');
    assert.equal(err.requestId, 't-1');
  });

  it('HTML and text bodies', async () => {
    const html = await fail('/html');
    assert.equal(html.kind, 'unauthorized');
    assert.equal(html.serviceMessage, 'Invalid access token.');
    const t = await fail('/text');
    assert.equal(t.kind, 'server');
    assert.equal(t.code, 'INTERNAL_ERROR');
    assert.equal(t.serviceMessage, 'something broke');
  });

  it('404 names what was missing', async () => {
    const err = await fail('/api/2.0/workspace/get-status');
    assert.equal(err.kind, 'notFound');
    assert.match(err.message, /Path \(\/Shared\/nb\) doesn't exist\./);
    assert.match(err.message, /Not found: \/api\/2\.0\/workspace\/get-status on 127\.0\.0\.1:\d+/);
  });

  it('an unexpected redirect names where it points but not its query', async () => {
    const err = await fail('/redirect');
    assert.equal(err.status, 302);
    assert.match(err.message, /redirected to login\.example\.com\/signin/);
    assert.ok(!err.message.includes(TOKEN));
    assert.match(err.message, /Unexpected redirect: check the URL/);
  });

  it('DNS failures say which host and mention Private Link', async () => {
    const err = await client
      .request({ method: 'GET', url: 'https://adb-does-not-exist.invalid/api/2.0/clusters/list' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof HttpError);
    assert.equal(err.kind, 'network');
    assert.ok(err.networkCode === 'ENOTFOUND' || err.networkCode === 'EAI_AGAIN', err.networkCode);
    assert.match(
      err.message,
      /could not resolve host adb-does-not-exist\.invalid: check the URL; with Private Link/i,
    );
  });
});
