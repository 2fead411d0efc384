/**
 * Loading the ARM template and its parameters file: JSON with comments (ARM
 * accepts // and /* *\/), the 4 MB request limits, and linked templates
 * (`linkedTemplates/ArmTemplate_master.json` whose Microsoft.Resources/deployments
 * resources point at ArmTemplate_N.json in the same folder).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJsonText, stripBom } from '../json-position';
import { DeployInputError } from './errors';
import { formatBytes } from '../../common/format';

/** ARM's limit on the template and on the parameters in a deployment request. */
export const ARM_TEMPLATE_LIMIT_BYTES = 4 * 1024 * 1024;

export interface ArmTemplate {
  $schema?: string;
  contentVersion?: string;
  parameters?: Record<
    string,
    { type: string; defaultValue?: unknown; metadata?: unknown; [k: string]: unknown }
  >;
  variables?: Record<string, unknown>;
  resources?: unknown[];
  outputs?: Record<string, { type?: string; value?: unknown; [k: string]: unknown }>;
  [key: string]: unknown;
}

export interface LoadedTemplate {
  file: string;
  json: ArmTemplate;
  /** Size of the file as sent inline (compact JSON, UTF-8 bytes). */
  sizeBytes: number;
  /** Nested deployments that link to template files (the linked-template master). */
  links: TemplateLink[];
}

export interface TemplateLink {
  /** The nested deployment's name as written. */
  rawName: string;
  /** File name the link points at, e.g. ArmTemplate_0.json. */
  fileName: string;
  /** Where it is expected on disk (next to the master). */
  localPath: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Removes // and /* *\/ comments outside strings. */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      // Keep line breaks so error positions stay right.
      const skipped = text.slice(i, end < 0 ? text.length : end + 2);
      out += skipped.replace(/[^\n]/g, ' ');
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Reads a JSON file (comments allowed); errors name the input and the line. */
export function readJsonFile(file: string, input: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DeployInputError(
      input,
      code === 'ENOENT'
        ? `Input '${input}': the ${what} ${file} was not found.`
        : `Input '${input}': the ${what} ${file} could not be read (${code ?? (e as Error).message}).`,
    );
  }
  const body = stripBom(text);
  let parsed = parseJsonText(body);
  if (!parsed.ok && (body.includes('//') || body.includes('/*')))
    parsed = parseJsonText(stripJsonComments(body));
  if (!parsed.ok) {
    throw new DeployInputError(
      input,
      `Input '${input}': the ${what} ${file} is not valid JSON: ${parsed.error.message} at line ${parsed.error.line}, column ${parsed.error.column}.`,
    );
  }
  return parsed.value;
}

const LINK_FILE = /([^/'"\\]+\.json)/gi;

/** The template file a nested deployment links to, read from its templateLink expression. */
export function linkedFileName(resource: Record<string, unknown>): string | undefined {
  const props = isObject(resource.properties) ? resource.properties : {};
  const link = isObject(props.templateLink) ? props.templateLink : undefined;
  if (!link) return undefined;
  if (typeof link.relativePath === 'string' && link.relativePath.trim()) return link.relativePath.trim();
  const uri = typeof link.uri === 'string' ? link.uri : '';
  const matches = [...uri.matchAll(LINK_FILE)].map((m) => m[1]);
  return matches.length > 0 ? matches[matches.length - 1] : undefined;
}

/** Whether `target` lies inside `folder` (lexically: no `..` out of it, no other root). */
function isInside(folder: string, target: string): boolean {
  const rel = path.relative(folder, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The real path (symbolic links followed), or the path itself when it does not exist. */
function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Refuses a linked template outside `root`, the master template's folder: a template is
 * input, and its links must not read files elsewhere on the agent. Symbolic links are
 * followed, so a link inside the folder cannot lead out of it either.
 */
export function checkLinkInside(
  link: TemplateLink,
  root: string,
  from: string,
  input = 'templateFile',
): void {
  const inside = isInside(root, link.localPath) && isInside(realPath(root), realPath(link.localPath));
  if (!inside) {
    throw new DeployInputError(
      input,
      `Input '${input}': ${path.basename(from)} links to the template '${link.fileName}' (deployment ${link.rawName}), which is outside the master template's folder ${root}. Linked templates must sit in that folder (the linkedTemplates folder of an ADF export); refusing to read it.`,
    );
  }
}

/**
 * Reads a template and the links of its nested deployments. Links must stay inside `root`
 * (default: the template's own folder).
 */
export function loadTemplate(
  file: string,
  input = 'templateFile',
  root: string = path.dirname(path.resolve(file)),
): LoadedTemplate {
  const json = readJsonFile(file, input, 'template');
  if (!isObject(json) || (json.resources !== undefined && !Array.isArray(json.resources))) {
    throw new DeployInputError(
      input,
      `Input '${input}': ${file} is not an ARM template (it needs a "resources" array).`,
    );
  }
  if (!Array.isArray(json.resources)) {
    throw new DeployInputError(
      input,
      `Input '${input}': ${file} is not an ARM template (it has no "resources" array).`,
    );
  }
  const links: TemplateLink[] = [];
  for (const r of json.resources) {
    if (
      !isObject(r) ||
      typeof r.type !== 'string' ||
      r.type.toLowerCase() !== 'microsoft.resources/deployments'
    )
      continue;
    const fileName = linkedFileName(r);
    if (!fileName) continue;
    const link = {
      rawName: typeof r.name === 'string' ? r.name : '(unnamed)',
      fileName,
      localPath: path.resolve(path.dirname(file), fileName),
    };
    checkLinkInside(link, root, file, input);
    links.push(link);
  }
  return {
    file,
    json: json as ArmTemplate,
    sizeBytes: Buffer.byteLength(JSON.stringify(json), 'utf8'),
    links,
  };
}

/**
 * Reads a linked template from disk (direct method: no storage account needed). It must lie
 * inside `root`, the master template's folder.
 */
export function loadLinkedTemplate(
  link: TemplateLink,
  root: string,
  from: string,
  input = 'templateFile',
): ArmTemplate {
  checkLinkInside(link, root, from, input);
  if (!fs.existsSync(link.localPath)) {
    throw new DeployInputError(
      input,
      `Input '${input}': the linked template ${link.fileName} (deployment ${link.rawName}) was expected at ${link.localPath}; keep the linkedTemplates folder of the export together.`,
    );
  }
  return loadTemplate(link.localPath, input, root).json;
}

export { formatBytes };

/**
 * Fails when the inline template or the parameters would exceed ARM's 4 MB
 * limits, pointing at the direct method, which has no such limit.
 */
export function checkArmRequestSize(
  templateBytes: number,
  parametersBytes: number,
  input = 'templateFile',
): void {
  if (templateBytes > ARM_TEMPLATE_LIMIT_BYTES) {
    throw new DeployInputError(
      input,
      `Input '${input}': the template is ${formatBytes(templateBytes)}, above Azure Resource Manager's 4 MB limit for a deployment template, so the 'arm' method cannot deploy it. Set deploymentMethod to 'direct', which deploys the same resources through the Data Factory API with no size limit (it also reads linkedTemplates/ArmTemplate_master.json and its children from disk).`,
    );
  }
  if (parametersBytes > ARM_TEMPLATE_LIMIT_BYTES) {
    throw new DeployInputError(
      'templateParametersFile',
      `The deployment parameters are ${formatBytes(parametersBytes)}, above Azure Resource Manager's 4 MB limit. Set deploymentMethod to 'direct', which has no such limit.`,
    );
  }
}
