/**
 * DatabricksDeployNotebooks core: gather the source, check it, list the
 * target, plan, apply, record the manifest. Every check that can fail on input
 * runs before the first write; deletes run last and only after success; the
 * manifest is written only when everything succeeded.
 */
import type { Logger } from '../../common/logger';
import { throwIfAborted } from '../../common/sleep';
import { describeError } from '../../http/errors';
import type { WorkspaceClient } from '../workspace-client';
import { applyPlan, importWithOverwrite } from './applier';
import { DeployInputError } from './errors';
import { createSelector } from './globs';
import {
  MANIFEST_FILE_NAME,
  parseManifest,
  sameEntries,
  serializeManifest,
  type DeployManifest,
  type ManifestEntry,
} from './manifest';
import {
  ancestorsRel,
  dangerousMirrorTarget,
  joinWorkspacePath,
  normaliseWorkspacePath,
  parentRel,
  relativeTo,
  stripWorkspacePrefix,
} from './paths';
import { runPool } from '../../common/pool';
import { planCounts, planDeploy, type Plan } from './planner';
import { prepareItems } from './prepare';
import { NotAFolderError, listTree } from './remote-tree';
import { scanFolder } from './source-folder';
import { collectFromWorkspace } from './source-workspace';
import { formatDuration, logPlan, summaryMarkdown } from './summary';
import type { VariableLookup } from './tokens';
import type { DeployItem, DeployMode, Failure, RemoteTree, SourceCandidate } from './types';

export type DeploySource =
  { type: 'folder'; folder: string } | { type: 'workspace'; client: WorkspaceClient; path: string };

export interface DeployNotebooksOptions {
  workspace: WorkspaceClient;
  source: DeploySource;
  /** As the user typed it; normalised here. */
  targetPath: string;
  include?: string[];
  exclude?: string[];
  mode: DeployMode;
  skipUnchanged: boolean;
  replaceTokens: boolean;
  lookupVariable?: VariableLookup;
  dryRun: boolean;
  concurrency: number;
  logger: Logger;
  signal?: AbortSignal;
  /** Recorded in the manifest, e.g. "CI 20240101.1". */
  deployedBy?: string;
  /** Requests sent so far (HttpClient.stats.requests), for the summary. */
  requestCount?: () => number;
  now?: () => number;
  /** Content at or above this size is sent as multipart. */
  multipartThreshold?: number;
}

export interface DeployNotebooksResult {
  targetPath: string;
  dryRun: boolean;
  plan: Plan;
  created: string[];
  updated: string[];
  unchanged: number;
  deleted: string[];
  failures: Failure[];
  deletesWithheld: boolean;
  /** Updated DBC archives that were not swapped in because something failed. */
  dbcUpdatesWithheld: string[];
  /** The manifest of this deploy (undefined for a dry run or a failed deploy). */
  manifest?: DeployManifest;
  manifestText?: string;
  /** Whether the workspace copy was (re)written; false when it was already current. */
  manifestWritten: boolean;
  durationMs: number;
  requests?: number;
  summaryMarkdown: string;
}

export async function deployNotebooks(opts: DeployNotebooksOptions): Promise<DeployNotebooksResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const { logger, signal } = opts;
  const requestsAtStart = opts.requestCount?.() ?? 0;
  const requestsSoFar = () => (opts.requestCount ? opts.requestCount() - requestsAtStart : undefined);

  // ---- inputs ---------------------------------------------------------------------
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1 || opts.concurrency > 32) {
    throw new DeployInputError(
      'concurrency',
      `Input 'concurrency' must be a whole number from 1 to 32 (got ${opts.concurrency}).`,
    );
  }
  const targetPath = normaliseWorkspacePath(opts.targetPath, 'targetPath');
  if (opts.mode === 'mirror') {
    const why = dangerousMirrorTarget(targetPath);
    if (why) {
      throw new DeployInputError(
        'targetPath',
        `Input 'targetPath': mirror mode refuses '${opts.targetPath.trim()}' because ${why}, and mirror deletes everything in it that is not in the source. ` +
          `Deploy into a folder of its own, such as /Shared/<project>, or use mode 'merge'.`,
      );
    }
  }
  const selector = createSelector(opts.include ?? [], opts.exclude ?? []);

  // ---- source ---------------------------------------------------------------------
  let candidates: SourceCandidate[];
  let sourceLabel: string;
  const sourceInput = opts.source.type === 'folder' ? 'sourceFolder' : 'sourcePath';
  if (opts.source.type === 'folder') {
    const scan = await scanFolder(opts.source.folder, selector, logger);
    sourceLabel = opts.source.folder;
    candidates = scan.candidates;
    if (scan.candidates.length === 0) {
      throw new DeployInputError(
        scan.filesSeen === 0 ? 'sourceFolder' : 'include',
        scan.filesSeen === 0
          ? `Input 'sourceFolder': the folder '${opts.source.folder}' has no files to deploy.`
          : `No files selected: ${scan.filesSeen} file(s) in '${opts.source.folder}' but none matches include [${selector.include.join(', ')}]` +
              `${selector.exclude.length ? ` without matching exclude [${selector.exclude.join(', ')}]` : ''}. Check the 'include' and 'exclude' inputs.`,
      );
    }
  } else {
    const sourcePath = normaliseWorkspacePath(opts.source.path, 'sourcePath');
    sourceLabel = `${opts.source.client.workspaceUrl} ${sourcePath}`;
    if (sameWorkspace(opts.source.client, opts.workspace)) {
      const overlap =
        relativeTo(sourcePath, targetPath) !== undefined || relativeTo(targetPath, sourcePath) !== undefined;
      if (overlap) {
        throw new DeployInputError(
          'targetPath',
          `Input 'targetPath': ${targetPath} overlaps the source folder ${sourcePath} in the same workspace; promote into a separate folder.`,
        );
      }
    }
    const scan = await collectFromWorkspace(opts.source.client, sourcePath, selector, {
      concurrency: opts.concurrency,
      signal,
      logger,
    });
    candidates = scan.candidates;
    if (candidates.length === 0) {
      throw new DeployInputError(
        scan.objectsSeen === 0 ? 'sourcePath' : 'include',
        scan.objectsSeen === 0
          ? `Input 'sourcePath': the folder ${sourcePath} in the source workspace has nothing to deploy.`
          : `No objects selected: ${scan.objectsSeen} object(s) under ${sourcePath} but none matches include [${selector.include.join(', ')}]` +
              `${selector.exclude.length ? ` without matching exclude [${selector.exclude.join(', ')}]` : ''}. Check the 'include' and 'exclude' inputs.`,
      );
    }
  }
  const items = prepareItems(candidates, {
    sourceInput,
    replaceTokens: opts.replaceTokens,
    lookup: opts.lookupVariable,
  });
  logClassification(items, logger, opts.replaceTokens);
  throwIfAborted(signal);

  // ---- target state ---------------------------------------------------------------
  const remote = await readTarget(opts.workspace, targetPath, items, opts);
  const manifest = await readManifest(opts.workspace, targetPath, remote, logger, signal);
  if (manifest) await findNotebookEdits(opts.workspace, targetPath, remote, manifest, opts);

  const plan = planDeploy(items, remote, manifest, {
    targetPath,
    mode: opts.mode,
    skipUnchanged: opts.skipUnchanged,
  });
  if (plan.blockers.length > 0) {
    throw new DeployInputError(
      'targetPath',
      `Input 'targetPath': the workspace folder ${targetPath} cannot take this deploy; nothing was changed:\n` +
        plan.blockers.map((b) => `  ${b}`).join('\n'),
    );
  }
  logPlan(plan, logger, opts.dryRun);

  const base = { targetPath, plan, dryRun: opts.dryRun, unchanged: plan.unchanged.length };
  if (opts.dryRun) {
    const created = plan.imports.filter((i) => i.action === 'create').map((i) => i.path);
    const updated = plan.imports.filter((i) => i.action === 'update').map((i) => i.path);
    const deleted = plan.deletes.map((d) => d.path);
    const durationMs = now() - started;
    logger.info(
      `Dry run: ${created.length} would be created, ${updated.length} updated, ${plan.unchanged.length} unchanged, ${deleted.length} deleted; nothing was changed (${formatDuration(durationMs)}).`,
    );
    return finish(
      {
        ...base,
        created,
        updated,
        deleted,
        failures: [],
        deletesWithheld: false,
        dbcUpdatesWithheld: [],
        manifestWritten: false,
        durationMs,
      },
      opts,
      sourceLabel,
      requestsSoFar(),
    );
  }

  // ---- apply ----------------------------------------------------------------------
  const applied = await applyPlan(plan, opts.workspace, {
    concurrency: opts.concurrency,
    logger,
    signal,
    multipartThreshold: opts.multipartThreshold,
  });
  const created = applied.imported.filter((i) => i.planned.action === 'create').map((i) => i.planned.path);
  const updated = applied.imported.filter((i) => i.planned.action === 'update').map((i) => i.planned.path);
  const deleted = applied.deleted.map((d) => d.path);
  const failures = [...applied.failures];

  let newManifest: DeployManifest | undefined;
  let manifestText: string | undefined;
  let manifestWritten = false;
  if (failures.length === 0) {
    try {
      newManifest = await buildManifest(opts.workspace, targetPath, items, remote, plan, opts, now);
      manifestText = serializeManifest(newManifest);
      // Rewritten after any import, even one that changed no entry (a hand edit undone): its
      // modified_at marks when this deploy ended, the cutoff for finding later notebook edits.
      if (manifest && applied.imported.length === 0 && sameEntries(manifest, newManifest)) {
        // Keep the previous deployedAt so an idle redeploy writes nothing.
        newManifest = manifest;
        manifestText = serializeManifest(manifest);
        logger.info('The manifest is current; not rewritten.');
      } else {
        await importWithOverwrite(
          opts.workspace,
          {
            path: joinWorkspacePath(targetPath, MANIFEST_FILE_NAME),
            format: 'RAW',
            content: Buffer.from(manifestText, 'utf8'),
            overwrite: true,
          },
          { signal },
        );
        manifestWritten = true;
      }
    } catch (e) {
      newManifest = undefined;
      manifestText = undefined;
      failures.push({
        path: joinWorkspacePath(targetPath, MANIFEST_FILE_NAME),
        operation: 'write manifest',
        message: `${describeError(e)} (the next run will re-import everything)`,
      });
    }
  }
  const durationMs = now() - started;
  const c = planCounts(plan);
  logger.info(
    `Total: ${created.length} created, ${updated.length} updated, ${c.unchanged} unchanged, ${deleted.length} deleted` +
      `${failures.length ? `, ${failures.length} failed` : ''} in ${formatDuration(durationMs)}` +
      `${requestsSoFar() !== undefined ? ` (${requestsSoFar()} requests)` : ''}.`,
  );
  if (applied.deletesWithheld)
    logger.warn(
      `Mirror deletes withheld: ${plan.deletes.length} object(s) were not deleted because something failed.`,
    );
  if (applied.dbcUpdatesWithheld.length > 0)
    logger.warn(
      `DBC archive update(s) withheld because something failed; the previous version(s) were kept: ${applied.dbcUpdatesWithheld.join(', ')}.`,
    );
  return finish(
    {
      ...base,
      created,
      updated,
      deleted,
      failures,
      deletesWithheld: applied.deletesWithheld,
      dbcUpdatesWithheld: applied.dbcUpdatesWithheld,
      manifest: newManifest,
      manifestText,
      manifestWritten,
      durationMs,
    },
    opts,
    sourceLabel,
    requestsSoFar(),
  );
}

function finish(
  r: Omit<DeployNotebooksResult, 'summaryMarkdown' | 'requests'>,
  opts: DeployNotebooksOptions,
  source: string,
  requests: number | undefined,
): DeployNotebooksResult {
  const summary = summaryMarkdown({
    plan: r.plan,
    workspaceUrl: opts.workspace.workspaceUrl,
    dryRun: r.dryRun,
    durationMs: r.durationMs,
    requests,
    created: r.created,
    updated: r.updated,
    deleted: r.deleted,
    unchanged: r.unchanged,
    failures: r.failures,
    deletesWithheld: r.deletesWithheld,
    dbcUpdatesWithheld: r.dbcUpdatesWithheld,
    source,
  });
  return { ...r, requests, summaryMarkdown: summary };
}

/** One message listing every failed path and why. */
export function failureMessage(result: DeployNotebooksResult): string {
  const head =
    `${result.failures.length} operation(s) failed` +
    (result.deletesWithheld ? '; no deletes were run' : '') +
    (result.dbcUpdatesWithheld.length ? '; DBC archives were not replaced' : '') +
    ':';
  return [head, ...result.failures.map((f) => `  ${f.path} (${f.operation}): ${f.message}`)].join('\n');
}

function sameWorkspace(a: WorkspaceClient, b: WorkspaceClient): boolean {
  return a.workspaceUrl.toLowerCase() === b.workspaceUrl.toLowerCase();
}

function logClassification(items: readonly DeployItem[], logger: Logger, tokens: boolean): void {
  logger.startGroup(`Source: ${items.length} object(s)`);
  for (const i of items) {
    const t = tokens && i.tokensReplaced > 0 ? `; ${i.tokensReplaced} token(s) replaced` : '';
    logger.info(`  ${i.source} → ${i.rel}: ${i.rule}${t}`);
  }
  logger.endGroup();
}

async function readTarget(
  ws: WorkspaceClient,
  targetPath: string,
  items: readonly DeployItem[],
  opts: DeployNotebooksOptions,
): Promise<RemoteTree> {
  // Merge only needs the folders that hold source items; mirror must see everything.
  const holders = new Set<string>();
  for (const i of items) for (const a of ancestorsRel(i.rel)) holders.add(a);
  const dbcTargets = new Set(items.filter((i) => i.kind === 'dbc').map((i) => i.rel));
  const descend = (rel: string) => !dbcTargets.has(rel) && (opts.mode === 'mirror' || holders.has(rel));
  let remote: RemoteTree;
  try {
    remote = await listTree(ws, targetPath, { concurrency: opts.concurrency, signal: opts.signal, descend });
  } catch (e) {
    if (e instanceof NotAFolderError) {
      throw new DeployInputError(
        'targetPath',
        `Input 'targetPath': ${e.message} in the workspace; give a folder.`,
      );
    }
    throw e;
  }
  if (opts.mode === 'mirror' && remote.rootExists) {
    const status = await ws.getStatus(targetPath, { signal: opts.signal });
    if (status && (status.object_type === 'REPO' || status.directory_info?.is_git_folder)) {
      throw new DeployInputError(
        'targetPath',
        `Input 'targetPath': ${targetPath} is a Git folder (Repo); mirror mode does not delete inside Git folders. Use mode 'merge' or another folder.`,
      );
    }
  }
  return remote;
}

async function readManifest(
  ws: WorkspaceClient,
  targetPath: string,
  remote: RemoteTree,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<DeployManifest | undefined> {
  const obj = remote.objects.get(MANIFEST_FILE_NAME);
  if (!obj || obj.type !== 'FILE') {
    logger.info(
      `No manifest in ${targetPath}: every object is compared by existence only${remote.rootExists ? '' : ' (new folder)'}.`,
    );
    return undefined;
  }
  const { content } = await ws.exportObject(obj.path, 'SOURCE', { signal });
  const parsed = parseManifest(content.toString('utf8'));
  if (!parsed.ok) {
    logger.warn(`Ignoring the manifest ${obj.path}: ${parsed.problem}. Everything will be re-imported.`);
    return undefined;
  }
  if (parsed.manifest.targetPath !== targetPath) {
    logger.warn(
      `Ignoring the manifest ${obj.path}: it was written for ${parsed.manifest.targetPath}. Everything will be re-imported.`,
    );
    return undefined;
  }
  logger.info(
    `Manifest of the last deploy (${parsed.manifest.deployedAt || 'unknown time'}): ${Object.keys(parsed.manifest.entries).length} object(s).`,
  );
  return parsed.manifest;
}

/**
 * Workspaces that list notebooks without modified_at (the documented list
 * response has it for files only) would hide hand edits. A second listing of
 * the folders holding such notebooks, with notebooks_modified_after set to when
 * the last deploy ended, shows exactly the notebooks edited since. The cutoff is
 * the manifest file's own modified_at: a workspace timestamp taken after that
 * deploy's imports, so the agent's clock plays no part.
 */
async function findNotebookEdits(
  ws: WorkspaceClient,
  targetPath: string,
  remote: RemoteTree,
  manifest: DeployManifest,
  opts: DeployNotebooksOptions,
): Promise<void> {
  const blind = [...remote.objects.values()].filter(
    (o) =>
      o.type === 'NOTEBOOK' && o.modifiedAt === undefined && manifest.entries[o.rel]?.kind === 'notebook',
  );
  if (blind.length === 0) return;
  const parsed = Date.parse(manifest.deployedAt);
  const cutoff =
    remote.objects.get(MANIFEST_FILE_NAME)?.modifiedAt ?? (Number.isNaN(parsed) ? undefined : parsed);
  if (cutoff === undefined) {
    opts.logger.debug('Notebook edits cannot be detected: no time for the last deploy.');
    return;
  }
  const byRel = new Map(blind.map((o) => [o.rel, o]));
  const folders = [...new Set(blind.map((o) => parentRel(o.rel)))].sort();
  const listed = await runPool(
    folders,
    opts.concurrency,
    (rel) =>
      ws.listIfExists(joinWorkspacePath(targetPath, rel), {
        signal: opts.signal,
        notebooksModifiedAfter: cutoff,
      }),
    { signal: opts.signal },
  );
  for (const r of listed) {
    if (!r.ok) throw r.error;
    for (const info of r.value ?? []) {
      const o = byRel.get(relativeTo(targetPath, stripWorkspacePrefix(info.path)) ?? '');
      if (o && info.object_type === 'NOTEBOOK') o.modifiedAfter = cutoff;
    }
  }
  opts.logger.debug(
    `The workspace lists notebooks without modification times: checked ${blind.length} notebook(s) in ${folders.length} folder(s) for edits after ${new Date(cutoff).toISOString()}.`,
  );
}

/**
 * Records what was deployed and what the workspace now reports for it: a
 * listing of just the folders that received imports gives the new object ids
 * and modification times.
 */
async function buildManifest(
  ws: WorkspaceClient,
  targetPath: string,
  items: readonly DeployItem[],
  before: RemoteTree,
  plan: Plan,
  opts: DeployNotebooksOptions,
  now: () => number,
): Promise<DeployManifest> {
  const touched = [...new Set(plan.imports.map((p) => parentRel(p.item.rel)))];
  const after =
    touched.length > 0
      ? await listTree(ws, targetPath, { concurrency: opts.concurrency, signal: opts.signal, only: touched })
      : undefined;
  const imported = new Set(plan.imports.map((p) => p.item.rel));
  const entries: Record<string, ManifestEntry> = {};
  for (const item of items) {
    const obj = imported.has(item.rel) ? after?.objects.get(item.rel) : before.objects.get(item.rel);
    const e: ManifestEntry = {
      kind: item.kind,
      format: item.format,
      sha256: item.sha256,
      size: item.size,
      source: item.source,
    };
    if (item.language) e.language = item.language;
    if (obj?.objectId !== undefined) e.objectId = obj.objectId;
    if (obj?.modifiedAt !== undefined) e.modifiedAt = obj.modifiedAt;
    if (obj?.size !== undefined && item.kind === 'file') e.remoteSize = obj.size;
    entries[item.rel] = e;
  }
  return {
    schema: 'databricks-deploy-manifest/v1',
    targetPath,
    deployedAt: new Date(now()).toISOString(),
    deployedBy: opts.deployedBy,
    entries,
  };
}
