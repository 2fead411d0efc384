/**
 * The `direct` method: PUT only what changed through the Data Factory API, level
 * by level in dependency order, in parallel within a level. A started trigger
 * that changes is stopped just before its own PUT and started again right after
 * it, so it is off only while its own update runs.
 */
import type { Logger } from '../../common/logger';
import { runPool } from '../../common/pool';
import { isAbortError } from '../../common/sleep';
import { describeError, isHttpError } from '../../http/errors';
import { describeType, type FactoryClient, type FactoryResource } from '../factory-client';
import type { DeployFailure } from './errors';
import { liveRuntimeState, type Plan, type PlanItem } from './plan';
import type { DesiredFactory } from './resources';
import type { TriggerManager } from './triggers';

export interface DirectOptions {
  client: FactoryClient;
  triggers: TriggerManager;
  logger: Logger;
  signal?: AbortSignal;
  /** Parallel PUTs within a level. */
  concurrency: number;
  stopTriggers: boolean;
}

export interface ApplyResult {
  done: PlanItem[];
  failures: DeployFailure[];
  /** Items not attempted because an earlier level failed. */
  skipped: PlanItem[];
}

export function label(item: Pick<PlanItem, 'type' | 'name'>): string {
  return `${describeType(item.type)} ${item.name}`;
}

function failure(item: PlanItem, operation: string, err: unknown): DeployFailure {
  return {
    target: label(item),
    operation,
    code: isHttpError(err) ? err.code : undefined,
    message: isHttpError(err) ? (err.serviceMessage ?? err.message) : describeError(err),
  };
}

const TRIGGER_STARTED = 'TriggerEnabledCannotUpdate';

/** PUT of one object; a started trigger is stopped first (and again if it was started meanwhile). */
async function putItem(item: PlanItem, opts: DirectOptions, startAfter: ReadonlySet<string>): Promise<void> {
  const { client, triggers, signal } = opts;
  const isTrigger = item.type === 'triggers';
  const properties = item.desired?.properties ?? {};
  if (isTrigger && opts.stopTriggers && liveRuntimeState(item.live)?.toLowerCase() === 'started') {
    await triggers.stop(item.name, signal);
  }
  try {
    await client.put(item.type, item.name, properties, { signal });
  } catch (err) {
    // Started since we read it (or by someone else): stop it and try once more.
    if (isTrigger && opts.stopTriggers && isHttpError(err) && err.code === TRIGGER_STARTED) {
      await triggers.stop(item.name, signal);
      await client.put(item.type, item.name, properties, { signal });
    } else {
      throw err;
    }
  }
  opts.logger.info(`  ${item.action === 'create' ? 'created' : 'updated'}    ${label(item)}`);
  if (isTrigger && startAfter.has(item.name.toLowerCase())) {
    // The object is deployed: a trigger that will not start is reported at the end, not as a failed deploy.
    try {
      await triggers.start(item.name, signal);
    } catch (err) {
      if (isAbortError(err) || signal?.aborted) throw err;
      triggers.recordFailedStart(item.name, err);
      opts.logger.warn(`  could not start trigger ${item.name}: ${describeError(err)}`);
    }
  }
}

/**
 * Applies the plan's creates and updates. Stops after the first level with a
 * failure (later levels depend on it); returns what was done and what failed.
 */
export async function applyDirect(plan: Plan, opts: DirectOptions): Promise<ApplyResult> {
  const startAfter = new Set(plan.triggers.start.map((n) => n.toLowerCase()));
  const done: PlanItem[] = [];
  const failures: DeployFailure[] = [];
  const skipped: PlanItem[] = [];
  for (let i = 0; i < plan.levels.length; i++) {
    const level = plan.levels[i];
    if (failures.length > 0) {
      skipped.push(...level);
      continue;
    }
    opts.logger.debug(`Level ${i + 1}/${plan.levels.length}: ${level.map(label).join(', ')}`);
    const results = await runPool(level, opts.concurrency, (item) => putItem(item, opts, startAfter), {
      signal: opts.signal,
    });
    for (const r of results) {
      if (r.ok) done.push(r.item);
      else if (isAbortError(r.error) || opts.signal?.aborted) throw r.error;
      else {
        failures.push(failure(r.item, r.item.action, r.error));
        opts.logger.error(`  failed     ${label(r.item)}: ${describeError(r.error)}`);
      }
    }
  }
  return { done, failures, skipped };
}

/** Read-only factory properties the service fills in. */
const FACTORY_READ_ONLY = ['provisioningState', 'createTime', 'version'];

/**
 * Updates the factory resource's own properties (direct method) while keeping
 * what the template does not mention, git configuration included.
 */
export async function updateFactoryResource(
  client: FactoryClient,
  live: FactoryResource,
  desired: DesiredFactory,
  signal?: AbortSignal,
): Promise<void> {
  const liveProps = { ...(live.properties ?? {}) };
  for (const k of FACTORY_READ_ONLY) delete liveProps[k];
  const body: Record<string, unknown> = {
    location: live.location ?? desired.location,
    properties: { ...liveProps, ...desired.properties },
  };
  if (live.tags || desired.tags) body.tags = { ...(live.tags ?? {}), ...(desired.tags ?? {}) };
  const identity = desired.identity ?? live.identity;
  if (identity) body.identity = { type: identity.type };
  await client.putFactory(body, signal);
}
