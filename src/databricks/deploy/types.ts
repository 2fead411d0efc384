import type { Classification, DeployKind, ImportFormat, NotebookLanguage } from '../notebook-format';

/** A source file before classification (folder scan or workspace export). */
export interface SourceCandidate {
  /** Shown in logs and stored in the manifest: the relative source path or source workspace path. */
  source: string;
  /** Relative posix folder under the source root ('' for the root). */
  relDir: string;
  /** File name as found (with extension for local files). */
  fileName: string;
  content: Buffer;
  /** Set when the origin already knows what the object is (promotion from a workspace). */
  classification?: Classification;
}

/** Something to put in the workspace: classified, tokens replaced, hashed. */
export interface DeployItem {
  /** Workspace path relative to targetPath, posix, no leading slash. */
  rel: string;
  source: string;
  kind: DeployKind;
  format: ImportFormat;
  language?: NotebookLanguage;
  rule: string;
  content: Buffer;
  sha256: string;
  size: number;
  /** Number of #{…}# tokens replaced. */
  tokensReplaced: number;
}

export type DeployMode = 'merge' | 'mirror';

/** One object under targetPath as listed by the Workspace API. */
export interface RemoteObject {
  /** Relative to targetPath. */
  rel: string;
  /** Absolute API path (without /Workspace). */
  path: string;
  type: string;
  objectId?: number;
  modifiedAt?: number;
  size?: number;
  language?: NotebookLanguage;
  gitFolder: boolean;
  /**
   * For a notebook listed without modified_at: the cutoff (epoch ms) after which a
   * `notebooks_modified_after` listing showed it modified, i.e. edited since the last deploy.
   */
  modifiedAfter?: number;
}

export interface RemoteTree {
  rootExists: boolean;
  /** Objects by relative path (the root itself is not included). */
  objects: Map<string, RemoteObject>;
  /** Git folders (Repos) found; never descended into. */
  gitFolders: string[];
  /** Number of list requests made. */
  listRequests: number;
}

export interface Failure {
  path: string;
  operation: string;
  message: string;
}
