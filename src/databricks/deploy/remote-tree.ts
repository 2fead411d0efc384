/**
 * One recursive listing of a workspace folder: a list request per folder, each
 * level of the tree listed concurrently. Git folders are recorded but never
 * entered.
 */
import { runPool } from '../../common/pool';
import { parseLanguage } from '../notebook-format';
import { isGitFolder, type WorkspaceClient } from '../workspace-client';
import { joinWorkspacePath, relativeTo, stripWorkspacePrefix } from './paths';
import type { RemoteObject, RemoteTree } from './types';

export interface ListTreeOptions {
  concurrency: number;
  signal?: AbortSignal;
  /** Whether to list inside a folder (relative path); default: every folder. */
  descend?: (rel: string) => boolean;
  /** Only list these folders (relative), e.g. the folders that received imports. Implies no descent. */
  only?: readonly string[];
}

/** Thrown when the root exists but is not a folder. */
export class NotAFolderError extends Error {
  constructor(
    readonly path: string,
    readonly objectType: string,
  ) {
    super(`${path} is a ${objectType.toLowerCase()}, not a folder`);
    this.name = 'NotAFolderError';
  }
}

export async function listTree(
  ws: WorkspaceClient,
  root: string,
  opts: ListTreeOptions,
): Promise<RemoteTree> {
  const tree: RemoteTree = { rootExists: true, objects: new Map(), gitFolders: [], listRequests: 0 };
  let frontier: string[] = opts.only ? [...new Set(opts.only)] : [''];
  let first = !opts.only;
  while (frontier.length > 0) {
    const results = await runPool(
      frontier,
      opts.concurrency,
      async (rel) => {
        tree.listRequests++;
        return ws.listIfExists(joinWorkspacePath(root, rel), { signal: opts.signal });
      },
      { signal: opts.signal },
    );
    const next: string[] = [];
    for (const r of results) {
      if (!r.ok) throw r.error;
      const listed = r.value;
      if (listed === undefined) {
        // The root is missing: nothing to compare with. A sub-folder vanished meanwhile: treat as empty.
        if (first && r.item === '') tree.rootExists = false;
        continue;
      }
      const folderAbs = joinWorkspacePath(root, r.item);
      for (const info of listed) {
        const abs = stripWorkspacePrefix(info.path);
        if (abs === folderAbs) {
          // Listing a notebook or file returns the object itself.
          if (info.object_type !== 'DIRECTORY' && !isGitFolder(info))
            throw new NotAFolderError(abs, info.object_type);
          continue;
        }
        const rel = relativeTo(root, abs);
        if (rel === undefined || rel === '') continue;
        const obj: RemoteObject = {
          rel,
          path: abs,
          type: info.object_type,
          objectId: info.object_id,
          modifiedAt: info.modified_at,
          size: info.size,
          language: parseLanguage(info.language),
          gitFolder: isGitFolder(info),
        };
        tree.objects.set(rel, obj);
        if (obj.gitFolder) tree.gitFolders.push(rel);
        else if (!opts.only && obj.type === 'DIRECTORY' && (!opts.descend || opts.descend(rel)))
          next.push(rel);
      }
    }
    first = false;
    frontier = next;
  }
  tree.gitFolders.sort();
  return tree;
}
