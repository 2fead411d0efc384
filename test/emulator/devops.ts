/**
 * Azure DevOps emulator plugin: the `devops` host with the OIDC token endpoint
 * a pipeline job calls for workload identity federation ("Oidctoken - Create"):
 *
 *   POST /{org}/{project}/_apis/distributedtask/hubs/{hub}/plans/{planId}/jobs/{jobId}/oidctoken
 *        ?api-version=7.1&serviceConnectionId=<id>
 *   Authorization: Bearer <System.AccessToken>  →  200 {"oidcToken": "<jwt>"}
 *
 * The id token is minted by the core token registry (so the Entra plugin can
 * verify it) with iss https://vstoken.dev.azure.com/<orgId>,
 * sub sc://<org>/<project>/<serviceConnectionName>, aud api://AzureADTokenExchange
 * and a short lifetime.
 *
 * Control routes (any host): GET /_emulator/devops, POST /_emulator/devops/access-token,
 * POST /_emulator/devops/service-connections ({name, id?, scheme?}).
 */
import * as crypto from 'node:crypto';
import type { EmuHost, EmuRequest, EmuResponse, Emulator } from './core';
import { TOKEN_EXCHANGE_AUDIENCE } from './entra';
import { TokenRegistry } from './tokens';

export interface ServiceConnection {
  id: string;
  name: string;
  /** Only workload identity federation connections get id tokens. */
  scheme: 'WorkloadIdentityFederation' | 'ServicePrincipal' | 'ManagedServiceIdentity';
}

export interface DevopsOptions {
  organization?: string;
  project?: string;
  /** Lifetime of issued OIDC tokens (seconds, default 600 like Azure DevOps' short-lived tokens). */
  oidcTtlSeconds?: number;
}

export interface IssuedOidcToken {
  serviceConnectionId: string;
  subject: string;
  expiresOn: number;
}

const ACCESS_TOKEN_AUDIENCE = 'vso.emulator';

export class DevopsPlugin {
  readonly host: EmuHost;
  readonly organization: string;
  readonly organizationId = crypto.randomUUID();
  readonly project: string;
  readonly planId = crypto.randomUUID();
  readonly jobId = crypto.randomUUID();
  oidcTtlSeconds: number;
  readonly issued: IssuedOidcToken[] = [];
  private readonly connections = new Map<string, ServiceConnection>();

  private constructor(
    private readonly emu: Emulator,
    host: EmuHost,
    opts: DevopsOptions,
  ) {
    this.host = host;
    this.organization = opts.organization ?? 'emu-org';
    this.project = opts.project ?? 'emu-project';
    this.oidcTtlSeconds = opts.oidcTtlSeconds ?? 600;
  }

  static async install(emu: Emulator, opts: DevopsOptions = {}): Promise<DevopsPlugin> {
    const host = await emu.addHost('devops', { role: 'devops', style: 'devops' });
    const plugin = new DevopsPlugin(emu, host, opts);
    emu.route(
      'devops',
      'POST',
      '/:org/:project/_apis/distributedtask/hubs/:hub/plans/:planId/jobs/:jobId/oidctoken',
      'devops.oidctoken',
      (r) => plugin.oidcToken(r),
    );
    // Control API for a standalone emulator driven over HTTP.
    emu.control('GET', '/devops', () => ({
      status: 200,
      json: {
        organization: plugin.organization,
        project: plugin.project,
        issuer: plugin.issuer,
        oidcRequestUri: plugin.oidcRequestUri,
        oidcTtlSeconds: plugin.oidcTtlSeconds,
        serviceConnections: [...plugin.connections.values()].map((c) => ({
          ...c,
          subject: plugin.subjectFor(c.name),
        })),
        issued: plugin.issued,
      },
    }));
    emu.control('POST', '/devops/access-token', () => ({
      status: 200,
      json: { accessToken: plugin.issueAccessToken() },
    }));
    emu.control('POST', '/devops/service-connections', (r) => {
      const b = (r.body ?? {}) as { name?: string; id?: string; scheme?: ServiceConnection['scheme'] };
      if (!b.name) return { status: 400, json: { message: 'name is required' } };
      const sc = plugin.addServiceConnection({ name: b.name, id: b.id, scheme: b.scheme });
      return { status: 200, json: { ...sc, issuer: plugin.issuer, subject: plugin.subjectFor(sc.name) } };
    });
    emu.onReset(() => {
      plugin.connections.clear();
      plugin.issued.length = 0;
    });
    return plugin;
  }

  /** The issuer Entra federated credentials must name. */
  get issuer(): string {
    return `https://vstoken.dev.azure.com/${this.organizationId}`;
  }

  subjectFor(connectionName: string): string {
    return `sc://${this.organization}/${this.project}/${connectionName}`;
  }

  /** System.OidcRequestUri for the emulated job. */
  get oidcRequestUri(): string {
    return `${this.host.url}/${this.organization}/${this.project}/_apis/distributedtask/hubs/build/plans/${this.planId}/jobs/${this.jobId}/oidctoken`;
  }

  /** A System.AccessToken for the emulated job (a fresh one each call; all are valid). */
  issueAccessToken(ttlSeconds = 3600): string {
    return this.emu.tokens.issue(
      { aud: ACCESS_TOKEN_AUDIENCE, sub: `build:${this.organizationId}`, orgId: this.organizationId },
      ttlSeconds,
    ).token;
  }

  addServiceConnection(opts: {
    name: string;
    id?: string;
    scheme?: ServiceConnection['scheme'];
  }): ServiceConnection {
    const sc: ServiceConnection = {
      id: opts.id ?? crypto.randomUUID(),
      name: opts.name,
      scheme: opts.scheme ?? 'WorkloadIdentityFederation',
    };
    this.connections.set(sc.id.toLowerCase(), sc);
    return sc;
  }

  private fail(status: number, typeKey: string, message: string): EmuResponse {
    return this.emu.error(this.host, status, typeKey, message);
  }

  private oidcToken(r: EmuRequest): EmuResponse {
    const bearer = TokenRegistry.bearer(r.headers.authorization);
    const verified = this.emu.tokens.verify(bearer);
    if (!verified.ok || verified.claims.aud !== ACCESS_TOKEN_AUDIENCE) {
      return this.fail(
        401,
        'UnauthorizedRequestException',
        "TF400813: The user '' is not authorized to access this resource.",
      );
    }
    if (r.params.org !== this.organization || r.params.project !== this.project) {
      return this.fail(
        404,
        'ProjectDoesNotExistWithNameException',
        `TF200016: The following project does not exist: ${r.params.project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
      );
    }
    if (!r.query.get('api-version')) {
      return this.fail(
        400,
        'VssVersionNotSpecifiedException',
        'No api-version was supplied for the "POST" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. \'?api-version=1.0\').',
      );
    }
    const id = r.query.get('serviceConnectionId');
    if (!id) {
      return this.fail(
        400,
        'ArgumentNullException',
        'Value cannot be null.\r\nParameter name: serviceConnectionId',
      );
    }
    const sc = this.connections.get(id.toLowerCase());
    if (!sc) {
      return this.fail(
        404,
        'ServiceEndpointNotFoundException',
        `Service connection with id '${id}' could not be found, or the pipeline is not authorized to use it.`,
      );
    }
    if (sc.scheme !== 'WorkloadIdentityFederation') {
      return this.fail(
        400,
        'InvalidServiceEndpointException',
        `Service connection '${sc.name}' does not use workload identity federation.`,
      );
    }
    const subject = this.subjectFor(sc.name);
    const { token, expiresOn } = this.emu.tokens.issue(
      { iss: this.issuer, sub: subject, aud: TOKEN_EXCHANGE_AUDIENCE, nbf: Math.floor(Date.now() / 1000) },
      this.oidcTtlSeconds,
    );
    this.issued.push({ serviceConnectionId: sc.id, subject, expiresOn: expiresOn * 1000 });
    return { status: 200, json: { oidcToken: token } };
  }
}

export function installDevops(emu: Emulator, opts: DevopsOptions = {}): Promise<DevopsPlugin> {
  return DevopsPlugin.install(emu, opts);
}
