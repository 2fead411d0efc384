/**
 * The soak table: one entry per task. Adding a task to the soak, the cancellation test and
 * the secret scan is one entry here. An entry says how to prepare a lane (workspaces,
 * factories, source folders), how to arrange one case on a freshly reset lane, which inputs
 * an execution gets, what the exact desired final state is, and how many runs (Databricks
 * runs, ADF pipeline runs) exist, so the soak can check "at most one per execution".
 *
 * DataFactoryBuildArmTemplate is not here: it makes no network call, so there is nothing to
 * inject faults into or cancel; test/e2e/bad-inputs.test.ts covers its inputs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FactoryState } from '../emulator/arm';
import type { RunTaskOptions, TaskRun } from '../harness/run-task';
import { runTask } from '../harness/run-task';
import {
  dataset,
  exportTemplate,
  ls,
  pipeline,
  scheduleTrigger,
  type FactorySpec,
} from '../unit/datafactory/deploy/helpers';
import {
  AZURE_AUTH,
  azureConnection,
  DATABRICKS_AUTH,
  databricksConnection,
  registerIdentities,
  RESOURCE_GROUP,
  SUBSCRIPTION,
  withConnection,
  type AuthKind,
} from './auth';
import type { Lane } from './lane';

export interface CaseContext {
  /** Seed of this case; `random` is a PRNG seeded with it. */
  seed: number;
  random: () => number;
  /** Folder holding tasks/<Name>/index.js. */
  distDir: string;
  /** A Build.BuildId unique to the case, so idempotency tokens never meet across cases. */
  buildId: string;
  /** The connection kind; default: the scenario's kinds in turn, by seed. */
  auth?: AuthKind;
  /** Adds System.Debug=true to every execution of the case. */
  debug?: boolean;
  /**
   * Cancellation cases: make the request that starts work (runs/submit, createRun, a trigger
   * stop) slow and kill the task while it is in flight, when the server acts but the task
   * never hears back.
   */
  inFlight?: boolean;
}

export interface ScenarioCase {
  /** Options of one execution; attempt is System.JobAttempt (2 = the pipeline's "rerun failed jobs"). */
  options(attempt: number): Promise<RunTaskOptions>;
  /** What differs from the exact desired final state after a successful execution ([] = none). */
  verify(run: TaskRun): string[];
  /**
   * What must hold after every execution, failed ones included (e.g. triggers that were
   * started are started again). [] = holds.
   */
  invariant?(): string[];
  /** Runs started so far (Databricks runs, ADF pipeline runs); absent for tasks that start none. */
  runsStarted?(): number;
  /** Distinct submissions (idempotency tokens / createRun calls that reached the service) in the journal. */
  submissions?(): number;
  /** Values that must never appear in anything the task wrote (the lane's minted tokens are added). */
  secrets: string[];
}

export interface CancelCase {
  options(): Promise<RunTaskOptions>;
  secrets: string[];
  /** When to send SIGTERM, in ms after the task's first line of output (seeded by the case). */
  killAfterMs: number;
  /** Problems after the cancelled execution: runs left running, triggers left stopped, deletes… */
  verify(run: TaskRun): string[];
  /** Options of a rerun without cancellation, which must converge. */
  rerun(): Promise<RunTaskOptions>;
  verifyRerun(run: TaskRun): string[];
}

export interface LaneScenario {
  arrange(ctx: CaseContext): Promise<ScenarioCase>;
  /** For long-running tasks: a case the cancellation test interrupts. */
  arrangeCancellation?(ctx: CaseContext): Promise<CancelCase>;
  /** Released when the lane stops (temp folders). */
  dispose?(): void;
}

export interface Scenario {
  /** Task name as in task.json, e.g. DatabricksRunNotebook. */
  name: string;
  /** Folder under tasks/, e.g. DatabricksRunNotebookV1. */
  task: string;
  /** Long-running: arrangeCancellation exists and the cancellation test covers it. */
  long: boolean;
  /** Connection kinds the task accepts. */
  auth: AuthKind[];
  /**
   * An API that some cases take down for longer than the retries last (an outage), so the
   * task fails part-way and the rerun has to converge from what it left.
   */
  outageApi: RegExp;
  /** A cancellation gap found in the task (see the report): in-flight kills are left out until fixed. */
  cancelInFlightGap?: string;
  /**
   * A known wrong outcome of a cancelled execution (see the report): tolerated, and named in
   * the output, while the state checks still apply. CANCEL_GAPS=1 makes it a failure again.
   */
  cancelOutcomeGap?: { message: RegExp; note: string };
  /** Called once per lane, after the lane's emulator started. */
  onLane(lane: Lane, distDir: string): Promise<LaneScenario>;
}

// ------------------------------------------------------------------------ shared helpers

export const PY = '# Databricks notebook source\n';
const SQL = '-- Databricks notebook source\n';

export function authFor(scenario: Pick<Scenario, 'auth'>, ctx: CaseContext): AuthKind {
  return ctx.auth ?? scenario.auth[ctx.seed % scenario.auth.length];
}

function variables(ctx: CaseContext, attempt: number): Record<string, string> {
  return {
    'Build.BuildId': ctx.buildId,
    'System.JobAttempt': String(attempt),
    ...(ctx.debug ? { 'System.Debug': 'true' } : {}),
  };
}

function expectEqual(problems: string[], what: string, actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) problems.push(`${what}: expected ${e}, got ${a}`);
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
}

// ------------------------------------------------------------------------ DatabricksRunNotebook

const SMOKE = '/Shared/soak/smoke_test';
const MODEL = '/Shared/soak/model_test';
const SMOKE_EXIT = JSON.stringify({
  tests: [
    { name: 'spark answers', status: 'passed', duration: 0.1 },
    { name: 'table has rows', status: 'passed', duration: 0.2 },
  ],
  metrics: { accuracy: 0.95 },
});
const MODEL_EXIT = '{"metrics": {"accuracy": 0.91}}';

const runNotebook: Scenario = {
  name: 'DatabricksRunNotebook',
  task: 'DatabricksRunNotebookV1',
  long: true,
  auth: DATABRICKS_AUTH,
  outageApi: /^jobs\.runs\.get-output$/,
  async onLane(lane) {
    const ws = await lane.full.databricks.addWorkspace('run');
    const prepare = async (durationMs: number) => {
      await registerIdentities(lane, ws);
      ws.addNotebook(SMOKE, PY + 'print("smoke")\n');
      ws.addNotebook(MODEL, PY + 'print("model")\n');
      ws.scriptRun(SMOKE, { exitValue: SMOKE_EXIT, durationMs, pendingMs: 50 });
      ws.scriptRun(MODEL, { exitValue: MODEL_EXIT, durationMs: durationMs / 2, pendingMs: 50 });
    };
    const options = async (ctx: CaseContext, attempt: number): Promise<RunTaskOptions> =>
      withConnection(
        {
          task: 'DatabricksRunNotebookV1',
          distDir: ctx.distDir,
          inputs: {
            notebookPath: `${SMOKE}\n${MODEL}`,
            parameters: 'environment=soak',
            assertions: 'metrics.accuracy >= 0.9',
            timeoutMinutes: '2',
          },
          variables: variables(ctx, attempt),
          env: lane.env(),
          timeoutMs: 150_000,
        },
        await databricksConnection(lane, ws, authFor(runNotebook, ctx)),
      );
    const submissions = () =>
      new Set(
        lane.emu
          .requests({ api: 'jobs.runs.submit' })
          .filter((e) => e.fault !== 'resetBefore' && e.status !== 429)
          .map((e) =>
            String((e.requestBody as { idempotency_token?: string } | undefined)?.idempotency_token),
          ),
      ).size;
    return {
      async arrange(ctx) {
        await prepare(1500);
        const secrets = (await options(ctx, 1)).secrets ?? [];
        return {
          secrets,
          options: (attempt) => options(ctx, attempt),
          runsStarted: () => ws.runs().length,
          submissions,
          verify(run) {
            const problems: string[] = [];
            const last = ws.runs().at(-1);
            if (!last) return ['no Databricks run exists'];
            expectEqual(
              problems,
              'final run state',
              [last.state.life_cycle_state, last.state.result_state],
              ['TERMINATED', 'SUCCESS'],
            );
            expectEqual(problems, 'output runId', run.outputVariables.runId, String(last.run_id));
            expectEqual(problems, 'output resultState', run.outputVariables.resultState, 'SUCCESS');
            expectEqual(
              problems,
              'output notebookOutput',
              run.outputVariables.notebookOutput,
              JSON.stringify({ smoke_test: SMOKE_EXIT, model_test: MODEL_EXIT }),
            );
            // smoke: two tests; model: the run itself (no tests); the assertion holds for both.
            expectEqual(problems, 'output testsPassed', run.outputVariables.testsPassed, '5');
            expectEqual(problems, 'output testsFailed', run.outputVariables.testsFailed, '0');
            expectEqual(problems, 'published JUnit files', run.publishedTestResults.length, 1);
            const xml = run.publishedTestResults[0]?.files[0]?.content ?? '';
            if (!/<testcase name="table has rows"/.test(xml)) problems.push('JUnit lacks the test cases');
            expectEqual(
              problems,
              'tasks and parameters',
              last.tasks.map((t) => [t.notebookPath, t.baseParameters]),
              [
                [SMOKE, { environment: 'soak' }],
                [MODEL, { environment: 'soak' }],
              ],
            );
            return problems;
          },
        };
      },
      async arrangeCancellation(ctx) {
        // Long enough that every kill point falls before the run ends.
        await prepare(30_000);
        if (ctx.inFlight) lane.emu.setLatency(1500, 'jobs.runs.submit');
        const first = await options(ctx, 1);
        return {
          killAfterMs: Math.round(ctx.inFlight ? 300 + ctx.random() * 1000 : ctx.random() * 2500),
          secrets: first.secrets ?? [],
          options: async () => first,
          verify(run) {
            const problems: string[] = [];
            if (run.outcome === 'Succeeded')
              problems.push('the run finished before the kill: make it longer');
            const runs = ws.runs();
            if (runs.length > 1) problems.push(`${runs.length} runs were started`);
            const cancels = lane.emu.requests({ api: 'jobs.runs.cancel' });
            for (const r of runs) {
              if (
                !cancels.some((e) => (e.requestBody as { run_id?: number } | undefined)?.run_id === r.run_id)
              )
                problems.push(`the journal shows no runs/cancel for run ${r.run_id}: it was left running`);
              else if (!['TERMINATED', 'TERMINATING'].includes(r.state.life_cycle_state))
                problems.push(`run ${r.run_id} is ${r.state.life_cycle_state} after the cancel`);
            }
            if (runs.length === 1 && run.outputVariables.runId !== String(runs[0].run_id))
              problems.push(
                `output runId '${run.outputVariables.runId}' does not name run ${runs[0].run_id}`,
              );
            return problems;
          },
          rerun: async () => {
            lane.emu.setLatency(0, 'jobs.runs.submit');
            ws.scriptRun(SMOKE, { exitValue: SMOKE_EXIT, durationMs: 300, pendingMs: 50 });
            ws.scriptRun(MODEL, { exitValue: MODEL_EXIT, durationMs: 300, pendingMs: 50 });
            return options(ctx, 2);
          },
          verifyRerun(run) {
            const problems: string[] = [];
            if (run.outcome !== 'Succeeded') problems.push(`outcome ${run.outcome}: ${run.result?.message}`);
            expectEqual(problems, 'run state', ws.runs().at(-1)?.state.result_state, 'SUCCESS');
            return problems;
          },
        };
      },
    };
  },
};

// ------------------------------------------------------------------------ DatabricksDeployNotebooks

const TARGET = '/Shared/soak-deploy';
const DEPLOY_SOURCE: Record<string, string> = {
  'etl/load.py': PY + 'print("load")\n',
  'etl/transform.sql': SQL + 'SELECT 1\n',
  'etl/clean.py': PY + 'print("clean")\n',
  'etl/lib/helpers.py': 'def helper():\n    return 1\n',
  'reports/daily.scala': '// Databricks notebook source\nprintln("daily")\n',
  'reports/weekly.py': PY + 'print("weekly")\n',
  'conf/settings.yml': 'env: prod\n',
  'requirements.txt': 'pandas==2.2.0\n',
};
/** Workspace path (relative to the target) → content, as the deploy must leave it. */
const DEPLOY_EXPECTED: Record<string, string> = Object.fromEntries(
  Object.entries(DEPLOY_SOURCE).map(([rel, content]) => [
    /^(#|--|\/\/) Databricks notebook source/.test(content) ? rel.replace(/\.(py|sql|scala)$/, '') : rel,
    content,
  ]),
);

const deployNotebooks: Scenario = {
  name: 'DatabricksDeployNotebooks',
  task: 'DatabricksDeployNotebooksV1',
  long: true,
  auth: DATABRICKS_AUTH,
  outageApi: /^workspace\.import$/,
  async onLane(lane) {
    const ws = await lane.full.databricks.addWorkspace('deploy');
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-deploy-src-'));
    writeTree(src, DEPLOY_SOURCE);
    const tree = (): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const p of ws.paths({ under: TARGET })) {
        if (ws.objectType(p) === 'DIRECTORY' || p.endsWith('/.deploy-manifest.json')) continue;
        out[p.slice(TARGET.length + 1)] = ws.content(p) ?? '';
      }
      return out;
    };
    const prepare = async () => {
      await registerIdentities(lane, ws);
      // An earlier deploy: one notebook out of date, one gone from the source, a stray file.
      ws.addNotebook(`${TARGET}/etl/load`, PY + 'print("load v0")\n');
      ws.addNotebook(`${TARGET}/etl/retired`, PY + 'print("retired")\n');
      ws.addFile(`${TARGET}/old/notes.txt`, 'stale\n');
    };
    const options = async (ctx: CaseContext, attempt: number, concurrency = '4'): Promise<RunTaskOptions> =>
      withConnection(
        {
          task: 'DatabricksDeployNotebooksV1',
          distDir: ctx.distDir,
          inputs: {
            sourceType: 'folder',
            sourceFolder: src,
            targetPath: TARGET,
            mode: 'mirror',
            concurrency,
          },
          variables: variables(ctx, attempt),
          env: lane.env(),
          timeoutMs: 150_000,
        },
        await databricksConnection(lane, ws, authFor(deployNotebooks, ctx)),
      );
    const verifyTree = (run: TaskRun): string[] => {
      const problems: string[] = [];
      const t = tree();
      expectEqual(problems, 'workspace paths', Object.keys(t).sort(), Object.keys(DEPLOY_EXPECTED).sort());
      for (const [rel, content] of Object.entries(DEPLOY_EXPECTED))
        if (t[rel] !== undefined && t[rel] !== content)
          problems.push(`${rel}: content differs from the source`);
      if (ws.objectType(`${TARGET}/.deploy-manifest.json`) !== 'FILE') problems.push('no deploy manifest');
      if (!run.outputVariables.manifestPath) problems.push('output manifestPath is empty');
      return problems;
    };
    return {
      dispose: () => fs.rmSync(src, { recursive: true, force: true }),
      async arrange(ctx) {
        await prepare();
        return {
          secrets: (await options(ctx, 1)).secrets ?? [],
          options: (attempt) => options(ctx, attempt),
          verify: verifyTree,
        };
      },
      async arrangeCancellation(ctx) {
        await prepare();
        // Slow imports, one at a time: the kill lands while notebooks are being written.
        lane.emu.setLatency(250, 'workspace.import');
        const first = await options(ctx, 1, '1');
        return {
          killAfterMs: Math.round(ctx.random() * 1500),
          secrets: first.secrets ?? [],
          options: async () => first,
          verify(run) {
            if (run.outcome === 'Succeeded') return verifyTree(run);
            const problems: string[] = [];
            // Destructive steps only follow a complete write: nothing deleted, no new manifest.
            if (ws.content(`${TARGET}/etl/retired`) === undefined) problems.push('etl/retired was deleted');
            if (ws.content(`${TARGET}/old/notes.txt`) === undefined)
              problems.push('old/notes.txt was deleted');
            if (ws.objectType(`${TARGET}/.deploy-manifest.json`) !== undefined)
              problems.push('a cancelled deploy wrote the manifest');
            const deletes = lane.emu.requests({ api: 'workspace.delete' }).length;
            if (deletes) problems.push(`the journal shows ${deletes} workspace/delete request(s)`);
            return problems;
          },
          rerun: async () => {
            lane.emu.setLatency(0, 'workspace.import');
            return options(ctx, 2);
          },
          verifyRerun: verifyTree,
        };
      },
    };
  },
};

// ------------------------------------------------------------------------ Data Factory

const FACTORY = 'adf-soak-prod';
const SQL_PASSWORD = 'Soak-Sql-P@ss "quoted"; 7f3e';
const FAST_ARM = {
  deploymentStartMs: 5,
  deploymentStepMs: 2,
  triggerOperationMs: 30,
  asyncRetryAfterSeconds: 0,
};

const sqlLinkedService = {
  annotations: [],
  type: 'AzureSqlDatabase',
  typeProperties: {
    connectionString: { type: 'SecureString', value: "[parameters('LS_Sql_connectionString')]" },
  },
};
const FACTORY_V1: FactorySpec = {
  linkedServices: { LS_Lake: ls(), LS_Sql: sqlLinkedService },
  datasets: { DS_Raw: dataset('LS_Lake', 'raw'), DS_Curated: dataset('LS_Lake', 'curated') },
  pipelines: {
    PL_Load: pipeline({ datasets: ['DS_Raw'] }),
    PL_Transform: pipeline({ datasets: ['DS_Curated'] }),
    PL_Master: pipeline({ calls: ['PL_Load', 'PL_Transform'] }),
    PL_Report: pipeline({ wait: 2 }),
  },
  triggers: {
    TR_Nightly: scheduleTrigger(['PL_Master']),
    TR_Report: scheduleTrigger(['PL_Report'], 'Started', 6),
    TR_Hourly: scheduleTrigger(['PL_Load'], 'Started', 1),
    TR_Manual: scheduleTrigger(['PL_Report'], 'Stopped', 9),
  },
};
/** v1 with PL_Master and TR_Nightly changed and a new pipeline. */
const FACTORY_V2: FactorySpec = {
  ...FACTORY_V1,
  pipelines: {
    ...FACTORY_V1.pipelines,
    PL_Master: pipeline({ calls: ['PL_Load', 'PL_Transform'], description: 'nightly v2' }),
    PL_Audit: pipeline({ datasets: ['DS_Curated'], description: 'new in v2' }),
  },
  triggers: {
    ...FACTORY_V1.triggers,
    TR_Nightly: scheduleTrigger(['PL_Master'], 'Started', 3),
    TR_Report: scheduleTrigger(['PL_Report', 'PL_Audit'], 'Started', 7),
  },
};
const STARTED_V1 = ['TR_Hourly', 'TR_Nightly', 'TR_Report'];

/** Seeds a factory as if v1 had been deployed (no requests, no faults). */
function seedFactory(lane: Lane, spec: FactorySpec): FactoryState {
  const f = lane.full.arm.addFactory(SUBSCRIPTION, RESOURCE_GROUP, FACTORY, 'westeurope');
  const kinds: [keyof FactorySpec, Parameters<FactoryState['addObject']>[0]][] = [
    ['linkedServices', 'linkedServices'],
    ['datasets', 'datasets'],
    ['pipelines', 'pipelines'],
    ['triggers', 'triggers'],
  ];
  for (const [key, kind] of kinds) {
    for (const [name, props] of Object.entries(spec[key] ?? {})) {
      const p = JSON.parse(
        JSON.stringify(props).replace(
          "[parameters('LS_Sql_connectionString')]",
          JSON.stringify(SQL_PASSWORD).slice(1, -1),
        ),
      ) as Record<string, unknown>;
      f.addObject(kind, name, p);
    }
  }
  return f;
}

function triggerStates(f: FactoryState | undefined): Record<string, string> {
  return Object.fromEntries((f?.list('triggers') ?? []).map((t) => [t.name, t.runtimeState ?? '']));
}

const adfDeploy: Scenario = {
  name: 'DataFactoryDeploy',
  task: 'DataFactoryDeployV1',
  long: true,
  auth: AZURE_AUTH,
  // Writes of both methods: the deploy fails after it stopped the changed triggers.
  outageApi: /^(adf\.pipelines\.put|arm\.deployments\.put)$/,
  async onLane(lane, distDir) {
    const { arm } = lane.full;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-adf-deploy-'));
    const templateOptions = { parameters: { LS_Sql_connectionString: { type: 'secureString' } } };
    const templateFile = path.join(work, 'ARMTemplateForFactory.json');
    const parametersFile = path.join(work, 'ARMTemplateParametersForFactory.json');
    fs.writeFileSync(templateFile, JSON.stringify(exportTemplate(FACTORY_V2, templateOptions), null, 2));
    fs.writeFileSync(
      parametersFile,
      JSON.stringify({
        $schema: 'https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#',
        contentVersion: '1.0.0.0',
        parameters: { factoryName: { value: 'adf-soak-dev' }, LS_Sql_connectionString: { value: '' } },
      }),
    );
    const factory = () => arm.factory(SUBSCRIPTION, RESOURCE_GROUP, FACTORY);
    const prepare = async () => {
      arm.setOptions(FAST_ARM);
      await registerIdentities(lane);
      seedFactory(lane, FACTORY_V1);
    };
    const options = async (ctx: CaseContext, attempt: number): Promise<RunTaskOptions> =>
      withConnection(
        {
          task: 'DataFactoryDeployV1',
          distDir: ctx.distDir,
          inputs: {
            resourceGroupName: RESOURCE_GROUP,
            factoryName: FACTORY,
            templateFile,
            templateParametersFile: parametersFile,
            overrideParameters: `-LS_Sql_connectionString "${SQL_PASSWORD.replace(/["\\]/g, '\\$&')}"`,
            // Both methods: ARM deployments and the direct REST deploy.
            deploymentMethod: ctx.seed % 2 ? 'direct' : 'arm',
          },
          variables: { ...variables(ctx, attempt), 'System.HostType': 'build' },
          env: lane.env(),
          timeoutMs: 150_000,
        },
        await azureConnection(lane, authFor(adfDeploy, ctx)),
      );
    // The exact desired state is what a deploy without faults leaves: taken once per lane and method.
    const reference = new Map<string, { snapshot: string; triggers: string }>();
    for (const method of ['arm', 'direct']) {
      lane.reset(method === 'arm' ? 2 : 1);
      await prepare();
      const ctx = { seed: method === 'arm' ? 2 : 1, random: Math.random, distDir, buildId: '999' };
      const run = await runTask(await options(ctx, 1));
      if (!run.succeeded) throw new Error(`reference deploy (${method}) failed: ${run.result?.message}`);
      reference.set(method, {
        snapshot: JSON.stringify(factory()?.snapshot()),
        triggers: JSON.stringify(triggerStates(factory())),
      });
    }
    const startedAgain = (): string[] => {
      const states = triggerStates(factory());
      return STARTED_V1.filter((t) => states[t] !== 'Started').map(
        (t) => `trigger ${t} was Started before the deploy and is ${states[t] ?? 'gone'} after it`,
      );
    };
    const verify = (method: string) => (run: TaskRun) => {
      const problems: string[] = [];
      const ref = reference.get(method);
      if (JSON.stringify(factory()?.snapshot()) !== ref?.snapshot)
        problems.push('the factory differs from what a deploy without faults leaves');
      expectEqual(problems, 'trigger states', triggerStates(factory()), JSON.parse(ref?.triggers ?? '{}'));
      if (!run.outputVariables.deploymentName) problems.push('output deploymentName is empty');
      return problems;
    };
    return {
      dispose: () => fs.rmSync(work, { recursive: true, force: true }),
      async arrange(ctx) {
        await prepare();
        return {
          secrets: [...((await options(ctx, 1)).secrets ?? []), SQL_PASSWORD],
          options: (attempt) => options(ctx, attempt),
          verify: verify(ctx.seed % 2 ? 'direct' : 'arm'),
          invariant: startedAgain,
        };
      },
      async arrangeCancellation(ctx) {
        await prepare();
        // Slow trigger operations and deployment steps: kills land while triggers are stopped.
        arm.setOptions({ triggerOperationMs: 400, deploymentStepMs: 300 });
        if (ctx.inFlight) lane.emu.setLatency(1500, 'adf.triggers.stop');
        const first = await options(ctx, 1);
        return {
          killAfterMs: Math.round(ctx.inFlight ? 700 + ctx.random() * 800 : ctx.random() * 3000),
          secrets: [...(first.secrets ?? []), SQL_PASSWORD],
          options: async () => first,
          verify(run) {
            const problems = startedAgain();
            if (run.outcome !== 'Succeeded') {
              const stops = lane.emu.requests({ api: 'adf.triggers.stop' }).length;
              const starts = lane.emu.requests({ api: 'adf.triggers.start' }).length;
              if (stops > starts)
                problems.push(`the journal shows ${stops} trigger stop(s) but ${starts} start(s)`);
            }
            return problems;
          },
          rerun: async () => {
            arm.setOptions(FAST_ARM);
            lane.emu.setLatency(0, 'adf.triggers.stop');
            return options(ctx, 2);
          },
          verifyRerun: (run) => [
            ...(run.succeeded ? [] : [`outcome ${run.outcome}: ${run.result?.message}`]),
            ...verify(ctx.seed % 2 ? 'direct' : 'arm')(run),
          ],
        };
      },
    };
  },
};

const PIPELINE = 'PL_Soak';

const adfRunPipeline: Scenario = {
  name: 'DataFactoryRunPipeline',
  task: 'DataFactoryRunPipelineV1',
  long: true,
  auth: AZURE_AUTH,
  outageApi: /^adf\.pipelineruns\.get$/,
  async onLane(lane) {
    const { arm } = lane.full;
    const factory = () => arm.factory(SUBSCRIPTION, RESOURCE_GROUP, FACTORY);
    const prepare = async (durationMs: number) => {
      arm.setOptions(FAST_ARM);
      await registerIdentities(lane);
      const f = arm.addFactory(SUBSCRIPTION, RESOURCE_GROUP, FACTORY, 'westeurope');
      f.addObject('pipelines', PIPELINE, {
        activities: [{ name: 'Wait', type: 'Wait', dependsOn: [], typeProperties: { waitTimeInSeconds: 1 } }],
        parameters: { environment: { type: 'String' } },
      });
      arm.scriptPipelineRun(f, PIPELINE, { status: 'Succeeded', durationMs, queueMs: 50 });
    };
    const options = async (ctx: CaseContext, attempt: number): Promise<RunTaskOptions> =>
      withConnection(
        {
          task: 'DataFactoryRunPipelineV1',
          distDir: ctx.distDir,
          inputs: {
            resourceGroupName: RESOURCE_GROUP,
            factoryName: FACTORY,
            pipelineName: PIPELINE,
            parameters: 'environment=soak',
            waitForCompletion: 'true',
            timeoutMinutes: '2',
          },
          variables: variables(ctx, attempt),
          env: lane.env(),
          timeoutMs: 150_000,
        },
        await azureConnection(lane, authFor(adfRunPipeline, ctx)),
      );
    const runs = () => [...(factory()?.runs.values() ?? [])].sort((a, b) => a.createdAt - b.createdAt);
    return {
      async arrange(ctx) {
        await prepare(1500);
        return {
          secrets: (await options(ctx, 1)).secrets ?? [],
          options: (attempt) => options(ctx, attempt),
          runsStarted: () => runs().length,
          submissions: () =>
            lane.emu
              .requests({ api: 'adf.pipelines.createRun' })
              .filter((e) => e.fault !== 'resetBefore' && e.status !== 429 && e.status < 500).length,
          verify(run) {
            const problems: string[] = [];
            const last = runs().at(-1);
            if (!last) return ['no pipeline run exists'];
            expectEqual(problems, 'final run status', last.status(), 'Succeeded');
            expectEqual(problems, 'run parameters', last.parameters, { environment: 'soak' });
            expectEqual(problems, 'output runId', run.outputVariables.runId, last.runId);
            expectEqual(problems, 'output status', run.outputVariables.status, 'Succeeded');
            return problems;
          },
        };
      },
      async arrangeCancellation(ctx) {
        await prepare(60_000);
        if (ctx.inFlight) lane.emu.setLatency(1500, 'adf.pipelines.createRun');
        const first = await options(ctx, 1);
        return {
          killAfterMs: Math.round(ctx.inFlight ? 300 + ctx.random() * 1000 : ctx.random() * 2500),
          secrets: first.secrets ?? [],
          options: async () => first,
          verify(run) {
            const problems: string[] = [];
            if (run.outcome === 'Succeeded')
              problems.push('the run finished before the kill: make it longer');
            const all = runs();
            if (all.length > 1) problems.push(`${all.length} pipeline runs were started`);
            const cancels = lane.emu.requests({ api: 'adf.pipelineruns.cancel' });
            for (const r of all) {
              if (!cancels.some((e) => e.path.includes(r.runId)))
                problems.push(`the journal shows no cancel for pipeline run ${r.runId}: it was left running`);
              else if (!['Cancelled', 'Canceling'].includes(r.status()))
                problems.push(`pipeline run ${r.runId} is ${r.status()} after the cancel`);
            }
            return problems;
          },
          rerun: async () => {
            lane.emu.setLatency(0, 'adf.pipelines.createRun');
            const f = factory();
            if (f) arm.scriptPipelineRun(f, PIPELINE, { status: 'Succeeded', durationMs: 300, queueMs: 50 });
            return options(ctx, 2);
          },
          verifyRerun(run) {
            const problems: string[] = [];
            if (run.outcome !== 'Succeeded') problems.push(`outcome ${run.outcome}: ${run.result?.message}`);
            expectEqual(problems, 'run status', runs().at(-1)?.status(), 'Succeeded');
            return problems;
          },
        };
      },
    };
  },
};

/** Every task in the soak, cancellation and secret-scan tests. */
export const SCENARIOS: Scenario[] = [runNotebook, deployNotebooks, adfDeploy, adfRunPipeline];
