/**
 * The one place that loads azure-pipelines-task-lib. It is loaded lazily: on
 * load task-lib moves INPUT_/ENDPOINT_AUTH_/SECRET_ variables into its vault
 * (writing .taskkey into Agent.TempDirectory), which pure helpers and unit
 * tests should not trigger. Loading also forwards every registered secret to
 * tl.setSecret, so the agent masks it from then on.
 */
import type * as TaskLib from 'azure-pipelines-task-lib/task';
import { onSecretRegistered } from '../common/secrets';

export type TaskLibModule = typeof TaskLib;

let lib: TaskLibModule | undefined;

export function taskLib(): TaskLibModule {
  if (!lib) {
    // On load task-lib echoes agent variables in debug lines, the proxy password among them.
    const loaded = withoutDebugEcho(
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      () => require('azure-pipelines-task-lib/task') as TaskLibModule,
    );
    lib = loaded;
    onSecretRegistered((value) => {
      for (const part of secretParts(value)) loaded.setSecret(part);
    });
  }
  return lib;
}

/**
 * task-lib refuses multi-line secrets, so a PEM is masked line by line (its
 * armour lines are not secret and would mask harmless text).
 */
export function secretParts(value: string): string[] {
  if (!/[\r\n]/.test(value)) return [value];
  return value
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 8 && !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(l));
}

/** What input and endpoint readers need from the agent; tests pass a fake. */
export interface TaskSource {
  getInput(name: string): string | undefined;
  getVariable(name: string): string | undefined;
  getEndpointUrl(id: string): string | undefined;
  getEndpointAuthorizationScheme(id: string): string | undefined;
  getEndpointAuthorizationParameter(id: string, key: string): string | undefined;
  getEndpointDataParameter(id: string, key: string): string | undefined;
}

function lookup(params: Record<string, string> | undefined, key: string): string | undefined {
  if (!params) return undefined;
  if (key in params) return params[key];
  const k = Object.keys(params).find((p) => p.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : params[k];
}

/** TaskSource over the real task-lib. */
export function agentSource(): TaskSource {
  const tl = taskLib();
  return {
    getInput: (name) => tl.getInput(name, false),
    getVariable: (name) => tl.getVariable(name),
    getEndpointUrl: (id) => tl.getEndpointUrl(id, true),
    getEndpointAuthorizationScheme: (id) =>
      tl.getEndpointAuthorization(id, true)?.scheme ?? tl.getEndpointAuthorizationScheme(id, true),
    // The agent passes ENDPOINT_AUTH_<id> as JSON; reading it there avoids task-lib's
    // getEndpointAuthorizationParameter, which echoes the value in a debug line.
    getEndpointAuthorizationParameter: (id, key) => {
      const auth = tl.getEndpointAuthorization(id, true);
      const fromJson = lookup(auth?.parameters, key);
      if (fromJson !== undefined) return fromJson;
      return withoutDebugEcho(() => tl.getEndpointAuthorizationParameter(id, key, true));
    },
    getEndpointDataParameter: (id, key) => tl.getEndpointDataParameter(id, key, true),
  };
}

/**
 * Runs a synchronous task-lib call while dropping the task.debug line it writes,
 * for the few calls that echo a secret value there before we could register it.
 */
export function withoutDebugEcho<T>(fn: () => T): T {
  const original = process.stdout.write;
  const filtered = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (String(chunk).startsWith('##vso[task.debug]')) return true;
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  process.stdout.write = filtered as typeof process.stdout.write;
  try {
    return fn();
  } finally {
    process.stdout.write = original;
  }
}
