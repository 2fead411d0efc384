/**
 * Carries out a plan: folders first (each once, parents before children), then
 * every import concurrently, then, only when everything before succeeded, the
 * steps that remove something: swapping in updated DBC archives and, in mirror
 * mode, the deletes. Failures are collected, never thrown, so one bad notebook
 * does not stop the others, and a failed run deletes nothing it did not create.
 *
 * Nothing is ever deleted to make an import fit: notebooks and files are
 * imported with overwrite (RAW files included; the "already exists" refusal of
 * databricks/cli#3386 concerns AUTO, which is never used). A DBC archive cannot
 * be overwritten, so an update is imported first to a staging sibling (proving
 * the archive, the size limit and the permissions without touching the old
 * one), and replaced only in the final phase: export the old one as a backup,
 * delete it, import the new one, and put the backup back if that import fails.
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
  /** DBC updates that were staged but not swapped in because something failed (old archive kept). */
  dbcUpdatesWithheld: string[];
}

/** Where an updated DBC archive is imported before it replaces the old one. */
export function dbcStagingPath(path: string): string {
  const i = path.lastIndexOf('/');
  return `${path.slice(0, i)}/.deploy-staging.${path.slice(i + 1)}`;
}

const DEFAULT_MULTIPART_THRESHOLD = 1024 * 1024;

export async function applyPlan(plan: Plan, ws: WorkspaceClient, opts: ApplyOptions): Promise<ApplyResult> {
  const result: ApplyResult = {
    foldersCreated: [],
    imported: [],
    deleted: [],
    failures: [],
    deletesWithheld: false,
    dbcUpdatesWithheld: [],
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
  const staged: PlannedImport[] = [];
  for (const r of res) {
    if (r.ok && r.value === STAGED) staged.push(r.item);
    else if (r.ok) result.imported.push({ planned: r.item, result: r.value });
    else
      result.failures.push({
        path: r.item.path,
        operation: r.item.action,
        message: describeFailure(r.error),
      });
  }

  // DBC updates: swapped in only when every import succeeded; otherwise the old archives stay.
  if (staged.length > 0) {
    if (result.failures.length > 0) {
      result.dbcUpdatesWithheld = staged.map((p) => p.path).sort();
      // The staged copies are this run's own objects: remove them so nothing half-done is left.
      await runPool(staged, opts.concurrency, (p) => ws.delete(dbcStagingPath(p.path), true, { signal }), {
        signal,
      });
    } else {
      const swaps = await runPool(staged, opts.concurrency, (p) => swapDbc(ws, p, threshold, signal), {
        signal,
      });
      for (const r of swaps) {
        if (r.ok) result.imported.push({ planned: r.item, result: r.value });
        else
          result.failures.push({
            path: r.item.path,
            operation: 'replace archive',
            message: describeFailure(r.error),
          });
      }
    }
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

/** Marks a DBC update imported to its staging path, to be swapped in later. */
const STAGED: ImportResult = Object.freeze({});

async function importOne(
  ws: WorkspaceClient,
  p: PlannedImport,
  multipartThreshold: number,
  signal: AbortSignal | undefined,
): Promise<ImportResult> {
  const { item } = p;
  const transport = item.size >= multipartThreshold ? 'multipart' : 'json';
  if (item.format === 'DBC') {
    if (p.action === 'create') return importDbc(ws, p.path, item.content, transport, signal);
    // A leftover of an interrupted run may sit at the staging path: it is ours to replace.
    const staging = dbcStagingPath(p.path);
    await ws.delete(staging, true, { signal });
    await importDbc(ws, staging, item.content, transport, signal);
    return STAGED;
  }
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
 * Import with overwrite, recovering when the parent folder vanished since the
 * listing (create it, retry once). Anything else, "already exists" included,
 * is a failure: nothing is deleted to make room.
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
    throw e;
  }
}

/**
 * Imports a DBC archive to a path that must be free (DBC has no overwrite). A
 * retry must not fail on the object our own earlier attempt created.
 */
async function importDbc(
  ws: WorkspaceClient,
  path: string,
  content: Buffer,
  transport: 'json' | 'multipart',
  signal: AbortSignal | undefined,
): Promise<ImportResult> {
  const maxAttempts = 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ws.importObject({ path, format: 'DBC', content, overwrite: false }, { transport, signal });
    } catch (e) {
      if (attempt > 1 && isHttpError(e, 'conflict')) return {};
      if (!isHttpError(e) || !e.retryable || attempt >= maxAttempts) throw e;
      if (await ws.getStatus(path, { signal })) return {};
      await sleep(250 * 2 ** attempt, signal);
    }
  }
}

/**
 * Replaces an archive with its staged successor: back up the old one (DBC
 * export), delete it, import the new one, remove the staging copy. If the
 * import fails, the backup is imported again, so the old version survives.
 */
async function swapDbc(
  ws: WorkspaceClient,
  p: PlannedImport,
  multipartThreshold: number,
  signal: AbortSignal | undefined,
): Promise<ImportResult> {
  const staging = dbcStagingPath(p.path);
  let backup: { content: Buffer };
  try {
    backup = await ws.exportObject(p.path, 'DBC', { signal });
  } catch (e) {
    await ws.delete(staging, true, { signal }).catch(() => false);
    throw new Error(`${describeFailure(e)}; could not back up the current archive, so it was not replaced`, {
      cause: e,
    });
  }
  await ws.delete(p.path, true, { signal });
  const transport = p.item.size >= multipartThreshold ? 'multipart' : 'json';
  let result: ImportResult;
  try {
    result = await importDbc(ws, p.path, p.item.content, transport, signal);
  } catch (e) {
    let restored = false;
    try {
      // The cancelled pipeline's signal must not stop the restore.
      const backupTransport = backup.content.length >= multipartThreshold ? 'multipart' : 'json';
      await importDbc(ws, p.path, backup.content, backupTransport, AbortSignal.timeout(60_000));
      restored = true;
    } catch {
      // reported below
    }
    throw new Error(
      `${describeFailure(e)}; ${restored ? 'the previous archive was put back' : `the previous archive could not be put back; the new one is at ${staging}`}`,
      { cause: e },
    );
  }
  await ws.delete(staging, true, { signal }).catch(() => false);
  return result;
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
