/**
 * Runs samples/azure-pipelines.yml against the embedded emulator the way Azure Pipelines
 * would: stages in order, each job's steps in order, every task step the bundled task
 * (dist/tasks/<Name>V<n>/index.js) started by the agent harness with the agent's
 * environment, inputs (defaults filled in, $(macros) expanded), service connections and
 * variables; `checkout`, `publish` and `download` steps copy files like the agent's
 * built-in steps; agentless (server) jobs are evaluated as the server evaluates an
 * HttpRequest task. One model test is scripted to fail in test, so the gate in front of
 * prod has something to stop.
 *
 * What the emulator stands in for: Microsoft Entra ID (workload identity federation),
 * Azure DevOps' OIDC endpoint, Resource Manager and Data Factory, and one Databricks
 * workspace per environment. Notebook runs and pipeline runs are scripted (the emulator
 * does not execute Spark); everything else the tasks do really happens over HTTPS.
 *
 *   tsx scripts/sample-pipeline.ts [--dist <dir>] [--vsix <file>] [--verbose] [--summaries]
 * scripts/start.mjs (npm start) builds and packages first, then calls runSampleFlow.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulator, type FullEmulator } from '../test/emulator/index';
import type { Workspace } from '../test/emulator/databricks';
import type { FactoryState } from '../test/emulator/arm';
import { decide, renderTemplate, resolveHttpRequest } from '../test/harness/gate-evaluator';
import { runTask, type EndpointSpec, type TaskRun } from '../test/harness/run-task';
import { parseFormattingLine, parseVsoLine } from '../test/harness/vso';
import { isMap, parseYaml, type YamlMap, type YamlValue } from './yaml-subset';

const REPO_ROOT = path.resolve(__dirname, '..');
export const SAMPLE_PIPELINE = path.join(REPO_ROOT, 'samples', 'azure-pipelines.yml');
const SUBSCRIPTION_ID = '5d7e2f1c-3b4a-4c8d-9e6f-0a1b2c3d4e5f';
const GATE_PAT = `dapi${crypto.randomBytes(16).toString('hex')}`;

// ---- the emulated environments ---------------------------------------------------------------

/** Service connections the sample names, and what stands in for them. */
const CONNECTIONS: Record<string, { kind: 'azure' | 'databricks-pat'; env: string }> = {
  'azure-churn-dev': { kind: 'azure', env: 'dev' },
  'azure-churn-test': { kind: 'azure', env: 'test' },
  'azure-churn-prod': { kind: 'azure', env: 'prod' },
  'databricks-test-gate': { kind: 'databricks-pat', env: 'test' },
};

interface Connection {
  name: string;
  /** What Azure DevOps hands the task as the input value: the connection's id. */
  id: string;
  kind: 'azure' | 'databricks-pat';
  env: string;
  endpoint: EndpointSpec;
  clientId?: string;
}

export interface EnvironmentState {
  name: string;
  workspace: Workspace;
  resourceGroup: string;
  factoryName: string;
  factory(): FactoryState | undefined;
}

export interface SampleEnvironment {
  full: FullEmulator;
  subscriptionId: string;
  tenantId: string;
  environments: Map<string, EnvironmentState>;
  connections: Map<string, Connection>;
  /** Values that must never show up in a task's output. */
  secrets: string[];
}

function runPage(ws: Workspace, jobId: number, runId: number): string {
  return `${ws.url}/?o=${ws.orgId}#job/${jobId}/run/${runId}`;
}

/**
 * Creates, for every environment stage of the pipeline (a stage with an `Environment`
 * variable), a Databricks workspace, the resource group and an empty factory its
 * variables name, and a workload identity federation service connection whose service
 * principal may use both; then scripts how the notebook and pipeline runs end.
 */
export async function setupSampleEnvironment(
  full: FullEmulator,
  pipeline: PipelineModel,
  opts: { failModelTestIn?: string } = {},
): Promise<SampleEnvironment> {
  const { databricks, entra, arm, devops } = full;
  const tenantId = entra.defaultTenantId;
  arm.addSubscription(SUBSCRIPTION_ID, { tenantId, displayName: 'Data Platform' });
  const environments = new Map<string, EnvironmentState>();
  for (const stage of pipeline.stages) {
    const env = stage.variables.Environment;
    if (!env) continue;
    const rg = stage.variables.ResourceGroup;
    const factoryName = stage.variables.FactoryName;
    if (!rg || !factoryName)
      throw new Error(`stage ${stage.name} needs ResourceGroup and FactoryName variables`);
    // Notebook runs take a couple of seconds, as a small serverless run would (scaled down).
    const workspace = await databricks.addWorkspace(`churn-${env}`, {
      pendingMs: 400,
      defaultDurationMs: 1200,
    });
    arm.addResourceGroup(SUBSCRIPTION_ID, rg, 'westeurope');
    arm.addFactory(SUBSCRIPTION_ID, rg, factoryName, 'westeurope');
    environments.set(env, {
      name: env,
      workspace,
      resourceGroup: rg,
      factoryName,
      factory: () => arm.factory(SUBSCRIPTION_ID, rg, factoryName),
    });
  }
  const connections = new Map<string, Connection>();
  for (const [name, c] of Object.entries(CONNECTIONS)) {
    const env = environments.get(c.env);
    if (!env) continue;
    if (c.kind === 'azure') {
      const sc = devops.addServiceConnection({ name });
      const clientId = crypto.randomUUID();
      entra.addApp({
        tenantId,
        clientId,
        displayName: `sp-churn-${c.env}`,
        federated: { issuer: devops.issuer, subject: devops.subjectFor(name) },
      });
      // Contributor on its own resource group only, and a user of its own workspace.
      arm.grant(SUBSCRIPTION_ID, clientId, 'Contributor', env.resourceGroup);
      env.workspace.addEntraPrincipal(clientId, `sp-churn-${c.env}`);
      connections.set(name, {
        name,
        id: sc.id,
        kind: c.kind,
        env: c.env,
        clientId,
        endpoint: {
          url: `${arm.url}/`,
          scheme: 'WorkloadIdentityFederation',
          parameters: { serviceprincipalid: clientId, tenantid: tenantId },
          data: {
            activeDirectoryAuthority: entra.authorityHost,
            // As the agent provides it for AzureCloud: the audience of Resource Manager tokens.
            activeDirectoryServiceEndpointResourceId: 'https://management.core.windows.net/',
            subscriptionId: SUBSCRIPTION_ID,
            subscriptionName: 'Data Platform',
            environment: 'AzureCloud',
          },
        },
      });
    } else {
      env.workspace.addPat(GATE_PAT, 'release-gate@contoso.com');
      connections.set(name, {
        name,
        id: crypto.randomUUID(),
        kind: c.kind,
        env: c.env,
        endpoint: { url: env.workspace.url, scheme: 'Token', parameters: { apitoken: GATE_PAT } },
      });
    }
  }
  const folder = pipeline.variables.workspaceFolder;
  if (!folder)
    throw new Error('the pipeline needs a workspaceFolder variable (where the notebooks are deployed)');
  for (const env of environments.values()) scriptRuns(full, env, folder, opts.failModelTestIn === env.name);
  return { full, subscriptionId: SUBSCRIPTION_ID, tenantId, environments, connections, secrets: [GATE_PAT] };
}

/** How the sample's notebook runs and pipeline runs end in each environment. */
function scriptRuns(full: FullEmulator, env: EnvironmentState, folder: string, failModelTest: boolean): void {
  const ws = env.workspace;
  const notebook = (rel: string) => `${folder}/${rel}`;
  const rows = env.name === 'dev' ? 1240 : 48210;
  ws.scriptRun(notebook('tests/smoke_test'), {
    durationMs: 1500,
    exitValue: JSON.stringify({
      tests: [
        { name: 'spark session answers a query', status: 'passed', duration: 0.41 },
        { name: 'catalog and schema exist', status: 'passed', duration: 0.87 },
        { name: 'target table has enough rows', status: 'passed', duration: 1.02 },
      ],
      metrics: { environment: env.name, row_count: rows, checks_passed_ratio: 1 },
    }),
  });
  if (failModelTest) {
    // Scripted: the model test notebook itself fails, so its Databricks run ends FAILED.
    ws.scriptRun(notebook('tests/model_test'), {
      durationMs: 2000,
      resultState: 'FAILED',
      error:
        'SparkException: Job aborted due to stage failure: Task 3 in stage 12.0 failed 4 times, most recent failure: Lost task 3.3 in stage 12.0 (TID 57): ExecutorLostFailure (executor 1 exited caused by one of the running tasks) Reason: Command exited with code 137',
      errorTrace: [
        '---------------------------------------------------------------------------',
        'Py4JJavaError                             Traceback (most recent call last)',
        'File <command-2264817459113514>, line 13',
        '     11 scored = data.withColumn("prediction", (F.col("x") > 0.5).cast("int"))',
        '---> 13 stats = scored.agg(',
        '     14     F.count("*").alias("rows"),',
        '     15     F.avg((F.col("prediction") == F.col("label")).cast("double")).alias("accuracy"),',
        '     16 ).first()',
        'Py4JJavaError: An error occurred while calling o417.collectToPython.',
        ': org.apache.spark.SparkException: Job aborted due to stage failure: Task 3 in stage 12.0 failed 4 times',
      ].join('\n'),
    });
  } else {
    ws.scriptRun(notebook('tests/model_test'), {
      durationMs: 2000,
      exitValue: JSON.stringify({
        metrics: {
          accuracy: env.name === 'dev' ? 0.9412 : 0.9377,
          rows_scored: env.name === 'dev' ? 1994 : 10021,
          sample_fraction: env.name === 'dev' ? 0.1 : 0.5,
        },
      }),
    });
  }
  // PL_Daily_Churn's notebook activities report the Databricks run they started, as ADF does.
  let dbxRun = 700_000_000_000_000 + (env.name === 'dev' ? 100 : 200);
  const notebookActivity = (name: string, ms: number) => ({
    activityName: name,
    activityType: 'DatabricksNotebook',
    status: 'Succeeded' as const,
    durationMs: ms,
    output: {
      runId: ++dbxRun,
      runPageUrl: runPage(ws, dbxRun - 1, dbxRun),
      effectiveIntegrationRuntime: 'AutoResolveIntegrationRuntime (West Europe)',
      executionDuration: Math.round(ms / 1000),
    },
  });
  full.arm.scriptPipelineRun(env.factory() ?? env.factoryName, 'PL_Daily_Churn', {
    status: 'Succeeded',
    queueMs: 300,
    activities: [
      { activityName: 'Resolve run date', activityType: 'SetVariable', status: 'Succeeded', durationMs: 100 },
      {
        activityName: 'Land orders',
        activityType: 'Copy',
        status: 'Succeeded',
        durationMs: 700,
        output: { rowsRead: rows, rowsCopied: rows, filesWritten: 1 },
      },
      notebookActivity('Ingest orders', 800),
      notebookActivity('Build features', 600),
      { activityName: 'Score', activityType: 'ExecutePipeline', status: 'Succeeded', durationMs: 900 },
    ],
  });
}

// ---- reading the pipeline --------------------------------------------------------------------

export interface StepModel {
  kind: 'task' | 'checkout' | 'publish' | 'download' | 'other';
  /** Name@Major for task steps. */
  task?: string;
  displayName?: string;
  /** Reference name (`name:`), used for output variables. */
  name?: string;
  inputs: Record<string, string>;
  raw: YamlMap;
}

export interface JobModel {
  name: string;
  displayName?: string;
  deployment: boolean;
  environment?: string;
  server: boolean;
  dependsOn: string[];
  steps: StepModel[];
}

export interface StageModel {
  name: string;
  dependsOn: string[];
  variables: Record<string, string>;
  jobs: JobModel[];
}

export interface PipelineModel {
  variables: Record<string, string>;
  stages: StageModel[];
}

function str(v: YamlValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function list(v: YamlValue | undefined): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** `variables:` as a mapping or as a list of {name, value} (groups are not supported here). */
function readVariables(v: YamlValue | undefined, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  if (isMap(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = str(val) ?? '';
    return out;
  }
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isMap(item) && typeof item.name === 'string') out[item.name] = str(item.value) ?? '';
      else throw new Error(`${where}: only name/value variables are supported by the sample runner`);
    }
    return out;
  }
  throw new Error(`${where}: variables must be a mapping or a list`);
}

/** Fails on pipeline features the runner does not model, rather than misrepresenting them. */
function refuse(map: YamlMap, keys: string[], where: string): void {
  for (const k of keys) {
    if (k in map) throw new Error(`${where}: '${k}' is not supported by the sample runner`);
  }
  for (const k of Object.keys(map)) {
    if (k.startsWith('${{'))
      throw new Error(`${where}: template expressions are not supported by the sample runner`);
  }
}

/** What the agent calls a built-in step that has no displayName. */
function builtinLabel(s: YamlMap): string | undefined {
  if (typeof s.checkout === 'string') return `Checkout ${s.checkout}`;
  if (typeof s.publish === 'string') return `Publish artifact ${str(s.artifact) ?? ''}`.trim();
  if (typeof s.download === 'string') return `Download artifact ${str(s.artifact) ?? `(all, ${s.download})`}`;
  return undefined;
}

function readStep(s: YamlValue, where: string): StepModel {
  if (!isMap(s)) throw new Error(`${where}: a step must be a mapping`);
  refuse(s, ['condition', 'continueOnError', 'template', 'enabled'], where);
  const inputs: Record<string, string> = {};
  if (isMap(s.inputs)) for (const [k, v] of Object.entries(s.inputs)) inputs[k] = str(v) ?? '';
  const common = { displayName: str(s.displayName) ?? builtinLabel(s), name: str(s.name), inputs, raw: s };
  if (typeof s.task === 'string') return { kind: 'task', task: s.task.trim(), ...common };
  if ('checkout' in s) return { kind: 'checkout', ...common };
  if ('publish' in s) return { kind: 'publish', ...common };
  if ('download' in s) return { kind: 'download', ...common };
  return { kind: 'other', ...common };
}

export function readPipeline(file = SAMPLE_PIPELINE): PipelineModel {
  const doc = parseYaml(fs.readFileSync(file, 'utf8'));
  if (!isMap(doc) || !Array.isArray(doc.stages)) throw new Error(`${file}: expected a pipeline with stages`);
  const stages: StageModel[] = [];
  doc.stages.forEach((st, i) => {
    if (!isMap(st) || typeof st.stage !== 'string') throw new Error(`${file}: stage ${i + 1} has no name`);
    const where = `stage ${st.stage}`;
    refuse(st, ['condition', 'template'], where);
    const jobs: JobModel[] = [];
    for (const j of Array.isArray(st.jobs) ? st.jobs : []) {
      if (!isMap(j)) throw new Error(`${where}: a job must be a mapping`);
      const deployment = typeof j.deployment === 'string';
      const name = str(j.deployment) ?? str(j.job);
      if (!name) throw new Error(`${where}: a job has no name`);
      refuse(j, ['condition', 'template', 'variables', 'continueOnError'], `${where} job ${name}`);
      let steps: YamlValue | undefined = j.steps;
      if (deployment) {
        const strategy = isMap(j.strategy) ? j.strategy : {};
        const runOnce = isMap(strategy.runOnce) ? strategy.runOnce : undefined;
        if (!runOnce)
          throw new Error(
            `${where} job ${name}: only the runOnce strategy is supported by the sample runner`,
          );
        steps = isMap(runOnce.deploy) ? runOnce.deploy.steps : undefined;
      }
      jobs.push({
        name,
        displayName: str(j.displayName),
        deployment,
        environment: isMap(j.environment) ? str(j.environment.name) : str(j.environment),
        server: j.pool === 'server' || (isMap(j.pool) && j.pool.name === 'server'),
        dependsOn: list(j.dependsOn),
        steps: (Array.isArray(steps) ? steps : []).map((s, k) =>
          readStep(s, `${where} job ${name} step ${k + 1}`),
        ),
      });
    }
    stages.push({
      name: st.stage,
      dependsOn:
        'dependsOn' in st
          ? list(st.dependsOn)
          : i > 0
            ? [String((doc.stages as YamlMap[])[i - 1].stage)]
            : [],
      variables: readVariables(st.variables, where),
      jobs,
    });
  });
  return { variables: readVariables(doc.variables, 'pipeline'), stages };
}

// ---- running ---------------------------------------------------------------------------------

export type StepOutcome =
  'Succeeded' | 'SucceededWithIssues' | 'Failed' | 'Skipped' | 'Not run' | 'Not built';

export interface StepResult {
  stage: string;
  /** The stage's Environment variable (dev, test, prod), if any. */
  environment?: string;
  job: string;
  step: string;
  task?: string;
  /** Reference name (`name:`) of the step. */
  name?: string;
  /** The inputs the task got (defaults filled in, macros expanded), connections by name. */
  inputs: Record<string, string>;
  outcome: StepOutcome;
  durationMs: number;
  /** Why it did not run, or what the gate decided. */
  note?: string;
  outputs: Record<string, string>;
  run?: TaskRun;
}

export interface StageResult {
  name: string;
  outcome: 'Succeeded' | 'Failed' | 'Skipped';
  note?: string;
}

export interface SampleFlowOptions {
  /** Folder holding tasks/<Name>V<n>/ (index.js and task.json) from scripts/build.mjs. */
  distDir: string;
  pipelineFile?: string;
  /** Where lines go; default console.log. */
  log?: (line: string) => void;
  /** Show ##[debug] lines and debug commands. */
  verbose?: boolean;
  /** Print the markdown summaries the tasks upload. */
  summaries?: boolean;
  /** Environment whose model test fails (default 'test'; '' for none). */
  failModelTestIn?: string;
  /** An emulator to use (the caller stops it); default: one started and stopped here. */
  emulator?: FullEmulator;
  /** Keep the agent folders (printed at the end). */
  keepFolders?: boolean;
}

export interface SampleFlowResult {
  steps: StepResult[];
  stages: StageResult[];
  env: SampleEnvironment;
  durationMs: number;
  /** Set when the folders were kept. */
  workFolder?: string;
}

interface JobContext {
  stage: StageModel;
  job: JobModel;
  variables: Record<string, string>;
  /** Output variables the job published, by '<step>.<var>'. */
  outputs: Record<string, string>;
  dir: string;
  sources: string;
  staging: string;
}

const COLORS = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: string, s: string) => (COLORS ? `\u001b[${code}m${s}\u001b[0m` : s);
const bold = (s: string) => paint('1', s);
const dim = (s: string) => paint('2', s);
const red = (s: string) => paint('31', s);
const green = (s: string) => paint('32', s);
const yellow = (s: string) => paint('33', s);

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** $(name) → value (names case-insensitive); unknown macros stay as written, as the agent leaves them. */
export function expandMacros(text: string, vars: Record<string, string>): string {
  const lower = new Map(Object.entries(vars).map(([k, v]) => [k.toLowerCase(), v]));
  return text.replace(/\$\(([^()\s]+)\)/g, (whole, name: string) => lower.get(name.toLowerCase()) ?? whole);
}

function copyDir(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

function httpsGet(
  url: string,
  headers: Record<string, string>,
  ca: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'GET', headers, ca, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

interface TaskJsonLite {
  name: string;
  friendlyName?: string;
  description?: string;
  author?: string;
  helpUrl?: string;
  version: { Major: number; Minor: number; Patch: number };
  instanceNameFormat?: string;
  inputs?: { name: string; type: string; defaultValue?: unknown; aliases?: string[] }[];
  execution?: Record<string, unknown>;
}

class FlowRunner {
  readonly steps: StepResult[] = [];
  readonly stages: StageResult[] = [];
  private readonly stageOutputs = new Map<string, Map<string, Record<string, string>>>();
  private readonly log: (line: string) => void;
  private readonly artifacts: string;
  private buildId = String(20_000 + Math.floor(Math.random() * 10_000));

  constructor(
    private readonly opts: SampleFlowOptions,
    private readonly pipeline: PipelineModel,
    private readonly env: SampleEnvironment,
    private readonly root: string,
  ) {
    this.log = opts.log ?? ((l) => console.log(l));
    this.artifacts = path.join(root, 'artifacts');
    fs.mkdirSync(this.artifacts, { recursive: true });
  }

  private taskFolder(task: string): { dir: string; taskJson?: TaskJsonLite } {
    const [name, major] = task.split('@');
    const dir = path.join(this.opts.distDir, 'tasks', `${name}V${major}`);
    const file = path.join(dir, 'task.json');
    return {
      dir,
      taskJson: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as TaskJsonLite) : undefined,
    };
  }

  /** Stage variables with runtime expressions ($[ stageDependencies… ]) resolved. */
  private stageVariables(stage: StageModel): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(stage.variables)) {
      const m = /^\$\[\s*stageDependencies\.(\w+)\.(\w+)\.outputs\['([^']+)'\]\s*\]$/.exec(v.trim());
      if (m) out[k] = this.stageOutputs.get(m[1])?.get(m[2])?.[m[3]] ?? '';
      else if (v.trim().startsWith('$['))
        throw new Error(`stage ${stage.name}: runtime expression ${v} is not supported by the sample runner`);
      else out[k] = v;
    }
    // Stand-ins: the environment's workspace URL is the emulated workspace's.
    const env = out.Environment ? this.env.environments.get(out.Environment) : undefined;
    if (env && out.DatabricksUrl) out.DatabricksUrl = env.workspace.url;
    return out;
  }

  async run(): Promise<void> {
    const results = new Map<string, StageResult['outcome']>();
    for (const stage of this.pipeline.stages) {
      const blocked = stage.dependsOn.filter((d) => results.get(d) !== 'Succeeded');
      this.log('');
      this.log(bold(`━━ Stage ${stage.name} ${'━'.repeat(Math.max(0, 70 - stage.name.length))}`));
      if (blocked.length) {
        const note = `stage ${blocked.join(', ')} did not succeed, so Azure Pipelines skips this stage`;
        this.log(yellow(`Skipped: ${note}.`));
        this.stages.push({ name: stage.name, outcome: 'Skipped', note });
        results.set(stage.name, 'Skipped');
        const server = stage.jobs.filter((j) => j.server);
        if (server.length) {
          this.log(
            `Its agentless job${server.length > 1 ? 's' : ''} (${server.map((j) => j.name).join(', ')}) is evaluated anyway, as the server would evaluate it, to show what it decides.`,
          );
        }
        await this.runStage(stage, { skipAgentJobs: note });
        continue;
      }
      const ok = await this.runStage(stage, {});
      const outcome = ok ? 'Succeeded' : 'Failed';
      results.set(stage.name, outcome);
      this.stages.push({ name: stage.name, outcome });
    }
  }

  private async runStage(stage: StageModel, opts: { skipAgentJobs?: string }): Promise<boolean> {
    const variables = { ...this.pipeline.variables, ...this.stageVariables(stage) };
    if (variables.DatabricksUrl && variables.DatabricksUrl !== stage.variables.DatabricksUrl)
      this.log(dim(`Stand-in: DatabricksUrl is the emulated workspace ${variables.DatabricksUrl}`));
    const jobResults = new Map<string, boolean>();
    const outputs = new Map<string, Record<string, string>>();
    this.stageOutputs.set(stage.name, outputs);
    let ok = true;
    for (const job of stage.jobs) {
      const blockedBy = job.dependsOn.filter((d) => jobResults.get(d) !== true);
      const skip =
        opts.skipAgentJobs && !job.server
          ? opts.skipAgentJobs
          : blockedBy.length
            ? `job ${blockedBy.join(', ')} did not succeed`
            : undefined;
      this.log('');
      const kind = job.server
        ? 'agentless job (pool: server)'
        : job.deployment
          ? `deployment job, environment ${job.environment}`
          : 'job';
      this.log(bold(`── ${stage.name} › ${job.displayName ?? job.name}  `) + dim(`(${kind})`));
      if (skip) {
        this.log(yellow(`   Not run: ${skip}.`));
        for (const s of job.steps) this.record(stage, job, s, 'Not run', 0, skip);
        jobResults.set(job.name, false);
        ok = false;
        continue;
      }
      const ctx = this.jobContext(stage, job, variables);
      const jobOk = job.server ? await this.runServerJob(ctx) : await this.runAgentJob(ctx);
      jobResults.set(job.name, jobOk);
      outputs.set(job.name, ctx.outputs);
      if (!jobOk) ok = false;
    }
    return ok;
  }

  private jobContext(stage: StageModel, job: JobModel, variables: Record<string, string>): JobContext {
    const dir = path.join(this.root, 'agent', `${stage.name}_${job.name}`);
    const sources = path.join(dir, 's');
    const staging = path.join(dir, 'a');
    for (const d of [sources, staging, path.join(dir, 'b'), path.join(dir, 'TestResults')])
      fs.mkdirSync(d, { recursive: true });
    const system: Record<string, string> = {
      'Pipeline.Workspace': dir,
      'Agent.BuildDirectory': dir,
      'Build.SourcesDirectory': sources,
      'Build.Repository.LocalPath': sources,
      'System.DefaultWorkingDirectory': sources,
      'Build.ArtifactStagingDirectory': staging,
      'Build.StagingDirectory': staging,
      'System.ArtifactsDirectory': staging,
      'Build.BinariesDirectory': path.join(dir, 'b'),
      'Common.TestResultsDirectory': path.join(dir, 'TestResults'),
      'Build.BuildId': this.buildId,
      'Build.BuildNumber': `${new Date().toISOString().slice(0, 10).replace(/-/g, '')}.1`,
      'Build.DefinitionName': 'churn-scoring',
      'Build.Repository.Name': 'churn-scoring',
      'System.StageName': stage.name,
      'System.StageDisplayName': stage.name,
      'System.StageAttempt': '1',
      'System.JobName': job.name,
      'System.JobDisplayName': job.displayName ?? job.name,
      'System.PhaseName': job.name,
      'System.PhaseDisplayName': job.displayName ?? job.name,
      'Agent.JobName': job.displayName ?? job.name,
      'System.JobId': crypto.randomUUID(),
      'System.JobAttempt': '1',
    };
    if (job.deployment) {
      system['Environment.Name'] = job.environment ?? '';
      system['Strategy.Name'] = 'runOnce';
      system['Strategy.CycleName'] = 'deploy';
    }
    const all = { ...system, ...variables };
    for (const [k, v] of Object.entries(all)) all[k] = expandMacros(v, all);
    return { stage, job, variables: all, outputs: {}, dir, sources, staging };
  }

  private record(
    stage: StageModel,
    job: JobModel,
    s: StepModel,
    outcome: StepOutcome,
    durationMs: number,
    note?: string,
    run?: TaskRun,
    outputs: Record<string, string> = {},
    inputs: Record<string, string> = s.inputs,
  ): StepResult {
    const r: StepResult = {
      stage: stage.name,
      environment: stage.variables.Environment,
      job: job.name,
      step: s.displayName ?? s.task ?? s.kind,
      task: s.task,
      name: s.name,
      inputs,
      outcome,
      durationMs,
      note,
      outputs,
      run,
    };
    this.steps.push(r);
    return r;
  }

  // -- agent jobs --

  private async runAgentJob(ctx: JobContext): Promise<boolean> {
    let failed = false;
    for (const s of ctx.job.steps) {
      const label = s.displayName ?? (s.task ? s.task : s.kind);
      if (failed) {
        this.log(dim(`   ○ ${label}: not run (an earlier step failed)`));
        this.record(ctx.stage, ctx.job, s, 'Not run', 0, 'an earlier step failed');
        continue;
      }
      const started = performance.now();
      if (s.kind === 'task') {
        const r = await this.runAgentTask(ctx, s);
        if (r.outcome === 'Failed') failed = true;
        continue;
      }
      try {
        const note = this.runBuiltinStep(ctx, s);
        const ms = performance.now() - started;
        this.log(`   ${green('✔')} ${label}  ${dim(`(${note})`)}`);
        this.record(ctx.stage, ctx.job, s, 'Succeeded', ms, note);
      } catch (e) {
        const ms = performance.now() - started;
        this.log(`   ${red('✖')} ${label}: ${(e as Error).message}`);
        this.record(ctx.stage, ctx.job, s, 'Failed', ms, (e as Error).message);
        failed = true;
      }
    }
    return !failed;
  }

  /** checkout, publish and download, as the agent's built-in steps do them. */
  private runBuiltinStep(ctx: JobContext, s: StepModel): string {
    const raw = s.raw;
    const expand = (v: YamlValue | undefined) => expandMacros(str(v) ?? '', ctx.variables);
    if (s.kind === 'checkout') {
      if (raw.checkout !== 'self')
        throw new Error(`checkout: ${String(raw.checkout)} is not supported by the sample runner`);
      // The sample project is the repository: samples/ checked out at the same place.
      copyDir(path.join(REPO_ROOT, 'samples'), path.join(ctx.sources, 'samples'));
      return `checkout self → ${path.relative(this.root, ctx.sources)}`;
    }
    if (s.kind === 'publish') {
      const artifact = expand(raw.artifact);
      if (!artifact) throw new Error('publish needs an artifact name');
      const from = path.resolve(ctx.sources, expand(raw.publish));
      if (!fs.existsSync(from)) throw new Error(`publish: ${from} does not exist`);
      const to = path.join(this.artifacts, artifact);
      if (fs.existsSync(to)) throw new Error(`artifact ${artifact} was already published`);
      copyDir(from, to);
      return `published artifact ${artifact} (${countFiles(to)} files)`;
    }
    if (s.kind === 'download') {
      if (raw.download !== 'current')
        throw new Error(`download: ${String(raw.download)} is not supported by the sample runner`);
      const artifact = expand(raw.artifact);
      const names = artifact ? [artifact] : fs.readdirSync(this.artifacts);
      for (const n of names) {
        const from = path.join(this.artifacts, n);
        if (!fs.existsSync(from)) throw new Error(`artifact ${n} was not published by this run`);
        copyDir(from, path.join(ctx.dir, n));
      }
      return `downloaded artifact ${names.join(', ')} to $(Pipeline.Workspace)`;
    }
    throw new Error(`a ${Object.keys(raw)[0]} step is not supported by the sample runner`);
  }

  /** The inputs the agent hands a task: defaults filled in, macros expanded, connections by id. */
  private taskInputs(
    ctx: JobContext,
    s: StepModel,
    taskJson: TaskJsonLite,
  ): {
    inputs: Record<string, string>;
    /** The same with connection names instead of ids, for logs and results. */
    shown: Record<string, string>;
    endpoints: Record<string, EndpointSpec>;
    connections: Connection[];
  } {
    const inputs: Record<string, string> = {};
    const byAlias = new Map<string, string>();
    for (const i of taskJson.inputs ?? []) {
      byAlias.set(i.name, i.name);
      for (const a of i.aliases ?? []) byAlias.set(a, i.name);
      if (i.defaultValue !== undefined && String(i.defaultValue) !== '')
        inputs[i.name] = String(i.defaultValue);
    }
    for (const [k, v] of Object.entries(s.inputs)) {
      const name = byAlias.get(k);
      if (!name) throw new Error(`${s.task} has no input ${k}`);
      inputs[name] = v;
    }
    for (const [k, v] of Object.entries(inputs)) inputs[k] = expandMacros(v, ctx.variables);
    const shown = { ...inputs };
    const endpoints: Record<string, EndpointSpec> = {};
    const connections: Connection[] = [];
    for (const i of taskJson.inputs ?? []) {
      if (!i.type.startsWith('connectedService:') || !inputs[i.name]) continue;
      const c = this.env.connections.get(inputs[i.name]);
      if (!c)
        throw new Error(
          `${s.task} input ${i.name}: the sample runner has no emulated service connection named ${inputs[i.name]}`,
        );
      inputs[i.name] = c.id;
      endpoints[c.id] = c.endpoint;
      connections.push(c);
    }
    return { inputs, shown, endpoints, connections };
  }

  private async runAgentTask(ctx: JobContext, s: StepModel): Promise<StepResult> {
    const task = s.task as string;
    const { dir, taskJson } = this.taskFolder(task);
    const built = taskJson && fs.existsSync(path.join(dir, 'index.js'));
    if (!taskJson || !built) {
      const note = `${task} is not built yet (no ${path.relative(this.opts.distDir, path.join(dir, 'index.js'))}), so this step is skipped`;
      this.log(yellow(`   ○ ${s.displayName ?? task}: ${note}`));
      return this.record(ctx.stage, ctx.job, s, 'Not built', 0, note);
    }
    const { inputs, shown, endpoints, connections } = this.taskInputs(ctx, s, taskJson);
    const display = s.displayName ?? expandMacros(taskJson.instanceNameFormat ?? task, shown);
    const stepVars: Record<string, string> = {
      ...ctx.variables,
      'System.TaskInstanceId': crypto.randomUUID(),
      'System.TaskDisplayName': display,
      'System.TaskInstanceName': s.name ?? task.replace('@', ''),
    };
    const wif = connections.some((c) => c.endpoint.scheme === 'WorkloadIdentityFederation');
    if (wif) stepVars['System.OidcRequestUri'] = this.env.full.devops.oidcRequestUri;
    const v = taskJson.version;
    this.log('');
    this.log(`   ${bold('▶')} ${bold(display)}  ${dim(`${task}${s.name ? `, name ${s.name}` : ''}`)}`);
    const out = (l: string) => this.log(`   ${dim('│')} ${l}`);
    out(`##[section]Starting: ${display}`);
    out('==============================================================================');
    out(`Task         : ${taskJson.friendlyName ?? taskJson.name}`);
    out(`Description  : ${taskJson.description ?? ''}`);
    out(`Version      : ${v.Major}.${v.Minor}.${v.Patch}`);
    out(`Author       : ${taskJson.author ?? ''}`);
    out('==============================================================================');
    const masks = [...this.env.secrets];
    const started = performance.now();
    let run: TaskRun;
    try {
      run = await runTask({
        task: path.basename(dir),
        distDir: this.opts.distDir,
        inputs,
        endpoints,
        variables: stepVars,
        sourcesDirectory: ctx.sources,
        secrets: this.env.secrets,
        systemAccessToken: wif ? this.env.full.devops.issueAccessToken() : undefined,
        env: this.env.full.env(),
        timeoutMs: 180_000,
        onStdoutLine: (line) => {
          const rendered = this.render(line, masks);
          // A command's message may span lines (%0A); each gets the prefix.
          if (rendered !== undefined) for (const l of rendered.split('\n')) out(l);
        },
      });
    } catch (e) {
      const ms = performance.now() - started;
      out(red(`The task could not be run: ${(e as Error).message}`));
      return this.record(ctx.stage, ctx.job, s, 'Failed', ms, (e as Error).message, undefined, {}, shown);
    }
    for (const line of run.stderr.split(/\r?\n/).filter(Boolean)) out(red(`stderr: ${mask(line, masks)}`));
    if (this.opts.summaries) {
      for (const sum of run.summaries) {
        out(dim(`── summary ${path.basename(sum.path)} ──`));
        for (const l of (sum.content ?? '').split('\n')) out(dim(mask(l, masks)));
      }
    }
    out(`##[section]Finishing: ${display}`);
    const outputs: Record<string, string> = {};
    for (const variable of run.variables) {
      if (variable.isOutput && s.name) {
        // Later steps read $(step.var); later stages read '<job>.<step>.<var>' of a runOnce job.
        ctx.variables[`${s.name}.${variable.name}`] = variable.value;
        ctx.outputs[
          ctx.job.deployment ? `${ctx.job.name}.${s.name}.${variable.name}` : `${s.name}.${variable.name}`
        ] = variable.value;
        outputs[variable.name] = variable.value;
      } else if (!variable.isOutput) {
        ctx.variables[variable.name] = variable.value;
      }
    }
    const outcome: StepOutcome =
      run.outcome === 'Cancelled' || run.outcome === 'Skipped' ? 'Failed' : run.outcome;
    const mark =
      outcome === 'Failed' ? red('✖') : outcome === 'SucceededWithIssues' ? yellow('!') : green('✔');
    const first = run.result?.message ? mask(run.result.message, masks).split('\n')[0] : '';
    const message = first ? `: ${first.length > 160 ? `${first.slice(0, 159)}…` : first}` : '';
    this.log(`   ${mark} ${outcome} in ${seconds(run.durationMs)}${outcome === 'Failed' ? message : ''}`);
    return this.record(
      ctx.stage,
      ctx.job,
      s,
      outcome,
      run.durationMs,
      outcome === 'Failed' ? (run.result?.message ?? `exit code ${run.exitCode}`).split('\n')[0] : undefined,
      run,
      outputs,
      shown,
    );
  }

  /** One stdout line as the pipeline log would show it; undefined to hide it. */
  private render(line: string, masks: string[]): string | undefined {
    const cmd = parseVsoLine(line);
    if (cmd) {
      const p: Record<string, string> = {};
      for (const [k, v] of Object.entries(cmd.properties)) p[k.toLowerCase()] = v;
      switch (cmd.command) {
        case 'task.setsecret':
          // The agent masks the value from now on.
          if (cmd.message) masks.push(cmd.message);
          return this.opts.verbose ? dim('[secret registered: masked from here on]') : undefined;
        case 'task.setvariable': {
          const secret = p.issecret?.toLowerCase() === 'true';
          if (secret && cmd.message) masks.push(cmd.message);
          const kind = p.isoutput?.toLowerCase() === 'true' ? 'output variable' : 'variable';
          return dim(`[${kind}] ${p.variable} = ${secret ? '***' : mask(cmd.message, masks)}`);
        }
        case 'task.issue':
        case 'task.logissue': {
          const type = (p.type ?? '').toLowerCase();
          const where = p.sourcepath ? ` (${p.sourcepath}${p.linenumber ? `:${p.linenumber}` : ''})` : '';
          const text = `${mask(cmd.message, masks)}${where}`;
          return type === 'error' ? red(`[error] ${text}`) : yellow(`[${type || 'issue'}] ${text}`);
        }
        case 'task.complete':
          return `[result] ${p.result ?? 'Succeeded'}${cmd.message ? `: ${mask(cmd.message, masks)}` : ''}`;
        case 'task.debug':
          return this.opts.verbose ? dim(`[debug] ${mask(cmd.message, masks)}`) : undefined;
        case 'task.uploadsummary':
          return dim(`[summary] ${path.basename(cmd.message)} added to the run summary`);
        case 'task.addattachment':
          return dim(`[attachment] ${p.type ?? ''} ${path.basename(cmd.message)}`);
        case 'results.publish':
          return dim(
            `[test results] ${p.type ?? ''} ${p.runtitle ? `"${p.runtitle}" ` : ''}→ Tests tab (${(
              p.resultfiles ?? ''
            )
              .split(',')
              .filter(Boolean)
              .map((f) => path.basename(f))
              .join(', ')})`,
          );
        case 'artifact.upload':
          return dim(
            `[artifact] ${p.artifactname ?? ''}${p.containerfolder ? `/${p.containerfolder}` : ''} ← ${path.basename(cmd.message)}`,
          );
        case 'task.uploadfile':
        case 'build.uploadlog':
          return dim(`[log] ${path.basename(cmd.message)} attached to the run`);
        default:
          return dim(`[${cmd.command}] ${mask(cmd.message, masks)}`);
      }
    }
    const fmt = parseFormattingLine(line);
    if (fmt) {
      switch (fmt.kind) {
        case 'group':
          return `▸ ${mask(fmt.text, masks)}`;
        case 'endgroup':
          return undefined;
        case 'debug':
          return this.opts.verbose ? dim(`[debug] ${mask(fmt.text, masks)}`) : undefined;
        case 'error':
          return red(`[error] ${mask(fmt.text, masks)}`);
        case 'warning':
          return yellow(`[warning] ${mask(fmt.text, masks)}`);
        default:
          return `##[${fmt.kind}]${mask(fmt.text, masks)}`;
      }
    }
    return mask(line, masks);
  }

  // -- agentless jobs --

  /**
   * An agentless job: each HttpRequest task is resolved from its task.json as the server
   * does, sent with the header its service connection type defines, and its success
   * expression evaluated on the real response.
   */
  private async runServerJob(ctx: JobContext): Promise<boolean> {
    let failed = false;
    for (const s of ctx.job.steps) {
      const label = s.displayName ?? s.task ?? s.kind;
      if (failed) {
        this.log(dim(`   ○ ${label}: not run (an earlier step failed)`));
        this.record(ctx.stage, ctx.job, s, 'Not run', 0, 'an earlier step failed');
        continue;
      }
      if (s.kind !== 'task')
        throw new Error(`agentless job ${ctx.job.name}: only task steps can run on the server`);
      const task = s.task as string;
      const { taskJson } = this.taskFolder(task);
      if (!taskJson) {
        const note = `${task} is not built yet, so this step is skipped`;
        this.log(yellow(`   ○ ${label}: ${note}`));
        this.record(ctx.stage, ctx.job, s, 'Not built', 0, note);
        continue;
      }
      const started = performance.now();
      const { inputs, shown, connections } = this.taskInputs(ctx, s, taskJson);
      const conn = connections[0];
      this.log('');
      this.log(
        `   ${bold('▶')} ${bold(label)}  ${dim(`${task}, evaluated as the Azure DevOps server evaluates an HttpRequest task`)}`,
      );
      const out = (l: string) => this.log(`   ${dim('│')} ${l}`);
      let decision: { succeeded: boolean; reason: string };
      try {
        if (!conn) throw new Error('no service connection input');
        const extra: Record<string, string> = {};
        for (const [k, v] of Object.entries(conn.endpoint.data ?? {})) extra[`endpoint.${k}`] = v;
        const req = resolveHttpRequest(
          taskJson as unknown as Parameters<typeof resolveHttpRequest>[0],
          { ...inputs, ...extra },
          { [conn.id]: { url: conn.endpoint.url } },
        );
        const headers = { ...req.headers, ...this.serverAuthHeaders(conn) };
        out(`${req.method} ${req.url}`);
        const res = await httpsGet(req.url, headers, this.env.full.emu.caPem);
        out(`Response: HTTP ${res.status}${summarizeBody(res.text)}`);
        const expr = req.expression;
        out(
          `Success criteria: ${this.opts.verbose || expr.length <= 140 ? expr : `${expr.slice(0, 139)}… (--verbose shows all)`}`,
        );
        decision = decide(req.expression, res.status, res.text);
        out(`Evaluation: ${decision.reason}`);
      } catch (e) {
        decision = { succeeded: false, reason: (e as Error).message };
        out(red(`[error] ${decision.reason}`));
      }
      const ms = performance.now() - started;
      this.log(`   ${decision.succeeded ? green('✔ Succeeded') : red('✖ Failed')} in ${seconds(ms)}`);
      this.record(
        ctx.stage,
        ctx.job,
        s,
        decision.succeeded ? 'Succeeded' : 'Failed',
        ms,
        `gate: ${decision.reason}`,
        undefined,
        {},
        shown,
      );
      if (!decision.succeeded) failed = true;
    }
    return !failed;
  }

  /** The Authorization header the server sends for a connection. */
  private serverAuthHeaders(conn: Connection): Record<string, string> {
    if (conn.kind === 'databricks-pat') {
      // As vss-extension.json's DatabricksWorkspace token scheme defines it.
      const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'vss-extension.json'), 'utf8')) as {
        contributions: {
          type: string;
          properties: {
            name?: string;
            authenticationSchemes?: { type: string; headers?: { name: string; value: string }[] }[];
          };
        }[];
      };
      const type = manifest.contributions.find(
        (c) =>
          c.type === 'ms.vss-endpoint.service-endpoint-type' && c.properties.name === 'DatabricksWorkspace',
      );
      const scheme = type?.properties.authenticationSchemes?.find(
        (s) => s.type === 'ms.vss-endpoint.endpoint-auth-scheme-token',
      );
      const headers = scheme?.headers ?? [{ name: 'Authorization', value: '{{{endpoint.apitoken}}}' }];
      return Object.fromEntries(
        headers.map((h) => [
          h.name,
          renderTemplate(h.value, { 'endpoint.apitoken': conn.endpoint.parameters.apitoken }),
        ]),
      );
    }
    // For an AzureRM connection the server mints a Resource Manager token for the connection's principal.
    const token = this.env.full.arm.issueToken({
      appId: conn.clientId as string,
      tenantId: this.env.tenantId,
      audience: 'https://management.core.windows.net/',
    });
    return { Authorization: `Bearer ${token}` };
  }
}

function summarizeBody(text: string): string {
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const state = j.state as Record<string, unknown> | undefined;
    if (state)
      return `, state ${String(state.life_cycle_state)} ${String(state.result_state ?? '')}`.trimEnd();
    if (typeof j.status === 'string') return `, status ${j.status}`;
  } catch {
    // Not JSON: the evaluation says so.
  }
  return '';
}

function mask(text: string, secrets: string[]): string {
  let t = text;
  for (const s of secrets) if (s && s.length >= 4) t = t.split(s).join('***');
  return t;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

/** Runs the sample pipeline; see the file comment. */
export async function runSampleFlow(opts: SampleFlowOptions): Promise<SampleFlowResult> {
  const started = performance.now();
  const log = opts.log ?? ((l: string) => console.log(l));
  const pipeline = readPipeline(opts.pipelineFile);
  const full = opts.emulator ?? (await startEmulator({ seed: 7 }));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sample-pipeline-'));
  try {
    const env = await setupSampleEnvironment(full, pipeline, {
      failModelTestIn: opts.failModelTestIn ?? 'test',
    });
    log(bold('Emulated Azure, one environment per stage (scripted notebook and pipeline runs):'));
    for (const e of env.environments.values()) {
      log(
        `  ${e.name.padEnd(5)} Databricks ${e.workspace.url}   Data Factory ${e.factoryName} in ${e.resourceGroup}`,
      );
    }
    log(
      `  Entra ID ${full.entra.authorityHost}   Resource Manager ${full.arm.url}   Azure DevOps OIDC ${full.devops.host.url}`,
    );
    log(
      `  Service connections: ${[...env.connections.values()].map((c) => `${c.name} (${c.endpoint.scheme === 'Token' ? 'personal access token' : 'workload identity federation'})`).join(', ')}`,
    );
    if (opts.failModelTestIn ?? 'test')
      log(
        yellow(
          `  Scripted: the model test fails in ${opts.failModelTestIn ?? 'test'} (its Databricks run ends FAILED).`,
        ),
      );
    const runner = new FlowRunner(opts, pipeline, env, root);
    await runner.run();
    return {
      steps: runner.steps,
      stages: runner.stages,
      env,
      durationMs: performance.now() - started,
      workFolder: opts.keepFolders ? root : undefined,
    };
  } finally {
    if (!opts.keepFolders) fs.rmSync(root, { recursive: true, force: true });
    if (!opts.emulator) await full.stop();
  }
}

/** The closing table: step, result, duration (and why a step did not run). */
export function formatTable(result: SampleFlowResult, vsix?: string): string[] {
  const rows = result.steps.map((s) => ({
    step: `${s.stage} › ${s.job} › ${s.step}`,
    result: s.outcome,
    duration: s.outcome === 'Not run' || s.outcome === 'Not built' ? '-' : seconds(s.durationMs),
    note: s.note && s.outcome !== 'Succeeded' ? s.note : '',
  }));
  const w = (k: 'step' | 'result' | 'duration', title: string) =>
    Math.max(title.length, ...rows.map((r) => r[k].length));
  const ws = w('step', 'Step');
  const wr = w('result', 'Result');
  const wd = w('duration', 'Duration');
  const color = (r: string, s: string) =>
    r === 'Failed' ? red(s) : r === 'Succeeded' ? green(s) : yellow(s);
  const lines = [bold(`${'Step'.padEnd(ws)}  ${'Result'.padEnd(wr)}  ${'Duration'.padStart(wd)}  Note`)];
  for (const r of rows) {
    const note = r.note.length > 90 ? `${r.note.slice(0, 89)}…` : r.note;
    lines.push(
      `${r.step.padEnd(ws)}  ${color(r.result, r.result.padEnd(wr))}  ${r.duration.padStart(wd)}  ${dim(note)}`,
    );
  }
  lines.push('');
  lines.push(
    `Stages: ${result.stages.map((s) => `${s.name} ${s.outcome}`).join(', ')}. Took ${seconds(result.durationMs)}.`,
  );
  if (vsix) lines.push(`Extension: ${vsix}`);
  return lines;
}

/**
 * Whether the flow ended the way the sample is scripted to: every step that ran
 * succeeded except the model test in the failing environment, and the stage after it
 * (prod) deployed nothing. Returns the problems (empty when as expected).
 */
export function unexpectedOutcomes(result: SampleFlowResult, failModelTestIn = 'test'): string[] {
  const problems: string[] = [];
  const isModelTest = (s: StepResult) =>
    s.task === 'DatabricksRunNotebook@1' && /\/tests\/model_test$/.test(s.inputs.notebookPath ?? '');
  const isGate = (s: StepResult) => s.note?.startsWith('gate:') ?? false;
  for (const s of result.steps) {
    if (s.outcome !== 'Failed') continue;
    if ((isModelTest(s) && s.environment === failModelTestIn) || isGate(s)) continue;
    problems.push(`${s.stage} › ${s.job} › ${s.step} failed: ${s.note ?? ''}`);
  }
  if (!failModelTestIn) return problems;
  const scripted = result.steps.find((s) => isModelTest(s) && s.environment === failModelTestIn);
  if (scripted && scripted.outcome !== 'Failed' && scripted.outcome !== 'Not built')
    problems.push(`the model test in ${failModelTestIn} did not fail as scripted (${scripted.outcome})`);
  // Every stage after the failing one must not have changed anything.
  const failingStage = result.steps.find((s) => s.environment === failModelTestIn)?.stage;
  const after = result.stages.slice(result.stages.findIndex((st) => st.name === failingStage) + 1);
  for (const st of after) {
    const ran = result.steps.filter(
      (s) => s.stage === st.name && s.task && !isGate(s) && s.outcome !== 'Not run',
    );
    if (ran.length) problems.push(`${st.name} ran ${ran.map((s) => s.step).join(', ')}`);
  }
  return problems;
}

function parseArgs(argv: string[]): {
  dist: string;
  vsix?: string;
  verbose: boolean;
  summaries: boolean;
  keep: boolean;
} {
  const o = {
    dist: path.join(REPO_ROOT, 'dist'),
    vsix: undefined as string | undefined,
    verbose: false,
    summaries: false,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dist') o.dist = path.resolve(argv[++i]);
    else if (a === '--vsix') o.vsix = argv[++i];
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--summaries') o.summaries = true;
    else if (a === '--keep') o.keep = true;
    else
      throw new Error(
        `Unknown argument ${a}. Usage: sample-pipeline.ts [--dist <dir>] [--vsix <file>] [--verbose] [--summaries] [--keep]`,
      );
  }
  return o;
}

/** Runs the flow, prints the table; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  const result = await runSampleFlow({
    distDir: o.dist,
    verbose: o.verbose,
    summaries: o.summaries,
    keepFolders: o.keep,
  });
  console.log('');
  for (const l of formatTable(result, o.vsix)) console.log(l);
  if (result.workFolder) console.log(`Agent folders kept in ${result.workFolder}`);
  const problems = unexpectedOutcomes(result);
  if (problems.length) {
    console.log('');
    console.log(red('The flow did not end as scripted:'));
    for (const p of problems) console.log(red(`  ${p}`));
    return 1;
  }
  console.log(
    green(
      'The flow ended as scripted: dev and test deployed, the failing model test in test kept prod untouched.',
    ),
  );
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`sample pipeline failed: ${(e as Error).stack ?? String(e)}`);
      process.exit(1);
    },
  );
}
