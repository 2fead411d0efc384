/**
 * DatabricksRunNotebook@1: runs notebooks as one Databricks run, waits, reads
 * the exit values, publishes JUnit results and a summary, sets output variables
 * (also on failure) and fails on failed runs, tests or assertions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { authorizedHttp, createDatabricksAuthorizer } from '../../src/auth';
import { redact, redactAndTruncate } from '../../src/common/secrets';
import { ClusterNotFoundError, ClustersClient } from '../../src/databricks/clusters-client';
import { JobsClient } from '../../src/databricks/jobs-client';
import { AssertionSyntaxError, parseAssertions, type Assertion } from '../../src/databricks/run/assertions';
import { deriveIdempotencyToken, type PipelineIdentity } from '../../src/databricks/run/idempotency';
import { formatDuration } from '../../src/databricks/run/poll-schedule';
import { buildRunReport, type RunReport } from '../../src/databricks/run/report';
import { runNotebooks, RunTimeoutError, type RunOutcome } from '../../src/databricks/run/runner';
import {
  buildSubmitSpec,
  defaultRunName,
  parseNotebookPaths,
  type ClusterChoice,
} from '../../src/databricks/run/submit-spec';
import {
  agentSource,
  InputError,
  publishJUnit,
  readDatabricksTarget,
  runTask,
  setOutput,
  tempDirectory,
  uploadSummary,
  type TaskContext,
} from '../../src/pipeline';

const TASK = 'DatabricksRunNotebook';
const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

interface Settings {
  notebooks: string[];
  parameters: Record<string, string>;
  cluster: ClusterChoice;
  timeoutMinutes: number;
  runName: string;
  publishTestResults: boolean;
  testRunTitle?: string;
  assertions: Assertion[];
}

/** Reads and checks every input before anything touches the network. */
function readSettings(ctx: TaskContext, variable: (name: string) => string | undefined): Settings {
  const inputs = ctx.inputs;
  let notebooks: string[];
  try {
    const check = parseNotebookPaths(inputs.raw('notebookPath'));
    notebooks = check.paths;
    for (const w of check.warnings) ctx.logger.warn(w);
  } catch (e) {
    throw new InputError('notebookPath', (e as Error).message);
  }

  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs.getParameters('parameters'))) parameters[k] = widgetValue(v);

  const kind = inputs.getPickList('cluster', ['serverless', 'existing', 'new'] as const, 'serverless');
  let cluster: ClusterChoice;
  if (kind === 'existing') {
    const id = inputs.raw('existingClusterId');
    if (!id) {
      throw new InputError(
        'existingClusterId',
        "Input 'existingClusterId' is required when cluster is 'existing': give the cluster id, e.g. 0123-456789-abcdefgh.",
      );
    }
    cluster = { kind: 'existing', clusterId: id };
  } else if (kind === 'new') {
    let spec = inputs.getJsonObject('newClusterJson');
    if (!spec) {
      throw new InputError(
        'newClusterJson',
        'Input \'newClusterJson\' is required when cluster is \'new\': give a new_cluster object, e.g. {"spark_version": "15.4.x-scala2.12", "node_type_id": "Standard_DS3_v2", "num_workers": 1}.',
      );
    }
    // Accept a spec copied with its wrapper, {"new_cluster": {...}}.
    if (Object.keys(spec).length === 1 && isObject(spec.new_cluster)) spec = spec.new_cluster;
    if (typeof spec.spark_version !== 'string') {
      throw new InputError(
        'newClusterJson',
        'Input \'newClusterJson\' must give spark_version, e.g. "15.4.x-scala2.12".',
      );
    }
    cluster = { kind: 'new', spec };
  } else {
    cluster = { kind: 'serverless' };
  }

  const timeoutRaw = inputs.raw('timeoutMinutes') ?? '60';
  const timeoutMinutes = Number(timeoutRaw);
  if (!/^\d*\.?\d+$/.test(timeoutRaw) || !(timeoutMinutes > 0) || timeoutMinutes > MAX_TIMEOUT_MINUTES) {
    throw new InputError(
      'timeoutMinutes',
      `Input 'timeoutMinutes' must be a number of minutes greater than 0 and at most ${MAX_TIMEOUT_MINUTES} (got '${timeoutRaw}').`,
    );
  }

  let assertions: Assertion[];
  try {
    assertions = parseAssertions(inputs.raw('assertions'));
  } catch (e) {
    if (e instanceof AssertionSyntaxError) {
      throw new InputError('assertions', `Input 'assertions' ${e.message.replace(/^assertions /, '')}`);
    }
    throw e;
  }

  const runName =
    inputs.raw('runName') ??
    defaultRunName({
      definitionName: variable('Release.DefinitionName') ?? variable('Build.DefinitionName'),
      buildNumber: variable('Build.BuildNumber'),
      releaseName: variable('Release.ReleaseName'),
      stageName: variable('System.StageDisplayName') ?? variable('System.StageName'),
      jobName: variable('System.JobDisplayName'),
    });

  return {
    notebooks,
    parameters,
    cluster,
    timeoutMinutes,
    runName,
    publishTestResults: inputs.getBool('publishTestResults', true),
    testRunTitle: inputs.raw('testRunTitle'),
    assertions,
  };
}

/** Widgets take strings: JSON values are passed in their JSON text (strings as they are). */
function widgetValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pipelineIdentity(variable: (name: string) => string | undefined): PipelineIdentity {
  return {
    collectionId: variable('System.CollectionId'),
    teamProject: variable('System.TeamProjectId') ?? variable('System.TeamProject'),
    buildId: variable('Build.BuildId'),
    releaseId: variable('Release.ReleaseId'),
    releaseEnvironmentId: variable('Release.EnvironmentId'),
    releaseAttempt: variable('Release.AttemptNumber'),
    stageAttempt: variable('System.StageAttempt'),
    jobId: variable('System.JobId'),
    jobAttempt: variable('System.JobAttempt'),
    taskInstanceId: variable('System.TaskInstanceId'),
  };
}

function setOutputs(values: {
  runId?: number;
  runPageUrl?: string;
  resultState?: string;
  notebookOutput?: string;
  testsPassed?: number;
  testsFailed?: number;
}): void {
  setOutput('runId', values.runId !== undefined ? String(values.runId) : '');
  setOutput('runPageUrl', values.runPageUrl ?? '');
  setOutput('resultState', values.resultState ?? '');
  setOutput('notebookOutput', values.notebookOutput ?? '');
  setOutput('testsPassed', String(values.testsPassed ?? 0));
  setOutput('testsFailed', String(values.testsFailed ?? 0));
}

/** One line for the task result; the full text (trace included) is logged as errors first. */
function resultMessage(failures: string[]): string {
  const lines = failures.map((f) =>
    f
      .split('\n')
      .filter((l) => !/^(Trace:|\s|…|See )/.test(l))
      .join(' '),
  );
  if (lines.length === 1) return lines[0];
  // Masked before the cut: a secret across it would otherwise keep its start.
  return `${failures.length} problems: ${redactAndTruncate(lines.join(' | '), 900)}`;
}

function logNotebooks(ctx: TaskContext, report: RunReport): void {
  for (const n of report.notebooks) {
    const o = n.outcome;
    const state = [o.lifeCycleState, o.resultState].filter(Boolean).join(' ') || 'not started';
    ctx.logger.startGroup(
      `${o.notebookPath}: ${state}${o.durationMs !== undefined ? ` in ${formatDuration(o.durationMs)}` : ''}`,
    );
    if (o.runPageUrl) ctx.logger.info(`Task run: ${o.runPageUrl}`);
    if (o.stateMessage) ctx.logger.info(`State message: ${o.stateMessage}`);
    ctx.logger.info(
      o.outputError
        ? `Exit value: unknown, the output could not be read: ${o.outputError}`
        : `Exit value: ${n.exit.kind}${n.exit.kind !== 'none' ? ` (${n.exit.raw.length} characters${o.truncated ? ', truncated' : ''})` : ''}`,
    );
    if (n.exit.tests.length > 0) {
      ctx.logger.info(
        `Tests: ${n.counts.passed} passed, ${n.counts.failed} failed, ${n.counts.errors} errors, ${n.counts.skipped} skipped`,
      );
      for (const t of n.exit.tests) {
        ctx.logger.info(
          `  ${t.status.toUpperCase().padEnd(7)} ${t.name}${t.message ? `: ${t.message}` : ''}`,
        );
      }
    }
    const metrics = Object.keys(n.exit.metrics);
    if (metrics.length > 0)
      ctx.logger.info(`Metrics: ${redactAndTruncate(JSON.stringify(n.exit.metrics), 2000)}`);
    if (n.exit.kind === 'text') ctx.logger.info(`Output: ${redactAndTruncate(n.exit.raw, 2000)}`);
    if (o.error) ctx.logger.info(`Error: ${o.error}`);
    if (o.errorTrace) ctx.logger.info(`Trace:\n${o.errorTrace}`);
    ctx.logger.endGroup();
  }
  for (const a of report.assertions)
    ctx.logger.info(`Assertion ${a.passed ? 'holds' : a.skipped ? 'NOT EVALUATED' : 'FAILS'}: ${a.message}`);
}

void runTask(TASK, async (ctx) => {
  const source = agentSource();
  const variable = (name: string) => {
    const v = source.getVariable(name);
    return v === undefined || v === '' ? undefined : v;
  };

  const target = readDatabricksTarget();
  const settings = readSettings(ctx, variable);
  const timeoutMs = Math.round(settings.timeoutMinutes * 60_000);

  const authorizer = createDatabricksAuthorizer(target, ctx.http, ctx.logger);
  // Runs outlive tokens: a token rejected early (revoked, clock skew) is replaced and the call resent.
  const http = authorizedHttp(ctx.http, authorizer);
  const jobs = new JobsClient(http, target.workspaceUrl);
  const clusters = new ClustersClient(http, target.workspaceUrl);

  const token = deriveIdempotencyToken(pipelineIdentity(variable), {
    workspaceUrl: target.workspaceUrl,
    notebooks: settings.notebooks,
    parameters: settings.parameters,
    cluster: settings.cluster,
    runName: settings.runName,
    timeoutMinutes: settings.timeoutMinutes,
  });
  if (!token.stable)
    ctx.logger.debug('No pipeline run variables: the idempotency token is unique to this process.');

  const request = buildSubmitSpec({
    notebooks: settings.notebooks,
    parameters: settings.parameters,
    cluster: settings.cluster,
    runName: settings.runName,
    idempotencyToken: token.token,
    // Backstop in case the agent disappears; the task cancels at its own timeout first.
    timeoutSeconds: timeoutMs / 1000 + 600,
  });

  const compute =
    settings.cluster.kind === 'existing'
      ? `existing cluster ${settings.cluster.clusterId}`
      : settings.cluster.kind === 'new'
        ? 'a new job cluster'
        : 'serverless compute';
  ctx.logger.info(
    `Running ${settings.notebooks.length} notebook(s) on ${target.workspaceUrl} with ${compute}, timeout ${formatDuration(timeoutMs)}:`,
  );
  for (const t of request.tasks) ctx.logger.info(`  ${t.notebook_task.notebook_path} (task ${t.task_key})`);

  let submitted: { runId: number; runPageUrl?: string } | undefined;
  let outcome: RunOutcome;
  try {
    outcome = await runNotebooks({
      jobs,
      clusters,
      request,
      existingClusterId: settings.cluster.kind === 'existing' ? settings.cluster.clusterId : undefined,
      timeoutMs,
      logger: ctx.logger,
      signal: ctx.signal,
      onSubmitted: (info) => {
        submitted = info;
        setOutput('runId', String(info.runId));
        setOutput('runPageUrl', info.runPageUrl ?? '');
        if (info.runPageUrl) ctx.logger.info(`Run page: ${info.runPageUrl}`);
      },
    });
  } catch (e) {
    setOutputs({
      runId: submitted?.runId,
      runPageUrl: submitted?.runPageUrl,
      resultState: e instanceof RunTimeoutError ? 'TIMEDOUT' : '',
    });
    if (e instanceof ClusterNotFoundError) {
      throw new InputError(
        'existingClusterId',
        `Input 'existingClusterId': cluster '${e.clusterId}' does not exist in ${target.workspaceUrl}. Check the cluster id (Compute > the cluster > More > View JSON) and that the connection's identity can see the cluster.`,
      );
    }
    throw e;
  }

  const report = buildRunReport(outcome, settings.assertions, {
    runName: settings.runName,
    testRunTitle: settings.testRunTitle,
    timeoutMs,
  });
  logNotebooks(ctx, report);
  for (const w of report.warnings) ctx.logger.warn(w);

  setOutputs({
    runId: outcome.runId,
    runPageUrl: outcome.runPageUrl,
    resultState: report.resultState,
    notebookOutput: report.notebookOutput,
    testsPassed: report.testsPassed,
    testsFailed: report.testsFailed,
  });

  const dir = tempDirectory();
  if (settings.publishTestResults) {
    const file = path.join(dir, `databricks-run-${outcome.runId ?? 'none'}-${Date.now()}.junit.xml`);
    // Exit values and traces come from the notebook: mask any secret it echoed.
    fs.writeFileSync(file, redact(report.junitXml), 'utf8');
    publishJUnit(file, { runTitle: settings.testRunTitle || settings.runName });
    ctx.logger.info(`Published test results: ${report.testsPassed} passed, ${report.testsFailed} failed.`);
  }
  uploadSummary('Databricks notebook run', report.summaryMarkdown, dir);

  if (outcome.cancelled) {
    // runTask reports the step as cancelled.
    ctx.logger.warn(report.failures[0] ?? 'The pipeline was cancelled.');
    return;
  }
  if (report.failures.length > 0) {
    for (const f of report.failures) ctx.logger.error(f);
    throw new Error(resultMessage(report.failures));
  }
  ctx.logger.info(
    `Databricks run ${outcome.runId} succeeded: ${report.testsPassed} test(s) passed${report.assertions.length ? `, ${report.assertions.length} assertion(s) hold` : ''}.`,
  );
});
