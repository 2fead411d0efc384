/**
 * The plan: compares deploy items with the listing of targetPath and the last
 * manifest, and decides what to create, update, leave alone and delete, which
 * folders to create, and what drifted. Pure: no requests.
 */
import { describeKind } from '../notebook-format';
import type { DeployManifest, ManifestEntry } from './manifest';
import { MANIFEST_FILE_NAME } from './manifest';
import { ancestorsRel, depth, joinWorkspacePath } from './paths';
import type { DeployItem, DeployMode, RemoteObject, RemoteTree } from './types';

export interface PlannedImport {
  item: DeployItem;
  action: 'create' | 'update';
  /** Why, for the log. */
  reason: string;
  /** Absolute API path. */
  path: string;
  /** Set when the object changed in the workspace since the last deploy. */
  drift?: string;
}

export interface PlannedDelete {
  rel: string;
  path: string;
  type: string;
  recursive: boolean;
}

export interface DriftFinding {
  rel: string;
  path: string;
  what: string;
}

export interface Plan {
  targetPath: string;
  mode: DeployMode;
  /** Folders to create, parents before children (absolute API paths; may include targetPath). */
  mkdirs: string[];
  imports: PlannedImport[];
  unchanged: DeployItem[];
  deletes: PlannedDelete[];
  drift: DriftFinding[];
  /** Git folders under targetPath that mirror mode leaves alone. */
  skippedGitFolders: string[];
  /** Problems that make the plan impossible; nothing is changed when there are any. */
  blockers: string[];
}

export interface PlanOptions {
  targetPath: string;
  mode: DeployMode;
  skipUnchanged: boolean;
}

export function planDeploy(
  items: readonly DeployItem[],
  remote: RemoteTree,
  manifest: DeployManifest | undefined,
  opts: PlanOptions,
): Plan {
  const plan: Plan = {
    targetPath: opts.targetPath,
    mode: opts.mode,
    mkdirs: [],
    imports: [],
    unchanged: [],
    deletes: [],
    drift: [],
    skippedGitFolders: [...remote.gitFolders].sort(),
    blockers: [],
  };
  const abs = (rel: string) => joinWorkspacePath(opts.targetPath, rel);
  const gitFolders = new Set(remote.gitFolders);

  // Folders the items need.
  const neededFolders = new Set<string>();
  for (const item of items) for (const a of ancestorsRel(item.rel)) neededFolders.add(a);
  const missingFolders: string[] = [];
  if (!remote.rootExists) missingFolders.push('');
  for (const rel of neededFolders) {
    const obj = remote.objects.get(rel);
    if (!obj) {
      missingFolders.push(rel);
    } else if (gitFolders.has(rel)) {
      plan.blockers.push(
        `${abs(rel)} is a Git folder (Repo); the source has items inside it. Exclude them or choose another targetPath.`,
      );
    } else if (obj.type !== 'DIRECTORY') {
      plan.blockers.push(
        `${abs(rel)} is a ${obj.type.toLowerCase()} in the workspace but the source needs a folder there; remove or rename it.`,
      );
    }
  }
  plan.mkdirs = missingFolders
    .sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((rel) => abs(rel));

  for (const item of items) {
    const obj = remote.objects.get(item.rel);
    const entry = manifest?.entries[item.rel];
    const path = abs(item.rel);
    if (!obj) {
      const reason = entry ? 'missing in the workspace' : 'new';
      const planned: PlannedImport = { item, action: 'create', reason, path };
      if (entry) {
        planned.drift = 'deleted in the workspace since the last deploy';
        plan.drift.push({ rel: item.rel, path, what: planned.drift });
      }
      plan.imports.push(planned);
      continue;
    }
    const clash = typeClash(item, obj);
    if (clash) {
      plan.blockers.push(`${path}: ${clash}; remove or rename it in the workspace.`);
      continue;
    }
    const drift = entry ? detectDrift(item, entry, obj) : undefined;
    if (drift) plan.drift.push({ rel: item.rel, path, what: drift });
    let reason: string | undefined;
    if (!opts.skipUnchanged) reason = 'skipUnchanged is off';
    else if (!entry) reason = 'not in the last manifest';
    else if (entry.sha256 !== item.sha256) reason = 'content changed';
    else if (entry.kind !== item.kind || entry.format !== item.format || entry.language !== item.language) {
      reason = `was ${describeKind(entry)} (${entry.format}), now ${describeKind(item)} (${item.format})`;
    } else if (drift) reason = 'changed in the workspace';
    if (reason) plan.imports.push({ item, action: 'update', reason, path, drift });
    else plan.unchanged.push(item);
  }

  if (opts.mode === 'mirror') plan.deletes = planDeletes(items, remote, opts.targetPath);
  return plan;
}

/** What makes an existing object unusable for the item, or undefined. */
function typeClash(item: DeployItem, obj: RemoteObject): string | undefined {
  if (obj.gitFolder) return 'a Git folder (Repo) is in the way';
  if (item.kind === 'dbc') return undefined;
  const want = item.kind === 'notebook' ? 'NOTEBOOK' : 'FILE';
  if (obj.type === want) return undefined;
  return `the workspace has a ${obj.type.toLowerCase()} where the source has a ${describeKind(item)}`;
}

/**
 * A change the task did not make, judged from what the API reports: a new
 * object id means deleted and recreated; a new modified_at or size means edited;
 * for notebooks listed without modified_at, a `notebooks_modified_after` listing
 * that still shows them (RemoteObject.modifiedAfter) means edited.
 */
export function detectDrift(item: DeployItem, entry: ManifestEntry, obj: RemoteObject): string | undefined {
  if (entry.objectId !== undefined && obj.objectId !== undefined && entry.objectId !== obj.objectId) {
    return `replaced in the workspace (object id ${entry.objectId} → ${obj.objectId})`;
  }
  if (item.kind === 'dbc') return undefined;
  if (entry.modifiedAt !== undefined && obj.modifiedAt !== undefined && entry.modifiedAt !== obj.modifiedAt) {
    return `edited in the workspace at ${new Date(obj.modifiedAt).toISOString()}`;
  }
  if (obj.modifiedAt === undefined && obj.modifiedAfter !== undefined) {
    return `edited in the workspace after the last deploy (${new Date(obj.modifiedAfter).toISOString()})`;
  }
  if (entry.remoteSize !== undefined && obj.size !== undefined && entry.remoteSize !== obj.size) {
    return `edited in the workspace (size ${entry.remoteSize} → ${obj.size} bytes)`;
  }
  if (item.kind === 'notebook' && entry.language && obj.language && entry.language !== obj.language) {
    return `language changed in the workspace (${entry.language} → ${obj.language})`;
  }
  return undefined;
}

/**
 * Mirror deletes: every listed object that is not a source item, not a folder
 * holding one, not the manifest and not a Git folder. Whole subtrees go in one
 * recursive delete when nothing inside must stay.
 */
function planDeletes(items: readonly DeployItem[], remote: RemoteTree, targetPath: string): PlannedDelete[] {
  const keep = new Set<string>([MANIFEST_FILE_NAME, ...remote.gitFolders]);
  for (const i of items) keep.add(i.rel);
  const holders = new Set<string>();
  for (const k of keep) for (const a of ancestorsRel(k)) holders.add(a);
  // DBC archives own whatever they expanded into.
  const owned = items.filter((i) => i.kind === 'dbc').map((i) => i.rel + '/');

  const out: PlannedDelete[] = [];
  const deleted: string[] = [];
  const rels = [...remote.objects.keys()].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const rel of rels) {
    if (keep.has(rel) || holders.has(rel)) continue;
    if (owned.some((o) => rel.startsWith(o))) continue;
    if (deleted.some((d) => rel.startsWith(d + '/'))) continue;
    const obj = remote.objects.get(rel)!;
    if (obj.gitFolder) continue;
    out.push({
      rel,
      path: joinWorkspacePath(targetPath, rel),
      type: obj.type,
      recursive: obj.type === 'DIRECTORY',
    });
    deleted.push(rel);
  }
  return out;
}

export function planCounts(plan: Plan): {
  create: number;
  update: number;
  unchanged: number;
  delete: number;
  mkdirs: number;
} {
  return {
    create: plan.imports.filter((i) => i.action === 'create').length,
    update: plan.imports.filter((i) => i.action === 'update').length,
    unchanged: plan.unchanged.length,
    delete: plan.deletes.length,
    mkdirs: plan.mkdirs.length,
  };
}
