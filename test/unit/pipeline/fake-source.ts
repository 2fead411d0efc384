/** An in-memory TaskSource shaped like what the agent passes (ENDPOINT_AUTH_<id> JSON, data, variables). */
import type { TaskSource } from '../../../src/pipeline/tl';

export interface FakeEndpoint {
  url?: string;
  scheme: string;
  parameters?: Record<string, string>;
  data?: Record<string, string>;
}

export function fakeSource(opts: {
  inputs?: Record<string, string>;
  variables?: Record<string, string>;
  endpoints?: Record<string, FakeEndpoint>;
}): TaskSource {
  const ep = (id: string) =>
    Object.entries(opts.endpoints ?? {}).find(([k]) => k.toLowerCase() === id.toLowerCase())?.[1];
  const ci = (o: Record<string, string> | undefined, key: string) =>
    o ? Object.entries(o).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1] : undefined;
  return {
    getInput: (name) => opts.inputs?.[name],
    getVariable: (name) => ci(opts.variables, name),
    getEndpointUrl: (id) => ep(id)?.url,
    getEndpointAuthorizationScheme: (id) => ep(id)?.scheme,
    getEndpointAuthorizationParameter: (id, key) => ci(ep(id)?.parameters, key),
    getEndpointDataParameter: (id, key) => ci(ep(id)?.data, key),
  };
}
