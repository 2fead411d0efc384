/**
 * DataFactoryDeploy: template + parameters → plan against the live factory →
 * (dry run | Validation | WhatIf | deployment through ARM or directly) →
 * deletes → trigger restarts → summary. Triggers this run stopped are restarted
 * on every exit path, failure and cancellation included.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../common/logger';
import { AbortError, isAbortError } from '../../common/sleep';
import { describeError, isHttpError } from '../../http/errors';
import { ArmEvaluator } from '../arm-expressions';
import type { ArmClient, DeploymentProperties, WhatIfChange } from '../arm-client';
import type { FactoryClient, FactoryChildType, FactoryResource } from '../factory-client';
import { runArmDeployment, formatWhatIf, validateArmDeployment, whatIfArmDeployment } from './arm-runner';
import { buildBackup } from './backup';
import { applyDeletes, checkDeleteGuard } from './cleanup';
import { applyDirect, updateFactoryResource } from './direct';
import { DeployFailedError, DeployInputError, listText, type DeployFailure } from './errors';
import {
  loadParametersFile,
  parametersSize,
  resolveParameters,
  type ResolveParametersOptions,
  type ResolvedParameters,
} from './parameters';
import {
  buildPlan,
  DELETABLE_TYPES,
  liveRuntimeState,
  type LiveFactory,
  type LiveObject,
  type Plan,
  type PlanItem,
} from './plan';
import { extractDesiredState, keyOfResourceId, objectKey, type DesiredState } from './resources';
import { logPlan, planHeadline, summaryMarkdown, formatDuration } from './summary';
import { checkArmRequestSize, loadTemplate, type ArmTemplate } from './template';
import { TriggerManager, type TriggerRetryPolicy } from './triggers';
import { childTypeOfArmType } from '../factory-client';

export type DeploymentModeInput = 'Incremental' | 'Validation' | 'WhatIf';
export type DeploymentMethod = 'arm' | 'direct';

export interface DeployFactoryOptions {
  factory: FactoryClient;
  arm: ArmClient;
  subscriptionId: string;
  resourceGroupName: string;
  factoryName: string;
  /** Creates the factory here when it does not exist. */
  location?: string;
  templateFile: string;
  parametersFile?: string;
  overrideParameters?: string;
  mode: DeploymentModeInput;
  method: DeploymentMethod;
  stopTriggers: boolean;
  deleteRemoved: boolean;
  maxDeletes: number;
  deploymentName: string;
  dryRun: boolean;
  /** Parallel writes (direct PUTs, deletes, trigger operations). Default 8. */
  concurrency?: number;
  logger: Logger;
  signal?: AbortSignal;
  triggerRetry?: Partial<TriggerRetryPolicy>;
  /** Folder for the backup of live definitions; no backup when undefined. */
  backupDir?: string;
  /** How long restarting stopped triggers may take after a cancellation. Default 120 s. */
  restoreTimeoutMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Request counter for the summary. */
  requestCount?: () => number;
}

export interface DeployFactoryResult {
  deploymentName: string;
  method: DeploymentMethod;
  mode: DeploymentModeInput;
  dryRun: boolean;
  plan?: Plan;
  created: PlanItem[];
  updated: PlanItem[];
  deleted: PlanItem[];
  stoppedTriggers: { name: string; ms: number; restarted: boolean }[];
  startedTriggers: string[];
  /** Deployment outputs ({name: {type, value}}), as Resource Manager returns them. */
  outputs: Record<string, unknown>;
  whatIf?: WhatIfChange[];
  backupFile?: string;
  durationMs: number;
  summaryMarkdown: string;
}

/** Deployment names: 1–64 of letters, digits, '-', '.', '_', '(' and ')'. */
export function validateDeploymentName(name: string): string {
  const n = name.trim();
  if (!/^[-\w._()]{1,64}$/.test(n)) {
    throw new DeployInputError(
      'deploymentName',
      `Input 'deploymentName' must be 1 to 64 letters, digits, '-', '.', '_', '(' or ')' (got '${n.slice(0, 80)}').`,
    );
  }
  return n;
}

const LINK_PARAMETERS = ['containerUri', 'containerSasToken'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads the live factory: the factory resource and every object of the types that matter. */
async function readLiveFactory(
  client: FactoryClient,
  types: Set<FactoryChildType>,
  logger: Logger,
  signal?: AbortSignal,
): Promise<LiveFactory> {
  const factory = await client.getFactory(signal);
  if (!factory) return { objects: [] };
  const objects: LiveObject[] = [];
  const listed = [...types].filter((t) => t !== 'managedPrivateEndpoints');
  if (types.has('managedPrivateEndpoints')) listed.push('managedVirtualNetworks');
  const lists = await Promise.all(
    [...new Set(listed)].map(async (t) => {
      try {
        return { t, list: await client.list(t, signal) };
      } catch (e) {
        // A collection this factory (or API) does not have counts as empty, unless the template deploys into it.
        if (
          isHttpError(e) &&
          (e.status === 404 || e.status === 400) &&
          t !== 'triggers' &&
          t !== 'pipelines'
        ) {
          logger.debug(`Listing ${t} failed (${describeError(e)}); treating it as empty.`);
          return { t, list: [] };
        }
        throw e;
      }
    }),
  );
  for (const { t, list } of lists)
    for (const o of list) objects.push({ type: t, name: o.name, properties: o.properties, etag: o.etag });
  if (types.has('managedPrivateEndpoints')) {
    const vnets = objects.filter((o) => o.type === 'managedVirtualNetworks').map((o) => o.name);
    const mpes = await Promise.all(vnets.map((v) => client.list('managedPrivateEndpoints', signal, v)));
    for (const list of mpes)
      for (const o of list)
        objects.push({
          type: 'managedPrivateEndpoints',
          name: o.name,
          properties: o.properties,
          etag: o.etag,
        });
  }
  return { factory, objects };
}

/**
 * The template with some resources left out (and dependsOn entries pointing at
 * them removed): unchanged started triggers, so ARM does not need them stopped.
 */
export function withoutResources(
  template: ArmTemplate,
  parameters: Record<string, unknown>,
  keys: Set<string>,
): ArmTemplate {
  if (keys.size === 0) return template;
  const ev = new ArmEvaluator({ parameters, variables: template.variables ?? {} });
  const keyOf = (r: Record<string, unknown>): string | undefined => {
    const t = typeof r.type === 'string' ? childTypeOfArmType(r.type) : undefined;
    if (!t) return undefined;
    try {
      const name = String(ev.evaluateValue(r.name));
      return objectKey(t, name.slice(name.indexOf('/') + 1));
    } catch {
      return undefined;
    }
  };
  const resources = (template.resources ?? [])
    .filter((r) => !(isObject(r) && keys.has(keyOf(r) ?? '')))
    .map((r) => {
      if (!isObject(r) || !Array.isArray(r.dependsOn)) return r;
      const dependsOn = r.dependsOn.filter((d) => {
        try {
          const id = typeof d === 'string' ? ev.evaluateValue(d) : d;
          const k = typeof id === 'string' ? keyOfResourceId(id) : undefined;
          return !(k && keys.has(k));
        } catch {
          return true;
        }
      });
      return { ...r, dependsOn };
    });
  return { ...template, resources };
}

function typesToRead(desired: DesiredState, deleteRemoved: boolean): Set<FactoryChildType> {
  const types = new Set<FactoryChildType>(desired.objects.map((o) => o.type));
  types.add('triggers');
  if (deleteRemoved) for (const t of DELETABLE_TYPES) types.add(t);
  // References from remaining objects decide what may be deleted: read the types that can reference.
  if (deleteRemoved)
    for (const t of ['pipelines', 'datasets', 'linkedservices', 'dataflows'] as const) types.add(t);
  return types;
}

export async function deployFactory(opts: DeployFactoryOptions): Promise<DeployFactoryResult> {
  const started = Date.now();
  const { logger, signal } = opts;
  const concurrency = opts.concurrency ?? 8;
  const deploymentName = validateDeploymentName(opts.deploymentName);
  if (!Number.isInteger(opts.maxDeletes) || opts.maxDeletes < 0) {
    throw new DeployInputError('maxDeletes', `Input 'maxDeletes' must be a whole number of at least 0.`);
  }

  // 1. Template and parameters: everything local fails before any request.
  const loaded = loadTemplate(opts.templateFile);
  const linked = loaded.links.length > 0;
  const fileParams = opts.parametersFile ? loadParametersFile(opts.parametersFile) : undefined;
  // Checked now without Azure (so bad input fails before any request); resolved again once the
  // resource group's location is known, for defaults such as [resourceGroup().location].
  const context = (location: string) => ({
    subscription: { subscriptionId: opts.subscriptionId },
    resourceGroup: {
      name: opts.resourceGroupName,
      location,
      id: `/subscriptions/${opts.subscriptionId}/resourceGroups/${opts.resourceGroupName}`,
    },
    deployment: { name: deploymentName, properties: {} },
  });
  const parameterOptions: Omit<ResolveParametersOptions, 'context'> = {
    template: loaded.json,
    file: fileParams,
    overrides: opts.overrideParameters,
    factoryName: opts.factoryName,
    notNeeded: opts.method === 'direct' && linked ? LINK_PARAMETERS : [],
    missingHint: (missing: string[]) =>
      linked && missing.some((m) => LINK_PARAMETERS.some((l) => l.toLowerCase() === m.toLowerCase()))
        ? `With linked templates, the 'arm' method needs the templates uploaded to a storage container (containerUri) with a SAS token (containerSasToken). deploymentMethod 'direct' reads them from disk instead and needs neither.`
        : undefined,
  };
  let params: ResolvedParameters = resolveParameters({
    ...parameterOptions,
    context: context(opts.location ?? ''),
  });
  for (const n of params.notes) logger.info(n);
  if (opts.method === 'direct' && params.keyVault.length > 0) {
    throw new DeployInputError(
      'templateParametersFile',
      `Input 'templateParametersFile': ${listText(params.keyVault)} ${params.keyVault.length === 1 ? 'is a Key Vault reference' : 'are Key Vault references'}, which only Resource Manager can resolve. With deploymentMethod 'direct', pass the value through overrideParameters (e.g. from a variable group linked to the Key Vault), or use deploymentMethod 'arm'.`,
    );
  }
  if (opts.method === 'arm' && linked) {
    const uri = Object.keys(params.values).find((n) => n.toLowerCase() === 'containeruri');
    if (uri && String(params.values[uri] ?? '').trim() === '') {
      throw new DeployInputError(
        'overrideParameters',
        `${path.basename(opts.templateFile)} links to ${listText(loaded.links.map((l) => l.fileName))}, which Resource Manager downloads from containerUri, but containerUri is empty. Upload the linkedTemplates folder to a storage container and pass -containerUri <url> -containerSasToken <sas> in overrideParameters, or set deploymentMethod to 'direct', which reads them from disk and needs no storage.`,
      );
    }
  }
  if (opts.method === 'arm') checkArmRequestSize(loaded.sizeBytes, parametersSize(params));
  logger.info(
    `Template ${path.basename(opts.templateFile)}: ${loaded.json.resources?.length ?? 0} resource(s)${linked ? ` in the master, ${loaded.links.length} linked template(s)` : ''}, ${Object.keys(loaded.json.parameters ?? {}).length} parameter(s).`,
  );

  // 2. The target: resource group, then the template evaluated for it.
  const rg = await opts.arm.getResourceGroup(signal);
  if (!rg) {
    throw new DeployInputError(
      'resourceGroupName',
      `Resource group '${opts.resourceGroupName}' was not found in subscription ${opts.subscriptionId}: check input 'resourceGroupName' and the subscription of the service connection.`,
    );
  }
  params = resolveParameters({ ...parameterOptions, context: context(rg.location) });
  const readLinked =
    opts.method === 'direct' || (linked && loaded.links.every((l) => fs.existsSync(l.localPath)));
  const desired = extractDesiredState({
    template: loaded.json,
    parameters: params.values,
    factoryName: opts.factoryName,
    subscriptionId: opts.subscriptionId,
    resourceGroupName: opts.resourceGroupName,
    location: rg.location,
    deploymentName,
    templateFile: opts.templateFile,
    readLinkedTemplates: readLinked,
    strict: opts.method === 'direct',
  });
  for (const w of desired.warnings) logger.warn(w);
  const planComplete = desired.warnings.length === 0 && (!linked || readLinked);
  if (opts.method === 'arm' && !planComplete) {
    logger.warn(
      'Parts of the template could not be evaluated locally: the plan is incomplete, so every started trigger of the factory is treated as changed (stopped before and restarted after the deployment).',
    );
  }

  // 3. The live factory and the plan.
  const live = await readLiveFactory(opts.factory, typesToRead(desired, opts.deleteRemoved), logger, signal);
  const factoryMissing = live.factory === undefined;
  if (factoryMissing && !opts.location) {
    throw new DeployInputError(
      'location',
      `Factory '${opts.factoryName}' does not exist in resource group '${opts.resourceGroupName}'. Check input 'factoryName', or give input 'location' (e.g. ${rg.location}) to create it.`,
    );
  }
  const alsoWritten = new Set<string>();
  if (opts.method === 'arm') {
    const templateTriggers = desired.objects
      .filter((o) => o.type === 'triggers')
      .map((o) => objectKey(o.type, o.name));
    // ARM fetches linked templates itself and PUTs every trigger in them.
    if (linked) templateTriggers.forEach((k) => alsoWritten.add(k));
    if (!planComplete) {
      for (const o of live.objects) if (o.type === 'triggers') alsoWritten.add(objectKey(o.type, o.name));
    }
  }
  const plan = buildPlan(desired, live, {
    stopTriggers: opts.stopTriggers,
    deleteRemoved: opts.deleteRemoved,
    alsoWritten,
  });
  if (!planComplete) {
    // Triggers the template may write that were not evaluated: stop (and restart) every started one.
    const extra = live.objects
      .filter((o) => o.type === 'triggers' && liveRuntimeState(o)?.toLowerCase() === 'started')
      .map((o) => o.name)
      .filter((n) => !plan.triggers.stop.some((s) => s.toLowerCase() === n.toLowerCase()));
    if (opts.stopTriggers) {
      plan.triggers.stop.push(...extra);
      plan.triggers.start.push(...extra.filter((n) => !plan.triggers.start.includes(n)));
    }
  }
  const previewOnly = opts.dryRun || opts.mode !== 'Incremental';
  logPlan(plan, logger, {
    title: opts.dryRun ? 'Dry run: plan' : opts.mode === 'Incremental' ? 'Plan' : `${opts.mode}: plan`,
    showDiffs: opts.method === 'direct' || previewOnly,
  });
  checkDeleteGuard(plan, opts.maxDeletes);
  if (plan.triggers.blocked.length > 0) {
    const msg = `Started trigger(s) ${listText(plan.triggers.blocked)} would be ${opts.method === 'direct' ? 'updated or deleted' : 'written'}, which Data Factory refuses while a trigger is started (TriggerEnabledCannotUpdate). Set input 'stopTriggers' to true, or stop them first.`;
    if (!previewOnly) throw new DeployInputError('stopTriggers', msg);
    logger.warn(msg);
  }

  const result = (
    extra: Partial<DeployFactoryResult>,
    outcome: 'planned' | 'validated',
  ): DeployFactoryResult => {
    const durationMs = Date.now() - started;
    return {
      deploymentName,
      method: opts.method,
      mode: opts.mode,
      dryRun: opts.dryRun,
      plan,
      created: [],
      updated: [],
      deleted: [],
      stoppedTriggers: [],
      startedTriggers: [],
      outputs: {},
      durationMs,
      ...extra,
      summaryMarkdown: summaryMarkdown({
        plan,
        factoryName: opts.factoryName,
        resourceGroupName: opts.resourceGroupName,
        method: opts.method,
        mode: opts.mode,
        dryRun: opts.dryRun,
        deploymentName,
        created: [],
        updated: [],
        deleted: [],
        stoppedTriggers: [],
        startedTriggers: [],
        failedStarts: [],
        failures: [],
        durationMs,
        requests: opts.requestCount?.(),
        outcome,
      }),
    };
  };

  const stripped = new Set(
    opts.method === 'arm' && !linked
      ? plan.items
          .filter(
            (i) =>
              i.type === 'triggers' &&
              i.action === 'unchanged' &&
              liveRuntimeState(i.live)?.toLowerCase() === 'started',
          )
          .map((i) => i.key)
      : [],
  );
  const armProperties = (): DeploymentProperties => ({
    mode: 'Incremental',
    template: withoutResources(loaded.json, params.values, stripped),
    parameters: params.armParameters,
  });

  // 4. Preview modes change nothing.
  if (opts.mode === 'Validation') {
    if (opts.method === 'arm') {
      await validateArmDeployment(opts.arm, deploymentName, armProperties(), {
        logger,
        signal,
        factoryName: opts.factoryName,
      });
    } else if (plan.missingReferences.length > 0) {
      throw new DeployFailedError(
        `Validation failed: ${plan.missingReferences.map((m) => `${m.from} references ${m.to}, which is neither in the template nor in the factory`).join('; ')}.`,
        plan.missingReferences.map((m) => ({
          target: m.from,
          operation: 'validate',
          message: `references missing ${m.to}`,
        })),
      );
    } else {
      logger.info(
        `The template is valid: every expression evaluates and every reference resolves (${planHeadline(plan)}).`,
      );
    }
    return result({}, 'validated');
  }
  if (opts.mode === 'WhatIf') {
    if (opts.method === 'arm') {
      const changes = await whatIfArmDeployment(opts.arm, deploymentName, armProperties(), {
        logger,
        signal,
        factoryName: opts.factoryName,
      });
      logger.startGroup(`Resource Manager what-if: ${changes.length} resource change(s)`);
      for (const l of formatWhatIf(changes, opts.factoryName)) logger.info(l);
      logger.endGroup();
      return result({ whatIf: changes }, 'validated');
    }
    return result({}, 'validated');
  }
  if (opts.dryRun) return result({}, 'planned');

  // 5. Deploy.
  const triggers = new TriggerManager(opts.factory, {
    logger,
    retry: opts.triggerRetry,
    concurrency: Math.max(concurrency, 16),
    sleep: opts.sleep,
  });
  let backupFile: string | undefined;
  const created: PlanItem[] = [];
  const updated: PlanItem[] = [];
  const deleted: PlanItem[] = [];
  const failures: DeployFailure[] = [];
  let outputs: Record<string, unknown> = {};
  let error: unknown;

  try {
    if (factoryMissing) {
      logger.info(`Creating factory ${opts.factoryName} in ${opts.location}…`);
      await opts.factory.putFactory(
        {
          location: opts.location,
          identity: desired.factory?.identity ?? { type: 'SystemAssigned' },
          properties: desired.factory?.properties ?? {},
        },
        signal,
      );
    }
    const backupItems = [...plan.items.filter((i) => i.action === 'update'), ...plan.deletes];
    if (opts.method === 'arm' && linked) {
      // ARM rewrites every object of a linked template: back up all of them.
      backupItems.push(...plan.items.filter((i) => i.action === 'unchanged'));
    }
    if (opts.backupDir && backupItems.length > 0) {
      const backup = buildBackup(backupItems, {
        factoryName: opts.factoryName,
        deploymentName,
        createdAt: new Date().toISOString(),
      });
      if (backup) {
        fs.mkdirSync(opts.backupDir, { recursive: true });
        backupFile = path.join(opts.backupDir, `${opts.factoryName}-before-${deploymentName}.json`);
        fs.writeFileSync(backupFile, backup.text, 'utf8');
        logger.info(`Saved the live definitions of ${backup.count} object(s) to ${backupFile}.`);
      }
    }

    if (opts.method === 'arm') {
      if (plan.triggers.stop.length > 0) {
        logger.info(
          `Stopping ${plan.triggers.stop.length} started trigger(s) the deployment changes or deletes…`,
        );
        const stops = await triggers.stopMany(plan.triggers.stop, signal);
        // Cancelled while stopping: the stops in flight have settled; `finally` restarts them.
        if (signal?.aborted) throw abortReason(signal);
        const bad = stops.filter((s) => !s.ok);
        if (bad.length > 0) {
          failures.push(
            ...bad.map((b) => ({
              target: `trigger ${b.name}`,
              operation: 'stop',
              message: describeError(b.error),
            })),
          );
          throw new DeployFailedError(
            `Could not stop trigger(s) ${listText(bad.map((b) => b.name))}: ${describeError(bad[0].error)}. Nothing was deployed.`,
            failures,
          );
        }
      }
      if (stripped.size > 0) {
        logger.info(
          `${stripped.size} started trigger(s) are unchanged: left out of the deployment so they keep running.`,
        );
      }
      try {
        const res = await runArmDeployment(opts.arm, deploymentName, armProperties(), {
          logger,
          signal,
          factoryName: opts.factoryName,
          // Triggers started after the plan: stopped (and restarted at the end), then one redeploy.
          triggers: opts.stopTriggers ? triggers : undefined,
        });
        outputs = res.outputs;
      } catch (e) {
        if (signal?.aborted) {
          await opts.arm.cancelDeployment(deploymentName, AbortSignal.timeout(30_000)).catch(() => undefined);
        }
        if (e instanceof DeployFailedError) failures.push(...e.failures);
        throw e;
      }
      created.push(...plan.items.filter((i) => i.action === 'create'));
      updated.push(...plan.items.filter((i) => i.action === 'update'));
    } else {
      if (plan.factoryDiff.length > 0 && live.factory && desired.factory) {
        await updateFactoryResource(opts.factory, live.factory as FactoryResource, desired.factory, signal);
        logger.info(`  updated    factory ${opts.factoryName}`);
      }
      const applied = await applyDirect(plan, {
        client: opts.factory,
        triggers,
        logger,
        signal,
        concurrency,
        stopTriggers: opts.stopTriggers,
      });
      created.push(...applied.done.filter((i) => i.action === 'create'));
      updated.push(...applied.done.filter((i) => i.action === 'update'));
      if (applied.failures.length > 0) {
        failures.push(...applied.failures);
        throw new DeployFailedError(
          `${applied.failures.length} object(s) failed to deploy${applied.skipped.length > 0 ? ` (${applied.skipped.length} dependent object(s) not attempted)` : ''}: ${applied.failures.map((f) => `${f.target}: ${f.code ? `${f.code}: ` : ''}${f.message}`).join(' | ')}`,
          failures,
        );
      }
      outputs = desired.outputs;
    }

    if (plan.deletes.length > 0) {
      logger.info(`Deleting ${plan.deletes.length} object(s) the template no longer contains…`);
      const cleaned = await applyDeletes(plan, {
        client: opts.factory,
        triggers,
        logger,
        signal,
        concurrency,
      });
      deleted.push(...cleaned.deleted);
      if (cleaned.failures.length > 0) {
        failures.push(...cleaned.failures);
        throw new DeployFailedError(
          `${cleaned.failures.length} delete(s) failed: ${cleaned.failures.map((f) => `${f.target}: ${f.message}`).join(' | ')}`,
          failures,
        );
      }
    }

    const already = new Set(triggers.started.map((n) => n.toLowerCase()));
    const toStart = plan.triggers.start.filter((n) => !already.has(n.toLowerCase()));
    if (toStart.length > 0) {
      logger.info(`Starting ${toStart.length} trigger(s)…`);
      await triggers.startMany(toStart, signal);
    }
  } catch (e) {
    error = e;
  } finally {
    // Never leave production with triggers off: restart what this run stopped, even after a cancel.
    const restoreSignal = signal?.aborted ? AbortSignal.timeout(opts.restoreTimeoutMs ?? 120_000) : signal;
    try {
      await triggers.restoreStopped(restoreSignal);
    } catch (e) {
      logger.error(`Restarting stopped triggers failed: ${describeError(e)}`);
    }
  }

  if (signal?.aborted) {
    // A cancelled deploy ends Cancelled, whatever the cancel broke on the way out.
    if (error !== undefined && !isCancellation(error, signal))
      logger.warn(`While cancelling: ${describeError(error)}`);
    error = abortReason(signal);
  }
  if (triggers.failedStarts.length > 0 && !error) {
    failures.push(
      ...triggers.failedStarts.map((f) => ({
        target: `trigger ${f.name}`,
        operation: 'start',
        message: f.message,
      })),
    );
    error = new DeployFailedError(
      `The deployment succeeded but ${triggers.failedStarts.length} trigger(s) could not be started: ${triggers.failedStarts.map((f) => `${f.name}: ${f.message}`).join(' | ')}. Start them by hand.`,
      failures,
    );
  }

  const durationMs = Date.now() - started;
  const stoppedTriggers = triggers.stoppedDurations();
  const summary = summaryMarkdown({
    plan,
    factoryName: opts.factoryName,
    resourceGroupName: opts.resourceGroupName,
    method: opts.method,
    mode: opts.mode,
    dryRun: false,
    deploymentName,
    created,
    updated,
    deleted,
    stoppedTriggers,
    startedTriggers: triggers.started,
    failedStarts: triggers.failedStarts,
    failures,
    backupFile,
    durationMs,
    requests: opts.requestCount?.(),
    outcome: signal?.aborted ? 'cancelled' : error ? 'failed' : 'succeeded',
  });
  if (error) {
    const restarted = stoppedTriggers.filter((t) => t.restarted).length;
    if (error instanceof DeployFailedError) {
      throw new DeployFailedErrorWithSummary(
        `${error.message}${restarted > 0 ? ` The ${restarted} trigger(s) this run stopped were restarted.` : ''}`,
        error.failures,
        summary,
      );
    }
    (error as { summaryMarkdown?: string }).summaryMarkdown = summary;
    throw error;
  }
  logger.info(
    `Done in ${formatDuration(durationMs)}: ${created.length} created, ${updated.length} updated, ${deleted.length} deleted, ${triggers.started.length} trigger(s) started.`,
  );
  for (const t of stoppedTriggers) logger.debug(`Trigger ${t.name} was stopped for ${formatDuration(t.ms)}.`);
  return {
    deploymentName,
    method: opts.method,
    mode: opts.mode,
    dryRun: false,
    plan,
    created,
    updated,
    deleted,
    stoppedTriggers,
    startedTriggers: [...triggers.started],
    outputs,
    backupFile,
    durationMs,
    summaryMarkdown: summary,
  };
}

/** What to throw once a cancelled deploy has restored its triggers: the reason it was cancelled. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new AbortError();
}

function isCancellation(err: unknown, signal: AbortSignal): boolean {
  return err === signal.reason || isAbortError(err) || (isHttpError(err) && err.kind === 'aborted');
}

/** A failed deployment, carrying the run summary so the task can still upload it. */
export class DeployFailedErrorWithSummary extends DeployFailedError {
  constructor(
    message: string,
    failures: DeployFailure[],
    readonly summaryMarkdown: string,
  ) {
    super(message, failures);
  }
}
