/**
 * The target factory of the Data Factory tasks (resource group and factory
 * names checked against Azure's naming rules) and the default deployment name.
 */
import { factoryNameViolation, nameRuleViolation } from '../validate';
import { DeployInputError } from './errors';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function validateSubscriptionId(input: string, value: string | undefined): string {
  const v = (value ?? '').trim();
  if (!GUID.test(v)) {
    throw new DeployInputError(
      input,
      v
        ? `Input '${input}' must be a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000), got '${v.slice(0, 60)}'.`
        : `No subscription id: the Azure Resource Manager service connection has none, so give input '${input}'.`,
    );
  }
  return v;
}

export function validateResourceGroupName(input: string, value: string): string {
  const v = value.trim();
  // Letters, digits, underscores, hyphens, periods and parentheses; not ending with a period.
  if (!/^[-\w.()\p{L}\p{N}]{1,90}$/u.test(v) || v.endsWith('.')) {
    throw new DeployInputError(
      input,
      `Input '${input}' must be a resource group name: 1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.' (got '${shown(v, 100)}').`,
    );
  }
  return v;
}

export function validateFactoryName(input: string, value: string): string {
  const v = value.trim();
  const problem = factoryNameViolation(v);
  if (problem) throw new DeployInputError(input, `Input '${input}': ${problem} (got '${shown(v, 80)}').`);
  return v;
}

/** Shows a refused value without letting control characters reach the log. */
function shown(v: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return v.slice(0, max).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * A pipeline name as Data Factory accepts it. The name becomes a URL path segment
 * (…/pipelines/<name>/createRun), so '.', '/', '?' and the other characters ADF forbids
 * are refused before any request, as are control characters.
 */
export function validatePipelineName(input: string, value: string): string {
  const v = value.trim();
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f]/.test(v);
  const problem = control
    ? { severity: 'error', reason: 'control characters are not allowed' }
    : nameRuleViolation('pipeline', v);
  if (problem?.severity === 'error') {
    throw new DeployInputError(
      input,
      `Input '${input}': '${shown(v, 80)}' is not a valid pipeline name: ${problem.reason}. Give the name of the pipeline as ADF Studio shows it.`,
    );
  }
  return v;
}

/** adf-<factory>-<build or release id>-<attempt>, within ARM's 64 characters. */
export function defaultDeploymentName(
  factoryName: string,
  variable: (name: string) => string | undefined,
  now: Date = new Date(),
): string {
  const clean = (s: string | undefined) => (s ?? '').replace(/[^-\w.()]/g, '');
  const release = clean(variable('Release.ReleaseId'));
  const build = clean(variable('Build.BuildId'));
  const attempt = clean(variable('Release.AttemptNumber') || variable('System.JobAttempt'));
  let run: string;
  if (release) run = `r${release}`;
  else if (build) run = `b${build}`;
  else run = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const suffix = `-${run}${attempt && attempt !== '1' ? `-${attempt}` : ''}`;
  const prefix = `adf-${clean(factoryName)}`.slice(0, 64 - suffix.length);
  return `${prefix}${suffix}`;
}
