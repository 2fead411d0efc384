/**
 * An in-memory Workspace API behind the HttpClient interface, for fast,
 * deterministic unit tests of the deploy core: records every call in order and
 * fails chosen calls on demand. The HTTPS emulator (test/emulator) is used by
 * the end-to-end tests.
 */
import { HttpError } from '../../../../src/http/errors';
import type { HttpClient, HttpErrorKind, HttpRequest, HttpResponse } from '../../../../src/http/types';

export interface FakeObject {
  type: 'NOTEBOOK' | 'DIRECTORY' | 'FILE' | 'REPO';
  language?: string;
  content?: Buffer;
  format?: string;
  id: number;
  modified: number;
  gitFolder?: boolean;
}

export interface FakeCall {
  op: 'import' | 'export' | 'list' | 'get-status' | 'mkdirs' | 'delete';
  path: string;
  transport?: 'json' | 'multipart';
  format?: string;
  overwrite?: boolean;
  recursive?: boolean;
  /** list: the notebooks_modified_after parameter. */
  modifiedAfter?: number;
}

type Failure = { status: number; code: string; message: string; kind: HttpErrorKind; retryable?: boolean };

export class FakeWorkspace implements HttpClient {
  readonly objects = new Map<string, FakeObject>([['/', { type: 'DIRECTORY', id: 1, modified: 0 }]]);
  readonly calls: FakeCall[] = [];
  readonly stats = { requests: 0, retries: 0 };
  /** Notebooks report modified_at (real workspaces do; the docs say files only). */
  notebookTimestamps = true;
  /**
   * Files refuse overwrite with RESOURCE_ALREADY_EXISTS whatever the format. (databricks/cli#3386
   * shows this for AUTO; here it stands for any import the service refuses to overwrite.)
   */
  fileOverwriteBug = false;
  private nextId = 100;
  private clock = 1_000;
  private readonly failures: { match: (c: FakeCall) => boolean; failure: Failure; times: number }[] = [];

  constructor(readonly url = 'https://adb-1.1.azuredatabricks.net') {}

  withAuth(): HttpClient {
    return this;
  }

  /** Fails matching calls (`times` times, default always). */
  failWhen(match: (c: FakeCall) => boolean, failure: Partial<Failure> = {}, times = Infinity): void {
    this.failures.push({
      match,
      times,
      failure: {
        status: 500,
        code: 'INTERNAL_ERROR',
        message: 'Injected failure.',
        kind: 'server',
        ...failure,
      },
    });
  }

  mkdir(path: string): void {
    const segs = path.split('/').filter(Boolean);
    for (let i = 1; i <= segs.length; i++) {
      const p = '/' + segs.slice(0, i).join('/');
      if (!this.objects.has(p))
        this.objects.set(p, { type: 'DIRECTORY', id: this.nextId++, modified: this.tick() });
    }
  }

  put(path: string, obj: Omit<FakeObject, 'id' | 'modified'>): void {
    this.mkdir(parent(path));
    this.objects.set(path, { ...obj, id: this.nextId++, modified: this.tick() });
  }

  /** A hand edit in the UI: new content and modified time, same id. */
  edit(path: string, content: string): void {
    const o = this.objects.get(path)!;
    o.content = Buffer.from(content);
    o.modified = this.tick();
  }

  text(path: string): string | undefined {
    return this.objects.get(path)?.content?.toString('utf8');
  }

  writes(): FakeCall[] {
    return this.calls.filter((c) => c.op === 'import' || c.op === 'mkdirs' || c.op === 'delete');
  }

  /** Paths under root (excluding it), sorted. */
  tree(root: string): string[] {
    return [...this.objects.keys()].filter((p) => p.startsWith(root + '/')).sort();
  }

  async request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    this.stats.requests++;
    const url = new URL(req.url);
    const op = url.pathname.replace('/api/2.0/workspace/', '') as FakeCall['op'];
    const body = (req.json ?? {}) as Record<string, unknown>;
    const fields = req.multipart?.fields ?? {};
    const path = String(req.query?.path ?? body.path ?? fields.path ?? '');
    const call: FakeCall = { op, path };
    if (op === 'import') {
      call.transport = req.multipart ? 'multipart' : 'json';
      call.format = String(body.format ?? fields.format);
      call.overwrite = req.multipart ? fields.overwrite === 'true' : body.overwrite === true;
    }
    if (op === 'export') call.format = String(req.query?.format);
    if (op === 'list' && req.query?.notebooks_modified_after !== undefined)
      call.modifiedAfter = Number(req.query.notebooks_modified_after);
    if (op === 'delete') call.recursive = body.recursive === true;
    this.calls.push(call);
    await Promise.resolve();
    const injected = this.failures.find((f) => f.times > 0 && f.match(call));
    if (injected) {
      injected.times--;
      throw this.error(req, injected.failure);
    }
    const ok = (data: unknown, status = 200) => ({ status, headers: {}, data: data as T, attempts: 1 });
    const notFound = (): HttpResponse<T> => {
      if (req.acceptStatuses?.includes(404)) return ok({ error_code: 'RESOURCE_DOES_NOT_EXIST' }, 404);
      throw this.error(req, {
        status: 404,
        code: 'RESOURCE_DOES_NOT_EXIST',
        message: `Path (${path}) doesn't exist.`,
        kind: 'notFound',
      });
    };
    const obj = this.objects.get(path);
    switch (op) {
      case 'get-status':
        return obj ? ok(this.info(path, obj)) : notFound();
      case 'list': {
        if (!obj) return notFound();
        if (obj.type !== 'DIRECTORY' && obj.type !== 'REPO') return ok({ objects: [this.info(path, obj)] });
        const after = req.query?.notebooks_modified_after;
        const kids = [...this.objects.keys()]
          .filter((p) => p !== '/' && parent(p) === path)
          .filter((p) => {
            const o = this.objects.get(p)!;
            return after === undefined || o.type !== 'NOTEBOOK' || o.modified > Number(after);
          })
          .sort();
        return ok(kids.length ? { objects: kids.map((k) => this.info(k, this.objects.get(k)!)) } : {});
      }
      case 'export':
        if (!obj) return notFound();
        return ok({ content: (obj.content ?? Buffer.alloc(0)).toString('base64'), file_type: 'x' });
      case 'mkdirs':
        this.mkdir(path);
        return ok({});
      case 'delete':
        if (!obj) return notFound();
        for (const p of [...this.objects.keys()])
          if (p === path || p.startsWith(path + '/')) this.objects.delete(p);
        return ok({});
      case 'import': {
        const content = req.multipart
          ? req.multipart.files[0].content
          : Buffer.from(String(body.content ?? ''), 'base64');
        const format = call.format!;
        const overwrite = call.overwrite!;
        const p = this.objects.get(parent(path));
        if (!p || p.type !== 'DIRECTORY') {
          throw this.error(req, {
            status: 404,
            code: 'RESOURCE_DOES_NOT_EXIST',
            message: 'The parent folder does not exist.',
            kind: 'notFound',
          });
        }
        const exists = () =>
          this.error(req, {
            status: 400,
            code: 'RESOURCE_ALREADY_EXISTS',
            message: `Path (${path}) already exists.`,
            kind: 'conflict',
          });
        if (obj && (!overwrite || obj.type === 'DIRECTORY')) throw exists();
        if (obj && this.fileOverwriteBug && obj.type === 'FILE') throw exists();
        const type =
          format === 'SOURCE' || format === 'JUPYTER' ? 'NOTEBOOK' : format === 'DBC' ? 'DIRECTORY' : 'FILE';
        const language =
          format === 'SOURCE'
            ? String(body.language ?? fields.language)
            : format === 'JUPYTER'
              ? 'PYTHON'
              : undefined;
        if (obj) {
          Object.assign(obj, { type, language, content, format, modified: this.tick() });
        } else {
          this.objects.set(path, {
            type,
            language,
            content,
            format,
            id: this.nextId++,
            modified: this.tick(),
          });
          if (format === 'DBC')
            this.objects.set(path + '/inner', {
              type: 'NOTEBOOK',
              language: 'PYTHON',
              id: this.nextId++,
              modified: this.tick(),
            });
        }
        return ok({});
      }
    }
    throw new Error(`fake workspace: unexpected ${req.method} ${url.pathname}`);
  }

  private info(path: string, o: FakeObject): Record<string, unknown> {
    const j: Record<string, unknown> = { path, object_type: o.type, object_id: o.id };
    if (o.type === 'NOTEBOOK') {
      j.language = o.language;
      if (this.notebookTimestamps) j.modified_at = o.modified;
    }
    if (o.type === 'FILE') {
      j.modified_at = o.modified;
      j.size = o.content?.length ?? 0;
    }
    if (o.gitFolder) j.directory_info = { is_git_folder: true };
    return j;
  }

  private tick(): number {
    return ++this.clock;
  }

  private error(req: HttpRequest, f: Failure): HttpError {
    return new HttpError({
      method: req.method,
      path: new URL(req.url).pathname,
      status: f.status,
      code: f.code,
      serviceMessage: f.message,
      kind: f.kind,
      attempts: 1,
      retryable: f.retryable ?? f.status >= 500,
      operation: req.operation,
    });
  }
}

function parent(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}
