/**
 * One emulated Azure Databricks workspace: its principals and authentication,
 * its object tree, clusters, jobs and runs, and the controller tests use to seed
 * and inspect that state.
 */
import type { EmuHost, EmuRequest, EmuResponse, Emulator } from '../core';
import { TokenRegistry, type TokenClaims } from '../tokens';
import { ApiError } from './api-error';
import {
  Cluster,
  type ClusterSpec,
  type ClusterState,
  clusterMissing,
  validateClusterSpec,
} from './clusters';
import { JobsState, type JobsSettings, type RunOutcome, type RunRecord } from './jobs';
import { LANGUAGES, type Language } from './notebook-format';
import {
  WorkspaceFs,
  canonicalPath,
  objectText,
  type FsSettings,
  type ObjectType,
  type WsObject,
} from './workspace-fs';

export const AZURE_DATABRICKS_APP_ID = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d';

/** Every behaviour a test may tune; all have defaults. */
export interface WorkspaceSettings extends FsSettings, JobsSettings {
  /** When true every error body carries error_code as the HTTP status (legacy endpoints). */
  legacyIntegerErrorCodes: boolean;
  /** Lifetime of Databricks OAuth (M2M) tokens in seconds. */
  tokenTtlSeconds: number;
  /**
   * Reply to an expired OAuth/Entra token: '401' `{"error_code":401,"message":"Token is expired"}`
   * (seen since late 2025) or '403' `{"error_code":403,"message":"JWT has expired"}` (sdk-go#1061). [unverified]
   */
  expiredTokenResponse: '401' | '403';
  /** Tokens this close to expiry are rejected as expired (Databricks rejected AAD tokens 30 s early). */
  rejectTokensExpiringWithinSeconds: number;
  /** Extra audiences accepted for X-Databricks-Azure-SP-Management-Token. */
  managementAudiences: string[];
  /** When set, Entra tokens must carry this tid. */
  tenantId?: string;
  clusterStartMs: number;
  clusterTerminateMs: number;
}

export interface WorkspaceOptions extends Partial<WorkspaceSettings> {
  subscriptionId?: string;
  resourceGroup?: string;
  /** The o= workspace id in run page URLs. */
  orgId?: string;
}

export const DEFAULT_SETTINGS: WorkspaceSettings = {
  importSizeLimit: 10485760,
  notebookTimestamps: true,
  autoFileOverwriteBug: false,
  legacyIntegerErrorCodes: false,
  tokenTtlSeconds: 3600,
  expiredTokenResponse: '401',
  rejectTokensExpiringWithinSeconds: 0,
  managementAudiences: [],
  pendingMs: 50,
  defaultDurationMs: 300,
  cancelMs: 100,
  newClusterMs: 200,
  outputLimitBytes: 5 * 1024 * 1024,
  missingNotebook: 'fail-run',
  singleTaskParentOutput: 'error',
  cancelTerminatedRun: 'noop',
  clusterStartMs: 500,
  clusterTerminateMs: 300,
};

export type PrincipalKind = 'user' | 'service-principal' | 'entra-service-principal';

export interface Principal {
  /** User name, or the application id of a service principal. */
  id: string;
  displayName: string;
  kind: PrincipalKind;
  /** How it became a member: added by a test, or provisioned through its Azure role. */
  via: 'added' | 'azure-role';
}

/** A workspace object as tests see it. */
export interface ObjectView {
  path: string;
  object_type: ObjectType;
  object_id: number;
  language?: Language;
  created_at: number;
  modified_at: number;
  size?: number;
  /** Notebook SOURCE text (header included) or file bytes. */
  content?: Buffer;
  text?: string;
  isGitFolder: boolean;
  importFormat?: string;
}

export interface RunTaskView {
  run_id: number;
  task_key: string;
  notebookPath?: string;
  baseParameters?: Record<string, string>;
  existingClusterId?: string;
  newCluster?: unknown;
  spec: Record<string, unknown>;
  outcome: RunOutcome;
}

export interface RunView {
  run_id: number;
  job_id: number;
  run_name: string;
  run_type: 'SUBMIT_RUN' | 'JOB_RUN';
  apiVersion: string;
  submittedAt: number;
  idempotencyToken?: string;
  /** Requests (submit or run-now) that resolved to this run: 2 means one idempotent repeat. */
  submitRequests: number;
  cancelRequests: number[];
  creator: string;
  timeoutSeconds: number;
  request: Record<string, unknown>;
  tasks: RunTaskView[];
  state: { life_cycle_state: string; result_state?: string };
  /** The runs/get response right now. */
  json: Record<string, unknown>;
}

const MANAGEMENT_AUDIENCES = [
  'https://management.core.windows.net',
  'https://management.azure.com',
  'https://management.core.usgovcloudapi.net',
  'https://management.usgovcloudapi.net',
  'https://management.core.chinacloudapi.cn',
  'https://management.chinacloudapi.cn',
];

let workspaceCount = 0;

export class Workspace {
  readonly hostName: string;
  readonly orgId: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly settings: WorkspaceSettings;
  readonly fs: WorkspaceFs;
  readonly jobsState: JobsState;
  readonly clusters = new Map<string, Cluster>();
  private readonly initialSettings: WorkspaceSettings;
  private readonly pats = new Map<string, string>();
  private readonly spSecrets = new Map<string, string>();
  private readonly principals = new Map<string, Principal>();
  private readonly scripts = new Map<string, RunOutcome>();
  private readonly scriptQueues = new Map<string, RunOutcome[]>();
  private idSeq = 0;
  private readonly idBase: number;

  constructor(
    readonly name: string,
    readonly host: EmuHost,
    private readonly emu: Emulator,
    opts: WorkspaceOptions = {},
  ) {
    const n = ++workspaceCount;
    this.hostName = host.name;
    this.orgId = opts.orgId ?? String(1234567890123000 + n * 111);
    this.subscriptionId = opts.subscriptionId ?? '00000000-0000-4000-8000-00000000abcd';
    this.resourceGroup = opts.resourceGroup ?? 'rg-databricks';
    // Large ids (beyond 32 bits, within 2^53) catch clients that parse ids as int32.
    this.idBase = 100_000_000_000_000 + n * 1_000_000_000;
    const { subscriptionId: _s, resourceGroup: _r, orgId: _o, ...rest } = opts;
    this.settings = { ...DEFAULT_SETTINGS, ...rest };
    this.initialSettings = { ...this.settings, managementAudiences: [...this.settings.managementAudiences] };
    this.fs = new WorkspaceFs(
      () => this.settings,
      () => this.nextId(),
    );
    this.jobsState = new JobsState({
      nextId: () => this.nextId(),
      cluster: (id) => this.clusters.get(id),
      notebookExists: (p) => {
        try {
          return this.fs.get(p)?.object_type === 'NOTEBOOK';
        } catch {
          return false;
        }
      },
      canonicalNotebookPath: (p) => {
        try {
          return canonicalPath(p);
        } catch {
          return p;
        }
      },
      outcomeFor: (t) => this.outcomeFor(t),
      settings: () => this.settings,
      runPageUrl: (jobId, runId) => `${this.url}/?o=${this.orgId}#job/${jobId}/run/${runId}`,
    });
    this.resetState();
  }

  get url(): string {
    return this.host.url;
  }

  /** The emulator's CA, so test helpers can call `call(ws, …)`. */
  get caPem(): string {
    return this.emu.caPem;
  }

  get azureResourceId(): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.Databricks/workspaces/${this.name}`;
  }

  get importSizeLimit(): number {
    return this.settings.importSizeLimit;
  }

  set importSizeLimit(v: number) {
    this.settings.importSizeLimit = v;
  }

  get legacyIntegerErrorCodes(): boolean {
    return this.settings.legacyIntegerErrorCodes;
  }

  set legacyIntegerErrorCodes(v: boolean) {
    this.settings.legacyIntegerErrorCodes = v;
  }

  configure(partial: Partial<WorkspaceSettings>): void {
    Object.assign(this.settings, partial);
  }

  setTokenTtl(seconds: number): void {
    this.settings.tokenTtlSeconds = seconds;
  }

  nextId(): number {
    return this.idBase + ++this.idSeq;
  }

  // ---- principals ------------------------------------------------------------------------

  /** A personal access token of a workspace user (default user@example.com). */
  addPat(token: string, user = 'user@example.com'): void {
    this.pats.set(token, user);
    this.addPrincipal({ id: user, displayName: user, kind: 'user', via: 'added' });
  }

  revokePat(token: string): void {
    this.pats.delete(token);
  }

  /** A Databricks service principal with an OAuth secret (M2M). */
  addServicePrincipal(sp: { clientId: string; secret: string; displayName?: string }): void {
    this.spSecrets.set(sp.clientId, sp.secret);
    this.addPrincipal({
      id: sp.clientId,
      displayName: sp.displayName ?? sp.clientId,
      kind: 'service-principal',
      via: 'added',
    });
  }

  /** An Entra ID service principal (by application id) that is a member of the workspace. */
  addEntraPrincipal(appId: string, displayName?: string): void {
    this.addPrincipal({
      id: appId,
      displayName: displayName ?? appId,
      kind: 'entra-service-principal',
      via: 'added',
    });
  }

  removePrincipal(id: string): void {
    this.principals.delete(id);
    this.spSecrets.delete(id);
    for (const [t, u] of this.pats) if (u === id) this.pats.delete(t);
  }

  isMember(id: string): boolean {
    return this.principals.has(id);
  }

  members(): Principal[] {
    return [...this.principals.values()];
  }

  private addPrincipal(p: Principal): void {
    if (!this.principals.has(p.id)) this.principals.set(p.id, p);
    this.fs.ensureDir(`/Users/${p.id}`);
  }

  // ---- authentication ----------------------------------------------------------------------

  /** Authenticates an API request as the Databricks front end does; throws the documented errors. */
  authenticate(req: EmuRequest): Principal {
    const header = headerValue(req.headers.authorization);
    if (!header) {
      throw new ApiError(
        401,
        'UNAUTHENTICATED',
        'Unauthenticated: no credentials were provided with the request.',
      );
    }
    const bearer = TokenRegistry.bearer(header);
    if (!bearer)
      throw new ApiError(401, 'UNAUTHENTICATED', 'Unauthenticated: only Bearer authentication is accepted.');
    const patUser = this.pats.get(bearer);
    if (patUser !== undefined) {
      const p = this.principals.get(patUser);
      if (p) return p;
    }
    if (bearer.split('.').length !== 3) throw invalidToken();
    const claims = this.verifyJwt(bearer);
    if (claims.kind === 'databricks-oauth') {
      const p = claims.ws === this.hostName ? this.principals.get(String(claims.sub)) : undefined;
      if (!p || !this.spSecrets.has(p.id)) throw invalidToken();
      return p;
    }
    const aud = String(claims.aud ?? '').replace(/\/+$/, '');
    if (aud !== AZURE_DATABRICKS_APP_ID && aud !== `api://${AZURE_DATABRICKS_APP_ID}`) throw invalidToken();
    if (this.settings.tenantId && claims.tid !== this.settings.tenantId) throw invalidToken();
    const appId = String(claims.appid ?? claims.azp ?? claims.sub ?? '');
    const member = this.principals.get(appId);
    if (member) return member;
    return this.provisionThroughAzureRole(req, appId);
  }

  /** A service principal that is not a member gets in through its Azure role on the workspace resource. */
  private provisionThroughAzureRole(req: EmuRequest, appId: string): Principal {
    const mgmt = headerValue(req.headers['x-databricks-azure-sp-management-token']);
    const resourceId = headerValue(req.headers['x-databricks-azure-workspace-resource-id']);
    if (!mgmt || !resourceId) {
      throw new ApiError(
        403,
        'PERMISSION_DENIED',
        `User not authorized. The service principal ${appId} is not a member of this workspace; add it to the workspace, or send X-Databricks-Azure-SP-Management-Token and X-Databricks-Azure-Workspace-Resource-Id.`,
      );
    }
    if (resourceId.toLowerCase() !== this.azureResourceId.toLowerCase()) {
      throw new ApiError(
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `The workspace with resource ID ${resourceId} could not be found.`,
        true,
      );
    }
    const m = this.emu.tokens.verify(mgmt);
    if (!m.ok) throw new ApiError(403, 'PERMISSION_DENIED', 'Invalid Azure management token.', true);
    const aud = String(m.claims.aud ?? '')
      .replace(/\/+$/, '')
      .toLowerCase();
    if (!this.managementAudiences().includes(aud)) {
      throw new ApiError(403, 'PERMISSION_DENIED', 'Invalid Azure management token: wrong audience.', true);
    }
    const mgmtApp = String(m.claims.appid ?? m.claims.azp ?? m.claims.sub ?? '');
    if (mgmtApp !== appId) {
      throw new ApiError(
        403,
        'PERMISSION_DENIED',
        'The Azure management token belongs to another principal.',
        true,
      );
    }
    const p: Principal = {
      id: appId,
      displayName: appId,
      kind: 'entra-service-principal',
      via: 'azure-role',
    };
    this.addPrincipal(p);
    return p;
  }

  private managementAudiences(): string[] {
    const hosts = [...this.emu.hosts.values()]
      .filter((h) => h.role !== 'databricks' && /management|arm/i.test(`${h.name} ${h.role}`))
      .map((h) => h.url);
    return [...MANAGEMENT_AUDIENCES, ...hosts, ...this.settings.managementAudiences].map((a) =>
      a.replace(/\/+$/, '').toLowerCase(),
    );
  }

  private verifyJwt(token: string): TokenClaims {
    const v = this.emu.tokens.verify(token);
    if (!v.ok) {
      if (v.reason === 'expired') throw this.expired();
      throw invalidToken();
    }
    const exp = typeof v.claims.exp === 'number' ? v.claims.exp * 1000 : Infinity;
    const leeway = this.settings.rejectTokensExpiringWithinSeconds;
    if (leeway > 0 && exp - Date.now() < leeway * 1000) {
      throw new ApiError(
        403,
        'PERMISSION_DENIED',
        `Token is expiring within ${leeway} seconds. (token expired)`,
        true,
      );
    }
    return v.claims;
  }

  private expired(): ApiError {
    return this.settings.expiredTokenResponse === '403'
      ? new ApiError(403, 'PERMISSION_DENIED', 'JWT has expired', true)
      : new ApiError(401, 'UNAUTHENTICATED', 'Token is expired', true);
  }

  /** OAuth M2M client credentials check; returns the token response or an OAuth error response. */
  issueOAuthToken(req: EmuRequest): EmuResponse {
    const oauthError = (status: number, error: string, description: string): EmuResponse => ({
      status,
      json: { error, error_description: description },
    });
    if (!req.form)
      return oauthError(400, 'invalid_request', 'The request must be application/x-www-form-urlencoded.');
    let clientId = req.form.client_id;
    let secret = req.form.client_secret;
    const basic = /^Basic\s+(.+)$/i.exec(headerValue(req.headers.authorization) ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      clientId = decodeURIComponent(i < 0 ? decoded : decoded.slice(0, i));
      secret = decodeURIComponent(i < 0 ? '' : decoded.slice(i + 1));
    }
    if (!clientId || secret === undefined || this.spSecrets.get(clientId) !== secret) {
      return oauthError(401, 'invalid_client', 'Client authentication failed');
    }
    if (req.form.grant_type !== 'client_credentials') {
      return oauthError(
        400,
        'unsupported_grant_type',
        `Grant type ${req.form.grant_type ?? '(none)'} is not supported.`,
      );
    }
    const scope = req.form.scope || 'all-apis';
    const ttl = this.settings.tokenTtlSeconds;
    const { token } = this.emu.tokens.issue(
      {
        aud: this.url,
        sub: clientId,
        iss: `${this.url}/oidc`,
        client_id: clientId,
        scope,
        kind: 'databricks-oauth',
        ws: this.hostName,
      },
      ttl,
    );
    return {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      json: { access_token: token, token_type: 'Bearer', expires_in: ttl, scope },
    };
  }

  // ---- workspace objects ---------------------------------------------------------------------

  get(path: string): ObjectView | undefined {
    const o = this.fs.get(path);
    return o ? view(o) : undefined;
  }

  /** Every path under a folder (default the whole tree), sorted, optionally of one type. */
  paths(opts: { under?: string; type?: ObjectType } = {}): string[] {
    return this.fs
      .walk(opts.under ?? '/')
      .filter((o) => !opts.type || o.object_type === opts.type)
      .map((o) => o.path)
      .sort();
  }

  /** Notebook SOURCE text (header included) or file content as UTF-8; undefined for folders and missing paths. */
  content(path: string): string | undefined {
    const o = this.fs.get(path);
    return o ? objectText(o) : undefined;
  }

  language(path: string): Language | undefined {
    return this.fs.get(path)?.language;
  }

  objectType(path: string): ObjectType | undefined {
    return this.fs.get(path)?.object_type;
  }

  modifiedAt(path: string): number | undefined {
    return this.fs.get(path)?.modified_at;
  }

  objectId(path: string): number | undefined {
    return this.fs.get(path)?.object_id;
  }

  mkdirs(path: string): ObjectView {
    return view(this.fs.ensureDir(path));
  }

  /** Creates or replaces a notebook (parents created); the header line is optional. */
  addNotebook(path: string, source: string, language: Language = 'PYTHON'): ObjectView {
    if (!LANGUAGES.includes(language)) throw new Error(`unknown language ${language}`);
    const o = this.fs.put(path, { object_type: 'NOTEBOOK', language, body: '' });
    this.fs.edit(o.path, source);
    return view(o);
  }

  addFile(path: string, content: string | Buffer): ObjectView {
    const data = Buffer.isBuffer(content) ? Buffer.from(content) : Buffer.from(content, 'utf8');
    return view(this.fs.put(path, { object_type: 'FILE', data }));
  }

  /** A Repo (object_type REPO) or, with gitFolder, a git folder (DIRECTORY with directory_info.is_git_folder). */
  addRepo(path: string, opts: { gitFolder?: boolean } = {}): ObjectView {
    return view(
      this.fs.put(
        path,
        opts.gitFolder ? { object_type: 'DIRECTORY', isGitFolder: true } : { object_type: 'REPO' },
      ),
    );
  }

  /** Changes content as a user editing it by hand would (drift); bumps modified_at. */
  edit(path: string, content: string | Buffer): ObjectView {
    return view(this.fs.edit(path, content));
  }

  remove(path: string): void {
    this.fs.removeObject(path);
  }

  /** Folders workspace/delete refuses to remove. */
  protectedPaths(): Set<string> {
    return new Set([
      '/',
      '/Users',
      '/Shared',
      '/Repos',
      ...[...this.principals.keys()].map((id) => `/Users/${id}`),
    ]);
  }

  // ---- clusters ---------------------------------------------------------------------------

  addCluster(spec: ClusterSpec): Cluster {
    validateClusterSpec(spec);
    const c = new Cluster(
      spec,
      { startMs: this.settings.clusterStartMs, terminateMs: this.settings.clusterTerminateMs },
      this.members().find((p) => p.kind === 'user')?.id ?? 'user@example.com',
    );
    this.clusters.set(spec.cluster_id, c);
    return c;
  }

  cluster(id: string): Cluster {
    const c = this.clusters.get(id);
    if (!c) throw clusterMissing(id);
    return c;
  }

  setClusterState(id: string, state: ClusterState): void {
    this.cluster(id).setState(state);
  }

  // ---- runs ---------------------------------------------------------------------------------

  /**
   * Scripts how runs of a notebook (or 'task:<task_key>') end. With once, the outcome is
   * used by the next run only, before any standing script.
   */
  scriptRun(notebookPathOrTaskKey: string, outcome: RunOutcome = {}, opts: { once?: boolean } = {}): void {
    const key = scriptKey(notebookPathOrTaskKey);
    if (opts.once) {
      const q = this.scriptQueues.get(key) ?? [];
      q.push(outcome);
      this.scriptQueues.set(key, q);
    } else {
      this.scripts.set(key, outcome);
    }
  }

  clearScripts(): void {
    this.scripts.clear();
    this.scriptQueues.clear();
  }

  private outcomeFor(t: { task_key: string; notebookPath?: string }): RunOutcome {
    for (const key of [`task:${t.task_key}`, t.notebookPath]) {
      if (key === undefined) continue;
      const q = this.scriptQueues.get(key);
      if (q && q.length) return q.shift() as RunOutcome;
      const s = this.scripts.get(key);
      if (s) return s;
    }
    return {};
  }

  runs(): RunView[] {
    return [...this.jobsState.runs.values()].sort((a, b) => a.run_id - b.run_id).map((r) => this.runView(r));
  }

  run(runId: number): RunView {
    const r = this.jobsState.runs.get(runId);
    if (!r) throw new Error(`no run ${runId} in workspace ${this.name}`);
    return this.runView(r);
  }

  jobs(): { job_id: number; settings: Record<string, unknown> }[] {
    return [...this.jobsState.jobs.values()].map((j) => ({ job_id: j.job_id, settings: j.settings }));
  }

  /** Creates a job as jobs/create would, e.g. for run-now or the gate's "latest run of a job". */
  addJob(settings: Record<string, unknown>, creator = 'user@example.com'): number {
    return this.jobsState.createJob(settings, creator).job_id;
  }

  private runView(r: RunRecord): RunView {
    const json = this.jobsState.getRun(r.run_id, '2.1');
    return {
      run_id: r.run_id,
      job_id: r.job_id,
      run_name: r.run_name,
      run_type: r.run_type,
      apiVersion: r.apiVersion,
      submittedAt: r.submittedAt,
      idempotencyToken: r.idempotencyToken,
      submitRequests: r.submitRequests,
      cancelRequests: [...r.cancelRequests],
      creator: r.creator_user_name,
      timeoutSeconds: r.timeoutSeconds,
      request: r.request,
      tasks: r.tasks.map((t) => {
        const nt = t.spec.notebook_task as { base_parameters?: Record<string, string> } | undefined;
        return {
          run_id: t.run_id,
          task_key: t.task_key,
          notebookPath: t.notebookPath,
          baseParameters: nt?.base_parameters,
          existingClusterId: t.clusterId,
          newCluster: t.spec.new_cluster,
          spec: t.spec,
          outcome: t.outcome,
        };
      }),
      state: json.state as RunView['state'],
      json,
    };
  }

  // ---- reset -------------------------------------------------------------------------------

  /** Back to a fresh workspace: objects, clusters, jobs, runs and scripts cleared, options restored; members kept. */
  reset(): void {
    Object.assign(this.settings, this.initialSettings, {
      managementAudiences: [...this.initialSettings.managementAudiences],
    });
    this.resetState();
  }

  private resetState(): void {
    this.fs.reset([
      '/Users',
      '/Shared',
      '/Repos',
      ...[...this.principals.keys()].map((id) => `/Users/${id}`),
    ]);
    this.clusters.clear();
    this.jobsState.reset();
    this.clearScripts();
  }

  /** The error response for an ApiError, honouring legacyIntegerErrorCodes. */
  errorResponse(e: ApiError): EmuResponse {
    if (e.gateway) {
      return {
        status: e.status,
        headers: { 'x-databricks-reason-phrase': e.message },
        json: { error_code: e.status, message: e.message },
      };
    }
    const out = this.emu.error(this.host, e.status, e.code, e.message);
    if (this.settings.legacyIntegerErrorCodes && out.json && typeof out.json === 'object') {
      (out.json as Record<string, unknown>).error_code = e.status;
    }
    return out;
  }
}

function invalidToken(): ApiError {
  return new ApiError(403, 'PERMISSION_DENIED', 'Invalid access token.', true);
}

function headerValue(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v && v.trim() ? v.trim() : undefined;
}

function scriptKey(k: string): string {
  if (k.startsWith('task:')) return k;
  try {
    return canonicalPath(k);
  } catch {
    return k;
  }
}

function view(o: WsObject): ObjectView {
  const text = objectText(o);
  return {
    path: o.path,
    object_type: o.object_type,
    object_id: o.object_id,
    language: o.language,
    created_at: o.created_at,
    modified_at: o.modified_at,
    size: o.object_type === 'FILE' ? (o.data?.length ?? 0) : undefined,
    content:
      o.object_type === 'FILE'
        ? Buffer.from(o.data ?? Buffer.alloc(0))
        : text === undefined
          ? undefined
          : Buffer.from(text),
    text,
    isGitFolder: !!o.isGitFolder,
    importFormat: o.importFormat,
  };
}
