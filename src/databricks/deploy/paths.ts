/**
 * Workspace path handling. The Workspace API addresses objects as `/Shared/x`;
 * the UI and %sh show the same object as `/Workspace/Shared/x`. We accept both
 * and always send the form without the prefix, which every API version accepts.
 */
import { hasControlChar, printable } from '../path-text';
import { DeployInputError } from './errors';

const WORKSPACE_PREFIX = '/Workspace';

/**
 * Canonical API path: absolute, no `/Workspace` prefix, no empty, `.` or `..`
 * segments, no trailing slash, no control characters. `..` is resolved so `/Shared/x/..` is seen for what it is.
 * Throws DeployInputError naming `inputName` when the path is unusable.
 */
export function normaliseWorkspacePath(raw: string, inputName: string): string {
  const value = raw.trim();
  if (!value)
    throw new DeployInputError(
      inputName,
      `Input '${inputName}' is required: give a workspace folder such as /Shared/sales.`,
    );
  // First, so no other message echoes the raw characters.
  if (hasControlChar(value)) {
    throw new DeployInputError(
      inputName,
      `Input '${inputName}': "${printable(value)}" contains a control character; workspace paths cannot. Check the value for pasted or hidden characters.`,
    );
  }
  if (value.includes('\\')) {
    throw new DeployInputError(
      inputName,
      `Input '${inputName}' must use forward slashes (got '${value}'), e.g. /Shared/sales.`,
    );
  }
  if (!value.startsWith('/')) {
    throw new DeployInputError(
      inputName,
      `Input '${inputName}' must be an absolute workspace path starting with '/' (got '${value}'), e.g. /Shared/sales or /Workspace/Shared/sales.`,
    );
  }
  const out: string[] = [];
  for (const seg of value.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) {
        throw new DeployInputError(
          inputName,
          `Input '${inputName}' goes above the workspace root with '..' (got '${value}').`,
        );
      }
      out.pop();
      continue;
    }
    out.push(seg);
  }
  // Drop the FUSE-style prefix only when it is the whole first segment.
  if (out.length > 0 && out[0] === WORKSPACE_PREFIX.slice(1)) out.shift();
  return '/' + out.join('/');
}

/**
 * Why mirror mode must not own this folder, or undefined when it may. Mirror
 * deletes everything under the target that is not in the source, so roots that
 * hold other people's work are refused.
 */
export function dangerousMirrorTarget(normalised: string): string | undefined {
  const segs = segments(normalised);
  if (segs.length === 0) return 'it is the workspace root';
  const top = segs[0];
  if (segs.length === 1 && (top === 'Users' || top === 'Shared' || top === 'Repos'))
    return `it is the top-level /${top} folder`;
  if (segs.length === 2 && top === 'Users') return `it is the home folder of ${segs[1]}`;
  if (segs.length === 2 && top === 'Repos') return `it is the Repos folder of ${segs[1]}`;
  return undefined;
}

export function segments(p: string): string[] {
  return p.split('/').filter((s) => s.length > 0);
}

/** Joins a normalised absolute root with a relative posix path ('' means the root). */
export function joinWorkspacePath(root: string, rel: string): string {
  if (!rel) return root;
  return root === '/' ? `/${rel}` : `${root}/${rel}`;
}

/** The path of `abs` relative to `root`, or undefined when it is not inside (or equal to) root. */
export function relativeTo(root: string, abs: string): string | undefined {
  const p = stripWorkspacePrefix(abs);
  if (p === root) return '';
  const prefix = root === '/' ? '/' : `${root}/`;
  return p.startsWith(prefix) ? p.slice(prefix.length) : undefined;
}

/** True when `abs` is strictly inside `root` (not the root itself). */
export function isStrictlyInside(root: string, abs: string): boolean {
  const rel = relativeTo(root, abs);
  return rel !== undefined && rel !== '' && !segments(rel).some((s) => s === '..' || s === '.');
}

/** Paths the API returns may carry the /Workspace prefix; compare without it. */
export function stripWorkspacePrefix(p: string): string {
  if (p === WORKSPACE_PREFIX) return '/';
  if (p.startsWith(WORKSPACE_PREFIX + '/')) return p.slice(WORKSPACE_PREFIX.length);
  return p;
}

/** Parent of a relative path ('' for top-level entries). */
export function parentRel(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** Every proper ancestor folder of a relative path, outermost first ('a/b/c' → ['a', 'a/b']). */
export function ancestorsRel(rel: string): string[] {
  const segs = segments(rel);
  const out: string[] = [];
  for (let i = 1; i < segs.length; i++) out.push(segs.slice(0, i).join('/'));
  return out;
}

export function depth(rel: string): number {
  return rel === '' ? 0 : segments(rel).length;
}

/** A link that opens the object in the workspace UI (works for notebooks, files and folders). */
export function workspaceLink(workspaceUrl: string, absPath: string): string {
  const base = workspaceUrl.replace(/\/+$/, '');
  const encoded = segments(absPath)
    // Parentheses too, so the link survives inside markdown.
    .map((s) => encodeURIComponent(s).replace(/\(/g, '%28').replace(/\)/g, '%29'))
    .join('/');
  return `${base}/#workspace/${encoded}`;
}
