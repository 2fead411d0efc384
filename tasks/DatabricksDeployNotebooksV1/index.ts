/**
 * DatabricksDeployNotebooks@1: reads the inputs, calls the deploy core, and
 * reports outputs, the run summary and the manifest artifact.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { authorizedHttp, createDatabricksAuthorizer } from '../../src/auth';
import type { DatabricksTarget } from '../../src/auth/types';
import type { Logger } from '../../src/common/logger';
import {
  deployNotebooks,
  failureMessage,
  type DeployNotebooksResult,
  type DeploySource,
} from '../../src/databricks/deploy/deploy';
import { DeployFailedError, DeployInputError } from '../../src/databricks/deploy/errors';
import type { VariableLookup } from '../../src/databricks/deploy/tokens';
import { WorkspaceClient } from '../../src/databricks/workspace-client';
import type { HttpClient } from '../../src/http/types';
import {
  InputError,
  readDatabricksConnection,
  readDatabricksTarget,
  runTask,
  setOutput,
  taskLib,
  tempDirectory,
  uploadArtifact,
  uploadLogFile,
  uploadSummary,
} from '../../src/pipeline';
import { withoutDebugEcho } from '../../src/pipeline/tl';

const MANIFEST_ARTIFACT = 'databricks-deploy-manifests';

function workspaceClient(
  target: DatabricksTarget,
  http: HttpClient,
  logger: Logger,
  signal: AbortSignal,
): WorkspaceClient {
  const authorizer = createDatabricksAuthorizer(target, http, logger);
  // A token revoked or expired early is replaced once per request (a PAT fails at once).
  return new WorkspaceClient(authorizedHttp(http, authorizer, signal), target.workspaceUrl);
}

/**
 * Pipeline variables by the name written in a token; secret ones are flagged so
 * their values get registered (masked) before use. task-lib echoes every value
 * it reads into a debug line, so reads run with that echo dropped.
 */
function variableLookup(): VariableLookup {
  const tl = taskLib();
  const key = (name: string) => name.replace(/\./g, '_').replace(/ /g, '_').toUpperCase();
  const secret = new Set(
    withoutDebugEcho(() => tl.getVariables())
      .filter((v) => v.secret)
      .map((v) => key(v.name)),
  );
  return (name) => {
    const value = withoutDebugEcho(() => tl.getVariable(name));
    return value === undefined ? undefined : { value, secret: secret.has(key(name)) };
  };
}

function deployedBy(): string | undefined {
  const tl = taskLib();
  const release = tl.getVariable('Release.ReleaseName');
  if (release) return `${tl.getVariable('Release.DefinitionName') ?? 'release'} ${release}`;
  const build = tl.getVariable('Build.BuildNumber');
  return build ? `${tl.getVariable('Build.DefinitionName') ?? 'build'} ${build}` : undefined;
}

function manifestFileName(targetPath: string): string {
  const slug = targetPath.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_') || 'root';
  return `${slug}.deploy-manifest.json`;
}

void runTask('DatabricksDeployNotebooks', async ({ inputs, logger, http, signal }) => {
  const target = readDatabricksTarget();
  const sourceType = inputs.getPickList('sourceType', ['folder', 'workspace'] as const, 'folder');
  let source: DeploySource;
  if (sourceType === 'folder') {
    const folder = inputs.getFilePath('sourceFolder');
    if (!folder) {
      // The agent passes the repository root for an empty filePath input, so the root reads as "not given".
      throw new InputError(
        'sourceFolder',
        "Input 'sourceFolder' is required: give the folder that holds the notebooks, e.g. notebooks (a folder below the repository root).",
      );
    }
    source = { type: 'folder', folder };
  } else {
    const sourceTarget = readDatabricksConnection('sourceConnection');
    source = {
      type: 'workspace',
      client: workspaceClient(sourceTarget, http, logger, signal),
      path: inputs.getString('sourcePath', true),
    };
  }
  const targetPath = inputs.getString('targetPath', true);
  const replaceTokens = inputs.getBool('replaceTokens', false);
  const dryRun = inputs.getBool('dryRun', false);

  let result: DeployNotebooksResult;
  try {
    result = await deployNotebooks({
      workspace: workspaceClient(target, http, logger, signal),
      source,
      targetPath,
      include: inputs.getMultiline('include'),
      exclude: inputs.getMultiline('exclude'),
      mode: inputs.getPickList('mode', ['merge', 'mirror'] as const, 'merge'),
      skipUnchanged: inputs.getBool('skipUnchanged', true),
      replaceTokens,
      lookupVariable: replaceTokens ? variableLookup() : undefined,
      dryRun,
      concurrency: inputs.getInt('concurrency', { min: 1, max: 32, default: 8 }),
      logger,
      signal,
      deployedBy: deployedBy(),
      requestCount: () => http.stats.requests,
    });
  } catch (e) {
    // Core input errors carry the input name and a complete message: report them as input errors.
    if (e instanceof DeployInputError) throw new InputError(e.input, e.message);
    // The pipeline shows the first line of other errors: keep the whole list on one.
    if (e instanceof DeployFailedError) throw new Error(e.message.replace(/\n\s*/g, ' '), { cause: e });
    throw e;
  }

  setOutput('importedCount', String(result.created.length + result.updated.length));
  setOutput('unchangedCount', String(result.unchanged));
  setOutput('deletedCount', String(result.deleted.length));
  let manifestPath = '';
  if (result.manifestText) {
    const dir = fs.mkdtempSync(path.join(tempDirectory(), 'deploy-manifest-'));
    manifestPath = path.join(dir, manifestFileName(result.targetPath));
    fs.writeFileSync(manifestPath, result.manifestText, 'utf8');
    // Build runs keep it as an artifact; release runs attach it to the log.
    if (taskLib().getVariable('System.HostType') === 'build') uploadArtifact(MANIFEST_ARTIFACT, manifestPath);
    else uploadLogFile(manifestPath);
  }
  setOutput('manifestPath', manifestPath);
  uploadSummary(`Databricks deploy ${result.targetPath}`, result.summaryMarkdown);

  // A cancelled run reports Cancelled, not a list of cancelled imports.
  if (signal.aborted) throw signal.reason;
  if (result.failures.length > 0) {
    const message = failureMessage(result);
    logger.info(message);
    // One line: the pipeline shows the first line of a failure message.
    throw new Error(message.replace(/:\n\s*/, ': ').replace(/\n\s*/g, '; '));
  }
});
