/**
 * Reads the selected files of a local folder. Walks in sorted order so plans
 * and manifests are deterministic; never enters .git.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from '../../common/logger';
import { DeployInputError } from './errors';
import type { PathSelector } from './globs';
import type { SourceCandidate } from './types';

const ALWAYS_SKIPPED_DIRS = new Set(['.git']);

export interface FolderScan {
  candidates: SourceCandidate[];
  /** Files seen in total (selected or not), to explain an empty selection. */
  filesSeen: number;
}

export async function scanFolder(root: string, selector: PathSelector, logger: Logger): Promise<FolderScan> {
  let stat;
  try {
    stat = await fs.stat(root);
  } catch {
    throw new DeployInputError(
      'sourceFolder',
      `Input 'sourceFolder': the folder '${root}' does not exist. Check the path (it is relative to the repository root when not absolute).`,
    );
  }
  if (!stat.isDirectory()) {
    throw new DeployInputError('sourceFolder', `Input 'sourceFolder': '${root}' is a file, not a folder.`);
  }
  const scan: FolderScan = { candidates: [], filesSeen: 0 };
  await walk(root, '', selector, scan, logger);
  return scan;
}

async function walk(
  root: string,
  relDir: string,
  selector: PathSelector,
  scan: FolderScan,
  logger: Logger,
): Promise<void> {
  const dirAbs = relDir ? path.join(root, ...relDir.split('/')) : root;
  const entries = await fs.readdir(dirAbs, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = relDir ? `${relDir}/${e.name}` : e.name;
    const abs = path.join(dirAbs, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const target = await fs.stat(abs).catch(() => undefined);
      if (!target) {
        logger.warn(`Skipping ${rel}: broken symbolic link.`);
        continue;
      }
      if (target.isDirectory()) {
        // Following folder links risks cycles and content from outside the source folder.
        logger.warn(`Skipping ${rel}: symbolic link to a folder.`);
        continue;
      }
      isDir = false;
      isFile = target.isFile();
    }
    if (isDir) {
      if (ALWAYS_SKIPPED_DIRS.has(e.name)) continue;
      await walk(root, rel, selector, scan, logger);
    } else if (isFile) {
      scan.filesSeen++;
      if (!selector.selects(rel)) continue;
      const content = await fs.readFile(abs);
      scan.candidates.push({ source: rel, relDir, fileName: e.name, content });
    }
  }
}
