/**
 * Entra ID emulator plugin: the `login` host (OpenID configuration, v2 and v1
 * token endpoints, instance discovery) and a plain-HTTP `imds` host serving the
 * managed identity endpoints an agent VM has (IMDS, plus the App Service style
 * IDENTITY_ENDPOINT for completeness).
 *
 * Client credentials are checked like Entra does: registered app ids, client
 * secrets, certificate assertions (x5t / x5t#S256 thumbprint, RS256 / PS256
 * signature with the registered certificate's key, aud/iss/sub/exp), and
 * federated assertions (a token minted by the devops plugin: signature, issuer
 * and subject against the app's federated credentials, audience, expiry).
 * Errors carry Entra's body shape and AADSTS codes. Tokens are minted by the
 * core token registry with aud, appid, tid and a configurable lifetime.
 *
 * Control routes (any host): GET /_emulator/entra, POST /_emulator/entra/apps
 * (EntraAppOptions), POST /_emulator/entra/managed-identities ({clientId?}),
 * POST /_emulator/entra/settings ({tokenTtlSeconds}).
 *
 * Managed identity on a self-hosted agent: @azure/identity 4.x hands managed
 * identity to MSAL node, which picks its source from the environment
 * (ServiceFabric, App Service IDENTITY_ENDPOINT+IDENTITY_HEADER, Machine
 * Learning, Cloud Shell, Azure Arc, else IMDS). IMDS is http://169.254.169.254
 * unless AZURE_POD_IDENTITY_AUTHORITY_HOST overrides the base URL, which is
 * what managedIdentityEnv() sets. MSAL caches the chosen source per process.
 */
import * as crypto from 'node:crypto';
import type { EmuHost, EmuRequest, EmuResponse, Emulator } from './core';

export const AZURE_DATABRICKS_APP_ID = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d';
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface FederatedCredential {
  issuer: string;
  subject: string;
  audience?: string;
}

export interface EntraAppOptions {
  tenantId: string;
  clientId: string;
  secret?: string;
  /** PEM of the certificate (a key in the same PEM is ignored): its public key is registered. */
  certificatePem?: string;
  federated?: FederatedCredential | FederatedCredential[];
  displayName?: string;
  disabled?: boolean;
  /** Makes secret sign-ins fail with AADSTS7000222 (expired secret). */
  secretExpired?: boolean;
}

interface RegisteredCert {
  sha1: Buffer;
  sha256: Buffer;
  publicKey: crypto.KeyObject;
}

interface EntraApp {
  tenantId: string;
  clientId: string;
  objectId: string;
  secrets: string[];
  certs: RegisteredCert[];
  federated: FederatedCredential[];
  displayName: string;
  disabled: boolean;
  secretExpired: boolean;
}

export interface ManagedIdentity {
  clientId: string;
  objectId: string;
  tenantId: string;
  /** System-assigned identities are used when a request names no client id. */
  systemAssigned: boolean;
}

export interface IssuedToken {
  endpoint: 'v2' | 'v1' | 'imds' | 'appService';
  clientId: string;
  tenantId: string;
  resource: string;
  /** How the client proved itself. */
  via: 'secret' | 'certificate' | 'federated' | 'managedIdentity';
  expiresOn: number;
}

export interface EntraOptions {
  /** Tenant for managed identities and the default tenant of tests. */
  defaultTenantId?: string;
  /** Lifetime of access tokens in seconds (default: the registry's default). */
  tokenTtlSeconds?: number;
}

function normaliseResource(r: string): string {
  return r
    .trim()
    .replace(/\/\.default$/, '')
    .replace(/\/+$/, '');
}

function b64urlDecode(s: string): Buffer {
  return Buffer.from(s, 'base64url');
}

function parseJwt(
  jwt: string,
):
  | { header: Record<string, unknown>; claims: Record<string, unknown>; signed: string; sig: Buffer }
  | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(b64urlDecode(parts[0]).toString('utf8')) as Record<string, unknown>,
      claims: JSON.parse(b64urlDecode(parts[1]).toString('utf8')) as Record<string, unknown>,
      signed: `${parts[0]}.${parts[1]}`,
      sig: b64urlDecode(parts[2]),
    };
  } catch {
    return undefined;
  }
}

function epoch(): number {
  return Math.floor(Date.now() / 1000);
}

function basicCredentials(header: string | string[] | undefined): { id: string; secret: string } | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  const m = /^Basic\s+(.+)$/i.exec(h ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return undefined;
  return { id: decodeURIComponent(text.slice(0, i)), secret: decodeURIComponent(text.slice(i + 1)) };
}

export class EntraPlugin {
  readonly login: EmuHost;
  readonly imds: EmuHost;
  readonly defaultTenantId: string;
  tokenTtlSeconds?: number;
  /** Every token issued, newest last (no token values). */
  readonly issued: IssuedToken[] = [];
  /** Resources the tenant knows (normalised); others fail with AADSTS500011. */
  readonly resources = new Set<string>([
    AZURE_DATABRICKS_APP_ID,
    'https://management.core.windows.net',
    'https://management.azure.com',
    'https://graph.microsoft.com',
    '499b84ac-1321-427f-aa17-267ca6975798',
  ]);
  /** Secret for the App Service style endpoint's X-IDENTITY-HEADER. */
  readonly identityHeader = crypto.randomBytes(16).toString('hex');

  private readonly apps = new Map<string, EntraApp>();
  private readonly identities: ManagedIdentity[] = [];

  private constructor(
    private readonly emu: Emulator,
    login: EmuHost,
    imds: EmuHost,
    opts: EntraOptions,
  ) {
    this.login = login;
    this.imds = imds;
    this.defaultTenantId = opts.defaultTenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47';
    this.tokenTtlSeconds = opts.tokenTtlSeconds;
  }

  static async install(emu: Emulator, opts: EntraOptions = {}): Promise<EntraPlugin> {
    const login = await emu.addHost('login', { role: 'login', style: 'entra' });
    const imds = await emu.addHost('imds', { role: 'imds', style: 'plain', protocol: 'http' });
    const plugin = new EntraPlugin(emu, login, imds, opts);
    plugin.registerRoutes();
    emu.onReset(() => plugin.reset());
    return plugin;
  }

  /** Authority host for connections and @azure/identity (https://127.0.0.1:port). */
  get authorityHost(): string {
    return this.login.url;
  }

  /** Environment that points MSAL's managed identity at this emulator. */
  managedIdentityEnv(source: 'imds' | 'appService' = 'imds'): Record<string, string> {
    if (source === 'appService') {
      return { IDENTITY_ENDPOINT: `${this.imds.url}/msi/token`, IDENTITY_HEADER: this.identityHeader };
    }
    return { AZURE_POD_IDENTITY_AUTHORITY_HOST: this.imds.url };
  }

  addApp(opts: EntraAppOptions): void {
    const certs: RegisteredCert[] = [];
    if (opts.certificatePem) {
      const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(opts.certificatePem);
      if (!m) throw new Error('addApp: certificatePem holds no certificate');
      const x509 = new crypto.X509Certificate(m[0]);
      certs.push({
        sha1: crypto.createHash('sha1').update(x509.raw).digest(),
        sha256: crypto.createHash('sha256').update(x509.raw).digest(),
        publicKey: x509.publicKey,
      });
    }
    const federated = opts.federated
      ? Array.isArray(opts.federated)
        ? opts.federated
        : [opts.federated]
      : [];
    this.apps.set(this.appKey(opts.tenantId, opts.clientId), {
      tenantId: opts.tenantId,
      clientId: opts.clientId,
      objectId: crypto.randomUUID(),
      secrets: opts.secret ? [opts.secret] : [],
      certs,
      federated,
      displayName: opts.displayName ?? `app-${opts.clientId.slice(0, 8)}`,
      disabled: opts.disabled ?? false,
      secretExpired: opts.secretExpired ?? false,
    });
  }

  removeApp(tenantId: string, clientId: string): void {
    this.apps.delete(this.appKey(tenantId, clientId));
  }

  /** Adds a managed identity to the emulated agent VM; without clientId it is system-assigned. */
  addManagedIdentity(opts: { clientId?: string; tenantId?: string } = {}): ManagedIdentity {
    const mi: ManagedIdentity = {
      clientId: opts.clientId ?? crypto.randomUUID(),
      objectId: crypto.randomUUID(),
      tenantId: opts.tenantId ?? this.defaultTenantId,
      systemAssigned: !opts.clientId,
    };
    this.identities.push(mi);
    return mi;
  }

  reset(): void {
    this.apps.clear();
    this.identities.length = 0;
    this.issued.length = 0;
  }

  private appKey(tenantId: string, clientId: string): string {
    return `${tenantId.toLowerCase()}|${clientId.toLowerCase()}`;
  }

  private knownTenant(tenant: string): boolean {
    const t = tenant.toLowerCase();
    if (t === this.defaultTenantId.toLowerCase()) return true;
    for (const app of this.apps.values()) if (app.tenantId.toLowerCase() === t) return true;
    return false;
  }

  private fail(status: number, error: string, description: string): EmuResponse {
    return this.emu.error(this.login, status, error, description);
  }

  private openIdConfiguration(tenant: string, v2: boolean): EmuResponse {
    if (!this.knownTenant(tenant) && tenant !== 'common' && tenant !== 'organizations') {
      return this.fail(
        400,
        'invalid_tenant',
        `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    const base = `${this.login.url}/${tenant}`;
    const p = v2 ? 'oauth2/v2.0' : 'oauth2';
    return {
      status: 200,
      json: {
        token_endpoint: `${base}/${p}/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        jwks_uri: `${base}/discovery/${v2 ? 'v2.0/' : ''}keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: v2 ? `${base}/v2.0` : `${this.login.url}/${tenant}/`,
        request_uri_parameter_supported: false,
        authorization_endpoint: `${base}/${p}/authorize`,
        device_authorization_endpoint: `${base}/${p}/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/${p}/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'oid'],
        tenant_region_scope: 'WW',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      },
    };
  }

  private registerRoutes(): void {
    const emu = this.emu;
    emu.route('login', 'GET', '/:tenant/v2.0/.well-known/openid-configuration', 'entra.openid', (r) =>
      this.openIdConfiguration(r.params.tenant, true),
    );
    emu.route('login', 'GET', '/:tenant/.well-known/openid-configuration', 'entra.openid', (r) =>
      this.openIdConfiguration(r.params.tenant, false),
    );
    emu.route('login', 'GET', '/common/discovery/instance', 'entra.discovery', () => {
      const host = new URL(this.login.url).host;
      return {
        status: 200,
        json: {
          tenant_discovery_endpoint: `${this.login.url}/{tenant}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        },
      };
    });
    // Emulator tokens are HMAC-signed, so there are no public keys to publish.
    emu.route('login', 'GET', '/:tenant/discovery/v2.0/keys', 'entra.keys', () => ({
      status: 200,
      json: { keys: [] },
    }));
    emu.route('login', 'GET', '/:tenant/discovery/keys', 'entra.keys', () => ({
      status: 200,
      json: { keys: [] },
    }));
    emu.route('login', 'POST', '/:tenant/oauth2/v2.0/token', 'entra.token', (r) => this.token(r, 'v2'));
    emu.route('login', 'POST', '/:tenant/oauth2/token', 'entra.token.v1', (r) => this.token(r, 'v1'));
    emu.route('imds', 'GET', '/metadata/identity/oauth2/token', 'imds.token', (r) => this.imdsToken(r));
    emu.route('imds', 'GET', '/msi/token', 'appservice.token', (r) => this.appServiceToken(r));

    // Control API for a standalone emulator driven over HTTP.
    emu.control('GET', '/entra', () => ({
      status: 200,
      json: {
        authorityHost: this.authorityHost,
        defaultTenantId: this.defaultTenantId,
        tokenTtlSeconds: this.tokenTtlSeconds ?? emu.tokens.defaultTtlSeconds,
        managedIdentityEnv: this.managedIdentityEnv(),
        apps: [...this.apps.values()].map((a) => ({
          tenantId: a.tenantId,
          clientId: a.clientId,
          federated: a.federated,
        })),
        managedIdentities: this.identities,
        issued: this.issued,
      },
    }));
    emu.control('POST', '/entra/apps', (r) => {
      const b = (r.body ?? {}) as EntraAppOptions;
      if (!b.tenantId || !b.clientId)
        return { status: 400, json: { message: 'tenantId and clientId are required' } };
      this.addApp(b);
      return { status: 200, json: { tenantId: b.tenantId, clientId: b.clientId } };
    });
    emu.control('POST', '/entra/managed-identities', (r) => {
      const b = (r.body ?? {}) as { clientId?: string; tenantId?: string };
      return { status: 200, json: this.addManagedIdentity(b) };
    });
    emu.control('POST', '/entra/settings', (r) => {
      const b = (r.body ?? {}) as { tokenTtlSeconds?: number };
      if (b.tokenTtlSeconds !== undefined) this.tokenTtlSeconds = b.tokenTtlSeconds;
      return { status: 200, json: { tokenTtlSeconds: this.tokenTtlSeconds } };
    });
  }

  private token(r: EmuRequest, endpoint: 'v2' | 'v1'): EmuResponse {
    const tenant = r.params.tenant;
    const form = r.form ?? {};
    if (!this.knownTenant(tenant)) {
      return this.fail(
        400,
        'invalid_request',
        `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (form.grant_type !== 'client_credentials') {
      return form.grant_type
        ? this.fail(
            400,
            'unsupported_grant_type',
            `AADSTS70003: The app requested an unsupported grant type '${form.grant_type}'.`,
          )
        : this.fail(
            400,
            'invalid_request',
            `AADSTS900144: The request body must contain the following parameter: 'grant_type'.`,
          );
    }
    const basic = basicCredentials(r.headers.authorization);
    const clientId = form.client_id ?? basic?.id;
    if (!clientId) {
      return this.fail(
        400,
        'invalid_request',
        `AADSTS900144: The request body must contain the following parameter: 'client_id'.`,
      );
    }

    // Resource: v2 takes scope=<resource>/.default, v1 takes resource=<resource>.
    let resource: string;
    if (endpoint === 'v2') {
      const scopes = (form.scope ?? '')
        .split(/\s+/)
        .filter((s) => s && !['openid', 'profile', 'offline_access', 'email'].includes(s));
      if (scopes.length === 0) {
        return this.fail(
          400,
          'invalid_request',
          `AADSTS900144: The request body must contain the following parameter: 'scope'.`,
        );
      }
      if (scopes.length > 1 || !scopes[0].endsWith('/.default')) {
        return this.fail(
          400,
          'invalid_scope',
          `AADSTS1002012: The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        );
      }
      resource = normaliseResource(scopes[0]);
    } else {
      if (!form.resource) {
        return this.fail(
          400,
          'invalid_request',
          `AADSTS900144: The request body must contain the following parameter: 'resource'.`,
        );
      }
      resource = normaliseResource(form.resource);
    }

    const app = this.apps.get(this.appKey(tenant, clientId));
    if (!app) {
      return this.fail(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (app.disabled) {
      return this.fail(
        400,
        'unauthorized_client',
        `AADSTS7000112: Application '${clientId}'(${app.displayName}) is disabled.`,
      );
    }

    let via: IssuedToken['via'];
    const secret = form.client_secret ?? basic?.secret;
    if (form.client_assertion || form.client_assertion_type) {
      if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE || !form.client_assertion) {
        return this.fail(
          400,
          'invalid_request',
          `AADSTS50027: JWT token is invalid or malformed. The client_assertion_type must be '${CLIENT_ASSERTION_TYPE}'.`,
        );
      }
      const checked = this.checkAssertion(app, form.client_assertion, r, endpoint);
      if ('status' in checked) return checked;
      via = checked.via;
    } else if (secret !== undefined) {
      if (!app.secrets.includes(secret)) {
        return this.fail(
          401,
          'invalid_client',
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
      if (app.secretExpired) {
        return this.fail(
          401,
          'invalid_client',
          `AADSTS7000222: The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app.`,
        );
      }
      via = 'secret';
    } else {
      return this.fail(
        401,
        'invalid_client',
        `AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.`,
      );
    }

    if (!this.resources.has(resource)) {
      return this.fail(
        400,
        'invalid_resource',
        `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }
    return this.mint(endpoint, app.clientId, app.objectId, app.tenantId, resource, via);
  }

  /** Validates a certificate or federated client assertion. */
  private checkAssertion(
    app: EntraApp,
    assertion: string,
    r: EmuRequest,
    endpoint: 'v2' | 'v1',
  ): { via: 'certificate' | 'federated' } | EmuResponse {
    const jwt = parseJwt(assertion);
    if (!jwt) return this.fail(401, 'invalid_client', 'AADSTS50027: JWT token is invalid or malformed.');
    const { header, claims } = jwt;
    const now = epoch();
    const exp = typeof claims.exp === 'number' ? claims.exp : 0;
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : 0;
    const timeError = () =>
      this.fail(
        401,
        'invalid_client',
        `AADSTS700024: Client assertion is not within its valid time range. Current time: ${new Date(now * 1000).toISOString()}, assertion valid from ${nbf ? new Date(nbf * 1000).toISOString() : 'unknown'}, expiry time of assertion ${exp ? new Date(exp * 1000).toISOString() : 'unknown'}.`,
      );

    const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
    const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
    if (x5t || x5tS256 || claims.iss === app.clientId) {
      // Certificate credential: the app signs its own assertion.
      const presented = x5tS256 ? b64urlDecode(x5tS256) : x5t ? b64urlDecode(x5t) : Buffer.alloc(0);
      const cert = app.certs.find((c) => (x5tS256 ? c.sha256 : c.sha1).equals(presented));
      if (!cert) {
        return this.fail(
          401,
          'invalid_client',
          `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${presented.toString('hex').toUpperCase()}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`,
        );
      }
      const alg = header.alg;
      let ok = false;
      if (alg === 'RS256') {
        ok = crypto.verify('sha256', Buffer.from(jwt.signed), cert.publicKey, jwt.sig);
      } else if (alg === 'PS256') {
        ok = crypto.verify(
          'sha256',
          Buffer.from(jwt.signed),
          {
            key: cert.publicKey,
            padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
            saltLength: crypto.constants.RSA_PSS_SALTLEN_AUTO,
          },
          jwt.sig,
        );
      }
      if (!ok) {
        return this.fail(
          401,
          'invalid_client',
          `AADSTS700027: Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]`,
        );
      }
      if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
        return this.fail(
          401,
          'invalid_client',
          `AADSTS700023: Client assertion audience claim does not match Realm issuer, or the iss and sub claims are not the client id '${app.clientId}'.`,
        );
      }
      const tokenUrl = `${this.login.url}/${r.params.tenant}/${endpoint === 'v2' ? 'oauth2/v2.0/token' : 'oauth2/token'}`;
      const aud = String(claims.aud ?? '');
      const acceptedAud = [
        tokenUrl,
        `${this.login.url}/${app.tenantId}/oauth2/v2.0/token`,
        `${this.login.url}/${app.tenantId}/oauth2/token`,
        `${this.login.url}/${app.tenantId}/v2.0`,
        `${this.login.url}/${app.tenantId}/`,
      ].map((u) => u.toLowerCase());
      if (!acceptedAud.includes(aud.toLowerCase())) {
        return this.fail(
          401,
          'invalid_client',
          `AADSTS700212: The audience '${aud}' of the client assertion is not the token endpoint of this tenant.`,
        );
      }
      if (!exp || exp < now || (nbf && nbf > now + 300)) return timeError();
      return { via: 'certificate' };
    }

    // Federated credential: a token from an external issuer (Azure DevOps) signed by the emulator.
    const verified = this.emu.tokens.verify(assertion);
    if (!verified.ok && verified.reason === 'expired') return timeError();
    if (!verified.ok) {
      return this.fail(
        401,
        'invalid_client',
        `AADSTS50013: Assertion failed signature validation. [Reason - The key was not found.]`,
      );
    }
    const iss = String(claims.iss ?? '');
    const sub = String(claims.sub ?? '');
    const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud ?? '')];
    const match = app.federated.find(
      (f) => f.issuer === iss && f.subject === sub && aud.includes(f.audience ?? TOKEN_EXCHANGE_AUDIENCE),
    );
    if (!match) {
      const issuerKnown = app.federated.some((f) => f.issuer === iss);
      return this.fail(
        400,
        'invalid_request',
        issuerKnown
          ? `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${aud.join(',')}'.`
          : `AADSTS70021: No matching federated identity record found for presented assertion issuer '${iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. Assertion Subject: '${sub}'.`,
      );
    }
    return { via: 'federated' };
  }

  private mint(
    endpoint: IssuedToken['endpoint'],
    clientId: string,
    objectId: string,
    tenantId: string,
    resource: string,
    via: IssuedToken['via'],
  ): EmuResponse {
    const ttl = this.tokenTtlSeconds ?? this.emu.tokens.defaultTtlSeconds;
    const now = epoch();
    const { token, expiresOn } = this.emu.tokens.issue(
      {
        aud: resource,
        sub: objectId,
        oid: objectId,
        iss: `https://sts.windows.net/${tenantId}/`,
        tid: tenantId,
        appid: clientId,
        azp: clientId,
        idtyp: 'app',
        ver: '1.0',
        nbf: now,
      },
      ttl,
    );
    this.issued.push({ endpoint, clientId, tenantId, resource, via, expiresOn: expiresOn * 1000 });
    // exp is whole seconds, so the time left is a little under the TTL (Entra sends 3599 for an hour).
    const expiresIn = Math.max(0, Math.floor(expiresOn - Date.now() / 1000));
    if (endpoint === 'v2') {
      return {
        status: 200,
        json: { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token },
      };
    }
    // v1, IMDS and App Service send their numbers as strings.
    const common = {
      access_token: token,
      expires_in: String(expiresIn),
      expires_on: String(expiresOn),
      ext_expires_in: String(expiresIn),
      not_before: String(now),
      resource,
      token_type: 'Bearer',
    };
    if (endpoint === 'v1') return { status: 200, json: common };
    return { status: 200, json: { ...common, client_id: clientId } };
  }

  private findIdentity(q: URLSearchParams): ManagedIdentity | undefined {
    const clientId = q.get('client_id');
    const objectId = q.get('object_id') ?? q.get('principal_id');
    if (clientId) return this.identities.find((i) => i.clientId.toLowerCase() === clientId.toLowerCase());
    if (objectId) return this.identities.find((i) => i.objectId.toLowerCase() === objectId.toLowerCase());
    const system = this.identities.find((i) => i.systemAssigned);
    if (system) return system;
    // With no system-assigned identity, a VM with exactly one user-assigned identity uses it.
    const user = this.identities.filter((i) => !i.systemAssigned);
    return user.length === 1 ? user[0] : undefined;
  }

  private imdsError(status: number, error: string, description: string): EmuResponse {
    return { status, json: { error, error_description: description } };
  }

  private imdsToken(r: EmuRequest): EmuResponse {
    if (String(r.headers.metadata ?? '').toLowerCase() !== 'true') {
      return this.imdsError(400, 'invalid_request', 'Required metadata header not specified');
    }
    if (!r.query.get('api-version')) {
      return this.imdsError(400, 'invalid_request', "Required query variable 'api-version' is missing");
    }
    const resource = r.query.get('resource');
    if (!resource)
      return this.imdsError(400, 'invalid_request', "Required query variable 'resource' is missing");
    const mi = this.findIdentity(r.query);
    if (!mi) return this.imdsError(400, 'invalid_request', 'Identity not found');
    const res = normaliseResource(resource);
    if (!this.resources.has(res)) {
      return this.imdsError(
        400,
        'invalid_resource',
        `AADSTS500011: The resource principal named ${res} was not found in the tenant named ${mi.tenantId}.`,
      );
    }
    return this.mint('imds', mi.clientId, mi.objectId, mi.tenantId, res, 'managedIdentity');
  }

  private appServiceToken(r: EmuRequest): EmuResponse {
    if (String(r.headers['x-identity-header'] ?? '') !== this.identityHeader) {
      return {
        status: 401,
        json: { statusCode: 401, message: 'Unauthorized: X-IDENTITY-HEADER is missing or wrong.' },
      };
    }
    const resource = r.query.get('resource');
    if (!resource)
      return {
        status: 400,
        json: { statusCode: 400, message: "Required query parameter 'resource' is missing." },
      };
    const mi = this.findIdentity(r.query);
    if (!mi)
      return {
        status: 400,
        json: { statusCode: 400, message: 'No managed identity found for the given parameters.' },
      };
    return this.mint(
      'appService',
      mi.clientId,
      mi.objectId,
      mi.tenantId,
      normaliseResource(resource),
      'managedIdentity',
    );
  }
}

/** Installs the Entra and managed identity hosts on an emulator. */
export function installEntra(emu: Emulator, opts: EntraOptions = {}): Promise<EntraPlugin> {
  return EntraPlugin.install(emu, opts);
}
