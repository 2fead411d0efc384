/**
 * How a source file becomes a workspace object. Follows the rules of the
 * Databricks CLI (libs/notebook/detect.go): a .py/.sql/.scala/.r file is a
 * notebook only when its first line is the notebook header for its language; a
 * valid .ipynb is a Jupyter notebook; .dbc is an archive; everything else is a
 * workspace file. Notebooks lose their extension in the workspace.
 *
 * Workspace files are imported as RAW, never AUTO: RAW keeps the bytes as a
 * file whatever the name (AUTO may turn a .py into a notebook or expand a .zip),
 * and AUTO over an existing file fails even with overwrite (databricks/cli#3386).
 */

export type NotebookLanguage = 'PYTHON' | 'SCALA' | 'SQL' | 'R';
export type ImportFormat = 'SOURCE' | 'HTML' | 'JUPYTER' | 'DBC' | 'R_MARKDOWN' | 'AUTO' | 'RAW';
export type DeployKind = 'notebook' | 'file' | 'dbc';

export interface Classification {
  kind: DeployKind;
  format: ImportFormat;
  /** Set for SOURCE notebooks (required by the API) and, when known, for Jupyter notebooks. */
  language?: NotebookLanguage;
  /** The object's name in the workspace (extension dropped for notebooks and archives). */
  workspaceName: string;
  /** Which rule decided, for the log. */
  rule: string;
}

export const NOTEBOOK_HEADERS: Readonly<Record<NotebookLanguage, string>> = {
  PYTHON: '# Databricks notebook source',
  R: '# Databricks notebook source',
  SCALA: '// Databricks notebook source',
  SQL: '-- Databricks notebook source',
};

/** Lower-cased extension → notebook language. */
export const EXTENSION_LANGUAGE: Readonly<Record<string, NotebookLanguage>> = {
  '.py': 'PYTHON',
  '.r': 'R',
  '.scala': 'SCALA',
  '.sql': 'SQL',
};

/** The extension a SOURCE export of a notebook gets, e.g. when promoting. */
export const LANGUAGE_EXTENSION: Readonly<Record<NotebookLanguage, string>> = {
  PYTHON: '.py',
  R: '.r',
  SCALA: '.scala',
  SQL: '.sql',
};

// The CLI reads at most this many bytes to find the header line.
const HEADER_PROBE_BYTES = 32;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Lower-cased extension including the dot ('' when none). `.designer.ipynb` is reported whole. */
export function extensionOf(fileName: string): string {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.designer.ipynb')) return '.designer.ipynb';
  const dot = lower.lastIndexOf('.');
  // A leading dot (".env") is a hidden file, not an extension.
  if (dot <= 0) return '';
  return lower.slice(dot);
}

/** The first line of the file as the CLI sees it: first 32 bytes, up to '\n', trailing '\r' removed. */
export function firstLine(content: Buffer): string {
  let start = 0;
  // Editors on Windows may save with a BOM; the header is still the header.
  if (content.length >= 3 && content.subarray(0, 3).equals(UTF8_BOM)) start = 3;
  const probe = content.subarray(start, start + HEADER_PROBE_BYTES).toString('utf8');
  const nl = probe.indexOf('\n');
  let line = nl >= 0 ? probe.slice(0, nl) : probe;
  if (line.endsWith('\r')) line = line.slice(0, -1);
  return line;
}

export interface JupyterCheck {
  ok: boolean;
  language?: NotebookLanguage;
  /** Why it is not a notebook. */
  problem?: string;
}

/** A .ipynb is a notebook when it is JSON with `cells`, `metadata` and nbformat >= 4. */
export function checkJupyter(content: Buffer): JupyterCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch {
    return { ok: false, problem: 'not valid JSON' };
  }
  if (!isRecord(doc)) return { ok: false, problem: 'not a JSON object' };
  if (!Array.isArray(doc.cells)) return { ok: false, problem: 'no "cells" array' };
  if (!isRecord(doc.metadata)) return { ok: false, problem: 'no "metadata" object' };
  if (typeof doc.nbformat !== 'number' || doc.nbformat < 4)
    return { ok: false, problem: 'nbformat is not 4 or later' };
  return { ok: true, language: jupyterLanguage(doc.metadata) };
}

function jupyterLanguage(metadata: Record<string, unknown>): NotebookLanguage | undefined {
  const dbx = metadata['application/vnd.databricks.v1+notebook'];
  const candidates: unknown[] = [];
  if (isRecord(dbx)) candidates.push(dbx.language);
  if (isRecord(metadata.kernelspec)) candidates.push(metadata.kernelspec.language);
  if (isRecord(metadata.language_info)) candidates.push(metadata.language_info.name);
  for (const c of candidates) {
    const lang = parseLanguage(c);
    if (lang) return lang;
  }
  return undefined;
}

export function parseLanguage(value: unknown): NotebookLanguage | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.trim().toUpperCase();
  return upper === 'PYTHON' || upper === 'SCALA' || upper === 'SQL' || upper === 'R' ? upper : undefined;
}

function stripExtension(fileName: string, ext: string): string {
  return fileName.slice(0, fileName.length - ext.length);
}

/**
 * Classifies one source file by name (base name, not a path) and content.
 * Deterministic and free of I/O so the planner and tests can rely on it.
 */
export function classifyFile(fileName: string, content: Buffer): Classification {
  const ext = extensionOf(fileName);
  const language = EXTENSION_LANGUAGE[ext];
  if (language) {
    const header = NOTEBOOK_HEADERS[language];
    const line = firstLine(content);
    if (line === header) {
      return {
        kind: 'notebook',
        format: 'SOURCE',
        language,
        workspaceName: stripExtension(fileName, ext),
        rule: `${ext} with header "${header}": ${language} notebook`,
      };
    }
    return {
      kind: 'file',
      format: 'RAW',
      workspaceName: fileName,
      rule: `${ext} without the notebook header "${header}": workspace file`,
    };
  }
  if (ext === '.designer.ipynb') {
    // The CLI keeps this suffix: it is not an ordinary notebook, so ship it as bytes.
    return {
      kind: 'file',
      format: 'RAW',
      workspaceName: fileName,
      rule: '.designer.ipynb: workspace file kept as is',
    };
  }
  if (ext === '.ipynb') {
    const check = checkJupyter(content);
    if (check.ok) {
      return {
        kind: 'notebook',
        format: 'JUPYTER',
        language: check.language,
        workspaceName: stripExtension(fileName, ext),
        rule: `.ipynb with cells, metadata and nbformat >= 4: Jupyter notebook${check.language ? ` (${check.language})` : ''}`,
      };
    }
    return {
      kind: 'file',
      format: 'RAW',
      workspaceName: fileName,
      rule: `.ipynb that is not a notebook (${check.problem}): workspace file`,
    };
  }
  if (ext === '.dbc') {
    return {
      kind: 'dbc',
      format: 'DBC',
      workspaceName: stripExtension(fileName, ext),
      rule: '.dbc: Databricks archive',
    };
  }
  return {
    kind: 'file',
    format: 'RAW',
    workspaceName: fileName,
    rule: ext ? `${ext}: workspace file` : 'no extension: workspace file',
  };
}

/** Human label of a classification, e.g. "notebook (PYTHON)". */
export function describeKind(c: {
  kind: DeployKind;
  language?: NotebookLanguage;
  format?: ImportFormat;
}): string {
  if (c.kind === 'notebook') return c.language ? `notebook (${c.language})` : 'notebook';
  if (c.kind === 'dbc') return 'archive (DBC)';
  return 'file';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
