/**
 * Secret scan across the tasks: every kind of secret the tasks handle (Databricks PAT,
 * Databricks OAuth client secret, Entra client secret, certificate PEM with its private key,
 * access tokens minted by the emulator — Entra, Databricks OAuth, Azure DevOps job token and
 * OIDC tokens — and secure parameter values) must never appear in stdout, stderr, the result
 * message, summaries, published test results, uploaded files or any file left in the agent
 * folders, with System.Debug off and on. Token values are read from the emulator as it mints
 * them (test/soak/lane.ts). The second part plants secrets in error bodies of a hostile service
 * (test/soak/echo.ts) and checks the failure message masks them.
 *
 * Each task and connection kind comes from the soak table (test/soak/scenarios.ts), so a task
 * added there is scanned here too.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seededRandom } from '../emulator/core';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import { runTask, type RunTaskOptions, type TaskRun } from '../harness/run-task';
import {
  allStaticSecrets,
  databricksConnection,
  registerIdentities,
  azureConnection,
  withConnection,
  type AuthKind,
} from '../soak/auth';
import { addEchoHost, type EchoHost } from '../soak/echo';
import { Lane, onLanes, seedOf } from '../soak/lane';
import { scanRun } from '../soak/scan';
import { SCENARIOS, type LaneScenario, type Scenario } from '../soak/scenarios';

const LANES = 4;
const PRESENT = SCENARIOS.filter((s) => fs.existsSync(path.join(TASKS_ROOT, s.task, 'index.ts')));

interface ScanCase {
  scenario: Scenario;
  auth: AuthKind;
  debug: boolean;
}

interface ScanResult {
  run?: TaskRun;
  outcome: string;
  message: string;
  debugLines: number;
  tokensMinted: number;
  leaks: string[];
  error?: string;
}

const key = (c: ScanCase) => `${c.scenario.name}|${c.auth}|${c.debug}`;

describe('secret scan: no secret in anything a task writes', function () {
  this.timeout(240_000);
  const results = new Map<string, ScanResult>();
  const cases: ScanCase[] = PRESENT.flatMap((scenario) =>
    scenario.auth.flatMap((auth) => [false, true].map((debug) => ({ scenario, auth, debug }))),
  );

  before(async () => {
    const build = await buildOnce(TASKS_ROOT);
    const lanes = await Promise.all(Array.from({ length: LANES }, (_, i) => Lane.start(300 + i)));
    const staticSecrets = await allStaticSecrets();
    try {
      const prepared = new Map<Lane, Map<string, LaneScenario>>();
      await Promise.all(
        lanes.map(async (lane) => {
          const m = new Map<string, LaneScenario>();
          for (const s of PRESENT) m.set(s.name, await s.onLane(lane, build.out));
          prepared.set(lane, m);
        }),
      );
      await onLanes(lanes, cases, async (c, lane) => {
        const seed = seedOf('scan', key(c));
        lane.reset(seed);
        const minted = lane.mintedTokens.length;
        try {
          const sc = await (prepared.get(lane)?.get(c.scenario.name) as LaneScenario).arrange({
            seed,
            random: seededRandom(seed),
            distDir: build.out,
            buildId: String(300_000 + (seed % 600_000)),
            auth: c.auth,
            debug: c.debug,
          });
          const opts = await sc.options(1);
          const run = await runTask({ ...opts, allowSecretLeaks: true, keepWorkFolder: true });
          const leaks = scanRun(run, [...sc.secrets, ...staticSecrets, ...lane.mintedTokens]);
          results.set(key(c), {
            outcome: run.outcome,
            message: run.result?.message ?? '',
            debugLines: run.debug.length,
            tokensMinted: lane.mintedTokens.length - minted,
            leaks,
          });
        } catch (e) {
          results.set(key(c), {
            outcome: 'error',
            message: '',
            debugLines: 0,
            tokensMinted: 0,
            leaks: [],
            error: String(e),
          });
        }
      });
    } finally {
      await Promise.all(lanes.map((l) => l.stop()));
    }
  });

  for (const c of cases) {
    it(`${c.scenario.name} with ${c.auth}, System.Debug=${c.debug}`, () => {
      const r = results.get(key(c));
      assert.ok(r, 'not run');
      assert.equal(r.error, undefined, r.error);
      assert.equal(r.outcome, 'Succeeded', r.message);
      assert.deepEqual(r.leaks, []);
      if (c.auth !== 'pat')
        assert.ok(r.tokensMinted > 0, 'the emulator minted no token: the scan proved nothing');
      if (c.debug) assert.ok(r.debugLines > 0, 'System.Debug=true produced no debug output');
    });
  }
});

/**
 * Secrets planted in the error bodies of a hostile service. Each case points a task at the
 * echo host, which answers with the credential the request carried, at an offset; the task
 * must fail with a message that names what failed and masks the secret everywhere.
 */
interface PlantCase {
  name: string;
  task: 'DatabricksRunNotebookV1' | 'DataFactoryRunPipelineV1';
  auth: AuthKind;
  /** Where the secret starts in the service's message. */
  offset: number;
  message: RegExp;
}

const PLANTED: PlantCase[] = [
  {
    name: 'a PAT echoed in a Databricks error',
    task: 'DatabricksRunNotebookV1',
    auth: 'pat',
    offset: 0,
    message: /failed: 400 INVALID_PARAMETER_VALUE/,
  },
  {
    // The HTTP client cuts service messages to 600 characters; the secret must be masked first.
    // 30 characters of the 42-character PAT before the cut: more than the scan's first-half needle.
    name: 'a PAT straddling the 600-character cut of a service message',
    task: 'DatabricksRunNotebookV1',
    auth: 'pat',
    offset: 599 - 30,
    message: /failed: 400 INVALID_PARAMETER_VALUE/,
  },
  {
    name: 'an OAuth client secret echoed by the token endpoint',
    task: 'DatabricksRunNotebookV1',
    auth: 'databricks-oauth',
    offset: 0,
    message: /invalid_client/,
  },
  {
    // The token error quotes 300 characters of "Databricks said: …": masked before the cut,
    // or the first part of a secret across it would survive (redactAndTruncate).
    name: 'an OAuth client secret straddling the 300-character cut of the token error',
    task: 'DatabricksRunNotebookV1',
    auth: 'databricks-oauth',
    offset: 300 - 16 - 20,
    message: /invalid_client/,
  },
  {
    name: 'an Entra access token echoed by a workspace',
    task: 'DatabricksRunNotebookV1',
    auth: 'azure-secret',
    offset: 40,
    message: /failed: 400 INVALID_PARAMETER_VALUE/,
  },
  {
    name: 'a token from workload identity federation echoed by Resource Manager',
    task: 'DataFactoryRunPipelineV1',
    auth: 'azure-wif',
    offset: 100,
    message: /failed: 400 InvalidRequestContent/,
  },
  {
    name: 'a certificate-based Entra token echoed by Resource Manager',
    task: 'DataFactoryRunPipelineV1',
    auth: 'azure-certificate',
    offset: 0,
    message: /failed: 400 InvalidRequestContent/,
  },
];

describe('secret scan: secrets planted in error bodies are masked', function () {
  this.timeout(120_000);
  let lane: Lane;
  let dbxEcho: EchoHost;
  let armEcho: EchoHost;
  let distDir: string;
  let staticSecrets: string[];
  const planted = PLANTED.filter((c) => fs.existsSync(path.join(TASKS_ROOT, c.task, 'index.ts')));

  before(async () => {
    distDir = (await buildOnce(TASKS_ROOT)).out;
    lane = await Lane.start(400);
    dbxEcho = await addEchoHost(lane, 'databricks');
    armEcho = await addEchoHost(lane, 'azure');
    staticSecrets = await allStaticSecrets();
  });
  after(async () => lane?.stop());

  async function options(c: PlantCase, debug: boolean): Promise<RunTaskOptions> {
    const base: RunTaskOptions = {
      task: c.task,
      distDir,
      inputs: {},
      variables: {
        'Build.BuildId': String(seedOf(c.name, String(debug)) % 100_000),
        ...(debug ? { 'System.Debug': 'true' } : {}),
      },
      env: lane.env(),
      timeoutMs: 60_000,
    };
    if (c.task === 'DatabricksRunNotebookV1') {
      // A workspace-shaped stand-in: the echo host at a loopback URL.
      const ws = { url: dbxEcho.url } as Parameters<typeof databricksConnection>[1];
      return withConnection(
        { ...base, inputs: { notebookPath: '/Shared/soak/smoke_test', timeoutMinutes: '1' } },
        await databricksConnection(lane, ws, c.auth),
      );
    }
    const conn = await azureConnection(lane, c.auth);
    for (const ep of Object.values(conn.endpoints)) ep.url = `${armEcho.url}/`;
    return withConnection(
      {
        ...base,
        inputs: {
          resourceGroupName: 'rg-soak',
          factoryName: 'adf-soak-prod',
          pipelineName: 'PL_Soak',
          timeoutMinutes: '1',
        },
      },
      conn,
    );
  }

  for (const c of planted) {
    for (const debug of [false, true]) {
      it(`${c.name} (System.Debug=${debug})`, async () => {
        lane.reset(seedOf('plant', c.name));
        await registerIdentities(lane);
        dbxEcho.options.offset = c.offset;
        armEcho.options.offset = c.offset;
        const opts = await options(c, debug);
        const run = await runTask({ ...opts, allowSecretLeaks: true, keepWorkFolder: true });
        const echoed = lane.emu.requests({ api: 'echo' }).length;
        const leaks = scanRun(run, [...staticSecrets, ...(opts.secrets ?? []), ...lane.mintedTokens]);
        assert.ok(echoed > 0, 'the task never reached the echo host');
        assert.equal(run.outcome, 'Failed');
        assert.match(run.result?.message ?? '', c.message);
        assert.deepEqual(leaks, []);
        assert.match(run.result?.message ?? '', /\*\*\*/, 'the echoed secret is shown masked');
      });
    }
  }
});
