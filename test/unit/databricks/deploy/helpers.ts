/** Builders shared by the deploy unit tests. */
import { prepareItems, sha256 } from '../../../../src/databricks/deploy/prepare';
import type { DeployManifest, ManifestEntry } from '../../../../src/databricks/deploy/manifest';
import type {
  DeployItem,
  RemoteObject,
  RemoteTree,
  SourceCandidate,
} from '../../../../src/databricks/deploy/types';

export const PY = '# Databricks notebook source\n';

export function candidate(relPath: string, text: string): SourceCandidate {
  const i = relPath.lastIndexOf('/');
  return {
    source: relPath,
    relDir: i < 0 ? '' : relPath.slice(0, i),
    fileName: relPath.slice(i + 1),
    content: Buffer.from(text, 'utf8'),
  };
}

export function items(files: Record<string, string>): DeployItem[] {
  return prepareItems(
    Object.entries(files).map(([p, t]) => candidate(p, t)),
    { sourceInput: 'sourceFolder', replaceTokens: false },
  );
}

export function remoteTree(
  objects: Partial<RemoteObject>[],
  root = '/Shared/t',
  rootExists = true,
): RemoteTree {
  const map = new Map<string, RemoteObject>();
  const git: string[] = [];
  for (const o of objects) {
    const rel = o.rel!;
    const obj: RemoteObject = {
      rel,
      path: `${root}/${rel}`,
      type: o.type ?? 'NOTEBOOK',
      gitFolder: false,
      ...o,
    };
    map.set(rel, obj);
    if (obj.gitFolder) git.push(rel);
  }
  return { rootExists, objects: map, gitFolders: git, listRequests: 0 };
}

export function manifestOf(
  list: DeployItem[],
  extra: Record<string, Partial<ManifestEntry>> = {},
  root = '/Shared/t',
): DeployManifest {
  const entries: Record<string, ManifestEntry> = {};
  for (const i of list) {
    entries[i.rel] = {
      kind: i.kind,
      format: i.format,
      language: i.language,
      sha256: i.sha256,
      size: i.size,
      source: i.source,
      ...(extra[i.rel] ?? {}),
    };
  }
  return { schema: 'databricks-deploy-manifest/v1', targetPath: root, deployedAt: '', entries };
}

export { sha256 };
