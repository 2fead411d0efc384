/**
 * Azure Databricks plugin for the emulator: every workspace is a host named
 * `ws-<name>` with role 'databricks'; all share these routes and keep their own
 * state. Shapes, status codes and error bodies follow
 * shared/reference/api-contracts.md sections 1–3.
 *
 * API names (for emu.addFault({api}), emu.setRateLimit(api, …), emu.requests({api})):
 *   workspace.import        POST /api/2.0/workspace/import (JSON or multipart)
 *   workspace.export        GET  /api/2.0/workspace/export
 *   workspace.list          GET  /api/2.0/workspace/list
 *   workspace.get-status    GET  /api/2.0/workspace/get-status
 *   workspace.mkdirs        POST /api/2.0/workspace/mkdirs
 *   workspace.delete        POST /api/2.0/workspace/delete
 *   jobs.runs.submit        POST /api/2.1|2.2/jobs/runs/submit
 *   jobs.runs.get           GET  /api/2.1|2.2/jobs/runs/get
 *   jobs.runs.get-output    GET  /api/2.1|2.2/jobs/runs/get-output
 *   jobs.runs.cancel        POST /api/2.1|2.2/jobs/runs/cancel
 *   jobs.runs.list          GET  /api/2.1|2.2/jobs/runs/list
 *   jobs.run-now            POST /api/2.1|2.2/jobs/run-now
 *   jobs.create             POST /api/2.1|2.2/jobs/create
 *   jobs.get                GET  /api/2.1|2.2/jobs/get
 *   jobs.list               GET  /api/2.1|2.2/jobs/list
 *   jobs.delete             POST /api/2.1|2.2/jobs/delete
 *   clusters.get            GET  /api/2.0|2.1/clusters/get
 *   clusters.start          POST /api/2.0|2.1/clusters/start
 *   clusters.list           GET  /api/2.0|2.1/clusters/list
 *   scim.me                 GET  /api/2.0/preview/scim/v2/Me
 *   oidc.discovery          GET  /oidc/.well-known/oauth-authorization-server
 *   oidc.token              POST /oidc/v1/token
 *
 * Control routes (any host), JSON bodies, for a standalone emulator driven over HTTP:
 *   GET  /_emulator/databricks/workspaces                 list workspaces
 *   POST /_emulator/databricks/workspaces                 {name, ...WorkspaceOptions} → add one
 *   POST /_emulator/databricks/<ws>/settings              Partial<WorkspaceSettings>
 *   POST /_emulator/databricks/<ws>/pat                   {token, user?}
 *   POST /_emulator/databricks/<ws>/service-principal     {clientId, secret, displayName?}
 *   POST /_emulator/databricks/<ws>/entra-principal       {appId, displayName?}
 *   POST /_emulator/databricks/<ws>/cluster               ClusterSpec; GET …/cluster?cluster_id=
 *   POST /_emulator/databricks/<ws>/cluster-state         {cluster_id, state}
 *   POST /_emulator/databricks/<ws>/script-run            {notebookPath | taskKey, once?, ...RunOutcome}
 *   POST /_emulator/databricks/<ws>/repo                  {path, gitFolder?}
 *   POST /_emulator/databricks/<ws>/objects               {path, type: NOTEBOOK|FILE|DIRECTORY, content?, contentBase64?, language?}
 *   GET  /_emulator/databricks/<ws>/objects?under=        [ObjectView without content]
 *   GET  /_emulator/databricks/<ws>/object?path=          ObjectView with text
 *   POST /_emulator/databricks/<ws>/edit                  {path, content} (a manual change: drift)
 *   GET  /_emulator/databricks/<ws>/runs                  [RunView]
 *   POST /_emulator/databricks/<ws>/reset                 fresh workspace state
 * <ws> is the workspace name, with or without the ws- prefix.
 */
import type { EmuRequest, EmuResponse, Emulator, Handler } from './core';
import { ApiError, invalidParam } from './databricks/api-error';
import type { ClusterSpec, ClusterState } from './databricks/clusters';
import type { RunOutcome } from './databricks/jobs';
import type { Language } from './databricks/notebook-format';
import {
  Workspace,
  type Principal,
  type WorkspaceOptions,
  type WorkspaceSettings,
} from './databricks/workspace';

export { Workspace, AZURE_DATABRICKS_APP_ID, DEFAULT_SETTINGS } from './databricks/workspace';
export type {
  WorkspaceOptions,
  WorkspaceSettings,
  ObjectView,
  RunView,
  RunTaskView,
  Principal,
} from './databricks/workspace';
export type { RunOutcome, ResultState, LifeCycleState } from './databricks/jobs';
export type { ClusterSpec, ClusterState, Cluster } from './databricks/clusters';
export type { Language } from './databricks/notebook-format';
export type { ObjectType } from './databricks/workspace-fs';

export const DATABRICKS_ROLE = 'databricks';

export interface DatabricksEmulator {
  /** Adds a workspace host `ws-<name>`. */
  addWorkspace(name: string, opts?: WorkspaceOptions): Promise<Workspace>;
  workspace(name: string): Workspace;
  workspaces(): Workspace[];
}

interface Ctx {
  req: EmuRequest;
  ws: Workspace;
  principal: Principal;
  version: string;
}

type ApiHandler = (ctx: Ctx) => unknown;

const INSTALLED = new WeakMap<Emulator, DatabricksEmulator>();

export function installDatabricks(emu: Emulator): DatabricksEmulator {
  const existing = INSTALLED.get(emu);
  if (existing) return existing;
  const byHost = new Map<string, Workspace>();

  const dbx: DatabricksEmulator = {
    async addWorkspace(name, opts = {}) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) throw new Error(`invalid workspace name ${name}`);
      const host = await emu.addHost(`ws-${name}`, { role: DATABRICKS_ROLE, style: 'databricks' });
      const ws = new Workspace(name, host, emu, opts);
      byHost.set(host.name, ws);
      return ws;
    },
    workspace(name) {
      const ws = byHost.get(name.startsWith('ws-') ? name : `ws-${name}`) ?? byHost.get(`ws-${name}`);
      if (!ws) throw new Error(`no Databricks workspace named ${name}`);
      return ws;
    },
    workspaces() {
      return [...byHost.values()];
    },
  };
  INSTALLED.set(emu, dbx);
  emu.onReset(() => {
    for (const ws of byHost.values()) ws.reset();
  });

  const wrap =
    (handler: ApiHandler, opts: { auth?: boolean } = {}): Handler =>
    async (req) => {
      const ws = byHost.get(req.host.name);
      if (!ws)
        return {
          status: 404,
          json: { error_code: 'ENDPOINT_NOT_FOUND', message: 'Not a Databricks workspace.' },
        };
      try {
        const principal = opts.auth === false ? (undefined as unknown as Principal) : ws.authenticate(req);
        const version = /^\/api\/(\d\.\d)\//.exec(req.path)?.[1] ?? '2.0';
        const out = await handler({ req, ws, principal, version });
        if (isResponse(out)) return out;
        return { status: 200, json: out ?? {} };
      } catch (e) {
        if (e instanceof ApiError) return ws.errorResponse(e);
        throw e;
      }
    };

  const route = (
    method: string,
    pattern: string,
    api: string,
    handler: ApiHandler,
    opts?: { auth?: boolean },
  ) => emu.route(DATABRICKS_ROLE, method, pattern, api, wrap(handler, opts));

  // ---- Workspace API 2.0 --------------------------------------------------------------------

  route('POST', '/api/2.0/workspace/import', 'workspace.import', ({ req, ws }) => {
    ws.fs.import(importRequest(req));
    return {};
  });
  route('GET', '/api/2.0/workspace/export', 'workspace.export', ({ req, ws }) => {
    const r = ws.fs.export(requiredString(req, 'path'), optionalString(req, 'format'));
    if (truthy(param(req, 'direct_download'))) {
      return {
        status: 200,
        headers: {
          'content-type': 'application/octet-stream',
          'content-disposition': `attachment; filename="${r.filename.replace(/"/g, '')}"`,
        },
        body: r.content,
      } satisfies EmuResponse;
    }
    return { content: r.content.toString('base64'), file_type: r.fileType };
  });
  route('GET', '/api/2.0/workspace/list', 'workspace.list', ({ req, ws }) => {
    const after = optionalString(req, 'notebooks_modified_after');
    return ws.fs.list(requiredString(req, 'path'), after === undefined ? undefined : Number(after));
  });
  route('GET', '/api/2.0/workspace/get-status', 'workspace.get-status', ({ req, ws }) =>
    ws.fs.getStatus(requiredString(req, 'path')),
  );
  route('POST', '/api/2.0/workspace/mkdirs', 'workspace.mkdirs', ({ req, ws }) => {
    ws.fs.mkdirs(requiredString(req, 'path'));
    return {};
  });
  route('POST', '/api/2.0/workspace/delete', 'workspace.delete', ({ req, ws }) => {
    ws.fs.delete(requiredString(req, 'path'), truthy(param(req, 'recursive')), ws.protectedPaths());
    return {};
  });

  // ---- Jobs API 2.1 / 2.2 ---------------------------------------------------------------------

  for (const v of ['2.1', '2.2']) {
    const base = `/api/${v}/jobs`;
    route('POST', `${base}/runs/submit`, 'jobs.runs.submit', ({ req, ws, principal, version }) =>
      ws.jobsState.submit(jsonBody(req), principal.id, version),
    );
    route('GET', `${base}/runs/get`, 'jobs.runs.get', ({ req, ws, version }) =>
      ws.jobsState.getRun(param(req, 'run_id'), version, optionalString(req, 'page_token')),
    );
    route('GET', `${base}/runs/get-output`, 'jobs.runs.get-output', ({ req, ws }) =>
      ws.jobsState.getOutput(param(req, 'run_id')),
    );
    route('POST', `${base}/runs/cancel`, 'jobs.runs.cancel', ({ req, ws }) => {
      ws.jobsState.cancel(jsonBody(req));
      return {};
    });
    route('GET', `${base}/runs/list`, 'jobs.runs.list', ({ req, ws, version }) =>
      ws.jobsState.list(req.query, version),
    );
    route('POST', `${base}/run-now`, 'jobs.run-now', ({ req, ws, principal, version }) =>
      ws.jobsState.runNow(jsonBody(req), principal.id, version),
    );
    route('POST', `${base}/create`, 'jobs.create', ({ req, ws, principal }) =>
      ws.jobsState.createJob(jsonBody(req), principal.id),
    );
    route('GET', `${base}/get`, 'jobs.get', ({ req, ws, version }) =>
      ws.jobsState.getJob(param(req, 'job_id'), version, optionalString(req, 'page_token')),
    );
    route('GET', `${base}/list`, 'jobs.list', ({ ws }) => ws.jobsState.listJobs());
    route('POST', `${base}/delete`, 'jobs.delete', ({ req, ws }) => {
      ws.jobsState.deleteJob((jsonBody(req) as Record<string, unknown>).job_id);
      return {};
    });
  }

  // ---- Clusters 2.0 / 2.1 --------------------------------------------------------------------

  for (const v of ['2.0', '2.1']) {
    route('GET', `/api/${v}/clusters/get`, 'clusters.get', ({ req, ws }) =>
      ws.cluster(requiredString(req, 'cluster_id')).details(),
    );
    route('POST', `/api/${v}/clusters/start`, 'clusters.start', ({ req, ws }) => {
      ws.cluster(requiredString(req, 'cluster_id')).start('api');
      return {};
    });
    route('GET', `/api/${v}/clusters/list`, 'clusters.list', ({ ws }) => {
      const clusters = [...ws.clusters.values()].map((c) => c.details());
      return clusters.length ? { clusters } : {};
    });
  }

  // ---- SCIM Me, OAuth ------------------------------------------------------------------------

  route('GET', '/api/2.0/preview/scim/v2/Me', 'scim.me', ({ principal }) => {
    const me: Record<string, unknown> = {
      schemas: [
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:workspace:2.0:User',
      ],
      id: String(stableId(principal.id)),
      userName: principal.id,
      displayName: principal.displayName,
      active: true,
      groups: [{ display: 'users', type: 'direct', value: '1000000000000001' }],
    };
    if (principal.kind === 'user') me.emails = [{ type: 'work', value: principal.id, primary: true }];
    return me;
  });

  route(
    'GET',
    '/oidc/.well-known/oauth-authorization-server',
    'oidc.discovery',
    ({ ws }) => ({
      issuer: `${ws.url}/oidc`,
      authorization_endpoint: `${ws.url}/oidc/v1/authorize`,
      token_endpoint: `${ws.url}/oidc/v1/token`,
      jwks_uri: `${ws.url}/oidc/jwks.json`,
      grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
      response_types_supported: ['code', 'id_token'],
      scopes_supported: ['all-apis', 'email', 'offline_access', 'openid', 'profile', 'sql'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      code_challenge_methods_supported: ['S256'],
    }),
    { auth: false },
  );
  route('POST', '/oidc/v1/token', 'oidc.token', ({ req, ws }) => ws.issueOAuthToken(req), { auth: false });

  registerControlRoutes(emu, dbx);
  return dbx;
}

// ---- control API ------------------------------------------------------------------------------

function registerControlRoutes(emu: Emulator, dbx: DatabricksEmulator): void {
  const control = (
    method: string,
    pattern: string,
    handler: (ws: Workspace, b: Record<string, unknown>, req: EmuRequest) => unknown,
  ) =>
    emu.control(method, `/databricks/:ws${pattern}`, async (req) => {
      let ws: Workspace;
      try {
        ws = dbx.workspace(req.params.ws);
      } catch (e) {
        return { status: 404, json: { message: (e as Error).message } };
      }
      try {
        const b = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
        const out = await handler(ws, b, req);
        return { status: 200, json: out ?? {} };
      } catch (e) {
        return { status: 400, json: { message: e instanceof Error ? e.message : String(e) } };
      }
    });

  const summary = (ws: Workspace) => ({
    name: ws.name,
    host: ws.hostName,
    url: ws.url,
    orgId: ws.orgId,
    azureResourceId: ws.azureResourceId,
    settings: ws.settings,
    members: ws.members(),
  });

  emu.control('GET', '/databricks/workspaces', () => ({ status: 200, json: dbx.workspaces().map(summary) }));
  emu.control('POST', '/databricks/workspaces', async (req) => {
    const b = (req.body ?? {}) as { name?: string } & WorkspaceOptions;
    try {
      const { name, ...opts } = b;
      const ws = await dbx.addWorkspace(String(name), opts);
      return { status: 200, json: summary(ws) };
    } catch (e) {
      return { status: 400, json: { message: (e as Error).message } };
    }
  });

  control('POST', '/settings', (ws, b) => {
    ws.configure(b as Partial<WorkspaceSettings>);
    return ws.settings;
  });
  control('POST', '/pat', (ws, b) =>
    ws.addPat(String(b.token), b.user === undefined ? undefined : String(b.user)),
  );
  control('POST', '/service-principal', (ws, b) =>
    ws.addServicePrincipal({
      clientId: String(b.clientId),
      secret: String(b.secret),
      displayName: b.displayName === undefined ? undefined : String(b.displayName),
    }),
  );
  control('POST', '/entra-principal', (ws, b) =>
    ws.addEntraPrincipal(String(b.appId), b.displayName === undefined ? undefined : String(b.displayName)),
  );
  control('POST', '/cluster', (ws, b) => ws.addCluster(b as ClusterSpec).details());
  control('GET', '/cluster', (ws, _b, req) => ws.cluster(String(req.query.get('cluster_id'))).details());
  control('POST', '/cluster-state', (ws, b) => {
    ws.setClusterState(String(b.cluster_id), b.state as ClusterState);
    return ws.cluster(String(b.cluster_id)).details();
  });
  control('POST', '/script-run', (ws, b) => {
    const { notebookPath, taskKey, once, ...outcome } = b;
    const key = taskKey !== undefined ? `task:${String(taskKey)}` : String(notebookPath);
    ws.scriptRun(key, outcome as RunOutcome, { once: once === true });
  });
  control('POST', '/repo', (ws, b) => ws.addRepo(String(b.path), { gitFolder: b.gitFolder === true }));
  control('POST', '/objects', (ws, b) => {
    const p = String(b.path);
    const content =
      typeof b.contentBase64 === 'string'
        ? Buffer.from(b.contentBase64, 'base64')
        : Buffer.from(String(b.content ?? ''));
    let v;
    if (b.type === 'DIRECTORY') v = ws.mkdirs(p);
    else if (b.type === 'FILE') v = ws.addFile(p, content);
    else v = ws.addNotebook(p, content.toString('utf8'), (b.language as Language | undefined) ?? 'PYTHON');
    return { ...v, content: undefined };
  });
  control('GET', '/objects', (ws, _b, req) =>
    ws
      .paths({ under: req.query.get('under') ?? '/' })
      .map((p) => ({ ...ws.get(p), content: undefined, text: undefined })),
  );
  control('GET', '/object', (ws, _b, req) => {
    const v = ws.get(String(req.query.get('path')));
    if (!v) throw new Error(`no object at ${req.query.get('path')}`);
    return { ...v, content: undefined };
  });
  control('POST', '/edit', (ws, b) => ({
    ...ws.edit(String(b.path), String(b.content ?? '')),
    content: undefined,
  }));
  control('GET', '/runs', (ws) => ws.runs());
  control('POST', '/reset', (ws) => ws.reset());
}

// ---- request helpers -----------------------------------------------------------------------------

function isResponse(v: unknown): v is EmuResponse {
  return (
    !!v &&
    typeof v === 'object' &&
    typeof (v as EmuResponse).status === 'number' &&
    ('json' in (v as object) || 'body' in (v as object))
  );
}

/** GET parameters come from the query; legacy clients send them as a JSON body. */
function param(req: EmuRequest, name: string): unknown {
  const q = req.query.get(name);
  if (q !== null) return q;
  if (req.body && typeof req.body === 'object' && !req.multipart)
    return (req.body as Record<string, unknown>)[name];
  return undefined;
}

function optionalString(req: EmuRequest, name: string): string | undefined {
  const v = param(req, name);
  return v === undefined || v === null ? undefined : String(v);
}

function requiredString(req: EmuRequest, name: string): string {
  const v = param(req, name);
  if (v === undefined || v === null || v === '') throw invalidParam(`Missing required field: ${name}`);
  return String(v);
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

function jsonBody(req: EmuRequest): unknown {
  if (req.rawBody.length > 0 && req.body === undefined) {
    throw new ApiError(
      400,
      'MALFORMED_REQUEST',
      'Invalid JSON given in the body of the request - expected a map',
    );
  }
  return req.body ?? {};
}

function importRequest(req: EmuRequest) {
  if (req.multipart) {
    const f = req.multipart.fields;
    const file = req.multipart.files.find((x) => x.name === 'content');
    return {
      path: requiredField(f.path, 'path'),
      format: f.format,
      language: f.language,
      overwrite: f.overwrite === 'true',
      content: file ? file.content : Buffer.from(f.content ?? '', 'utf8'),
    };
  }
  const b = jsonBody(req) as Record<string, unknown>;
  if (b.content !== undefined && typeof b.content !== 'string')
    throw invalidParam('content must be a base64 string.');
  const content = (b.content as string | undefined) ?? '';
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/.test(content)) throw invalidParam('content is not valid base64.');
  return {
    path: requiredField(b.path, 'path'),
    format: b.format === undefined ? undefined : String(b.format),
    language: b.language === undefined ? undefined : String(b.language),
    overwrite: truthy(b.overwrite),
    content: Buffer.from(content, 'base64'),
  };
}

function requiredField(v: unknown, name: string): string {
  if (v === undefined || v === null || v === '') throw invalidParam(`Missing required field: ${name}`);
  return String(v);
}

function stableId(s: string): number {
  let h = 17;
  for (const ch of s) h = (h * 131 + ch.charCodeAt(0)) % 9_000_000_000_000;
  return 1_000_000_000_000 + h;
}
