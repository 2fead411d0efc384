/**
 * Typed client for the Databricks Workspace API 2.0 (import, export, list,
 * get-status, mkdirs, delete) over the shared HttpClient. Paths are sent as
 * given; callers normalise them (see deploy/paths.ts).
 */
import type { HttpClient } from '../http/types';
import type { ImportFormat, NotebookLanguage } from './notebook-format';

export type WorkspaceObjectType =
  | 'NOTEBOOK'
  | 'DIRECTORY'
  | 'LIBRARY'
  | 'FILE'
  | 'REPO'
  | 'DASHBOARD'
  | 'DESIGNER_FILE'
  // Newer object types appear over time; keep them rather than fail.
  | (string & {});

export interface WorkspaceObjectInfo {
  object_type: WorkspaceObjectType;
  path: string;
  object_id?: number;
  language?: NotebookLanguage;
  created_at?: number;
  modified_at?: number;
  size?: number;
  resource_id?: string;
  directory_info?: { is_git_folder?: boolean };
}

export type ExportFormat = 'SOURCE' | 'HTML' | 'JUPYTER' | 'DBC' | 'R_MARKDOWN' | 'AUTO' | 'RAW';

export interface ImportRequest {
  path: string;
  format: ImportFormat;
  language?: NotebookLanguage;
  content: Buffer;
  overwrite: boolean;
}

export interface ImportResult {
  /** Some workspaces return the new object's id; most return {}. */
  objectId?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ListOptions extends CallOptions {
  /**
   * Epoch milliseconds: notebooks not modified after this are left out of the listing
   * (files and folders are always listed). The one way to see notebook edits where the
   * listing carries no modified_at for notebooks (the docs promise it for files only).
   */
  notebooksModifiedAfter?: number;
}

export interface ImportOptions extends CallOptions {
  /** multipart/form-data avoids base64 (a third larger) for big content. Default: JSON. */
  transport?: 'json' | 'multipart';
}

export class WorkspaceClient {
  private readonly base: string;

  constructor(
    private readonly http: HttpClient,
    workspaceUrl: string,
  ) {
    this.base = workspaceUrl.trim().replace(/\/+$/, '');
  }

  get workspaceUrl(): string {
    return this.base;
  }

  /** POST /api/2.0/workspace/import. With overwrite it is idempotent, so it may be retried. */
  async importObject(req: ImportRequest, opts: ImportOptions = {}): Promise<ImportResult> {
    const url = `${this.base}/api/2.0/workspace/import`;
    const operation = `import ${req.path}`;
    const common = {
      method: 'POST' as const,
      url,
      idempotent: req.overwrite,
      signal: opts.signal,
      operation,
    };
    let data: unknown;
    if (opts.transport === 'multipart') {
      const fields: Record<string, string> = {
        path: req.path,
        format: req.format,
        overwrite: String(req.overwrite),
      };
      if (req.language) fields.language = req.language;
      const filename = req.path.split('/').pop() || 'content';
      const res = await this.http.request<unknown>({
        ...common,
        multipart: { fields, files: [{ name: 'content', filename, content: req.content }] },
      });
      data = res.data;
    } else {
      const json: Record<string, unknown> = {
        path: req.path,
        format: req.format,
        content: req.content.toString('base64'),
        overwrite: req.overwrite,
      };
      if (req.language) json.language = req.language;
      const res = await this.http.request<unknown>({ ...common, json });
      data = res.data;
    }
    const objectId = isRecord(data) && typeof data.object_id === 'number' ? data.object_id : undefined;
    return objectId === undefined ? {} : { objectId };
  }

  /** GET /api/2.0/workspace/export: the decoded content. */
  async exportObject(
    path: string,
    format: ExportFormat = 'SOURCE',
    opts: CallOptions = {},
  ): Promise<{ content: Buffer; fileType?: string }> {
    const res = await this.http.request<unknown>({
      method: 'GET',
      url: `${this.base}/api/2.0/workspace/export`,
      query: { path, format },
      signal: opts.signal,
      operation: `export ${path}`,
    });
    const data = isRecord(res.data) ? res.data : {};
    const content = typeof data.content === 'string' ? Buffer.from(data.content, 'base64') : Buffer.alloc(0);
    return { content, fileType: typeof data.file_type === 'string' ? data.file_type : undefined };
  }

  /** GET /api/2.0/workspace/list. Throws HttpError kind 'notFound' when the path does not exist. */
  async list(path: string, opts: ListOptions = {}): Promise<WorkspaceObjectInfo[]> {
    const res = await this.http.request<unknown>({
      method: 'GET',
      url: `${this.base}/api/2.0/workspace/list`,
      query: { path, notebooks_modified_after: opts.notebooksModifiedAfter },
      signal: opts.signal,
      operation: `list ${path}`,
    });
    return objectsOf(res.data);
  }

  /** Like list(), but undefined when the path does not exist. */
  async listIfExists(path: string, opts: ListOptions = {}): Promise<WorkspaceObjectInfo[] | undefined> {
    const res = await this.http.request<unknown>({
      method: 'GET',
      url: `${this.base}/api/2.0/workspace/list`,
      query: { path, notebooks_modified_after: opts.notebooksModifiedAfter },
      signal: opts.signal,
      acceptStatuses: [404],
      operation: `list ${path}`,
    });
    if (res.status === 404) return undefined;
    return objectsOf(res.data);
  }

  /** GET /api/2.0/workspace/get-status; undefined when the path does not exist. */
  async getStatus(path: string, opts: CallOptions = {}): Promise<WorkspaceObjectInfo | undefined> {
    const res = await this.http.request<unknown>({
      method: 'GET',
      url: `${this.base}/api/2.0/workspace/get-status`,
      query: { path },
      signal: opts.signal,
      acceptStatuses: [404],
      operation: `get status of ${path}`,
    });
    if (res.status === 404) return undefined;
    return toObjectInfo(res.data);
  }

  /** POST /api/2.0/workspace/mkdirs: like mkdir -p, so safe to retry. */
  async mkdirs(path: string, opts: CallOptions = {}): Promise<void> {
    await this.http.request<unknown>({
      method: 'POST',
      url: `${this.base}/api/2.0/workspace/mkdirs`,
      json: { path },
      idempotent: true,
      signal: opts.signal,
      operation: `create folder ${path}`,
    });
  }

  /**
   * POST /api/2.0/workspace/delete. Returns false when the path was already gone,
   * which also makes a retried delete (first attempt landed) succeed.
   */
  async delete(path: string, recursive: boolean, opts: CallOptions = {}): Promise<boolean> {
    const res = await this.http.request<unknown>({
      method: 'POST',
      url: `${this.base}/api/2.0/workspace/delete`,
      json: { path, recursive },
      idempotent: true,
      acceptStatuses: [404],
      signal: opts.signal,
      operation: `delete ${path}`,
    });
    return res.status !== 404;
  }
}

function objectsOf(data: unknown): WorkspaceObjectInfo[] {
  // An empty folder may come back as {} with no "objects".
  if (!isRecord(data) || !Array.isArray(data.objects)) return [];
  const out: WorkspaceObjectInfo[] = [];
  for (const o of data.objects) {
    const info = toObjectInfo(o);
    if (info) out.push(info);
  }
  return out;
}

function toObjectInfo(o: unknown): WorkspaceObjectInfo | undefined {
  if (!isRecord(o) || typeof o.path !== 'string' || typeof o.object_type !== 'string') return undefined;
  const info: WorkspaceObjectInfo = { object_type: o.object_type, path: o.path };
  const id = toNumber(o.object_id);
  if (id !== undefined) info.object_id = id;
  if (typeof o.language === 'string') info.language = o.language as NotebookLanguage;
  const created = toNumber(o.created_at);
  if (created !== undefined) info.created_at = created;
  const modified = toNumber(o.modified_at);
  if (modified !== undefined) info.modified_at = modified;
  const size = toNumber(o.size);
  if (size !== undefined) info.size = size;
  if (typeof o.resource_id === 'string') info.resource_id = o.resource_id;
  if (isRecord(o.directory_info))
    info.directory_info = { is_git_folder: o.directory_info.is_git_folder === true };
  return info;
}

// int64 fields can arrive as strings from some gateways.
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True for a Repo / Git folder, however the API reports it. */
export function isGitFolder(info: WorkspaceObjectInfo): boolean {
  return info.object_type === 'REPO' || info.directory_info?.is_git_folder === true;
}
