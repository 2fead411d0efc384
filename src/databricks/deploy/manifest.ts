/**
 * The deploy manifest: what this task put under targetPath, by relative path,
 * with the content hash and what the workspace reported right after the import
 * (object id, modified_at), so the next run can skip unchanged objects and spot
 * hand edits. Stored as a workspace file inside targetPath and as a local copy.
 */
import type { DeployKind, ImportFormat, NotebookLanguage } from '../notebook-format';
import { parseLanguage } from '../notebook-format';

export const MANIFEST_FILE_NAME = '.deploy-manifest.json';
export const MANIFEST_SCHEMA = 'databricks-deploy-manifest/v1';

export interface ManifestEntry {
  kind: DeployKind;
  format: ImportFormat;
  language?: NotebookLanguage;
  /** sha256 (hex) of the bytes imported, after token replacement. */
  sha256: string;
  size: number;
  /** Where it came from (relative source path or source workspace path). */
  source: string;
  /** What the workspace reported after our import; absent when the API did not say. */
  objectId?: number;
  modifiedAt?: number;
  remoteSize?: number;
}

export interface DeployManifest {
  schema: typeof MANIFEST_SCHEMA;
  targetPath: string;
  deployedAt: string;
  /** Free text naming the pipeline run, e.g. "MyPipeline 20240101.1". */
  deployedBy?: string;
  entries: Record<string, ManifestEntry>;
}

const KINDS: readonly DeployKind[] = ['notebook', 'file', 'dbc'];
const FORMATS: readonly ImportFormat[] = ['SOURCE', 'HTML', 'JUPYTER', 'DBC', 'R_MARKDOWN', 'AUTO', 'RAW'];

/** Stable text: sorted entry keys and fixed field order, so equal manifests are equal bytes. */
export function serializeManifest(m: DeployManifest): string {
  const entries: Record<string, ManifestEntry> = {};
  for (const key of Object.keys(m.entries).sort()) {
    const e = m.entries[key];
    const ordered: ManifestEntry = {
      kind: e.kind,
      format: e.format,
      sha256: e.sha256,
      size: e.size,
      source: e.source,
    };
    if (e.language) ordered.language = e.language;
    if (e.objectId !== undefined) ordered.objectId = e.objectId;
    if (e.modifiedAt !== undefined) ordered.modifiedAt = e.modifiedAt;
    if (e.remoteSize !== undefined) ordered.remoteSize = e.remoteSize;
    entries[key] = ordered;
  }
  const out: DeployManifest = {
    schema: MANIFEST_SCHEMA,
    targetPath: m.targetPath,
    deployedAt: m.deployedAt,
    entries,
  };
  if (m.deployedBy) out.deployedBy = m.deployedBy;
  return JSON.stringify(out, null, 2) + '\n';
}

export type ParsedManifest = { ok: true; manifest: DeployManifest } | { ok: false; problem: string };

/** Reads a manifest; anything unexpected yields a problem (the caller then deploys everything). */
export function parseManifest(text: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `not valid JSON (${(e as Error).message})` };
  }
  if (!isRecord(doc)) return { ok: false, problem: 'not a JSON object' };
  if (doc.schema !== MANIFEST_SCHEMA)
    return { ok: false, problem: `unknown schema ${JSON.stringify(doc.schema)}` };
  if (typeof doc.targetPath !== 'string') return { ok: false, problem: 'targetPath missing' };
  if (!isRecord(doc.entries)) return { ok: false, problem: 'entries missing' };
  const entries: Record<string, ManifestEntry> = {};
  for (const [key, raw] of Object.entries(doc.entries)) {
    if (!isRecord(raw)) return { ok: false, problem: `entry ${key} is not an object` };
    const kind = raw.kind as DeployKind;
    const format = raw.format as ImportFormat;
    if (!KINDS.includes(kind)) return { ok: false, problem: `entry ${key} has unknown kind` };
    if (!FORMATS.includes(format)) return { ok: false, problem: `entry ${key} has unknown format` };
    if (typeof raw.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(raw.sha256)) {
      return { ok: false, problem: `entry ${key} has no sha256` };
    }
    if (typeof raw.size !== 'number') return { ok: false, problem: `entry ${key} has no size` };
    const entry: ManifestEntry = {
      kind,
      format,
      sha256: raw.sha256,
      size: raw.size,
      source: typeof raw.source === 'string' ? raw.source : '',
    };
    const language = parseLanguage(raw.language);
    if (language) entry.language = language;
    if (typeof raw.objectId === 'number') entry.objectId = raw.objectId;
    if (typeof raw.modifiedAt === 'number') entry.modifiedAt = raw.modifiedAt;
    if (typeof raw.remoteSize === 'number') entry.remoteSize = raw.remoteSize;
    entries[key] = entry;
  }
  return {
    ok: true,
    manifest: {
      schema: MANIFEST_SCHEMA,
      targetPath: doc.targetPath,
      deployedAt: typeof doc.deployedAt === 'string' ? doc.deployedAt : '',
      deployedBy: typeof doc.deployedBy === 'string' ? doc.deployedBy : undefined,
      entries,
    },
  };
}

/** True when two manifests describe the same objects (timestamps of the run itself ignored). */
export function sameEntries(a: DeployManifest, b: DeployManifest): boolean {
  const strip = (m: DeployManifest) => serializeManifest({ ...m, deployedAt: '', deployedBy: undefined });
  return a.targetPath === b.targetPath && strip(a) === strip(b);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
