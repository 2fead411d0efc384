/**
 * DataFactoryDeploy@1: reads the inputs, calls the deployment core, and reports
 * output variables, the run summary and the backup of overwritten definitions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { authorizedHttp, createArmAuthorizer } from '../../src/auth';
import { ArmClient } from '../../src/datafactory/arm-client';
import { deployFactory, type DeployFactoryResult } from '../../src/datafactory/deploy/deploy';
import { DeployFailedError, DeployInputError } from '../../src/datafactory/deploy/errors';
import {
  defaultDeploymentName,
  validateFactoryName,
  validateResourceGroupName,
  validateSubscriptionId,
} from '../../src/datafactory/deploy/target';
import { FactoryClient } from '../../src/datafactory/factory-client';
import {
  InputError,
  readAzureConnection,
  runTask,
  setOutput,
  taskLib,
  tempDirectory,
  uploadArtifact,
  uploadLogFile,
  uploadSummary,
} from '../../src/pipeline';
import { withoutDebugEcho } from '../../src/pipeline/tl';

const BACKUP_ARTIFACT = 'datafactory-deploy-backup';

/** Core input errors carry the input name: report them as input errors. */
function asInputError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DeployInputError) throw new InputError(e.input, e.message);
    throw e;
  }
}

void runTask('DataFactoryDeploy', async ({ inputs, logger, http, signal }) => {
  const tl = taskLib();
  const connection = readAzureConnection('azureSubscription');
  const subscriptionId = asInputError(() =>
    validateSubscriptionId('subscriptionId', inputs.getString('subscriptionId') ?? connection.subscriptionId),
  );
  const resourceGroupName = asInputError(() =>
    validateResourceGroupName('resourceGroupName', inputs.getString('resourceGroupName', true)),
  );
  const factoryName = asInputError(() =>
    validateFactoryName('factoryName', inputs.getString('factoryName', true)),
  );
  const templateFile = inputs.getFilePath('templateFile', { required: true, mustExist: true, kind: 'file' })!;
  const parametersFile = inputs.getFilePath('templateParametersFile', { mustExist: true, kind: 'file' });
  const mode = inputs.getPickList(
    'deploymentMode',
    ['Incremental', 'Validation', 'WhatIf'] as const,
    'Incremental',
  );
  const method = inputs.getPickList('deploymentMethod', ['arm', 'direct'] as const, 'arm');
  const dryRun = inputs.getBool('dryRun', false);
  const deploymentName =
    inputs.getString('deploymentName') ?? defaultDeploymentName(factoryName, (n) => tl.getVariable(n));

  const authorizer = createArmAuthorizer(connection, http, { logger });
  const armHttp = authorizedHttp(http, authorizer, signal);
  const where = {
    resourceManagerUrl: connection.resourceManagerUrl,
    subscriptionId,
    resourceGroupName,
    factoryName,
  };
  const backupDir = fs.mkdtempSync(path.join(tempDirectory(), 'adf-backup-'));

  let result: DeployFactoryResult;
  try {
    result = await deployFactory({
      factory: new FactoryClient(armHttp, where),
      arm: new ArmClient(armHttp, where),
      subscriptionId,
      resourceGroupName,
      factoryName,
      location: inputs.getString('location'),
      templateFile,
      parametersFile,
      // Overrides carry secure values: read them without task-lib's debug echo of the input.
      overrideParameters: withoutDebugEcho(() => inputs.raw('overrideParameters')),
      mode,
      method,
      stopTriggers: inputs.getBool('stopTriggers', true),
      deleteRemoved: inputs.getBool('deleteRemoved', false),
      maxDeletes: inputs.getInt('maxDeletes', { min: 0, max: 100_000, default: 20 }),
      deploymentName,
      dryRun,
      logger,
      signal,
      backupDir,
      requestCount: () => http.stats.requests,
    });
  } catch (e) {
    if (e instanceof DeployInputError) throw new InputError(e.input, e.message);
    const summary = (e as { summaryMarkdown?: string }).summaryMarkdown;
    if (summary) uploadSummary(`Data Factory deploy ${factoryName}`, summary);
    publishBackup(backupDir);
    setOutput('deploymentName', deploymentName);
    if (e instanceof DeployFailedError) {
      for (const f of e.failures) {
        logger.error(`${f.target}: ${f.operation} failed: ${f.code ? `${f.code}: ` : ''}${f.message}`);
      }
    }
    throw e;
  }

  const plan = result.plan;
  const preview = result.dryRun || result.mode !== 'Incremental';
  const updated = preview
    ? (plan?.items.filter((i) => i.action === 'create' || i.action === 'update').length ?? 0)
    : result.created.length + result.updated.length;
  const deleted = preview ? (plan?.deletes.length ?? 0) : result.deleted.length;
  setOutput('deploymentName', result.deploymentName);
  setOutput('deploymentOutputs', JSON.stringify(result.outputs));
  setOutput('updatedCount', String(updated));
  setOutput('deletedCount', String(deleted));
  setOutput('triggersRestarted', String(result.startedTriggers.length));
  uploadSummary(`Data Factory deploy ${factoryName}`, result.summaryMarkdown);
  publishBackup(backupDir);
});

/** Build runs keep the backup as an artifact; release runs attach it to the log. */
function publishBackup(dir: string): void {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
  for (const file of files) {
    if (taskLib().getVariable('System.HostType') === 'build') uploadArtifact(BACKUP_ARTIFACT, file);
    else uploadLogFile(file);
  }
}
