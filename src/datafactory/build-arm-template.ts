/**
 * DataFactoryBuildArmTemplate@1's core: validate a Data Factory git folder,
 * then export ARMTemplateForFactory.json, ARMTemplateParametersForFactory.json
 * and (when asked or needed) linkedTemplates/, offline and byte-for-byte
 * deterministic. The task adapter only reads inputs and reports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../common/logger';
import {
  ARM_MAX_PARAMETERS,
  ARM_MAX_RESOURCES,
  exportArmTemplate,
  serializeArm,
  type ArmExport,
} from './export-arm';
import { buildLinkedTemplates, PORTAL_RESOURCES_PER_TEMPLATE } from './linked-templates';
import { KINDS, loadFactoryFolder, type FactoryModel } from './model';
import {
  DEFAULT_PARAMETER_DEFINITION,
  loadParameterDefinition,
  type ParameterDefinition,
} from './params-definition';
import { validateFactory, type Problem } from './validate';
import { formatBytes } from '../common/format';

export type LinkedTemplatesMode = 'auto' | 'always' | 'never';

export const TEMPLATE_FILE_NAME = 'ARMTemplateForFactory.json';
export const PARAMETERS_FILE_NAME = 'ARMTemplateParametersForFactory.json';
export const LINKED_TEMPLATES_FOLDER = 'linkedTemplates';
export const DEFINITION_FILE_NAME = 'arm-template-parameters-definition.json';
/** ARM's limit on a deployed template's size. */
export const ARM_MAX_TEMPLATE_BYTES = 4 * 1024 * 1024;

export interface BuildArmTemplateOptions {
  factoryFolder: string;
  /** Overrides the name in factory/*.json. */
  factoryName?: string;
  outputFolder: string;
  /** Default: arm-template-parameters-definition.json in factoryFolder when present, else ADF's default. */
  parametersDefinitionFile?: string;
  includeGlobalParameters?: boolean;
  linkedTemplates?: LinkedTemplatesMode;
  validateOnly?: boolean;
  /** Size above which `auto` splits into linked templates (tests lower it). */
  maxTemplateBytes?: number;
  resourcesPerLinkedTemplate?: number;
  signal?: AbortSignal;
}

export interface BuildArmTemplateResult {
  ok: boolean;
  factoryName?: string;
  errors: Problem[];
  warnings: Problem[];
  /** Objects per kind label ("pipeline", "linked service", ...), only kinds present. */
  objectCounts: Record<string, number>;
  resourceCount: number;
  /** Template parameters including factoryName. */
  parameterCount: number;
  templateBytes: number;
  definitionSource: string;
  templateFile?: string;
  parametersFile?: string;
  linkedTemplateFiles: string[];
  summaryMarkdown: string;
}

function report(logger: Logger, p: Problem): void {
  const where = p.file ? { file: p.file, line: p.line, column: p.column } : undefined;
  if (p.severity === 'error') logger.error(p.message, where);
  else logger.warn(p.message, where);
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted)
    throw signal.reason instanceof Error ? signal.reason : new Error('The build was cancelled.');
}

function resolveDefinition(options: BuildArmTemplateOptions): {
  definition: ParameterDefinition;
  source: string;
  problems: Problem[];
} {
  const explicit = options.parametersDefinitionFile;
  const file = explicit ?? path.join(options.factoryFolder, DEFINITION_FILE_NAME);
  if (!fs.existsSync(file)) {
    if (explicit) {
      return {
        definition: {},
        source: explicit,
        problems: [
          {
            severity: 'error',
            message: `The parameters definition file ${explicit} does not exist. Fix the 'parametersDefinitionFile' input or leave it empty to use ${DEFINITION_FILE_NAME} in the factory folder.`,
          },
        ],
      };
    }
    return {
      definition: DEFAULT_PARAMETER_DEFINITION,
      source: "ADF's default parameterization template",
      problems: [],
    };
  }
  const rel = path.relative(options.factoryFolder, file).split(path.sep).join('/');
  const relPath = rel.startsWith('..') ? file : rel;
  const loaded = loadParameterDefinition(fs.readFileSync(file, 'utf8'), file, relPath);
  return { definition: loaded.definition, source: file, problems: loaded.problems };
}

function countObjects(model: FactoryModel, exp: ArmExport | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of KINDS) {
    const n = model.objects.filter((o) => o.kind === k.kind).length;
    if (n > 0) counts[k.label] = n;
  }
  if (exp?.resources.some((r) => r.kind === 'globalParameters')) {
    const gp = (model.factory?.json.properties as Record<string, unknown> | undefined)?.globalParameters;
    counts['global parameter'] = gp && typeof gp === 'object' ? Object.keys(gp).length : 0;
  }
  return counts;
}

function writeFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, 'utf8');
}

export function buildArmTemplate(options: BuildArmTemplateOptions, logger: Logger): BuildArmTemplateResult {
  const includeGlobalParameters = options.includeGlobalParameters ?? true;
  const mode = options.linkedTemplates ?? 'auto';
  const maxBytes = options.maxTemplateBytes ?? ARM_MAX_TEMPLATE_BYTES;

  logger.startGroup(`Validate ${options.factoryFolder}`);
  const model = loadFactoryFolder(options.factoryFolder);
  const validation = validateFactory(model, { factoryName: options.factoryName });
  const definition = resolveDefinition(options);
  const errors = [...validation.errors, ...definition.problems.filter((p) => p.severity === 'error')];
  const warnings = [...validation.warnings, ...definition.problems.filter((p) => p.severity === 'warning')];
  for (const p of [...errors, ...warnings]) report(logger, p);
  logger.info(
    `${model.objects.length} objects, ${errors.length} error(s), ${warnings.length} warning(s). Parameters definition: ${definition.source}.`,
  );
  logger.endGroup();
  throwIfAborted(options.signal);

  const result: BuildArmTemplateResult = {
    ok: errors.length === 0,
    factoryName: validation.factoryName,
    errors,
    warnings,
    objectCounts: countObjects(model, undefined),
    resourceCount: 0,
    parameterCount: 0,
    templateBytes: 0,
    definitionSource: definition.source,
    linkedTemplateFiles: [],
    summaryMarkdown: '',
  };
  if (!result.ok || validation.factoryName === undefined) {
    result.ok = false;
    result.summaryMarkdown = renderSummary(result, options);
    return result;
  }

  logger.startGroup('Export ARM template');
  const exp = exportArmTemplate(model, {
    factoryName: validation.factoryName,
    definition: definition.definition,
    includeGlobalParameters,
    references: validation.references,
  });
  for (const w of exp.warnings) report(logger, w);
  warnings.push(...exp.warnings);
  const templateText = serializeArm(exp.template);
  const parametersText = serializeArm(exp.parametersFile);
  result.objectCounts = countObjects(model, exp);
  result.resourceCount = exp.resources.length;
  result.parameterCount = Object.keys(exp.template.parameters).length;
  result.templateBytes = Buffer.byteLength(templateText, 'utf8');
  logger.info(
    `${result.resourceCount} resources, ${result.parameterCount} parameters, template ${formatBytes(result.templateBytes)}.`,
  );
  throwIfAborted(options.signal);

  const split =
    mode === 'always' ||
    (mode === 'auto' && (result.templateBytes > maxBytes || exp.resources.length > ARM_MAX_RESOURCES));
  if (mode === 'never' && result.templateBytes > maxBytes) {
    const w: Problem = {
      severity: 'warning',
      message: `The template is ${formatBytes(result.templateBytes)}, above ARM's ${formatBytes(maxBytes)} limit, and linkedTemplates is 'never'; deploy it per object or set linkedTemplates to 'auto'.`,
    };
    report(logger, w);
    warnings.push(w);
  }

  if (!options.validateOnly) {
    const out = options.outputFolder;
    result.templateFile = path.join(out, TEMPLATE_FILE_NAME);
    result.parametersFile = path.join(out, PARAMETERS_FILE_NAME);
    writeFile(result.templateFile, templateText);
    writeFile(result.parametersFile, parametersText);
    const linkedDir = path.join(out, LINKED_TEMPLATES_FOLDER);
    removeOldLinkedTemplates(linkedDir);
    if (split) {
      const linked = buildLinkedTemplates(exp, {
        factoryName: validation.factoryName,
        resourcesPerTemplate: options.resourcesPerLinkedTemplate ?? PORTAL_RESOURCES_PER_TEMPLATE,
      });
      const files: Array<[string, unknown]> = [
        ['ArmTemplate_master.json', linked.master],
        ['ArmTemplateParameters_master.json', linked.masterParameters],
        ...linked.children.map((c, i): [string, unknown] => [`ArmTemplate_${i}.json`, c]),
      ];
      for (const [name, body] of files) {
        const file = path.join(linkedDir, name);
        writeFile(file, serializeArm(body));
        result.linkedTemplateFiles.push(file);
      }
    }
    logger.info(
      `Wrote ${result.templateFile}, ${result.parametersFile}${split ? ` and ${result.linkedTemplateFiles.length} linked template files` : ''}.`,
    );
  } else {
    logger.info('validateOnly: nothing was written.');
  }
  logger.endGroup();
  result.summaryMarkdown = renderSummary(result, options);
  return result;
}

/** Drops linked templates of an earlier run, so a smaller split leaves no stale ArmTemplate_N.json. */
function removeOldLinkedTemplates(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (/^ArmTemplate(Parameters)?_(master|\d+)\.json$/.test(n))
      fs.rmSync(path.join(dir, n), { force: true });
  }
}

export { formatBytes };

function mdEscape(s: string): string {
  return s.replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`);
}

function problemLine(p: Problem): string {
  const where = p.relPath ? ` (${mdEscape(p.relPath)}${p.line ? `:${p.line}` : ''})` : '';
  return `- ${mdEscape(p.message)}${where}`;
}

/** The markdown summary uploaded to the build: counts, parameters, problems and output files. */
export function renderSummary(
  r: BuildArmTemplateResult,
  options: Pick<BuildArmTemplateOptions, 'validateOnly'>,
): string {
  const lines: string[] = [];
  const status = r.ok ? (r.warnings.length ? '✅ passed with warnings' : '✅ passed') : '❌ failed';
  lines.push(`## Data Factory ARM template${r.factoryName ? `: ${mdEscape(r.factoryName)}` : ''}`, '');
  lines.push(`Validation ${status} (${r.errors.length} error(s), ${r.warnings.length} warning(s)).`, '');
  const kinds = Object.entries(r.objectCounts);
  if (kinds.length) {
    lines.push('| Object kind | Count |', '|---|---:|');
    for (const [k, n] of kinds) lines.push(`| ${k} | ${n} |`);
    lines.push('');
  }
  if (r.ok) {
    lines.push(
      `**Resources:** ${r.resourceCount} (ARM limit ${ARM_MAX_RESOURCES}) · **Parameters:** ${r.parameterCount} (ARM limit ${ARM_MAX_PARAMETERS}) · **Template size:** ${formatBytes(r.templateBytes)}`,
      '',
      `Parameters definition: ${mdEscape(r.definitionSource)}`,
      '',
    );
  }
  const show = (title: string, list: Problem[]): void => {
    if (!list.length) return;
    lines.push(`### ${title}`, '');
    for (const p of list.slice(0, 50)) lines.push(problemLine(p));
    if (list.length > 50) lines.push(`- … and ${list.length - 50} more (see the log)`);
    lines.push('');
  };
  show('Errors', r.errors);
  show('Warnings', r.warnings);
  if (options.validateOnly) {
    lines.push('validateOnly: no files were written.', '');
  } else if (r.templateFile) {
    lines.push('### Output files', '');
    for (const f of [r.templateFile, r.parametersFile, ...r.linkedTemplateFiles])
      if (f) lines.push(`- \`${f}\``);
    lines.push('');
  }
  return lines.join('\n');
}
