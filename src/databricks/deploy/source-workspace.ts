/**
 * Promotion: reads notebooks and files from a folder of another workspace
 * (list + export), so they can be planned and applied like a local folder.
 */
import type { Logger } from '../../common/logger';
import { runPool } from '../../common/pool';
import { describeError } from '../../http/errors';
import type { Classification } from '../notebook-format';
import type { ExportFormat, WorkspaceClient } from '../workspace-client';
import { DeployInputError, DeployFailedError } from './errors';
import type { PathSelector } from './globs';
import { MANIFEST_FILE_NAME } from './manifest';
import { NotAFolderError, listTree } from './remote-tree';
import { parentRel } from './paths';
import type { SourceCandidate } from './types';

export interface WorkspaceScan {
  candidates: SourceCandidate[];
  objectsSeen: number;
  requests: number;
}

/** Export format for workspace files: SOURCE (the API default) returns their bytes. */
export const FILE_EXPORT_FORMAT: ExportFormat = 'SOURCE';

export async function collectFromWorkspace(
  ws: WorkspaceClient,
  sourcePath: string,
  selector: PathSelector,
  opts: { concurrency: number; signal?: AbortSignal; logger: Logger },
): Promise<WorkspaceScan> {
  const { logger } = opts;
  let tree;
  try {
    tree = await listTree(ws, sourcePath, { concurrency: opts.concurrency, signal: opts.signal });
  } catch (e) {
    if (e instanceof NotAFolderError) {
      throw new DeployInputError(
        'sourcePath',
        `Input 'sourcePath': ${e.message} in the source workspace; give a folder.`,
      );
    }
    throw e;
  }
  if (!tree.rootExists) {
    throw new DeployInputError(
      'sourcePath',
      `Input 'sourcePath': the folder ${sourcePath} does not exist in the source workspace.`,
    );
  }
  for (const g of tree.gitFolders)
    logger.warn(`Skipping Git folder ${sourcePath}/${g} in the source workspace.`);

  const wanted: { rel: string; path: string; cls: Classification; format: ExportFormat }[] = [];
  let objectsSeen = 0;
  for (const obj of [...tree.objects.values()].sort((a, b) => (a.rel < b.rel ? -1 : 1))) {
    if (obj.type === 'DIRECTORY' || obj.gitFolder) continue;
    objectsSeen++;
    // A manifest of an earlier deploy into the source folder is not content.
    if (obj.rel === MANIFEST_FILE_NAME) continue;
    if (!selector.selects(obj.rel)) continue;
    const name = obj.rel.split('/').pop()!;
    if (obj.type === 'NOTEBOOK') {
      if (!obj.language) {
        logger.warn(`Skipping notebook ${obj.path}: the workspace did not report its language.`);
        continue;
      }
      wanted.push({
        rel: obj.rel,
        path: obj.path,
        format: 'SOURCE',
        cls: {
          kind: 'notebook',
          format: 'SOURCE',
          language: obj.language,
          workspaceName: name,
          rule: `NOTEBOOK (${obj.language}) in the source workspace: exported and imported as SOURCE`,
        },
      });
    } else if (obj.type === 'FILE') {
      wanted.push({
        rel: obj.rel,
        path: obj.path,
        format: FILE_EXPORT_FORMAT,
        cls: {
          kind: 'file',
          // RAW, as for local files (notebook-format.ts): AUTO could turn a .py with the
          // notebook header into a notebook, and refuses to overwrite files (cli#3386).
          format: 'RAW',
          workspaceName: name,
          rule: 'FILE in the source workspace: copied as a workspace file (RAW)',
        },
      });
    } else {
      logger.warn(`Skipping ${obj.path}: ${obj.type.toLowerCase()} objects cannot be promoted.`);
    }
  }

  const exported = await runPool(
    wanted,
    opts.concurrency,
    async (w) => (await ws.exportObject(w.path, w.format, { signal: opts.signal })).content,
    { signal: opts.signal },
  );
  const failures = exported.filter((r) => !r.ok);
  if (failures.length > 0) {
    const list = failures.map((r) => ({
      path: r.item.path,
      operation: 'export',
      message: describeError(r.ok ? undefined : r.error),
    }));
    throw new DeployFailedError(
      `Could not read ${list.length} object(s) from the source workspace; nothing was changed in the target:\n` +
        list.map((f) => `  ${f.path}: ${f.message}`).join('\n'),
      list,
    );
  }
  const candidates: SourceCandidate[] = exported.map((r) => ({
    source: r.item.path,
    relDir: parentRel(r.item.rel),
    fileName: r.item.cls.workspaceName,
    content: r.ok ? r.value : Buffer.alloc(0),
    classification: r.item.cls,
  }));
  return { candidates, objectsSeen, requests: tree.listRequests + wanted.length };
}
