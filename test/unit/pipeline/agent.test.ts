/**
 * src/pipeline against the real azure-pipelines-task-lib: a fixture task runs in
 * a child process (task-lib reads its environment once, at load) with the
 * variables the agent sets, and its ##vso commands are checked.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseVsoLine, splitLines, type VsoCommand } from '../../harness/vso';

const FIXTURE = path.join(__dirname, 'fixtures', 'agent-task.ts');
const PAT = 'dapi-fixture-token-0123456789';
const ACCESS_TOKEN = 'job-access-token-abcdef123456';
const PROXY_PASSWORD = 'proxy-password-0987654321';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  commands: VsoCommand[];
}

function run(
  env: Record<string, string>,
  opts: { onLine?: (line: string, kill: () => void) => void } = {},
): Promise<Run> {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-fixture-'));
  const work = path.join(temp, 's');
  fs.mkdirSync(path.join(work, 'notebooks'), { recursive: true });
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), FIXTURE], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '',
      AGENT_TEMPDIRECTORY: temp,
      SYSTEM_DEFAULTWORKINGDIRECTORY: work,
      BUILD_SOURCESDIRECTORY: work,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) opts.onLine?.(l, () => child.kill('SIGTERM'));
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture timed out: ${stdout}\n${stderr}`));
    }, 25_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.rmSync(temp, { recursive: true, force: true });
      const commands = splitLines(stdout)
        .map((l, i) => parseVsoLine(l, i))
        .filter((c): c is VsoCommand => c !== undefined);
      resolve({ code, stdout, stderr, commands });
    });
  });
}

// Endpoint ids are GUIDs; the agent uses them verbatim in the variable names.
const DBX_ID = 'a1b2c3d4-0000-4000-8000-000000000001';
const dbxEndpoint = {
  INPUT_DATABRICKSCONNECTION: DBX_ID,
  [`ENDPOINT_URL_${DBX_ID}`]: 'https://adb-1234567890123456.7.azuredatabricks.net/',
  [`ENDPOINT_AUTH_${DBX_ID}`]: JSON.stringify({ parameters: { apitoken: PAT }, scheme: 'Token' }),
  [`ENDPOINT_AUTH_SCHEME_${DBX_ID}`]: 'Token',
  [`ENDPOINT_AUTH_PARAMETER_${DBX_ID}_APITOKEN`]: PAT,
};

function complete(r: Run): VsoCommand {
  const c = r.commands.filter((x) => x.command === 'task.complete');
  assert.equal(c.length, 1, `one task.complete expected:\n${r.stdout}\n${r.stderr}`);
  return c[0];
}

/** A secret must be declared (task.setsecret) before any other line shows it. */
function assertMaskedBeforeUse(r: Run, secret: string): void {
  const lines = splitLines(r.stdout);
  const declared = lines.findIndex((l) => l.startsWith('##vso[task.setsecret]') && l.includes(secret));
  assert.ok(declared >= 0, `secret never passed to tl.setSecret:\n${r.stdout}`);
  lines.forEach((l, i) => {
    if (i !== declared && l.includes(secret)) {
      assert.ok(i > declared, `secret printed before it was declared, line ${i}: ${l}`);
    }
  });
}

describe('src/pipeline with the real task-lib (child process)', function () {
  this.timeout(60_000);

  it('reads inputs and endpoints, reports outputs, summary, test results and artifacts', async () => {
    const r = await run({
      ...dbxEndpoint,
      SCENARIO: 'success',
      INPUT_NOTEBOOKNAME: ' smoke ',
      INPUT_TIMEOUTMINUTES: '15',
      INPUT_SPARKCONF: 'a=1\n# comment\nb = x=y',
      INPUT_NOTEBOOKSFOLDER: 'notebooks',
      // The agent's proxy: task-lib would echo the password in a debug line when read.
      AGENT_PROXYURL: 'http://127.0.0.1:9',
      AGENT_PROXYUSERNAME: 'proxy-user',
      AGENT_PROXYPASSWORD: PROXY_PASSWORD,
    });
    const result = complete(r);
    assert.equal(result.properties.result, 'SucceededWithIssues', r.stdout);
    assert.equal(result.message, 'One notebook had warnings.');
    assert.match(
      r.stdout,
      /##\[group\]Details\nworkspace https:\/\/adb-1234567890123456\.7\.azuredatabricks\.net kind pat\n/,
    );
    assert.match(
      r.stdout,
      /name=smoke timeout=15 conf=\{"a":"1","b":"x=y"\} folder=.*notebooks unset=undefined\n##\[endgroup\]/,
    );
    const issue = r.commands.find((c) => c.command === 'task.logissue');
    assert.deepEqual(
      {
        type: issue?.properties.type,
        sourcepath: issue?.properties.sourcepath,
        linenumber: issue?.properties.linenumber,
        msg: issue?.message,
      },
      { type: 'warning', sourcepath: 'notebooks/a.py', linenumber: '1', msg: 'notebook has no header' },
    );
    const out = r.commands.find((c) => c.command === 'task.setvariable');
    assert.deepEqual(out?.properties, { variable: 'runId', isOutput: 'true', issecret: 'false' });
    assert.equal(out?.message, '42');
    const pub = r.commands.find((c) => c.command === 'results.publish');
    assert.equal(pub?.properties.type, 'JUnit');
    assert.equal(pub?.properties.runTitle, 'Notebook tests');
    assert.match(pub?.properties.resultFiles ?? '', /results\.xml$/);
    const art = r.commands.find((c) => c.command === 'artifact.upload');
    assert.deepEqual(
      { name: art?.properties.artifactname, folder: art?.properties.containerfolder },
      { name: 'notebook-output', folder: 'notebook-output' },
    );
    const summary = r.commands.find((c) => c.command === 'task.uploadsummary');
    assert.match(summary?.message ?? '', /summary-[^/]+\/Databricks run\.md$/);
    assertMaskedBeforeUse(r, PAT);
    assert.doesNotMatch(r.stdout.replace(/##vso\[task\.setsecret\].*\n/g, ''), new RegExp(PAT));
    assertMaskedBeforeUse(r, PROXY_PASSWORD);
    assert.doesNotMatch(r.stdout.replace(/##vso\[task\.setsecret\].*\n/g, ''), new RegExp(PROXY_PASSWORD));
  });

  it('an input error fails the task with the message naming the input', async () => {
    const r = await run({ SCENARIO: 'input-error', INPUT_TIMEOUTMINUTES: 'abc' });
    const result = complete(r);
    assert.equal(result.properties.result, 'Failed');
    assert.equal(
      result.message,
      "Input 'timeoutMinutes' must be a whole number between 1 and 1440 (got 'abc').",
    );
    const issue = r.commands.find((c) => c.command === 'task.issue' && c.properties.type === 'error');
    assert.equal(issue?.message, result.message);
  });

  it('a failure message never contains a secret; the stack goes to debug only', async () => {
    const r = await run({ ...dbxEndpoint, SCENARIO: 'secret-error' });
    const result = complete(r);
    assert.equal(result.properties.result, 'Failed');
    assert.equal(result.message, 'request failed with token ***');
    assert.ok(r.commands.some((c) => c.command === 'task.debug' && /at .*agent-task\.ts/.test(c.message)));
    assertMaskedBeforeUse(r, PAT);
  });

  it('workload identity federation reads the job access token without echoing it', async () => {
    const r = await run({
      SCENARIO: 'wif',
      INPUT_AZURESUBSCRIPTION: 'arm_conn',
      ENDPOINT_URL_arm_conn: 'https://management.azure.com/',
      ENDPOINT_AUTH_arm_conn: JSON.stringify({
        parameters: { serviceprincipalid: 'app-id', tenantid: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
        scheme: 'WorkloadIdentityFederation',
      }),
      ENDPOINT_AUTH_SCHEME_arm_conn: 'WorkloadIdentityFederation',
      ENDPOINT_DATA_arm_conn_ACTIVEDIRECTORYAUTHORITY: 'https://login.microsoftonline.com/',
      // Only the per-parameter variable, as some hosts set it: the fallback path must not echo it.
      ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: ACCESS_TOKEN,
      SYSTEM_OIDCREQUESTURI:
        'https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken',
    });
    assert.equal(complete(r).properties.result, 'Succeeded', r.stdout);
    assert.match(r.stdout, /scheme WorkloadIdentityFederation/);
    assertMaskedBeforeUse(r, ACCESS_TOKEN);
  });

  it('SIGTERM cancels: the abort signal fires and the result is Cancelled', async () => {
    const started = Date.now();
    const r = await run({ SCENARIO: 'cancel' }, { onLine: (l, kill) => l === 'ready' && kill() });
    const result = complete(r);
    assert.equal(result.properties.result, 'Cancelled');
    assert.ok(
      r.commands.some(
        (c) => c.command === 'task.issue' && /Cancellation requested \(SIGTERM\)/.test(c.message),
      ),
    );
    assert.ok(Date.now() - started < 15_000, 'exited promptly');
  });

  it('an error escaping the promise chain still fails the task', async () => {
    const r = await run({ SCENARIO: 'stray' });
    const result = complete(r);
    assert.equal(result.properties.result, 'Failed');
    assert.equal(result.message, 'stray callback failure');
  });
});
