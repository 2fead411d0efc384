/**
 * The build → package chain end to end: builds tasks/ and the SampleV1 fixture into temp folders,
 * packages each into a .vsix with tfx, reads the .vsix back, and runs tasks extracted from it
 * outside the repository (no node_modules anywhere above them) through the agent harness.
 * Also checks the harness itself against the fixture task.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateCertificate } from '../emulator/certificate';
import {
  buildOnce,
  FIXTURE_TASKS_ROOT,
  packageOnce,
  TASKS_ROOT,
  type PackageOutput,
} from '../harness/build-once';
import { describeRun, REPO_ROOT, runTask, type TaskRun } from '../harness/run-task';
import { readPngInfo } from '../harness/png';
import { extractZip, readZip, type ZipEntry } from '../harness/zip';

const MAX_VSIX_BYTES = 2 * 1024 * 1024;
const PAT = 'dapi0123456789abcdef0123456789abcdef';

interface Contribution {
  id: string;
  type: string;
  properties: Record<string, unknown>;
}

/**
 * Task folders the build must package: server tasks, and Node tasks whose index.ts exists
 * (a task.json written ahead of its index.ts is skipped by the build and failed by the manifest tests).
 */
function buildableTasks(root: string): { folder: string; node: boolean }[] {
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'task.json')))
    .map((d) => {
      const json = JSON.parse(fs.readFileSync(path.join(root, d.name, 'task.json'), 'utf8')) as {
        execution?: object;
      };
      const nodeHandler = Object.keys(json.execution ?? {}).some((h) => h.startsWith('Node'));
      return {
        folder: d.name,
        node: nodeHandler,
        ready: !nodeHandler || fs.existsSync(path.join(root, d.name, 'index.ts')),
      };
    })
    .filter((t) => t.ready)
    .map(({ folder, node }) => ({ folder, node }));
}

function checkVsix(pkg: PackageOutput, expectedTasks: { folder: string; node: boolean }[]): ZipEntry[] {
  assert.ok(pkg.bytes < MAX_VSIX_BYTES, `.vsix is ${pkg.bytes} bytes, over 2 MB`);
  const entries = readZip(pkg.vsix);
  const names = entries.map((e) => e.name);
  for (const required of [
    'extension.vsixmanifest',
    'extension.vsomanifest',
    '[Content_Types].xml',
    'overview.md',
  ]) {
    assert.ok(names.includes(required), `${required} missing from the .vsix`);
  }
  const icon = entries.find((e) => e.name === 'images/extension-icon.png');
  assert.ok(icon, 'images/extension-icon.png missing');
  assert.deepEqual([readPngInfo(icon.read()).width, readPngInfo(icon.read()).height], [128, 128]);
  for (const n of names) {
    assert.ok(!/(^|\/)node_modules\//.test(n), `${n}: node_modules must not ship`);
    assert.ok(!/\.(map|pem|key|pfx|crt|ts|vsix)$/i.test(n), `${n} must not ship`);
  }
  const vsixManifest =
    entries
      .find((e) => e.name === 'extension.vsixmanifest')
      ?.read()
      .toString('utf8') ?? '';
  assert.match(vsixManifest, /Microsoft\.VisualStudio\.Services\.Icons\.Default/);
  assert.match(vsixManifest, /Microsoft\.VisualStudio\.Services\.Content\.Details/);

  const vso = JSON.parse(
    entries
      .find((e) => e.name === 'extension.vsomanifest')
      ?.read()
      .toString('utf8') ?? '{}',
  ) as {
    contributions: Contribution[];
  };
  const taskContribs = vso.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task');
  assert.ok(
    vso.contributions.some(
      (c) =>
        c.type === 'ms.vss-endpoint.service-endpoint-type' && c.properties.name === 'DatabricksWorkspace',
    ),
    'the DatabricksWorkspace connection type is not in the package',
  );
  assert.deepEqual(
    taskContribs.map((c) => c.properties.name).sort(),
    expectedTasks.map((t) => `tasks/${t.folder}`).sort(),
    'task contributions do not match the task folders',
  );
  for (const t of expectedTasks) {
    const files = ['task.json', 'icon.png', ...(t.node ? ['index.js'] : [])];
    for (const f of files)
      assert.ok(names.includes(`tasks/${t.folder}/${f}`), `tasks/${t.folder}/${f} missing from the .vsix`);
    const shipped = names.filter((n) => n.startsWith(`tasks/${t.folder}/`) && !n.endsWith('/'));
    assert.deepEqual(
      shipped.sort(),
      files.map((f) => `tasks/${t.folder}/${f}`).sort(),
      `unexpected files in tasks/${t.folder}`,
    );
  }
  return entries;
}

/** A folder outside the repository with no node_modules in it or any parent. */
function isolatedDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  assert.ok(!path.resolve(dir).startsWith(REPO_ROOT + path.sep), 'temp dir is inside the repo');
  for (let d = dir; ; d = path.dirname(d)) {
    assert.ok(
      !fs.existsSync(path.join(d, 'node_modules')),
      `${d} has a node_modules folder; the isolation check would be void`,
    );
    if (path.dirname(d) === d) break;
  }
  return dir;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

describe('package: .vsix of tasks/', function () {
  this.timeout(120_000);
  let pkg: PackageOutput;
  const expected = buildableTasks(TASKS_ROOT);

  before(async () => {
    pkg = await packageOnce(TASKS_ROOT);
  });

  it('contains the manifests, the connection type and every task folder, and stays under 2 MB', () => {
    checkVsix(pkg, expected);
    console.log(`      .vsix with ${expected.length} task(s): ${(pkg.bytes / 1024).toFixed(1)} KB`);
  });

  it('runs every Node task from the unpacked .vsix with no node_modules (tasks present so far)', async () => {
    const entries = readZip(pkg.vsix);
    const dir = isolatedDir('azp-vsix-');
    try {
      for (const t of expected.filter((x) => x.node)) {
        extractZip(entries, path.join(dir, t.folder), `tasks/${t.folder}/`);
        // No inputs: a task must load all its code, then fail on a missing required input.
        const run = await runTask({ task: t.folder, taskDir: path.join(dir, t.folder), timeoutMs: 30_000 });
        assert.doesNotMatch(
          run.stderr,
          /Cannot find module|MODULE_NOT_FOUND/,
          `${t.folder} needs files that did not ship`,
        );
        assert.ok(
          run.result || run.exitCode === 0,
          `${t.folder} crashed before reporting a result: ${run.stderr.slice(0, 500)}`,
        );
        assert.equal(run.outcome, 'Failed', `${t.folder} without inputs should fail: ${describeRun(run)}`);
        assert.ok(run.errors.length > 0, `${t.folder} failed without an error issue: ${describeRun(run)}`);
        console.log(
          `      ${t.folder}: loaded and failed on missing inputs in ${run.durationMs.toFixed(0)} ms`,
        );
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('package: fixture task from the .vsix', function () {
  this.timeout(120_000);
  let pkg: PackageOutput;
  let taskDir: string;
  let isolated: string;

  before(async () => {
    pkg = await packageOnce(FIXTURE_TASKS_ROOT);
    isolated = isolatedDir('azp-vsix-');
    taskDir = path.join(isolated, 'SampleV1');
    extractZip(readZip(pkg.vsix), taskDir, 'tasks/SampleV1/');
  });
  after(() => fs.rmSync(isolated, { recursive: true, force: true }));

  it('has the expected layout', () => {
    checkVsix(pkg, [{ folder: 'SampleV1', node: true }]);
    assert.deepEqual(fs.readdirSync(taskDir).sort(), ['icon.png', 'index.js', 'task.json']);
  });

  it('starts quickly and makes its first request (cold start, median of 5)', async () => {
    const arrivals: number[] = [];
    let onRequest: (() => void) | undefined;
    const server = http.createServer((req, res) => {
      onRequest?.();
      assert.equal(req.headers.authorization, `Bearer ${PAT}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ object_type: 'DIRECTORY', path: '/' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      for (let i = 0; i < 5; i++) {
        let t0 = 0;
        onRequest = () => arrivals.push(performance.now() - t0);
        t0 = performance.now();
        const run = await runTask({
          task: 'SampleV1',
          taskDir,
          inputs: {
            message: 'cold',
            connection: 'ws',
            url: `http://127.0.0.1:${port}/api/2.0/workspace/get-status?path=%2F`,
          },
          endpoints: {
            ws: { url: `http://127.0.0.1:${port}`, scheme: 'Token', parameters: { apitoken: PAT } },
          },
          secrets: [PAT],
        });
        assert.equal(run.outcome, 'Succeeded', describeRun(run));
        assert.equal(run.outputVariables.statusCode, '200');
      }
    } finally {
      server.close();
    }
    assert.equal(arrivals.length, 5);
    const m = median(arrivals);
    console.log(
      `      cold start (spawn → first request), median of 5: ${m.toFixed(0)} ms [${arrivals.map((a) => a.toFixed(0)).join(', ')}]`,
    );
    assert.ok(m < 2000, `cold start ${m.toFixed(0)} ms`);
  });

  it('gets an Entra token through the bundled @azure/identity + msal-node and never leaks it', async () => {
    const cert = await generateCertificate();
    const caFile = path.join(isolated, 'ca.pem');
    fs.writeFileSync(caFile, cert.certPem);
    const clientSecret = 'oauth-secret-value-7Q~abcdefghijklmnop';
    const accessToken = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJkYXRhYnJpY2tzIn0.c2lnbmF0dXJl';
    const seen: string[] = [];
    const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', `https://${req.headers.host}`);
        seen.push(`${req.method} ${url.pathname}`);
        const base = `https://${req.headers.host}/tenant-1`;
        res.setHeader('content-type', 'application/json');
        if (url.pathname === '/tenant-1/v2.0/.well-known/openid-configuration') {
          res.end(
            JSON.stringify({
              issuer: `${base}/v2.0`,
              token_endpoint: `${base}/oauth2/v2.0/token`,
              authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
              end_session_endpoint: `${base}/oauth2/v2.0/logout`,
              jwks_uri: `${base}/discovery/v2.0/keys`,
            }),
          );
        } else if (url.pathname === '/tenant-1/oauth2/v2.0/token' && req.method === 'POST') {
          const form = new URLSearchParams(body);
          const ok =
            form.get('grant_type') === 'client_credentials' &&
            form.get('client_id') === 'app-id-1' &&
            form.get('client_secret') === clientSecret &&
            form.get('scope') === '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default';
          res.statusCode = ok ? 200 : 401;
          res.end(
            JSON.stringify(
              ok
                ? { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken }
                : {
                    error: 'invalid_client',
                    error_description: 'AADSTS7000215: Invalid client secret provided.',
                  },
            ),
          );
        } else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const run = await runTask({
        task: 'SampleV1',
        taskDir,
        inputs: {
          message: 'token',
          connection: 'm2m',
          tenantId: 'tenant-1',
          authorityHost: `https://127.0.0.1:${port}`,
        },
        endpoints: {
          m2m: {
            url: 'https://adb-1.2.azuredatabricks.net',
            scheme: 'UsernamePassword',
            parameters: { username: 'app-id-1', password: clientSecret },
          },
        },
        env: { NODE_EXTRA_CA_CERTS: caFile },
        secrets: [clientSecret, accessToken],
      });
      assert.equal(run.outcome, 'Succeeded', `${describeRun(run)}\n${run.stderr.slice(0, 800)}`);
      assert.ok(run.stdout.includes('Got an Entra token'), 'no token');
      assert.ok(run.secretsSet.includes(accessToken), 'the access token was not handed to task.setsecret');
      assert.ok(seen.includes('POST /tenant-1/oauth2/v2.0/token'), `requests: ${seen.join(', ')}`);
    } finally {
      server.close();
    }
  });
});

describe('agent harness (runTask) with the fixture task', function () {
  this.timeout(60_000);
  let distDir: string;
  const base = {
    task: 'SampleV1',
    endpoints: {
      ws: {
        url: 'https://adb-1.2.azuredatabricks.net',
        scheme: 'Token',
        parameters: { apitoken: PAT },
        data: {
          workspaceResourceId:
            '/subscriptions/s/resourceGroups/g/providers/Microsoft.Databricks/workspaces/w',
        },
      },
    },
    secrets: [PAT],
  };

  before(async () => {
    distDir = (await buildOnce(FIXTURE_TASKS_ROOT)).out;
  });

  it('passes inputs, endpoints and variables the agent way and parses the ##vso commands', async () => {
    const run = await runTask({
      ...base,
      distDir,
      inputs: { message: 'hello; world]', connection: 'ws', outcome: 'SucceededWithIssues' },
      variables: { 'System.Debug': 'true', 'Build.BuildId': '987' },
    });
    assert.equal(run.env.INPUT_MESSAGE, 'hello; world]');
    assert.equal(run.env.ENDPOINT_URL_ws, 'https://adb-1.2.azuredatabricks.net');
    assert.equal(run.env.ENDPOINT_AUTH_SCHEME_ws, 'Token');
    assert.equal(run.env.ENDPOINT_AUTH_PARAMETER_ws_APITOKEN, PAT);
    assert.deepEqual(JSON.parse(run.env.ENDPOINT_AUTH_ws), {
      parameters: { apitoken: PAT },
      scheme: 'Token',
    });
    assert.match(run.env.ENDPOINT_DATA_ws_WORKSPACERESOURCEID, /workspaces\/w$/);
    assert.deepEqual(Object.keys(JSON.parse(run.env.ENDPOINT_DATA_ws)), ['workspaceResourceId']);
    assert.equal(run.env.SYSTEM_DEBUG, 'true');
    assert.equal(run.env.BUILD_BUILDID, '987');
    assert.ok(run.env.AGENT_TEMPDIRECTORY.startsWith(run.workFolder));
    assert.ok(
      run.debug.some((d) => d === 'system.debug=true'),
      'task-lib did not see System.Debug',
    );

    assert.equal(run.outcome, 'SucceededWithIssues');
    assert.deepEqual(run.result, { result: 'SucceededWithIssues', message: 'Finished with a warning.' });
    // task-lib's setResult(SucceededWithIssues) also logs its message as a warning.
    assert.deepEqual(run.warnings, ['Asked to warn.', 'Finished with a warning.']);
    assert.deepEqual(run.outputVariables, { sampleOutput: 'HELLO; WORLD]', statusCode: '0' });
    assert.deepEqual(run.secretsSet, [PAT]);
    assert.deepEqual(
      run.groups.map((g) => g.title),
      ['Sample'],
    );
    assert.ok(run.groups[0].endLine !== undefined);

    assert.equal(run.summaries.length, 1);
    assert.match(run.summaries[0].content ?? '', /\| hello; world\] \| 0 \|/);
    assert.equal(run.publishedTestResults.length, 1);
    const published = run.publishedTestResults[0];
    assert.equal(published.type, 'JUnit');
    assert.equal(published.properties.runTitle, 'Sample; run [1]', 'property unescaping');
    assert.match(published.files[0].content ?? '', /<testcase classname="sample" name="echo"/);
    assert.equal(run.uploads.length, 1);
    assert.equal(run.uploads[0].kind, 'artifact');
    assert.equal(run.uploads[0].properties.artifactname, 'sample-drop');
    assert.equal(fs.existsSync(run.workFolder), false, 'the work folder is removed after the run');
  });

  it('unescapes multi-line failure messages and reports Failed', async () => {
    const run = await runTask({ ...base, distDir, inputs: { message: 'x', outcome: 'Failed' } });
    assert.equal(run.outcome, 'Failed');
    assert.equal(run.result?.message, 'Asked to fail.\nSecond line; 100% sure]');
    assert.deepEqual(run.errors, ['Asked to fail.\nSecond line; 100% sure]']);
  });

  it('starts from a clean environment: parent INPUT_* and NODE_OPTIONS stay out', async () => {
    process.env.INPUT_CONNECTION = 'parent-leak';
    process.env.NODE_OPTIONS = '--max-old-space-size=64';
    try {
      const run = await runTask({ ...base, distDir, inputs: { message: 'x' } });
      assert.equal(run.env.INPUT_CONNECTION, undefined);
      assert.equal(run.env.NODE_OPTIONS, undefined);
      assert.ok(!run.debug.some((d) => d.includes('INPUT_CONNECTION')));
      assert.equal(run.outcome, 'Succeeded');
      // tl.loc reads the task.json messages through task-lib's require(resourceFile).
      assert.equal(run.result?.message, 'Echoed 1 characters.');
    } finally {
      delete process.env.INPUT_CONNECTION;
      delete process.env.NODE_OPTIONS;
    }
  });

  it('fails the run when a secret appears in the output, naming where but not the secret', async () => {
    const leak = runTask({
      ...base,
      distDir,
      inputs: { message: 'x', connection: 'ws', leakSecret: 'true' },
    });
    await assert.rejects(leak, (err: Error) => {
      assert.match(err.message, /secrets\[0\] \(raw\) in stdout line \d+: token is \*\*\*/);
      assert.ok(!err.message.includes(PAT), 'the leak report must not print the secret');
      return true;
    });
    const allowed = await runTask({
      ...base,
      distDir,
      inputs: { message: 'x', connection: 'ws', leakSecret: 'true' },
      allowSecretLeaks: true,
    });
    assert.equal(allowed.secretLeaks.length, 1);
    assert.throws(() => allowed.assertNoSecrets(), /1 secret leak/);
  });

  it('scans files in the agent folders and secret variables too', async () => {
    const secret = 'very-secret-variable-value';
    // The fixture writes its message into the summary (a file) and task-lib debug-logs inputs (stdout).
    const run = await runTask({
      ...base,
      distDir,
      inputs: { message: secret },
      secretVariables: { 'My.Secret': secret },
      allowSecretLeaks: true,
    });
    assert.equal(run.env.SECRET_MY_SECRET, secret);
    const where = run.secretLeaks.map((l) => l.where);
    // Each file is reported once, under the first name it was found by (here: the summary).
    assert.ok(
      where.some((w) => w.startsWith('summary ') && w.endsWith('sample-summary.md')),
      where.join(', '),
    );
    assert.ok(
      where.some((w) => w.startsWith('stdout line')),
      where.join(', '),
    );
  });

  it('delivers SIGTERM mid-run (onStdoutLine) so the task can report Cancelled', async () => {
    let signalledAt = 0;
    const run: TaskRun = await runTask({
      ...base,
      distDir,
      inputs: { message: 'x', waitMs: '20000' },
      onStdoutLine: (line, control) => {
        if (line.startsWith('Waiting')) {
          signalledAt = control.elapsedMs();
          control.kill('SIGTERM');
        }
      },
    });
    assert.ok(signalledAt > 0, 'never saw the Waiting line');
    assert.equal(run.result?.result, 'Cancelled');
    assert.ok(run.durationMs < 10_000, `took ${run.durationMs} ms`);
  });

  it('rejects with the output tail when the task outlives timeoutMs', async () => {
    await assert.rejects(
      runTask({ ...base, distDir, inputs: { message: 'x', waitMs: '20000' }, timeoutMs: 1000 }),
      /timed out after 1000 ms[\s\S]*Waiting 20000 ms/,
    );
  });

  it('sets the release layout and SystemVssConnection when asked', async () => {
    const run = await runTask({
      ...base,
      distDir,
      inputs: { message: 'x' },
      hostType: 'release',
      systemAccessToken: 'system-access-token-value',
    });
    assert.equal(run.env.SYSTEM_HOSTTYPE, 'release');
    assert.equal(run.env.RELEASE_ENVIRONMENTNAME, 'test');
    assert.equal(run.env.SYSTEM_DEFAULTWORKINGDIRECTORY, run.env.AGENT_RELEASEDIRECTORY);
    assert.equal(
      run.env.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN,
      'system-access-token-value',
    );
    assert.equal(run.outcome, 'Succeeded');
  });
});
