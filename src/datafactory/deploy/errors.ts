/**
 * Errors of the factory deployment. DeployInputError names the task.json input
 * to fix; DeployFailedError lists every object or resource that failed.
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

export interface DeployFailure {
  /** e.g. "pipeline pl_copy", "trigger tr_daily", "deployment". */
  target: string;
  /** What was being done: create, update, delete, stop, start, deploy. */
  operation: string;
  code?: string;
  message: string;
}

export class DeployFailedError extends Error {
  constructor(
    message: string,
    readonly failures: DeployFailure[],
  ) {
    super(message);
    this.name = 'DeployFailedError';
  }
}

/** "a, b and c" */
export function listText(items: string[], max = 20): string {
  const shown = items.slice(0, max);
  const more = items.length > max ? ` and ${items.length - max} more` : '';
  if (shown.length <= 1) return `${shown.join('')}${more}`;
  if (more) return `${shown.join(', ')}${more}`;
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}
