/**
 * The workspace object tree of one emulated Databricks workspace and the
 * Workspace API 2.0 semantics on it: import (every format), export, list,
 * get-status, mkdirs and delete, with the documented status codes and messages.
 * Paths are kept in one canonical form without the /Workspace prefix.
 */
import * as path from 'node:path';
import { ApiError, invalidParam, notFound } from './api-error';
import {
  LANGUAGES,
  type Language,
  bodyToDbcEntry,
  bodyToHtml,
  bodyToIpynb,
  dbcEntryLanguage,
  dbcEntryToBody,
  dbcExtension,
  extensionFor,
  hasHeader,
  ipynbLanguage,
  ipynbToBody,
  languageForExtension,
  parseIpynb,
  sourceText,
  stripHeader,
} from './notebook-format';
import { looksLikeZip, readZip, writeZip, type ZipEntry } from './zip';

export type ObjectType = 'NOTEBOOK' | 'DIRECTORY' | 'FILE' | 'REPO' | 'LIBRARY' | 'DASHBOARD';

export const IMPORT_FORMATS = ['SOURCE', 'HTML', 'JUPYTER', 'DBC', 'R_MARKDOWN', 'AUTO', 'RAW'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface WsObject {
  /** Canonical path (no /Workspace prefix, no trailing slash). */
  path: string;
  object_type: ObjectType;
  object_id: number;
  language?: Language;
  /** Notebook SOURCE body without the header line. */
  body?: string;
  /** File bytes. */
  data?: Buffer;
  created_at: number;
  modified_at: number;
  /** A git folder outside /Repos: a DIRECTORY with directory_info.is_git_folder. */
  isGitFolder?: boolean;
  /** The import format that last wrote the object (for assertions). */
  importFormat?: ImportFormat;
}

export interface FsSettings {
  importSizeLimit: number;
  /** Notebooks report created_at/modified_at in list and get-status (docs say files only; real workspaces send them). */
  notebookTimestamps: boolean;
  /** Reproduces databricks/cli#3386: AUTO import of a FILE over an existing FILE fails even with overwrite. */
  autoFileOverwriteBug: boolean;
}

export interface ImportRequest {
  path: string;
  format?: string;
  language?: string;
  content: Buffer;
  overwrite: boolean;
}

export interface ExportResult {
  content: Buffer;
  fileType: string;
  filename: string;
}

const CONTAINERS: ObjectType[] = ['DIRECTORY', 'REPO'];

/** Canonical form of a workspace path; throws 400 for relative paths. */
export function canonicalPath(raw: string): string {
  if (typeof raw !== 'string' || raw.length === 0) throw invalidParam('Missing required field: path');
  if (!raw.startsWith('/'))
    throw invalidParam(`Path (${raw}) is not absolute. Workspace paths must begin with '/'.`);
  let p = raw.replace(/\/{2,}/g, '/');
  if (p.length > 1) p = p.replace(/\/+$/, '');
  if (p === '/Workspace') return '/';
  if (p.startsWith('/Workspace/')) p = p.slice('/Workspace'.length);
  return p || '/';
}

/** The path as the caller wrote it, for messages (Databricks echoes the request). */
function display(raw: string): string {
  const p = raw.replace(/\/{2,}/g, '/');
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function parentOf(p: string): string {
  const d = path.posix.dirname(p);
  return d;
}

function baseName(p: string): string {
  return path.posix.basename(p);
}

export class WorkspaceFs {
  readonly objects = new Map<string, WsObject>();
  private readonly children = new Map<string, Set<string>>();
  private lastStamp = 0;

  constructor(
    private readonly settings: () => FsSettings,
    private readonly nextId: () => number,
  ) {}

  /** Empties the tree and creates the given folders. */
  reset(folders: string[]): void {
    this.objects.clear();
    this.children.clear();
    this.ensureDir('/');
    for (const f of folders) this.ensureDir(f);
  }

  /** Monotonic millisecond timestamps so every change has its own modified_at. */
  stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  get(raw: string): WsObject | undefined {
    return this.objects.get(canonicalPath(raw));
  }

  childrenOf(p: string): WsObject[] {
    const set = this.children.get(p);
    if (!set) return [];
    return [...set].sort().map((c) => this.objects.get(c) as WsObject);
  }

  /** Every path under (and including) a folder, depth first, sorted. */
  walk(root = '/'): WsObject[] {
    const start = this.objects.get(canonicalPath(root));
    if (!start) return [];
    const out: WsObject[] = [];
    const visit = (o: WsObject) => {
      out.push(o);
      for (const c of this.childrenOf(o.path)) visit(c);
    };
    visit(start);
    return out;
  }

  info(o: WsObject): Record<string, unknown> {
    const j: Record<string, unknown> = { object_type: o.object_type, path: o.path };
    if (o.object_type === 'NOTEBOOK') {
      j.language = o.language;
      if (this.settings().notebookTimestamps) {
        j.created_at = o.created_at;
        j.modified_at = o.modified_at;
      }
    }
    if (o.object_type === 'FILE') {
      j.created_at = o.created_at;
      j.modified_at = o.modified_at;
    }
    j.object_id = o.object_id;
    if (o.object_type === 'FILE') j.size = o.data?.length ?? 0;
    j.resource_id = String(o.object_id);
    if (o.object_type === 'DIRECTORY' && o.isGitFolder) j.directory_info = { is_git_folder: true };
    return j;
  }

  // ---- API operations ------------------------------------------------------------------

  getStatus(raw: string): Record<string, unknown> {
    const o = this.get(raw);
    if (!o) throw notFound(display(raw));
    return this.info(o);
  }

  list(raw: string, notebooksModifiedAfter?: number): Record<string, unknown> {
    const o = this.get(raw);
    if (!o) throw notFound(display(raw));
    if (!CONTAINERS.includes(o.object_type)) return { objects: [this.info(o)] };
    const kids = this.childrenOf(o.path).filter(
      (c) =>
        notebooksModifiedAfter === undefined ||
        c.object_type !== 'NOTEBOOK' ||
        c.modified_at > notebooksModifiedAfter,
    );
    // An empty folder answers {} with no objects key (legacy databricks-cli handles this).
    return kids.length === 0 ? {} : { objects: kids.map((c) => this.info(c)) };
  }

  mkdirs(raw: string): void {
    const p = canonicalPath(raw);
    const parts = p.split('/').filter(Boolean);
    let cur = '';
    for (const part of parts) {
      cur += `/${part}`;
      const o = this.objects.get(cur);
      if (o && !CONTAINERS.includes(o.object_type)) {
        // Wording (including the missing space) as observed in databrickslabs/dbx#613.
        throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `${part}already exists and it is not a folder`);
      }
      if (!o) this.add({ path: cur, object_type: 'DIRECTORY' });
    }
  }

  delete(raw: string, recursive: boolean, protectedPaths: Set<string>): void {
    const o = this.get(raw);
    if (!o) throw notFound(display(raw));
    if (protectedPaths.has(o.path)) {
      throw new ApiError(403, 'PERMISSION_DENIED', `Cannot delete ${display(raw)}: it is a system folder.`);
    }
    if (CONTAINERS.includes(o.object_type) && (this.children.get(o.path)?.size ?? 0) > 0 && !recursive) {
      throw new ApiError(400, 'DIRECTORY_NOT_EMPTY', `Folder (${display(raw)}) is not empty`);
    }
    this.remove(o.path);
  }

  import(req: ImportRequest): void {
    const fmt = (req.format || 'SOURCE') as ImportFormat;
    if (!IMPORT_FORMATS.includes(fmt)) {
      throw invalidParam(
        `Invalid value for format: ${req.format}. Allowed values: ${IMPORT_FORMATS.join(', ')}.`,
      );
    }
    let lang: Language | undefined;
    if (req.language) {
      if (!(LANGUAGES as string[]).includes(req.language)) {
        throw invalidParam(
          `Invalid value for language: ${req.language}. Allowed values: ${LANGUAGES.join(', ')}.`,
        );
      }
      lang = req.language as Language;
    }
    const canonical = canonicalPath(req.path);
    const limit = this.settings().importSizeLimit;
    if (req.content.length > limit) {
      // Wording (including the stray parenthesis) as observed in databricks/automl#112.
      throw new ApiError(
        400,
        'MAX_NOTEBOOK_SIZE_EXCEEDED',
        `File size imported is ${req.content.length} bytes), exceeded max size (${limit} bytes)`,
      );
    }
    if (fmt === 'DBC' && req.overwrite) {
      throw invalidParam('For DBC format, overwrite is not supported since it may contain a directory.');
    }
    const shown = display(req.path);
    switch (fmt) {
      case 'SOURCE':
        if (lang) {
          const body = stripHeader(req.content.toString('utf8'), lang);
          this.place(shown, canonical, req.overwrite, fmt, { object_type: 'NOTEBOOK', language: lang, body });
          return;
        }
        this.importArchive(shown, canonical, req.content, 'SOURCE');
        return;
      case 'JUPYTER': {
        const nb = parseIpynb(req.content);
        if (!nb)
          throw invalidParam('The content is not a valid Jupyter notebook (.ipynb, nbformat 4 or later).');
        const l = ipynbLanguage(nb);
        this.place(shown, canonical, req.overwrite, fmt, {
          object_type: 'NOTEBOOK',
          language: l,
          body: ipynbToBody(nb, l),
        });
        return;
      }
      case 'HTML': {
        const m = /__DATABRICKS_NOTEBOOK_MODEL = '([A-Za-z0-9+/=]+)'/.exec(req.content.toString('utf8'));
        const text = m ? Buffer.from(m[1], 'base64') : undefined;
        const l = text ? LANGUAGES.find((x) => hasHeader(text, x)) : undefined;
        if (!text || !l) throw invalidParam('The HTML content is not a Databricks notebook export.');
        const body = stripHeader(text.toString('utf8'), l);
        this.place(shown, canonical, req.overwrite, fmt, { object_type: 'NOTEBOOK', language: l, body });
        return;
      }
      case 'R_MARKDOWN':
        this.place(shown, canonical, req.overwrite, fmt, {
          object_type: 'NOTEBOOK',
          language: 'R',
          body: req.content.toString('utf8'),
        });
        return;
      case 'DBC':
        this.importArchive(shown, canonical, req.content, 'DBC');
        return;
      case 'RAW':
        this.place(shown, canonical, req.overwrite, fmt, {
          object_type: 'FILE',
          data: Buffer.from(req.content),
        });
        return;
      case 'AUTO': {
        const ext = path.posix.extname(canonical);
        const extLang = languageForExtension(ext);
        if (extLang && hasHeader(req.content, extLang)) {
          const target = canonical.slice(0, -ext.length);
          this.place(shown.slice(0, -ext.length), target, req.overwrite, fmt, {
            object_type: 'NOTEBOOK',
            language: extLang,
            body: stripHeader(req.content.toString('utf8'), extLang),
          });
          return;
        }
        if (ext.toLowerCase() === '.ipynb') {
          const nb = parseIpynb(req.content);
          if (nb) {
            const l = ipynbLanguage(nb);
            this.place(shown.slice(0, -ext.length), canonical.slice(0, -ext.length), req.overwrite, fmt, {
              object_type: 'NOTEBOOK',
              language: l,
              body: ipynbToBody(nb, l),
            });
            return;
          }
        }
        this.place(shown, canonical, req.overwrite, fmt, {
          object_type: 'FILE',
          data: Buffer.from(req.content),
        });
        return;
      }
    }
  }

  export(raw: string, format: string | undefined): ExportResult {
    const fmt = format || 'SOURCE';
    if (!(IMPORT_FORMATS as readonly string[]).includes(fmt)) {
      throw invalidParam(
        `Invalid value for format: ${format}. Allowed values: ${IMPORT_FORMATS.join(', ')}.`,
      );
    }
    const o = this.get(raw);
    if (!o) throw notFound(display(raw));
    const name = baseName(o.path) || 'root';
    let out: ExportResult;
    if (o.object_type === 'NOTEBOOK') {
      const lang = o.language as Language;
      const body = o.body ?? '';
      const ext = extensionFor(lang).slice(1);
      switch (fmt) {
        case 'SOURCE':
        case 'AUTO':
          out = {
            content: Buffer.from(sourceText(body, lang), 'utf8'),
            fileType: ext,
            filename: `${name}.${ext}`,
          };
          break;
        case 'JUPYTER':
          out = { content: bodyToIpynb(body, lang, name), fileType: 'ipynb', filename: `${name}.ipynb` };
          break;
        case 'HTML':
          out = { content: bodyToHtml(body, lang, name), fileType: 'html', filename: `${name}.html` };
          break;
        case 'DBC':
          out = {
            content: writeZip([
              {
                name: `${name}${dbcExtension(lang)}`,
                content: bodyToDbcEntry(body, lang, name, o.object_id),
              },
            ]),
            fileType: 'dbc',
            filename: `${name}.dbc`,
          };
          break;
        case 'R_MARKDOWN':
          if (lang !== 'R') throw invalidParam('R_MARKDOWN export is only supported for R notebooks.');
          out = { content: Buffer.from(body, 'utf8'), fileType: 'Rmd', filename: `${name}.Rmd` };
          break;
        default:
          throw invalidParam(`Export format ${fmt} is not supported for notebooks.`);
      }
    } else if (o.object_type === 'FILE') {
      if (!['SOURCE', 'AUTO', 'RAW'].includes(fmt))
        throw invalidParam(`Export format ${fmt} is not supported for files.`);
      out = {
        content: Buffer.from(o.data ?? Buffer.alloc(0)),
        fileType: path.posix.extname(name).slice(1),
        filename: name,
      };
    } else if (CONTAINERS.includes(o.object_type)) {
      if (fmt === 'DBC') {
        out = {
          content: writeZip(this.archiveEntries(o.path, 'DBC')),
          fileType: 'dbc',
          filename: `${name}.dbc`,
        };
      } else if (fmt === 'SOURCE' || fmt === 'AUTO') {
        out = {
          content: writeZip(this.archiveEntries(o.path, 'SOURCE')),
          fileType: 'zip',
          filename: `${name}.zip`,
        };
      } else {
        throw invalidParam(`Export format ${fmt} is not supported for directories.`);
      }
    } else {
      throw invalidParam(`Objects of type ${o.object_type} cannot be exported.`);
    }
    const limit = this.settings().importSizeLimit;
    if (out.content.length > limit) throw new ApiError(400, 'BAD_REQUEST', `Size exceeds ${limit} bytes`);
    return out;
  }

  // ---- direct state changes (controller) ---------------------------------------------

  /** mkdir -p without errors; returns the folder. */
  ensureDir(raw: string): WsObject {
    const p = canonicalPath(raw);
    if (p === '/') {
      return this.objects.get('/') ?? this.add({ path: '/', object_type: 'DIRECTORY' });
    }
    this.ensureDir(parentOf(p));
    const o = this.objects.get(p);
    if (o) return o;
    return this.add({ path: p, object_type: 'DIRECTORY' });
  }

  /** Creates or replaces an object, creating parent folders. */
  put(raw: string, spec: Omit<WsObject, 'path' | 'object_id' | 'created_at' | 'modified_at'>): WsObject {
    const p = canonicalPath(raw);
    this.ensureDir(parentOf(p));
    const existing = this.objects.get(p);
    if (existing) {
      if (CONTAINERS.includes(existing.object_type)) this.remove(p);
      else return this.replace(existing, spec);
    }
    return this.add({ path: p, ...spec });
  }

  /** Changes an object's content as a user editing it in the UI would (drift). */
  edit(raw: string, content: string | Buffer): WsObject {
    const o = this.get(raw);
    if (!o) throw new Error(`no workspace object at ${raw}`);
    if (o.object_type === 'NOTEBOOK') {
      o.body = stripHeader(
        Buffer.isBuffer(content) ? content.toString('utf8') : content,
        o.language as Language,
      );
    } else if (o.object_type === 'FILE') {
      o.data = Buffer.isBuffer(content) ? Buffer.from(content) : Buffer.from(content, 'utf8');
    } else {
      throw new Error(`${raw} is a ${o.object_type}; only notebooks and files have content`);
    }
    o.modified_at = this.stamp();
    return o;
  }

  removeObject(raw: string): void {
    const o = this.get(raw);
    if (o) this.remove(o.path);
  }

  // ---- internals ----------------------------------------------------------------------

  private add(spec: Omit<WsObject, 'object_id' | 'created_at' | 'modified_at'>): WsObject {
    const now = this.stamp();
    const o: WsObject = { ...spec, object_id: this.nextId(), created_at: now, modified_at: now };
    this.objects.set(o.path, o);
    if (o.path !== '/') {
      const parent = parentOf(o.path);
      let set = this.children.get(parent);
      if (!set) this.children.set(parent, (set = new Set()));
      set.add(o.path);
    }
    return o;
  }

  /** Overwrites content in place: the object keeps its id and creation time. */
  private replace(
    o: WsObject,
    spec: Omit<WsObject, 'path' | 'object_id' | 'created_at' | 'modified_at'>,
  ): WsObject {
    o.object_type = spec.object_type;
    o.language = spec.language;
    o.body = spec.body;
    o.data = spec.data;
    o.isGitFolder = spec.isGitFolder;
    o.importFormat = spec.importFormat;
    o.modified_at = this.stamp();
    return o;
  }

  private remove(p: string): void {
    for (const c of [...(this.children.get(p) ?? [])]) this.remove(c);
    this.children.delete(p);
    this.objects.delete(p);
    this.children.get(parentOf(p))?.delete(p);
  }

  private requireParent(shown: string, canonical: string): void {
    const parent = this.objects.get(parentOf(canonical));
    if (!parent || !CONTAINERS.includes(parent.object_type)) {
      throw new ApiError(
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `The parent folder (${parentOf(shown)}) does not exist.`,
      );
    }
  }

  private place(
    shown: string,
    canonical: string,
    overwrite: boolean,
    fmt: ImportFormat,
    spec: Omit<WsObject, 'path' | 'object_id' | 'created_at' | 'modified_at'>,
  ): void {
    if (canonical === '/')
      throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Path (${shown}) already exists.`);
    this.requireParent(shown, canonical);
    const existing = this.objects.get(canonical);
    const full = { ...spec, importFormat: fmt };
    if (!existing) {
      this.add({ path: canonical, ...full });
      return;
    }
    if (!overwrite || CONTAINERS.includes(existing.object_type)) {
      throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Path (${shown}) already exists.`);
    }
    if (
      fmt === 'AUTO' &&
      spec.object_type === 'FILE' &&
      existing.object_type === 'FILE' &&
      this.settings().autoFileOverwriteBug
    ) {
      throw new ApiError(
        400,
        'RESOURCE_ALREADY_EXISTS',
        `Node named '${baseName(canonical)}' already exists`,
      );
    }
    this.replace(existing, full);
  }

  /** SOURCE without a language (a zip of source notebooks) or DBC: the path becomes what the archive holds. */
  private importArchive(shown: string, canonical: string, content: Buffer, kind: 'SOURCE' | 'DBC'): void {
    let entries: ZipEntry[];
    try {
      entries = looksLikeZip(content) ? readZip(content) : [];
    } catch {
      entries = [];
    }
    const bad = invalidParam('The zip file may not be valid or may be an unsupported version.');
    const files = entries.filter((e) => !e.name.endsWith('/'));
    if (files.length === 0) throw bad;
    const notebooks: { rel: string; lang: Language; body: string }[] = [];
    for (const e of files) {
      if (kind === 'DBC') {
        const m = dbcEntryLanguage(e.name);
        if (!m) continue;
        try {
          notebooks.push({ rel: m.base, lang: m.lang, body: dbcEntryToBody(e.content, m.lang) });
        } catch {
          throw bad;
        }
      } else {
        const ext = path.posix.extname(e.name);
        const lang = languageForExtension(ext);
        if (!lang) continue;
        notebooks.push({
          rel: e.name.slice(0, -ext.length),
          lang,
          body: stripHeader(e.content.toString('utf8'), lang),
        });
      }
    }
    if (notebooks.length === 0) throw bad;
    this.requireParent(shown, canonical);
    if (this.objects.has(canonical))
      throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Path (${shown}) already exists.`);
    if (notebooks.length === 1 && !notebooks[0].rel.includes('/')) {
      const nb = notebooks[0];
      this.add({
        path: canonical,
        object_type: 'NOTEBOOK',
        language: nb.lang,
        body: nb.body,
        importFormat: kind,
      });
      return;
    }
    // A folder archive: drop a top-level folder shared by every entry, place the rest under the path.
    const tops = new Set(notebooks.map((n) => n.rel.split('/')[0]));
    const strip = tops.size === 1 && notebooks.every((n) => n.rel.includes('/'));
    this.add({ path: canonical, object_type: 'DIRECTORY', importFormat: kind });
    for (const nb of notebooks) {
      const rel = strip ? nb.rel.split('/').slice(1).join('/') : nb.rel;
      const target = `${canonical === '/' ? '' : canonical}/${rel}`;
      this.ensureDir(parentOf(target));
      if (!this.objects.has(target)) {
        this.add({
          path: target,
          object_type: 'NOTEBOOK',
          language: nb.lang,
          body: nb.body,
          importFormat: kind,
        });
      }
    }
  }

  private archiveEntries(root: string, kind: 'SOURCE' | 'DBC'): ZipEntry[] {
    const top = baseName(root) || 'root';
    const out: ZipEntry[] = [];
    for (const o of this.walk(root)) {
      if (o.path === root) continue;
      const rel = `${top}${o.path.slice(root === '/' ? 0 : root.length)}`;
      if (o.object_type === 'NOTEBOOK') {
        const lang = o.language as Language;
        if (kind === 'DBC') {
          out.push({
            name: `${rel}${dbcExtension(lang)}`,
            content: bodyToDbcEntry(o.body ?? '', lang, baseName(o.path), o.object_id),
          });
        } else {
          out.push({
            name: `${rel}${extensionFor(lang)}`,
            content: Buffer.from(sourceText(o.body ?? '', lang), 'utf8'),
          });
        }
      } else if (o.object_type === 'FILE' && kind === 'SOURCE') {
        out.push({ name: rel, content: Buffer.from(o.data ?? Buffer.alloc(0)) });
      }
    }
    return out;
  }
}

/** The SOURCE text (header included) of a notebook, or a file's bytes as text. */
export function objectText(o: WsObject): string | undefined {
  if (o.object_type === 'NOTEBOOK') return sourceText(o.body ?? '', o.language as Language);
  if (o.object_type === 'FILE') return (o.data ?? Buffer.alloc(0)).toString('utf8');
  return undefined;
}
