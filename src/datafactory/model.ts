/**
 * The Data Factory git folder as a model: one JSON file per object, in the
 * folders ADF Studio writes (factory/, linkedService/, dataset/, pipeline/,
 * dataflow/, trigger/, integrationRuntime/, credential/, adfcdc/,
 * managedVirtualNetwork/<vnet>.json and managedVirtualNetwork/<vnet>/managedPrivateEndpoint/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJsonText, type JsonParseFailure } from './json-position';

export type ObjectKind =
  | 'pipeline'
  | 'dataset'
  | 'linkedService'
  | 'dataflow'
  | 'trigger'
  | 'integrationRuntime'
  | 'managedVirtualNetwork'
  | 'managedPrivateEndpoint'
  | 'credential'
  | 'changeDataCapture';

export interface KindInfo {
  kind: ObjectKind;
  /** Folder in the git root (for private endpoints: under managedVirtualNetwork/<vnet>/). */
  folder: string;
  /** Child type below Microsoft.DataFactory/factories/, as the portal writes it. */
  resourceType: string;
  /** The `type` of a reference to this kind, e.g. LinkedServiceReference. */
  referenceType?: string;
  /** Human label for messages. */
  label: string;
}

export const FACTORY_RESOURCE_TYPE = 'Microsoft.DataFactory/factories';

/**
 * In the order the portal's export lists resources: pipelines, datasets, linked
 * services, triggers, integration runtimes, data flows, managed network, private
 * endpoints, credentials (seen in public exports; change data capture last, by
 * guess). Global parameters follow them all.
 */
export const KINDS: readonly KindInfo[] = [
  {
    kind: 'pipeline',
    folder: 'pipeline',
    resourceType: 'pipelines',
    referenceType: 'PipelineReference',
    label: 'pipeline',
  },
  {
    kind: 'dataset',
    folder: 'dataset',
    resourceType: 'datasets',
    referenceType: 'DatasetReference',
    label: 'dataset',
  },
  {
    kind: 'linkedService',
    folder: 'linkedService',
    resourceType: 'linkedServices',
    referenceType: 'LinkedServiceReference',
    label: 'linked service',
  },
  {
    kind: 'trigger',
    folder: 'trigger',
    resourceType: 'triggers',
    referenceType: 'TriggerReference',
    label: 'trigger',
  },
  {
    kind: 'integrationRuntime',
    folder: 'integrationRuntime',
    resourceType: 'integrationRuntimes',
    referenceType: 'IntegrationRuntimeReference',
    label: 'integration runtime',
  },
  {
    kind: 'dataflow',
    folder: 'dataflow',
    resourceType: 'dataflows',
    referenceType: 'DataFlowReference',
    label: 'data flow',
  },
  {
    kind: 'managedVirtualNetwork',
    folder: 'managedVirtualNetwork',
    resourceType: 'managedVirtualNetworks',
    referenceType: 'ManagedVirtualNetworkReference',
    label: 'managed virtual network',
  },
  {
    kind: 'managedPrivateEndpoint',
    folder: 'managedPrivateEndpoint',
    resourceType: 'managedVirtualNetworks/managedPrivateEndpoints',
    label: 'managed private endpoint',
  },
  {
    kind: 'credential',
    folder: 'credential',
    resourceType: 'credentials',
    referenceType: 'CredentialReference',
    label: 'credential',
  },
  { kind: 'changeDataCapture', folder: 'adfcdc', resourceType: 'adfcdcs', label: 'change data capture' },
];

export const KIND_INFO: Readonly<Record<ObjectKind, KindInfo>> = Object.fromEntries(
  KINDS.map((k) => [k.kind, k]),
) as Record<ObjectKind, KindInfo>;

const KIND_BY_REFERENCE_TYPE = new Map(
  KINDS.filter((k) => k.referenceType).map((k) => [k.referenceType as string, k.kind]),
);

export function kindOfReferenceType(type: string): ObjectKind | undefined {
  return KIND_BY_REFERENCE_TYPE.get(type);
}

/** Folders ADF Studio writes that hold no deployable objects of their own. */
const KNOWN_NON_OBJECT_FOLDERS = new Set(['factory', 'templates', 'globalParameters']);

export interface SourceFile {
  /** Absolute path. */
  file: string;
  /** Path relative to the factory folder, with forward slashes. */
  relPath: string;
  text: string;
}

export interface AdfObject extends SourceFile {
  kind: ObjectKind;
  /** The `name` in the file (falls back to the file name when missing, for reporting). */
  name: string;
  /** The file name without .json. */
  fileName: string;
  json: Record<string, unknown>;
  /** For private endpoints: the managed virtual network folder they live in. */
  parent?: string;
}

export interface FactoryFile extends SourceFile {
  name?: string;
  json: Record<string, unknown>;
}

export interface LoadProblem {
  severity: 'error' | 'warning';
  message: string;
  file?: string;
  relPath?: string;
  line?: number;
  column?: number;
}

export interface FactoryModel {
  root: string;
  factory?: FactoryFile;
  /** Every factory/*.json (normally one). */
  factoryFiles: FactoryFile[];
  objects: AdfObject[];
  problems: LoadProblem[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Byte order of UTF-8, which is how git (and so the portal) orders file names. */
export function compareFileNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function listJsonFiles(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.json'))
    .map((e) => e.name)
    .sort(compareFileNames);
}

function listDirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort(compareFileNames);
  } catch {
    return [];
  }
}

function readSource(root: string, rel: string): SourceFile {
  const file = path.join(root, ...rel.split('/'));
  return { file, relPath: rel, text: fs.readFileSync(file, 'utf8') };
}

function parseInto(
  src: SourceFile,
  problems: LoadProblem[],
): { ok: true; json: Record<string, unknown> } | { ok: false } {
  const parsed = parseJsonText(src.text);
  if (!parsed.ok) {
    problems.push(syntaxProblem(src, parsed.error));
    return { ok: false };
  }
  if (!isPlainObject(parsed.value)) {
    problems.push({
      severity: 'error',
      message: `${src.relPath}: the file must hold a JSON object.`,
      file: src.file,
      relPath: src.relPath,
      line: 1,
      column: 1,
    });
    return { ok: false };
  }
  return { ok: true, json: parsed.value };
}

function syntaxProblem(src: SourceFile, e: JsonParseFailure): LoadProblem {
  return {
    severity: 'error',
    message: `${src.relPath}: invalid JSON: ${e.message} (line ${e.line}, column ${e.column}).`,
    file: src.file,
    relPath: src.relPath,
    line: e.line,
    column: e.column,
  };
}

/**
 * Reads every object file below `root`. Never throws for bad content: syntax
 * errors and unknown folders become problems, so validation can report them all.
 */
export function loadFactoryFolder(root: string): FactoryModel {
  const problems: LoadProblem[] = [];
  const objects: AdfObject[] = [];
  const factoryFiles: FactoryFile[] = [];
  const known = new Set<string>(
    KINDS.filter((k) => k.kind !== 'managedPrivateEndpoint').map((k) => k.folder),
  );

  for (const dir of listDirs(root)) {
    if (dir.startsWith('.') || dir === 'node_modules') continue;
    if (!known.has(dir) && !KNOWN_NON_OBJECT_FOLDERS.has(dir)) {
      problems.push({
        severity: 'warning',
        message: `Folder '${dir}' is not a Data Factory object folder; its files are not part of the export.`,
        file: path.join(root, dir),
        relPath: dir,
      });
    }
  }

  for (const name of listJsonFiles(path.join(root, 'factory'))) {
    const src = readSource(root, `factory/${name}`);
    const parsed = parseInto(src, problems);
    if (!parsed.ok) continue;
    const n = parsed.json.name;
    factoryFiles.push({ ...src, json: parsed.json, name: typeof n === 'string' ? n : undefined });
  }

  const addObject = (kind: ObjectKind, rel: string, parent?: string): void => {
    const src = readSource(root, rel);
    const parsed = parseInto(src, problems);
    if (!parsed.ok) return;
    const fileName = path.basename(rel).replace(/\.json$/i, '');
    const n = parsed.json.name;
    objects.push({
      ...src,
      kind,
      json: parsed.json,
      fileName,
      name: typeof n === 'string' ? n : fileName,
      parent,
    });
  };

  for (const info of KINDS) {
    if (info.kind === 'managedPrivateEndpoint') continue;
    for (const name of listJsonFiles(path.join(root, info.folder)))
      addObject(info.kind, `${info.folder}/${name}`);
    if (info.kind === 'managedVirtualNetwork') {
      for (const vnet of listDirs(path.join(root, info.folder))) {
        const mpeDir = `${info.folder}/${vnet}/managedPrivateEndpoint`;
        for (const name of listJsonFiles(path.join(root, ...mpeDir.split('/')))) {
          addObject('managedPrivateEndpoint', `${mpeDir}/${name}`, vnet);
        }
      }
    }
  }

  const factory = factoryFiles[0];
  return { root, factory, factoryFiles, objects, problems };
}

/** The resource-name segment after the factory name, e.g. "default/mpe1" for a private endpoint. */
export function resourceNameOf(o: Pick<AdfObject, 'kind' | 'name' | 'parent'>): string {
  return o.kind === 'managedPrivateEndpoint' ? `${o.parent}/${o.name}` : o.name;
}

/** Key that identifies an object within the factory (names are case-insensitive in ADF). */
export function objectKey(kind: ObjectKind, name: string, parent?: string): string {
  return `${kind}:${parent ? `${parent.toLowerCase()}/` : ''}${name.toLowerCase()}`;
}
