/**
 * DataFactoryRunPipeline@1: reads the inputs, runs the pipeline through the
 * run core, and sets runId, status and durationMs (also when the run fails).
 */
import { authorizedHttp, createArmAuthorizer } from '../../src/auth';
import { DeployInputError } from '../../src/datafactory/deploy/errors';
import {
  validateFactoryName,
  validatePipelineName,
  validateResourceGroupName,
  validateSubscriptionId,
} from '../../src/datafactory/deploy/target';
import { FactoryClient } from '../../src/datafactory/factory-client';
import { PipelineRunError, runPipeline } from '../../src/datafactory/run/runner';
import { InputError, readAzureConnection, runTask, setOutput } from '../../src/pipeline';

const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

function asInputError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DeployInputError) throw new InputError(e.input, e.message);
    throw e;
  }
}

/** Minutes, decimals allowed ('0.5' is 30 s); 0 means no limit. */
function readTimeoutMinutes(raw: string | undefined): number {
  if (raw === undefined) return 120;
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n > MAX_TIMEOUT_MINUTES) {
    throw new InputError(
      'timeoutMinutes',
      `Input 'timeoutMinutes' must be a number of minutes between 0 and ${MAX_TIMEOUT_MINUTES} (0: no limit), got '${raw.slice(0, 40)}'.`,
    );
  }
  return n;
}

void runTask('DataFactoryRunPipeline', async ({ inputs, logger, http, signal }) => {
  const connection = readAzureConnection('azureSubscription');
  const subscriptionId = asInputError(() =>
    validateSubscriptionId('azureSubscription', connection.subscriptionId),
  );
  const resourceGroupName = asInputError(() =>
    validateResourceGroupName('resourceGroupName', inputs.getString('resourceGroupName', true)),
  );
  const factoryName = asInputError(() =>
    validateFactoryName('factoryName', inputs.getString('factoryName', true)),
  );
  const pipelineName = asInputError(() =>
    validatePipelineName('pipelineName', inputs.getString('pipelineName', true)),
  );
  const parameters = inputs.getParameters('parameters');
  const waitForCompletion = inputs.getBool('waitForCompletion', true);
  const timeoutMinutes = readTimeoutMinutes(inputs.raw('timeoutMinutes'));

  const authorizer = createArmAuthorizer(connection, http, { logger });
  const client = new FactoryClient(authorizedHttp(http, authorizer, signal), {
    resourceManagerUrl: connection.resourceManagerUrl,
    subscriptionId,
    resourceGroupName,
    factoryName,
  });
  try {
    const result = await runPipeline({
      client,
      pipelineName,
      parameters,
      waitForCompletion,
      timeoutMs: timeoutMinutes > 0 ? timeoutMinutes * 60_000 : undefined,
      logger,
      signal,
    });
    setOutput('runId', result.runId);
    setOutput('status', result.status);
    setOutput('durationMs', String(Math.round(result.durationMs)));
  } catch (e) {
    if (e instanceof PipelineRunError) {
      setOutput('runId', e.result.runId);
      setOutput('status', e.result.status);
      setOutput('durationMs', String(Math.round(e.result.durationMs)));
    }
    throw e;
  }
});
