/**
 * The `arm` method: PUT the deployment (template inline), follow it to the end,
 * and on failure list the deployment operations so each failed resource is
 * reported with its own error code and message, not just "DeploymentFailed".
 * Also Validation (POST validate) and WhatIf (POST whatIf).
 */
import type { Logger } from '../../common/logger';
import { describeError, isHttpError } from '../../http/errors';
import {
  collectFailedOperations,
  type ArmClient,
  type ArmErrorInfo,
  type DeploymentExtended,
  type DeploymentProperties,
  type FailedOperation,
  type WhatIfChange,
} from '../arm-client';
import { DeployFailedError, type DeployFailure } from './errors';

export interface ArmRunResult {
  deployment: DeploymentExtended;
  outputs: Record<string, { type?: string; value?: unknown }>;
  durationMs: number;
}

function shortType(t: string | undefined): string {
  return (t ?? 'resource').replace(/^Microsoft\.DataFactory\/factories\//i, '');
}

/** "pipelines pl_copy" from a failed operation. */
export function describeFailedOperation(op: FailedOperation, factoryName?: string): string {
  let name = op.resourceName ?? op.resourceId ?? '(unknown resource)';
  if (factoryName && name.toLowerCase().startsWith(`${factoryName.toLowerCase()}/`))
    name = name.slice(factoryName.length + 1);
  return `${shortType(op.resourceType)} ${name}`;
}

function errorText(e: ArmErrorInfo | undefined): string {
  if (!e) return 'no error details';
  const details = Array.isArray(e.details) ? e.details.map((d) => errorText(d)).filter(Boolean) : [];
  const head = [e.code, e.message].filter(Boolean).join(': ');
  return details.length > 0 ? `${head} (${details.slice(0, 5).join('; ')})` : head;
}

export interface RunArmOptions {
  logger: Logger;
  signal?: AbortSignal;
  factoryName?: string;
}

export async function runArmDeployment(
  arm: ArmClient,
  name: string,
  properties: DeploymentProperties,
  opts: RunArmOptions,
): Promise<ArmRunResult> {
  const started = Date.now();
  opts.logger.info(
    `Creating Resource Manager deployment ${name} (${properties.mode}) in resource group ${arm.scope.resourceGroupName}…`,
  );
  let first;
  try {
    first = await arm.createDeployment(name, properties, opts.signal);
  } catch (e) {
    // Template errors (InvalidTemplate, job size) come back on the PUT itself.
    if (isHttpError(e) && e.status !== undefined && e.status < 500) {
      throw new DeployFailedError(`The deployment ${name} was rejected: ${describeError(e)}`, [
        { target: 'deployment', operation: 'deploy', code: e.code, message: e.serviceMessage ?? e.message },
      ]);
    }
    throw e;
  }
  let lastLog = Date.now();
  const deployment = await arm.waitForDeployment(name, first, {
    signal: opts.signal,
    onPoll: (state, elapsed) => {
      if (Date.now() - lastLog >= 30_000) {
        lastLog = Date.now();
        opts.logger.info(`  deployment ${name}: ${state ?? 'Running'} after ${Math.round(elapsed / 1000)} s`);
      }
    },
  });
  const state = deployment.properties?.provisioningState ?? 'Unknown';
  const durationMs = Date.now() - started;
  if (state.toLowerCase() === 'succeeded') {
    opts.logger.info(`Deployment ${name} succeeded in ${(durationMs / 1000).toFixed(1)} s.`);
    return { deployment, outputs: deployment.properties?.outputs ?? {}, durationMs };
  }
  // Say which resources failed and why.
  let failed: FailedOperation[] = [];
  try {
    failed = await collectFailedOperations(arm, name, opts.signal);
  } catch (e) {
    opts.logger.warn(`Could not list the operations of deployment ${name}: ${describeError(e)}`);
  }
  const failures: DeployFailure[] = failed.map((op) => ({
    target: describeFailedOperation(op, opts.factoryName),
    operation: 'deploy',
    code: op.code,
    message: op.message ?? 'no message',
  }));
  if (failures.length === 0) {
    failures.push({
      target: 'deployment',
      operation: 'deploy',
      code: deployment.properties?.error?.code,
      message: errorText(deployment.properties?.error),
    });
  }
  const lines = failures.map((f) => `${f.target}: ${f.code ? `${f.code}: ` : ''}${f.message}`);
  throw new DeployFailedError(
    `Deployment ${name} ${state.toLowerCase() === 'canceled' ? 'was canceled' : 'failed'}; ${failures.length} resource(s) failed: ${lines.join(' | ')}`,
    failures,
  );
}

export async function validateArmDeployment(
  arm: ArmClient,
  name: string,
  properties: DeploymentProperties,
  opts: RunArmOptions,
): Promise<void> {
  opts.logger.info(`Validating deployment ${name} with Resource Manager…`);
  const res = await arm.validate(name, properties, opts.signal);
  if (!res.ok) {
    throw new DeployFailedError(`Validation of deployment ${name} failed: ${errorText(res.error)}`, [
      { target: 'deployment', operation: 'validate', code: res.error.code, message: errorText(res.error) },
    ]);
  }
  opts.logger.info(`The template is valid according to Resource Manager.`);
}

export async function whatIfArmDeployment(
  arm: ArmClient,
  name: string,
  properties: DeploymentProperties,
  opts: RunArmOptions,
): Promise<WhatIfChange[]> {
  opts.logger.info(`Asking Resource Manager what deployment ${name} would change…`);
  const res = await arm.whatIf(name, properties, opts.signal);
  if (!res.ok) {
    throw new DeployFailedError(`What-if of deployment ${name} failed: ${errorText(res.error)}`, [
      { target: 'deployment', operation: 'whatIf', code: res.error.code, message: errorText(res.error) },
    ]);
  }
  return res.changes;
}

/** What-if changes as log lines, grouped by change type. */
export function formatWhatIf(changes: WhatIfChange[], factoryName?: string): string[] {
  const order = ['Create', 'Delete', 'Modify', 'Deploy', 'NoChange', 'Ignore', 'Unsupported'];
  const lines: string[] = [];
  const byType = new Map<string, WhatIfChange[]>();
  for (const c of changes) byType.set(c.changeType, [...(byType.get(c.changeType) ?? []), c]);
  const rank = (t: string): number => (order.includes(t) ? order.indexOf(t) : order.length);
  const types = [...byType.keys()].sort((a, b) => rank(a) - rank(b));
  for (const t of types) {
    const list = byType.get(t) ?? [];
    lines.push(`${t}: ${list.length}`);
    for (const c of list) {
      const m = /providers\/Microsoft\.DataFactory\/factories\/([^/]+)(?:\/(.+))?$/i.exec(c.resourceId);
      const label = m ? (m[2] ? m[2] : `factory ${m[1]}`) : c.resourceId;
      lines.push(`  ${t.padEnd(9)} ${factoryName ? label : c.resourceId}`);
      for (const d of (c.delta ?? []).slice(0, 10)) {
        lines.push(`      ${d.propertyChangeType} ${d.path}`);
      }
    }
  }
  return lines;
}
