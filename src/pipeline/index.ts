/** Public surface of src/pipeline: the only code that talks to azure-pipelines-task-lib. */
export { InputError } from './errors';
export {
  InputReader,
  agentInputs,
  getBool,
  getFilePath,
  getInt,
  getJson,
  getJsonObject,
  getKeyValueLines,
  getMultiline,
  getParameters,
  getPickList,
  getString,
  type FilePathOptions,
} from './inputs';
export {
  EndpointReader,
  readAzureConnection,
  readDatabricksConnection,
  readDatabricksTarget,
  validateWorkspaceResourceId,
  validateWorkspaceUrl,
  DEFAULT_DATABRICKS_TARGET_INPUTS,
  type DatabricksTargetInputNames,
} from './endpoints';
export { createPipelineHttpClient, httpOptionsFromAgent, userAgent } from './http';
export { TaskLogger, formatElapsed, neutraliseCommands, withProgress } from './logger';
export {
  publishJUnit,
  setOutput,
  tempDirectory,
  uploadArtifact,
  uploadLogFile,
  uploadSummary,
} from './results';
export { CancelledError, createCancellation, type Cancellation } from './cancel';
export { describeFailure, runTask, type TaskContext, type TaskOutcome, type RunTaskOptions } from './run';
export { taskLib, agentSource, type TaskSource } from './tl';
