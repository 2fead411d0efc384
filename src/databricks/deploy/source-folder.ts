/**
 * Reads the selected files of a local folder. Walks in sorted order so plans
 * and manifests are deterministic; never enters .git.
 *
 * Symbolic links are followed only while they stay inside the source folder (by
 * real path): a selected link that leads out of it is refused before anything is
 * read, so a repository cannot make the deploy upload files from elsewhere on the
 * agent. Folder links that loop back into a folder being walked are skipped.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from '../../common/logger';
import { DeployInputError } from './errors';
import type { PathSelector } from './globs';
import type { SourceCandidate } from './types';

const ALWAYS_SKIPPED_DIRS = new Set(['.git']);
/** Links named in the refusal; the count says how many more. */
const MAX_LISTED_LINKS = 10;

export interface FolderScan {
  candidates: SourceCandidate[];
  /** Files seen in total (selected or not), to explain an empty selection. */
  filesSeen: number;
}

interface Walk {
  /** Real path of the source folder: the boundary every link target must stay inside. */
  rootReal: string;
  selector: PathSelector;
  logger: Logger;
  scan: FolderScan;
  /** Selected links that lead out of the folder: relative path and real target. */
  escapes: { rel: string; target: string }[];
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
  const w: Walk = {
    rootReal: await fs.realpath(root),
    selector,
    logger,
    scan: { candidates: [], filesSeen: 0 },
    escapes: [],
  };
  await walk(w, '', w.rootReal, [w.rootReal]);
  if (w.escapes.length > 0) throw escapeError(root, w.escapes);
  return w.scan;
}

/**
 * Walks one folder. `dirReal` is its real path (files are read through real paths, so a
 * link changed after the check cannot redirect the read); `stack` holds the real paths of
 * the folders being walked, root first, to recognise a cycle.
 */
async function walk(w: Walk, relDir: string, dirReal: string, stack: string[]): Promise<void> {
  const entries = await fs.readdir(dirReal, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = relDir ? `${relDir}/${e.name}` : e.name;
    let real = path.join(dirReal, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const target = await fs.realpath(real).catch(() => undefined);
      const targetStat = target ? await fs.stat(target).catch(() => undefined) : undefined;
      if (!target || !targetStat) {
        w.logger.warn(`Skipping ${rel}: broken symbolic link.`);
        continue;
      }
      isDir = targetStat.isDirectory();
      isFile = targetStat.isFile();
      if (!isInside(w.rootReal, target)) {
        const wanted = isDir ? w.selector.mightSelectBelow(rel) : isFile && w.selector.selects(rel);
        // Never read outside; refuse only what the deploy would otherwise have taken.
        if (wanted) w.escapes.push({ rel, target });
        else
          w.logger.debug(`Skipping ${rel}: a symbolic link out of the source folder that is not selected.`);
        continue;
      }
      real = target;
    }
    if (isDir) {
      if (ALWAYS_SKIPPED_DIRS.has(e.name)) continue;
      if (stack.includes(real)) {
        w.logger.warn(
          `Skipping ${rel}: a symbolic link back into a folder that contains it (a cycle); its files are deployed from their own place.`,
        );
        continue;
      }
      await walk(w, rel, real, [...stack, real]);
    } else if (isFile) {
      w.scan.filesSeen++;
      if (!w.selector.selects(rel)) continue;
      const content = await fs.readFile(real);
      w.scan.candidates.push({ source: rel, relDir, fileName: e.name, content });
    }
  }
}

function isInside(rootReal: string, real: string): boolean {
  const rel = path.relative(rootReal, real);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function escapeError(root: string, escapes: { rel: string; target: string }[]): DeployInputError {
  const listed = escapes
    .slice(0, MAX_LISTED_LINKS)
    .map((x) => `'${x.rel}' -> '${x.target}'`)
    .join(', ');
  const more = escapes.length > MAX_LISTED_LINKS ? ` and ${escapes.length - MAX_LISTED_LINKS} more` : '';
  const what =
    escapes.length === 1
      ? `'${escapes[0].rel}' is a symbolic link to '${escapes[0].target}', outside the source folder '${root}'`
      : `${escapes.length} symbolic links lead outside the source folder '${root}': ${listed}${more}`;
  // One line: the pipeline's result line then names both the input and the links.
  return new DeployInputError(
    'sourceFolder',
    `Input 'sourceFolder': ${what}. The deploy only uploads files inside the source folder: copy what the link points at into the folder, or list the link in 'exclude'; nothing was changed.`,
  );
}
