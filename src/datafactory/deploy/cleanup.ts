/**
 * deleteRemoved: deletes factory objects the template no longer contains, after
 * a successful deployment, dependents first (triggers, then pipelines calling
 * others before the ones they call, …). A started trigger is stopped before its
 * delete. The plan has already kept back anything still referenced.
 */
import type { Logger } from '../../common/logger';
import { runPool } from '../../common/pool';
import { isAbortError } from '../../common/sleep';
import { describeError, isHttpError } from '../../http/errors';
import type { FactoryClient } from '../factory-client';
import { label } from './direct';
import { DeployInputError, listText, type DeployFailure } from './errors';
import { liveRuntimeState, type Plan, type PlanItem } from './plan';
import type { TriggerManager } from './triggers';

/** Refuses a plan that deletes more than maxDeletes objects. */
export function checkDeleteGuard(plan: Plan, maxDeletes: number): void {
  if (plan.deletes.length <= maxDeletes) return;
  const names = plan.deletes.map((d) => `${d.type}/${d.name}`);
  throw new DeployInputError(
    'maxDeletes',
    `The plan deletes ${plan.deletes.length} objects, more than maxDeletes (${maxDeletes}): ${listText(names, 15)}. Nothing was changed. If the template is right, raise maxDeletes; otherwise check templateFile points at the complete export (not one linked template).`,
  );
}

export interface CleanupOptions {
  client: FactoryClient;
  triggers: TriggerManager;
  logger: Logger;
  signal?: AbortSignal;
  concurrency: number;
}

export interface CleanupResult {
  deleted: PlanItem[];
  failures: DeployFailure[];
  skipped: PlanItem[];
}

async function deleteItem(item: PlanItem, opts: CleanupOptions): Promise<void> {
  if (
    item.type === 'triggers' &&
    liveRuntimeState(item.live)?.toLowerCase() === 'started' &&
    !opts.triggers.wasStoppedByRun(item.name)
  ) {
    await opts.triggers.stop(item.name, opts.signal);
  }
  await opts.client.delete(item.type, item.name, opts.signal);
  if (item.type === 'triggers') opts.triggers.markDeleted(item.name);
  opts.logger.info(`  deleted    ${label(item)}`);
}

export async function applyDeletes(plan: Plan, opts: CleanupOptions): Promise<CleanupResult> {
  const deleted: PlanItem[] = [];
  const failures: DeployFailure[] = [];
  const skipped: PlanItem[] = [];
  for (const level of plan.deleteLevels) {
    if (failures.length > 0) {
      skipped.push(...level);
      continue;
    }
    const results = await runPool(level, opts.concurrency, (item) => deleteItem(item, opts), {
      signal: opts.signal,
    });
    for (const r of results) {
      if (r.ok) deleted.push(r.item);
      else if (isAbortError(r.error) || opts.signal?.aborted) throw r.error;
      else {
        failures.push({
          target: label(r.item),
          operation: 'delete',
          code: isHttpError(r.error) ? r.error.code : undefined,
          message: isHttpError(r.error)
            ? (r.error.serviceMessage ?? r.error.message)
            : describeError(r.error),
        });
        opts.logger.error(`  failed     delete ${label(r.item)}: ${describeError(r.error)}`);
      }
    }
  }
  return { deleted, failures, skipped };
}
