/**
 * Request handling common to every Azure Resource Manager route: api-version,
 * bearer token authentication (audience, expiry, tenant), subscription lookup,
 * role-based authorization, and ARM's response headers (request and
 * correlation ids, remaining-request counters).
 */
import * as crypto from 'node:crypto';
import type { EmuHost, EmuRequest, EmuResponse, Emulator } from '../core';
import { TokenRegistry } from '../tokens';
import { errorBody, headerValue, lower, queryParam, type AzureError, azureError } from './common';
import type { AzureState, Role, Subscription } from './state';

export interface Principal {
  /** appid (service principals) or oid/sub. */
  id: string;
  objectId: string;
  tenantId?: string;
  claims: Record<string, unknown>;
}

export interface ArmCall {
  req: EmuRequest;
  principal: Principal;
  subscription: Subscription;
  correlationId: string;
}

export type ApiVersionPolicy = 'datafactory' | 'resources';

export interface ArmRouteOptions {
  /** RBAC action, e.g. 'Microsoft.Resources/deployments/write'. */
  action: string;
  apiVersions: ApiVersionPolicy;
}

const ADF_API_VERSIONS = ['2018-06-01', '2017-09-01-preview'];

/** .NET's default DateTime format ('11/23/2026 10:00:00 AM'), as ARM prints token times. */
function dotnetTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/** ARM's 2024 token buckets (per subscription): reads 250 + 25/s, writes and deletes 200 + 10/s. Informational headers only. */
const BUCKETS = {
  reads: { size: 250, rate: 25 },
  writes: { size: 200, rate: 10 },
  deletes: { size: 200, rate: 10 },
};

export class ArmHttp {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly emu: Emulator,
    readonly host: EmuHost,
    readonly state: AzureState,
  ) {}

  reset(): void {
    this.buckets.clear();
  }

  /** Registers a route on the ARM host with the standard checks in front of the handler. */
  route(
    method: string,
    pattern: string,
    api: string,
    opts: ArmRouteOptions,
    handler: (call: ArmCall) => EmuResponse | Promise<EmuResponse>,
  ): void {
    this.emu.route('arm', method, pattern, api, async (req) => {
      const correlationId = headerValue(req.headers, 'x-ms-correlation-request-id') ?? crypto.randomUUID();
      const finish = (out: EmuResponse): EmuResponse => this.decorate(req, out, correlationId);
      const versionError = this.checkApiVersion(req, opts.apiVersions);
      if (versionError) return finish(this.error(versionError));
      const auth = this.authenticate(req);
      if ('error' in auth) return finish(auth.error);
      const subId = req.params.sub;
      const subscription = this.state.subscription(subId);
      if (!subscription)
        return finish(
          this.error(
            azureError(404, 'SubscriptionNotFound', `The subscription '${subId}' could not be found.`),
          ),
        );
      const tenantError = this.checkTenant(auth.principal, subscription);
      if (tenantError) return finish(tenantError);
      if (!this.authorized(auth.principal, subscription, req.params.rg, opts.action)) {
        const scope = req.path.replace(/\/+$/, '');
        return finish(
          this.error(
            azureError(
              403,
              'AuthorizationFailed',
              `The client '${auth.principal.id}' with object id '${auth.principal.objectId}' does not have authorization to perform action '${opts.action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
            ),
          ),
        );
      }
      return finish(await handler({ req, principal: auth.principal, subscription, correlationId }));
    });
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): EmuResponse {
    return { status, json: body, headers };
  }

  error(e: AzureError, headers: Record<string, string> = {}): EmuResponse {
    return { status: e.status, json: errorBody(e), headers };
  }

  private decorate(req: EmuRequest, out: EmuResponse, correlationId: string): EmuResponse {
    const kind =
      req.method === 'GET' || req.method === 'HEAD'
        ? 'reads'
        : req.method === 'DELETE'
          ? 'deletes'
          : 'writes';
    const headers: Record<string, string> = {
      'x-ms-request-id': crypto.randomUUID(),
      'x-ms-correlation-request-id': correlationId,
      'x-ms-routing-request-id': `LOCAL:${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z:${crypto.randomUUID()}`,
      [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(this.remaining(req.params.sub ?? '', kind)),
      'cache-control': 'no-cache',
      ...(out.headers ?? {}),
    };
    return { ...out, headers };
  }

  private remaining(sub: string, kind: keyof typeof BUCKETS): number {
    const cfg = BUCKETS[kind];
    const key = `${lower(sub)}|${kind}`;
    const now = Date.now();
    const b = this.buckets.get(key) ?? { tokens: cfg.size, updated: now };
    b.tokens = Math.min(cfg.size, b.tokens + ((now - b.updated) / 1000) * cfg.rate);
    b.updated = now;
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.set(key, b);
    return Math.floor(b.tokens);
  }

  private checkApiVersion(req: EmuRequest, policy: ApiVersionPolicy): AzureError | undefined {
    const v = queryParam(req.query, 'api-version');
    if (!v) {
      return azureError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    if (policy === 'datafactory' && !ADF_API_VERSIONS.includes(v)) {
      return azureError(
        400,
        'NoRegisteredProviderFound',
        `No registered resource provider found for location '${this.state.resourceGroup(req.params.sub ?? '', req.params.rg ?? '')?.location ?? 'westeurope'}' and API version '${v}' for type 'factories'. The supported api-versions are '${ADF_API_VERSIONS.slice().reverse().join(', ')}'.`,
      );
    }
    if (policy === 'resources' && !/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(v)) {
      return azureError(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${v}' is invalid. The supported versions are '2024-03-01,2022-09-01,2021-04-01,2020-10-01,2019-10-01'.`,
      );
    }
    return undefined;
  }

  /** Resource Manager audiences: its own URL, the configured ones, with or without a trailing slash. */
  private audienceOk(aud: unknown): boolean {
    if (typeof aud !== 'string') return false;
    const norm = (s: string) => lower(s.replace(/\/+$/, ''));
    const allowed = [this.host.url, ...this.state.options.audiences].map(norm);
    return allowed.includes(norm(aud));
  }

  private authenticate(req: EmuRequest): { principal: Principal } | { error: EmuResponse } {
    const header = headerValue(req.headers, 'authorization');
    const unauthorized = (code: string, message: string): { error: EmuResponse } => ({
      error: this.error(azureError(401, code, message), {
        'www-authenticate': `Bearer authorization_uri="${this.emu.hosts.get('login')?.url ?? 'https://login.microsoftonline.com'}/", error="invalid_token", error_description="${message}"`,
      }),
    });
    if (!header)
      return unauthorized(
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
      );
    const token = TokenRegistry.bearer(header);
    if (!token)
      return unauthorized(
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      );
    const v = this.emu.tokens.verify(token);
    if (!v.ok) {
      if (v.reason === 'expired') {
        let exp = Date.now();
        try {
          const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
            exp?: number;
          };
          if (typeof claims.exp === 'number') exp = claims.exp * 1000;
        } catch {
          // keep now
        }
        return unauthorized(
          'ExpiredAuthenticationToken',
          `The access token expiry UTC time '${dotnetTime(exp)}' is earlier than current UTC time '${dotnetTime(Date.now())}'.`,
        );
      }
      return unauthorized('InvalidAuthenticationToken', 'The access token is invalid.');
    }
    const c = v.claims;
    if (!this.audienceOk(c.aud)) {
      const allowed = [
        'https://management.core.windows.net/',
        'https://management.core.windows.net',
        'https://management.azure.com/',
        'https://management.azure.com',
      ];
      return unauthorized(
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${String(c.aud)}'. It should exactly match with one of the allowed audiences '${allowed.map((a) => a).join("','")}'.`,
      );
    }
    const objectId = String(c.oid ?? c.sub);
    return {
      principal: {
        id: String(c.appid ?? c.azp ?? c.oid ?? c.sub),
        objectId,
        tenantId: typeof c.tid === 'string' ? c.tid : undefined,
        claims: c,
      },
    };
  }

  private checkTenant(p: Principal, s: Subscription): EmuResponse | undefined {
    if (!s.tenantId || !p.tenantId || lower(s.tenantId) === lower(p.tenantId)) return undefined;
    return this.error(
      azureError(
        401,
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer 'https://sts.windows.net/${p.tenantId}/'. It must match the tenant 'https://sts.windows.net/${s.tenantId}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${s.tenantId}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
      ),
    );
  }

  private authorized(p: Principal, s: Subscription, rg: string | undefined, action: string): boolean {
    if (this.state.options.allowAllPrincipals) return true;
    const ids = new Set([lower(p.id), lower(p.objectId)]);
    return s.grants.some(
      (g) =>
        (ids.has(lower(g.principalId)) || g.principalId === '*') &&
        (g.resourceGroup === undefined || (rg !== undefined && lower(g.resourceGroup) === lower(rg))) &&
        roleAllows(g.role, action),
    );
  }
}

function roleAllows(role: Role, action: string): boolean {
  const a = lower(action);
  if (a.endsWith('/read')) return true;
  switch (role) {
    case 'Owner':
    case 'Contributor':
      return true;
    case 'Data Factory Contributor':
      return a.startsWith('microsoft.datafactory/') || a.startsWith('microsoft.resources/deployments/');
    default:
      return false;
  }
}
