/**
 * A problem with what the user asked for (an input, the source folder, the
 * target). Its message names the task.json input and says how to fix it; the
 * pipeline layer prints it as is.
 */
export class DeployInputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
    this.name = 'DeployInputError';
  }
}

/** One or more operations failed; `failures` lists every path and reason. */
export class DeployFailedError extends Error {
  constructor(
    message: string,
    readonly failures: { path: string; operation: string; message: string }[],
  ) {
    super(message);
    this.name = 'DeployFailedError';
  }
}
