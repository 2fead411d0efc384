/**
 * The whole emulator: core plus every plugin. Tests, benchmarks, `npm start` and
 * `npm run emulator` use this; plugin-level tests may install plugins one by one.
 */
import { Emulator, type EmulatorOptions } from './core';
import { installDatabricks, type DatabricksEmulator } from './databricks';
import { installEntra, type EntraPlugin, type EntraOptions } from './entra';
import { installDevops, type DevopsPlugin, type DevopsOptions } from './devops';
import { installArm, type ArmEmulator } from './arm';

export interface FullEmulator {
  emu: Emulator;
  databricks: DatabricksEmulator;
  entra: EntraPlugin;
  devops: DevopsPlugin;
  arm: ArmEmulator;
  /** Environment a spawned task needs to trust the emulator. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

export interface StartOptions extends EmulatorOptions {
  entra?: EntraOptions;
  devops?: DevopsOptions;
}

export async function startEmulator(opts: StartOptions = {}): Promise<FullEmulator> {
  const emu = await Emulator.create(opts);
  const entra = await installEntra(emu, opts.entra);
  const devops = await installDevops(emu, opts.devops);
  const arm = await installArm(emu);
  const databricks = installDatabricks(emu);
  return {
    emu,
    databricks,
    entra,
    devops,
    arm,
    env: () => emu.env(),
    stop: () => emu.stop(),
  };
}

export { Emulator };
