/**
 * The AzureRM service connection (service principal with a client secret) that
 * the Data Factory end-to-end tests hand a task, pointed at the emulator.
 */
import type { EndpointSpec } from './run-task';

export interface ArmSecretEndpointOptions {
  /** Resource Manager base URL without trailing slash (the emulator's management host). */
  armUrl: string;
  tenantId: string;
  authorityHost: string;
  clientId: string;
  secret: string;
  subscriptionId: string;
}

export function armSecretEndpoint(
  o: ArmSecretEndpointOptions,
  over: Partial<EndpointSpec> = {},
): EndpointSpec {
  return {
    url: `${o.armUrl}/`,
    scheme: 'ServicePrincipal',
    parameters: {
      serviceprincipalid: o.clientId,
      tenantid: o.tenantId,
      serviceprincipalkey: o.secret,
      authenticationType: 'spnKey',
    },
    data: {
      subscriptionId: o.subscriptionId,
      activeDirectoryAuthority: o.authorityHost,
      environment: 'AzureCloud',
      // The emulated Entra ID knows the public ARM audience, not the emulator's own URL.
      activeDirectoryServiceEndpointResourceId: 'https://management.core.windows.net/',
    },
    ...over,
  };
}
