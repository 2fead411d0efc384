/**
 * The custom parameterisation file, arm-template-parameters-definition.json,
 * as documented in MicrosoftDocs azure-docs
 * articles/data-factory/continuous-integration-delivery-resource-manager-custom-parameters.md:
 *
 * - one section per resource type ("Microsoft.DataFactory/factories/pipelines", ...);
 *   linked services and datasets (and any section without a "properties" key) are
 *   keyed by the object's type, with "*" for every other type;
 * - a string value parameterises that property: "<action>:<name>:<stype>" where
 *   action is "=" (keep the current value as default), "-" (no default) or "|"
 *   (a secret: Key Vault references get their secretName parameterised, plain
 *   values become secure strings without a default); name is the parameter
 *   name's last part ("-name" shortens it to <object>_<name>); stype is string,
 *   securestring, int, bool, object, secureobject or array (inferred when blank);
 * - "*" as a key applies its definition to every property at that level (one
 *   level, not recursively); explicitly listed keys are exceptions;
 * - an array [definition, "path.to.name"] applies the definition to every item;
 *   the item's name (that property, else its "name", else its pipeline
 *   reference) replaces the array's key in the parameter name.
 */
import { locateKey, locatePath, parseJsonText, type JsonPath } from './json-position';
import type { Problem } from './validate';

export type DefinitionNode = string | DefinitionNode[] | { [key: string]: DefinitionNode };
export type ParameterDefinition = Record<string, DefinitionNode>;

export type Action = '=' | '-' | '|';

export interface ParsedAction {
  action: Action;
  /** Parameter name part; undefined uses the property path. */
  name?: string;
  /** A leading '-' on the name: <object>_<name>. */
  shortened: boolean;
  /** Canonical ARM type when given. */
  type?: ArmParameterType;
}

export type ArmParameterType =
  'string' | 'secureString' | 'int' | 'bool' | 'object' | 'secureObject' | 'array';

const TYPES: Record<string, ArmParameterType> = {
  string: 'string',
  securestring: 'secureString',
  int: 'int',
  bool: 'bool',
  object: 'object',
  secureobject: 'secureObject',
  array: 'array',
};

/**
 * ADF's default definition, used when the folder has no
 * arm-template-parameters-definition.json: the documented "current default
 * parameterization template" plus existingClusterId, which the portal's built-in
 * default also parameterises (every public export of a factory with an
 * interactive-cluster Databricks linked service and no definition file shows
 * <name>_properties_typeProperties_existingClusterId).
 */
export const DEFAULT_PARAMETER_DEFINITION: ParameterDefinition = {
  'Microsoft.DataFactory/factories': {
    properties: { globalParameters: { '*': { value: '=' } } },
    location: '=',
  },
  'Microsoft.DataFactory/factories/globalparameters': {
    properties: { '*': { value: '=' } },
  },
  'Microsoft.DataFactory/factories/pipelines': {},
  'Microsoft.DataFactory/factories/dataflows': {},
  'Microsoft.DataFactory/factories/integrationRuntimes': {
    properties: {
      typeProperties: {
        ssisProperties: {
          catalogInfo: {
            catalogServerEndpoint: '=',
            catalogAdminUserName: '=',
            catalogAdminPassword: { value: '-::secureString' },
          },
          customSetupScriptProperties: { sasToken: { value: '-::secureString' } },
        },
        linkedInfo: { key: { value: '-::secureString' }, resourceId: '=' },
        computeProperties: {
          dataFlowProperties: { externalComputeInfo: [{ accessToken: '-::secureString' }] },
        },
      },
    },
  },
  'Microsoft.DataFactory/factories/triggers': {
    properties: {
      pipelines: [{ parameters: { '*': '=' } }],
      pipeline: { parameters: { '*': '=' } },
      typeProperties: { scope: '=' },
    },
  },
  'Microsoft.DataFactory/factories/linkedServices': {
    '*': {
      properties: {
        typeProperties: {
          accountName: '=',
          username: '=',
          userName: '=',
          accessKeyId: '=',
          servicePrincipalId: '=',
          userId: '=',
          host: '=',
          clientId: '=',
          clusterUserName: '=',
          clusterSshUserName: '=',
          hostSubscriptionId: '=',
          clusterResourceGroup: '=',
          subscriptionId: '=',
          resourceGroupName: '=',
          tenant: '=',
          dataLakeStoreUri: '=',
          baseUrl: '=',
          database: '=',
          serviceEndpoint: '=',
          batchUri: '=',
          poolName: '=',
          databaseName: '=',
          systemNumber: '=',
          server: '=',
          url: '=',
          functionAppUrl: '=',
          environmentUrl: '=',
          aadResourceId: '=',
          sasUri: '|:-sasUri:secureString',
          sasToken: '|',
          connectionString: '|:-connectionString:secureString',
          hostKeyFingerprint: '=',
          existingClusterId: '=',
        },
      },
    },
    Odbc: {
      properties: { typeProperties: { userName: '=', connectionString: { secretName: '=' } } },
    },
  },
  'Microsoft.DataFactory/factories/datasets': {
    '*': { properties: { typeProperties: { folderPath: '=', fileName: '=' } } },
  },
  'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints': {
    properties: { '*': '=' },
  },
};

const ACTION_RE = /^([=\-|])(?::([^:]*))?(?::([^:]*))?$/;

/** Parses "<action>:<name>:<stype>"; returns an error message for a malformed string. */
export function parseAction(text: string): ParsedAction | string {
  const m = ACTION_RE.exec(text.trim());
  if (!m) {
    return `'${text}' is not a parameter action: use "<action>:<name>:<type>" where action is '=', '-' or '|'`;
  }
  const [, action, rawName, rawType] = m;
  let type: ArmParameterType | undefined;
  if (rawType !== undefined && rawType.trim() !== '') {
    type = TYPES[rawType.trim().toLowerCase()];
    if (!type) {
      return `'${rawType}' is not a parameter type (use string, securestring, int, bool, object, secureobject or array)`;
    }
  }
  const nameText = rawName?.trim() ?? '';
  const shortened = nameText.startsWith('-');
  const name = shortened ? nameText.slice(1) : nameText;
  if (shortened && name === '') return `'${text}': a '-' name prefix must be followed by a name`;
  return { action: action as Action, name: name === '' ? undefined : name, shortened, type };
}

export interface LoadedDefinition {
  definition: ParameterDefinition;
  /** The file it came from; undefined for the built-in default. */
  file?: string;
  problems: Problem[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks a definition file; problems carry positions. */
export function loadParameterDefinition(text: string, file: string, relPath = file): LoadedDefinition {
  const problems: Problem[] = [];
  const where = (path: JsonPath, key = false) => {
    const pos = (key ? locateKey(text, path) : locatePath(text, path)) ?? { line: 1, column: 1 };
    return { file, relPath, line: pos.line, column: pos.column };
  };
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    const e = parsed.error;
    problems.push({
      severity: 'error',
      message: `${relPath}: invalid JSON: ${e.message} (line ${e.line}, column ${e.column}).`,
      file,
      relPath,
      line: e.line,
      column: e.column,
    });
    return { definition: {}, file, problems };
  }
  if (!isPlainObject(parsed.value)) {
    problems.push({
      severity: 'error',
      message: `${relPath}: the definition must be a JSON object of resource types.`,
      ...where([]),
    });
    return { definition: {}, file, problems };
  }
  const check = (node: unknown, path: Array<string | number>): void => {
    if (typeof node === 'string') {
      const a = parseAction(node);
      if (typeof a === 'string')
        problems.push({ severity: 'error', message: `${relPath}: ${a}.`, ...where(path) });
      return;
    }
    if (Array.isArray(node)) {
      if (node.length === 0 || node.length > 2 || (node.length === 2 && typeof node[1] !== 'string')) {
        problems.push({
          severity: 'error',
          message: `${relPath}: an array definition must be [definition] or [definition, "name.property"].`,
          ...where(path),
        });
        return;
      }
      check(node[0], [...path, 0]);
      return;
    }
    if (isPlainObject(node)) {
      for (const [k, v] of Object.entries(node)) check(v, [...path, k]);
      return;
    }
    problems.push({
      severity: 'error',
      message: `${relPath}: a definition value must be an action string, an object or an array, not ${JSON.stringify(node)}.`,
      ...where(path),
    });
  };
  for (const [section, node] of Object.entries(parsed.value)) {
    if (!section.toLowerCase().startsWith('microsoft.datafactory/factories')) {
      problems.push({
        severity: 'warning',
        message: `${relPath}: section '${section}' is not a Data Factory resource type and is ignored.`,
        ...where([section], true),
      });
      continue;
    }
    if (!isPlainObject(node)) {
      problems.push({
        severity: 'error',
        message: `${relPath}: section '${section}' must be an object.`,
        ...where([section]),
      });
      continue;
    }
    check(node, [section]);
  }
  return { definition: parsed.value as ParameterDefinition, file, problems };
}

/** The section for a resource type (section names are matched case-insensitively). */
export function sectionFor(
  definition: ParameterDefinition,
  resourceType: string,
): DefinitionNode | undefined {
  if (resourceType in definition) return definition[resourceType];
  const lower = resourceType.toLowerCase();
  for (const [k, v] of Object.entries(definition)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * The part of a section that applies to one object: sections keyed by object
 * type ("*" and e.g. "AzureKeyVault") pick the object's type, falling back to "*";
 * other sections apply to every object.
 */
export function definitionForObject(
  section: DefinitionNode | undefined,
  objectType: unknown,
): DefinitionNode | undefined {
  if (!isPlainObject(section)) return undefined;
  const keys = Object.keys(section);
  if (keys.length === 0) return undefined;
  const typed = !keys.includes('properties') && keys.every((k) => isPlainObject(section[k]));
  if (!typed) return section;
  if (typeof objectType === 'string') {
    if (objectType in section) return section[objectType];
    const lower = objectType.toLowerCase();
    const k = keys.find((x) => x !== '*' && x.toLowerCase() === lower);
    if (k) return section[k];
  }
  return section['*'];
}
