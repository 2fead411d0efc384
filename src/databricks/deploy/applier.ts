/**
 * Carries out a plan: folders first (each once, parents before children), then
 * every import concurrently, then, in mirror mode and only when everything
 * before succeeded, the deletes. Failures are collected, never thrown, so one
 * bad notebook does not stop the others.
 */
import type { Logger } from '../../common/logger';
import { runPool } from '../../common/pool';
import { isAbortError, sleep } from '../../common/sleep';
import { describeError, isHttpError } from '../../http/errors';
import type { ImportRequest, ImportResult, WorkspaceClient } from '../workspace-client';
import { isStrictlyInside, segments } from './paths';
import type { Plan, PlannedDelete, PlannedImport } from './planner';
import type { Failure } from './types';

export interface ApplyOptions {
  concurrency: number;
  logger: Logger;
  signal?: AbortSignal;
  /** Content at or above this size goes as multipart instead of base64 JSON. Default 1 MiB. */
  multipartThreshold?: number;
}

export interface ApplyResult {
  foldersCreated: string[];
  imported: { planned: PlannedImport; result: ImportResult }[];
  deleted: PlannedDelete[];
  failures: Failure[];
  /** True when mirror deletes were due but withheld because something failed. */
  deletesWithheld: boolean;
}

const DEFAULT_MULTIPART_THRESHOLD = 1024 * 1024;

export async function applyPlan(plan: Plan, ws: WorkspaceClient, opts: ApplyOptions): Promise<ApplyResult> {
  const result: ApplyResult = {
    foldersCreated: [],
    imported: [],
    deleted: [],
    failures: [],
    deletesWithheld: false,
  };
  const { logger, signal } = opts;
  const failedFolders: string[] = [];

  // Folders, one depth level at a time so parents exist before children.
  const levels = new Map<number, string[]>();
  for (const dir of plan.mkdirs) {
    const d = segments(dir).length;
    levels.set(d, [...(levels.get(d) ?? []), dir]);
  }
  for (const d of [...levels.keys()].sort((a, b) => a - b)) {
    const dirs = levels.get(d)!.filter((dir) => !failedFolders.some((f) => isWithinOrSame(f, dir)));
    const res = await runPool(dirs, opts.concurrency, (dir) => ws.mkdirs(dir, { signal }), { signal });
    for (const r of res) {
      if (r.ok) {
        result.foldersCreated.push(r.item);
        logger.debug(`Created folder ${r.item}`);
      } else {
        failedFolders.push(r.item);
        result.failures.push({ path: r.item, operation: 'create folder', message: describeFailure(r.error) });
      }
    }
  }

  // Imports.
  const threshold = opts.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const todo: PlannedImport[] = [];
  for (const p of plan.imports) {
    const blocked = failedFolders.find((f) => isWithinOrSame(f, p.path));
    if (blocked) {
      result.failures.push({
        path: p.path,
        operation: p.action,
        message: `not imported: folder ${blocked} could not be created`,
      });
    } else {
      todo.push(p);
    }
  }
  const progress = progressReporter(logger, todo.length);
  const res = await runPool(
    todo,
    opts.concurrency,
    async (p) => {
      const r = await importOne(ws, p, threshold, signal);
      progress();
      return r;
    },
    { signal },
  );
  for (const r of res) {
    if (r.ok) result.imported.push({ planned: r.item, result: r.value });
    else
      result.failures.push({
        path: r.item.path,
        operation: r.item.action,
        message: describeFailure(r.error),
      });
  }

  // Deletes: never when anything failed, never outside targetPath.
  if (plan.deletes.length > 0) {
    if (result.failures.length > 0) {
      result.deletesWithheld = true;
    } else {
      const safe = plan.deletes.filter((d) => {
        if (isStrictlyInside(plan.targetPath, d.path)) return true;
        result.failures.push({
          path: d.path,
          operation: 'delete',
          message: `refused: not inside ${plan.targetPath}`,
        });
        return false;
      });
      const del = await runPool(safe, opts.concurrency, (d) => ws.delete(d.path, d.recursive, { signal }), {
        signal,
      });
      for (const r of del) {
        if (r.ok) result.deleted.push(r.item);
        else
          result.failures.push({ path: r.item.path, operation: 'delete', message: describeFailure(r.error) });
      }
    }
  }
  result.failures.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}

async function importOne(
  ws: WorkspaceClient,
  p: PlannedImport,
  multipartThreshold: number,
  signal: AbortSignal | undefined,
): Promise<ImportResult> {
  const { item } = p;
  const transport = item.size >= multipartThreshold ? 'multipart' : 'json';
  if (item.format === 'DBC') return importDbc(ws, p, transport, signal);
  return importWithOverwrite(
    ws,
    {
      path: p.path,
      format: item.format,
      // The API needs a language for SOURCE; other formats carry their own.
      language: item.format === 'SOURCE' ? item.language : undefined,
      content: item.content,
      overwrite: true,
    },
    { transport, signal },
  );
}

/**
 * Import with overwrite, recovering from two things that happen in real
 * workspaces: the parent folder vanished since the listing (create it, retry
 * once), and a workspace file that refuses to be overwritten with
 * RESOURCE_ALREADY_EXISTS (databricks/cli#3386: delete that file, import again).
 */
export async function importWithOverwrite(
  ws: WorkspaceClient,
  req: ImportRequest,
  opts: { transport?: 'json' | 'multipart'; signal?: AbortSignal },
): Promise<ImportResult> {
  try {
    return await ws.importObject(req, opts);
  } catch (e) {
    if (isHttpError(e, 'notFound')) {
      await ws.mkdirs(parentOf(req.path), { signal: opts.signal });
      return ws.importObject(req, opts);
    }
    if (isHttpError(e, 'conflict') && (req.format === 'RAW' || req.format === 'AUTO')) {
      const existing = await ws.getStatus(req.path, { signal: opts.signal });
      if (existing?.object_type === 'FILE') {
        await ws.delete(req.path, false, { signal: opts.signal });
        return ws.importObject(req, opts);
      }
    }
    throw e;
  }
}

/**
 * DBC does not support overwrite, so an update deletes first, and a retry must
 * not fail on the object our own earlier attempt created.
 */
async function importDbc(
  ws: WorkspaceClient,
  p: PlannedImport,
  transport: 'json' | 'multipart',
  signal: AbortSignal | undefined,
): Promise<ImportResult> {
  if (p.action === 'update') await ws.delete(p.path, true, { signal });
  const maxAttempts = 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ws.importObject(
        { path: p.path, format: 'DBC', content: p.item.content, overwrite: false },
        { transport, signal },
      );
    } catch (e) {
      if (attempt > 1 && isHttpError(e, 'conflict')) return {};
      if (!isHttpError(e) || !e.retryable || attempt >= maxAttempts) throw e;
      if (await ws.getStatus(p.path, { signal })) return {};
      await sleep(250 * 2 ** attempt, signal);
    }
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function isWithinOrSame(folder: string, path: string): boolean {
  return path === folder || path.startsWith(folder + '/');
}

function describeFailure(err: unknown): string {
  if (isAbortError(err)) return 'cancelled';
  return describeError(err);
}

/** Logs "Imported 50 of 500" at every tenth, for long deploys. */
function progressReporter(logger: Logger, total: number): () => void {
  let done = 0;
  const step = Math.max(1, Math.ceil(total / 10));
  return () => {
    done++;
    if (total >= 50 && (done % step === 0 || done === total)) logger.info(`Imported ${done} of ${total}`);
  };
}
