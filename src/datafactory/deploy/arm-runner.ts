/**
 * The `arm` method: PUT the deployment (template inline), follow it to the end,
 * and on failure list the deployment operations so each failed resource is
 * reported with its own error code and message, not just "DeploymentFailed".
 * A lost answer to the PUT is recovered by finding this run's deployment (by
 * correlation id); triggers started after the plan are stopped and the
 * deployment retried once. Also Validation (POST validate) and WhatIf (POST whatIf).
 */
import * as crypto from 'node:crypto';
import type { Logger } from '../../common/logger';
import { describeError, isHttpError } from '../../http/errors';
import type { HttpResponse } from '../../http/types';
import {
  collectFailedOperations,
  type ArmClient,
  type ArmErrorInfo,
  type DeploymentExtended,
  type DeploymentProperties,
  type FailedOperation,
  type WhatIfChange,
} from '../arm-client';
import { DeployFailedError, listText, type DeployFailure } from './errors';
import type { TriggerManager } from './triggers';

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
  /**
   * When given, a deployment that fails only because triggers were started after
   * the plan (TriggerEnabledCannotUpdate) stops them through this manager (so
   * they count as stopped by this run and are restarted) and deploys once more.
   */
  triggers?: TriggerManager;
}

const AMBIGUOUS_KINDS = new Set(['network', 'timeout', 'server']);

/**
 * After a PUT whose outcome is unknown (the response was lost, or the client's
 * retry met 409 DeploymentActive): the deployment of that name, if this run
 * created it (same correlation id), as a first response to follow.
 */
async function adoptLostDeployment(
  arm: ArmClient,
  name: string,
  correlationId: string,
  err: unknown,
  opts: RunArmOptions,
): Promise<HttpResponse<DeploymentExtended> | undefined> {
  if (!isHttpError(err) || opts.signal?.aborted) return undefined;
  const active = err.status === 409 && (err.code ?? '').toLowerCase() === 'deploymentactive';
  if (!active && !AMBIGUOUS_KINDS.has(err.kind)) return undefined;
  let found: DeploymentExtended | undefined;
  try {
    found = await arm.findDeployment(name, opts.signal);
  } catch (e) {
    opts.logger.debug(`Could not read deployment ${name} after ${describeError(err)}: ${describeError(e)}`);
    return undefined;
  }
  if (found && found.properties?.correlationId === correlationId) {
    opts.logger.info(
      `The answer to the deployment request was lost (${active ? 'the retried request found it running' : describeError(err)}); deployment ${name} was created by this run: following it.`,
    );
    return { status: 200, headers: {}, data: found, attempts: 1 };
  }
  if (found && active) {
    throw new DeployFailedError(
      `Another deployment named ${name} is still running in resource group ${arm.scope.resourceGroupName} (not started by this run). Wait for it to finish, or set input 'deploymentName' to a different name.`,
      [
        {
          target: 'deployment',
          operation: 'deploy',
          code: err.code,
          message: err.serviceMessage ?? err.message,
        },
      ],
    );
  }
  return undefined;
}

/** One deployment: PUT (recovering from a lost answer) and follow it to a terminal state. */
async function deployOnce(
  arm: ArmClient,
  name: string,
  properties: DeploymentProperties,
  opts: RunArmOptions,
): Promise<DeploymentExtended> {
  opts.logger.info(
    `Creating Resource Manager deployment ${name} (${properties.mode}) in resource group ${arm.scope.resourceGroupName}…`,
  );
  const correlationId = crypto.randomUUID();
  let first: HttpResponse<DeploymentExtended>;
  try {
    first = await arm.createDeployment(name, properties, opts.signal, correlationId);
  } catch (e) {
    const adopted = await adoptLostDeployment(arm, name, correlationId, e, opts);
    if (adopted) first = adopted;
    // Template errors (InvalidTemplate, job size) come back on the PUT itself.
    else if (isHttpError(e) && e.status !== undefined && e.status < 500) {
      throw new DeployFailedError(`The deployment ${name} was rejected: ${describeError(e)}`, [
        { target: 'deployment', operation: 'deploy', code: e.code, message: e.serviceMessage ?? e.message },
      ]);
    } else throw e;
  }
  let lastLog = Date.now();
  return arm.waitForDeployment(name, first, {
    signal: opts.signal,
    onPoll: (state, elapsed) => {
      if (Date.now() - lastLog >= 30_000) {
        lastLog = Date.now();
        opts.logger.info(`  deployment ${name}: ${state ?? 'Running'} after ${Math.round(elapsed / 1000)} s`);
      }
    },
  });
}

/** Each failed resource of a finished deployment, with its own error. */
async function failuresOf(
  arm: ArmClient,
  name: string,
  deployment: DeploymentExtended,
  opts: RunArmOptions,
): Promise<{ failures: DeployFailure[]; operations: FailedOperation[] }> {
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
  return { failures, operations: failed };
}

/** The trigger names of failed operations that are all TriggerEnabledCannotUpdate on triggers; else undefined. */
function startedTriggerConflicts(ops: FailedOperation[]): string[] | undefined {
  if (ops.length === 0) return undefined;
  const names: string[] = [];
  for (const op of ops) {
    const isTrigger = /\/triggers$/i.test(op.resourceType ?? '');
    if (!isTrigger || (op.code ?? '').toLowerCase() !== 'triggerenabledcannotupdate' || !op.resourceName)
      return undefined;
    const name = op.resourceName.slice(op.resourceName.lastIndexOf('/') + 1);
    if (!names.some((n) => n.toLowerCase() === name.toLowerCase())) names.push(name);
  }
  return names;
}

export async function runArmDeployment(
  arm: ArmClient,
  name: string,
  properties: DeploymentProperties,
  opts: RunArmOptions,
): Promise<ArmRunResult> {
  const started = Date.now();
  let deployment = await deployOnce(arm, name, properties, opts);
  let state = deployment.properties?.provisioningState ?? 'Unknown';
  if (state.toLowerCase() !== 'succeeded' && state.toLowerCase() !== 'canceled' && opts.triggers) {
    const { operations } = await failuresOf(arm, name, deployment, opts);
    const conflicts = startedTriggerConflicts(operations);
    if (conflicts) {
      // Started by someone between the plan and the deployment: stop them (restarted at the end) and retry once.
      opts.logger.warn(
        `Trigger(s) ${listText(conflicts)} were started after the plan was made, so Data Factory refused to update them (TriggerEnabledCannotUpdate). Stopping them and deploying once more; they are restarted afterwards.`,
      );
      const stops = await opts.triggers.stopMany(conflicts, opts.signal);
      const bad = stops.filter((x) => !x.ok);
      if (bad.length > 0) {
        throw new DeployFailedError(
          `Deployment ${name} could not update started trigger(s) ${listText(conflicts)} and stopping ${listText(bad.map((b) => b.name))} failed: ${describeError(bad[0].error)}`,
          bad.map((b) => ({
            target: `trigger ${b.name}`,
            operation: 'stop',
            message: describeError(b.error),
          })),
        );
      }
      deployment = await deployOnce(arm, name, properties, opts);
      state = deployment.properties?.provisioningState ?? 'Unknown';
    }
  }
  const durationMs = Date.now() - started;
  if (state.toLowerCase() === 'succeeded') {
    opts.logger.info(`Deployment ${name} succeeded in ${(durationMs / 1000).toFixed(1)} s.`);
    return { deployment, outputs: deployment.properties?.outputs ?? {}, durationMs };
  }
  // Say which resources failed and why.
  const { failures } = await failuresOf(arm, name, deployment, opts);
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
