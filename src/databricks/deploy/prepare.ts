/**
 * Turns source candidates into deploy items: classification, path mapping,
 * token replacement, hashing, and the checks that must fail before anything
 * in the workspace changes (conflicting names, over-size content, unknown tokens,
 * control characters in names).
 */
import * as crypto from 'node:crypto';
import { classifyFile, describeKind } from '../notebook-format';
import { hasControlChar, printable } from '../path-text';
import { DeployInputError } from './errors';
import { MANIFEST_FILE_NAME } from './manifest';
import { ancestorsRel } from './paths';
import { isEditableText, replaceTokens, type VariableLookup } from './tokens';
import type { DeployItem, SourceCandidate } from './types';

/** Decoded content limit of workspace/import. */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

export interface PrepareOptions {
  /** Input that names the source, for error messages: 'sourceFolder' or 'sourcePath'. */
  sourceInput: string;
  replaceTokens: boolean;
  lookup?: VariableLookup;
  maxBytes?: number;
}

export function sha256(content: Buffer): string {
  return crypto.createHash('sha256').update(content).digest('hex');
}

export function prepareItems(candidates: readonly SourceCandidate[], opts: PrepareOptions): DeployItem[] {
  const maxBytes = opts.maxBytes ?? MAX_IMPORT_BYTES;
  // First, so no other message echoes the raw characters.
  const hostile = candidates.filter((c) => hasControlChar(c.source)).map((c) => printable(c.source));
  if (hostile.length > 0) {
    throw new DeployInputError(
      opts.sourceInput,
      `Input '${opts.sourceInput}': ${hostile.length} file(s) have control characters in their names, which workspace paths cannot have; ` +
        `rename them or leave them out with the 'exclude' input; nothing was changed: ${listFiles(hostile.sort())}.`,
    );
  }
  const items: DeployItem[] = [];
  const missingTokens = new Map<string, string[]>();
  for (const c of candidates) {
    const cls = c.classification ?? classifyFile(c.fileName, c.content);
    const rel = c.relDir ? `${c.relDir}/${cls.workspaceName}` : cls.workspaceName;
    let content = c.content;
    let tokensReplaced = 0;
    const textual = cls.format === 'SOURCE' || cls.format === 'JUPYTER';
    if (opts.replaceTokens && cls.kind === 'notebook' && textual && isEditableText(content)) {
      if (!opts.lookup) throw new Error('replaceTokens needs a variable lookup');
      const r = replaceTokens(content.toString('utf8'), opts.lookup, {
        escape: cls.format === 'JUPYTER' ? 'json' : 'none',
      });
      for (const name of r.missing) {
        const list = missingTokens.get(name) ?? [];
        list.push(c.source);
        missingTokens.set(name, list);
      }
      if (r.replaced > 0) content = Buffer.from(r.text, 'utf8');
      tokensReplaced = r.replaced;
    }
    items.push({
      rel,
      source: c.source,
      kind: cls.kind,
      format: cls.format,
      language: cls.language,
      rule: cls.rule,
      content,
      sha256: sha256(content),
      size: content.length,
      tokensReplaced,
    });
  }

  const problems: { input: string; message: string }[] = [];
  const source = `Input '${opts.sourceInput}':`;
  const conflicts = findConflicts(items);
  if (conflicts.length > 0) {
    problems.push({
      input: opts.sourceInput,
      message:
        `${source} ${conflicts.length} workspace path(s) would receive more than one source (notebooks lose their extension in the workspace); ` +
        `rename or exclude one of each:\n` +
        conflicts.map((c) => `  ${c}`).join('\n'),
    });
  }
  const tooBig = items.filter((i) => i.size > maxBytes);
  if (tooBig.length > 0) {
    problems.push({
      input: opts.sourceInput,
      // One line, so the pipeline's result line names the input and the files.
      message:
        `${source} ${tooBig.length} file(s) exceed the workspace import limit of ${maxBytes} bytes; nothing was changed. ` +
        `Leave them out with the 'exclude' input or make them smaller: ` +
        `${listFiles(tooBig.map((i) => `${i.source} (${i.size} bytes)`))}.`,
    });
  }
  if (missingTokens.size > 0) {
    const names = [...missingTokens.keys()].sort();
    problems.push({
      input: 'replaceTokens',
      message:
        `${names.length} token(s) have no pipeline variable: ${names.join(', ')}. Define each as a pipeline variable ` +
        `(or in a variable group), or turn off 'replaceTokens'. Used in:\n` +
        names.map((n) => `  #{${n}}#: ${missingTokens.get(n)!.join(', ')}`).join('\n'),
    });
  }
  if (problems.length > 0) {
    throw new DeployInputError(problems[0].input, problems.map((p) => p.message).join('\n'));
  }
  return items.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

const MAX_LISTED_FILES = 20;

function listFiles(files: string[]): string {
  const more = files.length > MAX_LISTED_FILES ? ` and ${files.length - MAX_LISTED_FILES} more` : '';
  return files.slice(0, MAX_LISTED_FILES).join(', ') + more;
}

/** Two sources on one path, or an object where another source needs a folder, or the reserved manifest name. */
export function findConflicts(items: readonly DeployItem[]): string[] {
  const byRel = new Map<string, DeployItem[]>();
  for (const i of items) {
    const list = byRel.get(i.rel) ?? [];
    list.push(i);
    byRel.set(i.rel, list);
  }
  const out: string[] = [];
  for (const [rel, list] of byRel) {
    if (list.length > 1) {
      out.push(`${rel}: ${list.map((i) => `${i.source} (${describeKind(i)})`).join(' and ')}`);
    }
  }
  const folders = new Map<string, string>();
  for (const i of items) for (const a of ancestorsRel(i.rel)) if (!folders.has(a)) folders.set(a, i.source);
  for (const [rel, list] of byRel) {
    const inside = folders.get(rel);
    if (inside)
      out.push(`${rel}: ${list[0].source} (${describeKind(list[0])}) and the folder holding ${inside}`);
  }
  const reserved = byRel.get(MANIFEST_FILE_NAME);
  if (reserved)
    out.push(`${MANIFEST_FILE_NAME}: ${reserved[0].source} uses the name reserved for the deploy manifest`);
  return out.sort();
}
