/**
 * An in-process emulated Azure (ARM + Data Factory) with clients of the real
 * HTTP stack, for DataFactoryDeploy / DataFactoryRunPipeline core tests and the
 * benchmark.
 */
import * as path from 'node:path';
import { MemoryLogger } from '../../../../src/common/logger';
import { ArmClient } from '../../../../src/datafactory/arm-client';
import {
  deployFactory,
  type DeployFactoryOptions,
  type DeployFactoryResult,
} from '../../../../src/datafactory/deploy/deploy';
import { FactoryClient } from '../../../../src/datafactory/factory-client';
import { closeHttpClient, createHttpClient } from '../../../../src/http';
import type { HttpClient } from '../../../../src/http/types';
import { installArm, type ArmEmulator, type ArmOptions } from '../../../emulator/arm';
import { Emulator } from '../../../emulator/core';
import { writeFiles } from './helpers';

export const SUB = '11111111-2222-3333-4444-555555555555';
export const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const RG = 'rg-data-prod';
export const APP = '0f0f0f0f-1111-2222-3333-444444444444';
export const FACTORY = 'adf-prod';

export interface World {
  emu: Emulator;
  arm: ArmEmulator;
  http: HttpClient;
  factory: FactoryClient;
  armClient: ArmClient;
  /** Resets the emulator and seeds subscription, resource group, grant and (optionally) an empty factory. */
  reset(opts?: { factory?: boolean }): void;
  deploy(
    template: unknown,
    opts?: Partial<DeployFactoryOptions> & { parameters?: unknown },
  ): Promise<DeployFactoryResult & { logger: MemoryLogger }>;
  close(): Promise<void>;
}

export async function createWorld(
  options: Partial<ArmOptions> = {},
  emuOpts: { latencyMs?: number; seed?: number } = {},
): Promise<World> {
  const emu = await Emulator.create({ seed: emuOpts.seed ?? 3, latencyMs: emuOpts.latencyMs });
  const armOptions: Partial<ArmOptions> = {
    deploymentStartMs: 5,
    deploymentStepMs: 2,
    triggerOperationMs: 20,
    asyncRetryAfterSeconds: 0,
    ...options,
  };
  const arm = await installArm(emu, armOptions);
  let token = '';
  const http = createHttpClient({
    caCertificates: [emu.caPem],
    authorize: async () => ({ Authorization: `Bearer ${token}` }),
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 200,
  });
  const location = {
    resourceManagerUrl: `${arm.url}/`,
    subscriptionId: SUB,
    resourceGroupName: RG,
    factoryName: FACTORY,
  };
  const poll = { initialDelayMs: 20, maxDelayMs: 200, minDelayMs: 10 };
  const factory = new FactoryClient(http, location, { poll });
  const armClient = new ArmClient(http, location, { poll });
  const world: World = {
    emu,
    arm,
    http,
    factory,
    armClient,
    reset(opts = {}) {
      emu.reset();
      arm.setOptions(armOptions);
      if (emuOpts.latencyMs) emu.setLatency(emuOpts.latencyMs);
      arm.addSubscription(SUB, { tenantId: TENANT, displayName: 'Data Prod' });
      arm.addResourceGroup(SUB, RG, 'westeurope');
      arm.grant(SUB, APP, 'Contributor');
      token = arm.issueToken({ appId: APP, tenantId: TENANT });
      if (opts.factory !== false) arm.addFactory(SUB, RG, FACTORY, 'westeurope');
    },
    async deploy(template, opts = {}) {
      const files: Record<string, unknown> = { 'ARMTemplateForFactory.json': template };
      if (opts.parameters) files['ARMTemplateParametersForFactory.json'] = opts.parameters;
      const dir = writeFiles(files);
      const logger = new MemoryLogger();
      const res = await deployFactory({
        factory,
        arm: armClient,
        subscriptionId: SUB,
        resourceGroupName: RG,
        factoryName: FACTORY,
        templateFile: path.join(dir, 'ARMTemplateForFactory.json'),
        parametersFile: opts.parameters ? path.join(dir, 'ARMTemplateParametersForFactory.json') : undefined,
        mode: 'Incremental',
        method: 'direct',
        stopTriggers: true,
        deleteRemoved: false,
        maxDeletes: 20,
        deploymentName: `deploy-${Date.now()}`,
        dryRun: false,
        logger,
        triggerRetry: { baseDelayMs: 20, maxDelayMs: 100, maxTotalMs: 5000 },
        backupDir: path.join(dir, 'backup'),
        requestCount: () => http.stats.requests,
        ...opts,
      });
      return { ...res, logger };
    },
    async close() {
      closeHttpClient(http);
      await emu.stop();
    },
  };
  return world;
}

/** The factory's objects as {type: {name: properties}} plus trigger states. */
export function factoryState(w: World): {
  objects: Record<string, Record<string, unknown>>;
  triggers: Record<string, string | undefined>;
} {
  const f = w.arm.factory(SUB, RG, FACTORY);
  if (!f) throw new Error('no factory');
  const triggers: Record<string, string | undefined> = {};
  for (const t of f.list('triggers')) triggers[t.name] = t.runtimeState;
  return { objects: f.snapshot(), triggers };
}
