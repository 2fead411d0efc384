/**
 * What the ADF portal's export adds to the git JSON before it writes the ARM
 * template. Each rule was checked by comparing public git folders with the
 * ARMTemplateForFactory.json the portal (and @microsoft/azure-data-factory-utilities)
 * produced from them:
 *
 * - every pipeline gets policy.elapsedTimeMetric = {} (after activities/concurrency);
 * - an ExecutePipeline activity gets policy {"secureInput": false} and typeProperties.parameters {};
 *   a WebActivity gets typeProperties.headers {}; a dataset gets typeProperties {};
 * - dataset references of activities (inputs, outputs, typeProperties.dataset) and
 *   the pipelines a trigger runs get "parameters": {};
 * - an ExecuteDataFlow activity's data flow reference gets "parameters": {} and
 *   "datasetParameters" with an entry ({} unless given) per source and sink of that
 *   data flow, in that order, and the activity gets "staging": {};
 * - a credential gets typeProperties {};
 * - a reference whose name differs only in case from the object's name is
 *   rewritten to the object's name;
 * - a linked service's top-level properties come in ADF Studio's order
 *   (description, parameters, annotations, type, typeProperties, connectVia);
 * - a linked service's encryptedCredential (only meaningful to the source factory)
 *   is replaced by the secret properties it stands for, as SecureStrings that the
 *   export then turns into secure parameters, where the connector keeps them.
 *
 * All functions work on copies and never change their input.
 */
import type { AdfObject } from './model';

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepClone<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => deepClone(x)) as T;
  if (isPlainObject(v)) {
    const out: Json = {};
    for (const k of Object.keys(v)) out[k] = deepClone(v[k]);
    return out as T;
  }
  return v;
}

/** A copy of `obj` with `key: value` right after the last of `afterKeys` present (first when none is). */
export function insertAfter(obj: Json, afterKeys: string[], key: string, value: unknown): Json {
  const out: Json = {};
  const anchor = [...afterKeys].reverse().find((k) => k in obj);
  if (anchor === undefined) out[key] = value;
  for (const k of Object.keys(obj)) {
    out[k] = obj[k];
    if (k === anchor) out[key] = value;
  }
  return out;
}

export interface NormalizeContext {
  /** Source and sink names of each data flow, by lower-cased name. */
  dataflowStreams: Map<string, string[]>;
  /** The exact name of the object a reference points to (names are case-insensitive). */
  canonicalName?: (referenceType: string, name: string) => string | undefined;
  /** Called when an encryptedCredential was removed without knowing the secret it held. */
  onUnknownCredential?: (o: AdfObject) => void;
}

/** Source and sink names of a data flow, in document order (sources first). */
export function dataflowStreamNames(properties: unknown): string[] {
  if (!isPlainObject(properties) || !isPlainObject(properties.typeProperties)) return [];
  const tp = properties.typeProperties;
  const names: string[] = [];
  for (const list of [tp.sources, tp.sinks]) {
    if (!Array.isArray(list)) continue;
    for (const s of list) if (isPlainObject(s) && typeof s.name === 'string') names.push(s.name);
  }
  return names;
}

/** A copy of the object's properties with the portal's additions applied. */
export function normalizeProperties(o: AdfObject, ctx: NormalizeContext): unknown {
  const props = deepClone(o.json.properties);
  if (!isPlainObject(props)) return props;
  if (ctx.canonicalName) fixReferenceCase(props, ctx.canonicalName);
  switch (o.kind) {
    case 'pipeline':
      return normalizePipeline(props, ctx);
    case 'trigger':
      return normalizeTrigger(props);
    case 'linkedService':
      return normalizeLinkedService(o, props, ctx);
    case 'dataset':
    case 'credential':
      if (!('typeProperties' in props)) props.typeProperties = {};
      return props;
    default:
      return props;
  }
}

function normalizePipeline(props: Json, ctx: NormalizeContext): Json {
  if (Array.isArray(props.activities))
    props.activities = props.activities.map((a) => normalizeActivity(a, ctx));
  const policy = props.policy;
  if (policy === undefined)
    return insertAfter(props, ['activities', 'concurrency'], 'policy', { elapsedTimeMetric: {} });
  if (isPlainObject(policy) && !('elapsedTimeMetric' in policy)) {
    props.policy = { elapsedTimeMetric: {}, ...policy };
  }
  return props;
}

function withEmptyParameters(ref: unknown, type: string): unknown {
  if (isPlainObject(ref) && ref.type === type && !('parameters' in ref)) return { ...ref, parameters: {} };
  return ref;
}

function normalizeActivity(activity: unknown, ctx: NormalizeContext): unknown {
  if (!isPlainObject(activity)) return activity;
  let a: Json = activity;
  if (a.type === 'ExecutePipeline') {
    if (!('policy' in a)) a = insertAfter(a, ['name', 'type', 'dependsOn'], 'policy', { secureInput: false });
    if (isPlainObject(a.typeProperties) && !('parameters' in a.typeProperties)) {
      a.typeProperties = { ...a.typeProperties, parameters: {} };
    }
  }
  if (a.type === 'WebActivity' && isPlainObject(a.typeProperties) && !('headers' in a.typeProperties)) {
    a.typeProperties = insertAfter(a.typeProperties, ['method'], 'headers', {});
  }
  for (const k of ['inputs', 'outputs']) {
    const list = a[k];
    if (Array.isArray(list)) a[k] = list.map((r) => withEmptyParameters(r, 'DatasetReference'));
  }
  if (isPlainObject(a.typeProperties)) {
    let tp: Json = a.typeProperties;
    if ('dataset' in tp) tp.dataset = withEmptyParameters(tp.dataset, 'DatasetReference');
    if (
      a.type === 'ExecuteDataFlow' &&
      isPlainObject(tp.dataflow) &&
      tp.dataflow.type === 'DataFlowReference'
    ) {
      const ref: Json = tp.dataflow;
      const streams =
        typeof ref.referenceName === 'string'
          ? ctx.dataflowStreams.get(ref.referenceName.toLowerCase())
          : undefined;
      const given = isPlainObject(ref.datasetParameters) ? ref.datasetParameters : undefined;
      let datasetParameters: unknown = ref.datasetParameters;
      if (streams && (given || ref.datasetParameters === undefined)) {
        const merged: Json = {};
        for (const name of streams) merged[name] = given && name in given ? given[name] : {};
        for (const k of Object.keys(given ?? {})) if (!(k in merged)) merged[k] = (given as Json)[k];
        datasetParameters = merged;
      }
      const ordered: Json = {
        referenceName: ref.referenceName,
        type: ref.type,
        parameters: ref.parameters ?? {},
      };
      if (datasetParameters !== undefined) ordered.datasetParameters = datasetParameters;
      for (const k of Object.keys(ref)) if (!(k in ordered)) ordered[k] = ref[k];
      tp.dataflow = ordered;
      if (!('staging' in tp)) tp = insertAfter(tp, ['dataflow'], 'staging', {});
    }
    // Nested activities: ForEach/Until (activities), IfCondition (ifTrue/ifFalse), Switch (cases, default).
    for (const k of ['activities', 'ifTrueActivities', 'ifFalseActivities', 'defaultActivities']) {
      const list = tp[k];
      if (Array.isArray(list)) tp[k] = list.map((x) => normalizeActivity(x, ctx));
    }
    if (Array.isArray(tp.cases)) {
      tp.cases = tp.cases.map((c) =>
        isPlainObject(c) && Array.isArray(c.activities)
          ? { ...c, activities: c.activities.map((x) => normalizeActivity(x, ctx)) }
          : c,
      );
    }
    a.typeProperties = tp;
  }
  return a;
}

function normalizeTrigger(props: Json): Json {
  const addParams = (p: unknown): unknown =>
    isPlainObject(p) && isPlainObject(p.pipelineReference) && !('parameters' in p)
      ? { ...p, parameters: {} }
      : p;
  if (Array.isArray(props.pipelines)) props.pipelines = props.pipelines.map(addParams);
  if ('pipeline' in props) props.pipeline = addParams(props.pipeline);
  return props;
}

const USER_KEYS = ['userName', 'username', 'userId', 'user', 'clusterUserName'];
const PASSWORD_TYPES = new Set(
  [
    'AzureSqlDatabase',
    'AzureSqlDW',
    'AzureSqlMI',
    'SqlServer',
    'AmazonRdsForSqlServer',
    'AzureMySql',
    'MySql',
    'AzurePostgreSql',
    'PostgreSql',
    'PostgreSqlV2',
    'Oracle',
    'Db2',
    'Teradata',
    'Sybase',
    'Informix',
    'SapHana',
    'SapBW',
    'SapTable',
    'SapOpenHub',
    'FileServer',
    'Sftp',
    'FtpServer',
    'HttpServer',
    'RestService',
    'Odbc',
    'Snowflake',
    'SnowflakeV2',
    'AmazonRedshift',
    'GoogleBigQuery',
    'MongoDb',
    'Cassandra',
    'Hive',
    'Impala',
    'Spark',
    'Presto',
    'Vertica',
    'Netezza',
    'Greenplum',
  ].map((t) => t.toLowerCase()),
);

/**
 * The secrets an encryptedCredential stands for, from the connector type and its
 * authentication settings; empty when it cannot be told.
 */
export function secretPropertiesForEncryptedCredential(linkedServiceType: string, tp: Json): string[] {
  const type = linkedServiceType.toLowerCase();
  if (type === 'hdinsightondemand') return ['clusterPassword', 'clusterSshPassword', 'servicePrincipalKey'];
  const one = secretPropertyForEncryptedCredential(linkedServiceType, tp);
  return one ? [one] : [];
}

/**
 * The secret an encryptedCredential stands for, from the connector type and its
 * authentication settings; undefined when it cannot be told.
 */
export function secretPropertyForEncryptedCredential(
  linkedServiceType: string,
  tp: Json,
): string | undefined {
  const auth = String(tp.authenticationType ?? tp.authentication ?? '').toLowerCase();
  if (auth === 'msi' || auth === 'managedserviceidentity' || auth === 'systemassignedmanagedidentity')
    return undefined;
  if (typeof tp.servicePrincipalId === 'string' || isPlainObject(tp.servicePrincipalId)) {
    return 'servicePrincipalCredentialType' in tp ? 'servicePrincipalCredential' : 'servicePrincipalKey';
  }
  const type = linkedServiceType.toLowerCase();
  switch (type) {
    case 'azureblobfs':
    case 'azurefilestorage':
      return 'sasUri' in tp ? 'sasToken' : 'accountKey';
    case 'azureblobstorage':
      return 'sasUri' in tp ? 'sasToken' : 'connectionString' in tp ? undefined : 'accountKey';
    case 'azuredatabricks':
    case 'azuredatabricksdeltalake':
      return 'accessToken';
    case 'azurefunction':
      return 'functionKey';
    case 'amazons3':
    case 'amazons3compatible':
    case 'googlecloudstorage':
      return 'secretAccessKey';
    case 'cosmosdb':
      return 'connectionString' in tp ? undefined : 'accountKey';
  }
  if (PASSWORD_TYPES.has(type) || USER_KEYS.some((k) => k in tp)) {
    return USER_KEYS.some((k) => k in tp) || auth === 'sql' || auth === 'basic' || auth === 'windows'
      ? 'password'
      : undefined;
  }
  return undefined;
}

/** Where a connector keeps a secret: after the first of these properties that is present. */
const SECRET_ANCHORS: Record<string, string[]> = {
  accessToken: ['domain'],
  accountKey: ['url', 'serviceEndpoint', 'accountName'],
  sasToken: ['sasUri'],
  password: [...USER_KEYS],
  servicePrincipalKey: ['servicePrincipalId'],
  servicePrincipalCredential: ['servicePrincipalCredentialType', 'servicePrincipalId'],
  functionKey: ['functionAppUrl'],
  secretAccessKey: ['accessKeyId'],
  clusterPassword: ['clusterNamePrefix', 'tenant'],
};

/** ADF Studio's order of a linked service's top-level properties. */
const LINKED_SERVICE_KEY_ORDER = [
  'description',
  'parameters',
  'annotations',
  'type',
  'typeProperties',
  'connectVia',
];

function orderKeys(obj: Json, order: string[]): Json {
  const out: Json = {};
  for (const k of order) if (k in obj) out[k] = obj[k];
  for (const k of Object.keys(obj)) if (!(k in out)) out[k] = obj[k];
  return out;
}

function normalizeLinkedService(o: AdfObject, props: Json, ctx: NormalizeContext): Json {
  const ordered = orderKeys(props, LINKED_SERVICE_KEY_ORDER);
  const tp = ordered.typeProperties;
  if (!isPlainObject(tp) || typeof tp.encryptedCredential !== 'string') return ordered;
  const lsType = typeof ordered.type === 'string' ? ordered.type : '';
  const secrets = secretPropertiesForEncryptedCredential(lsType, tp).filter((k) => !(k in tp));
  let out: Json = {};
  for (const k of Object.keys(tp)) if (k !== 'encryptedCredential') out[k] = tp[k];
  if (lsType.toLowerCase() === 'hdinsightondemand' && Array.isArray(out.additionalLinkedServiceNames)) {
    // The portal drops the empty list it writes to git for on-demand HDInsight.
    if (out.additionalLinkedServiceNames.length === 0) delete out.additionalLinkedServiceNames;
  }
  // Insert in order: each after its anchor, or after the secret placed before it, else where the credential was.
  let previous: string | undefined;
  for (const secret of secrets) {
    const anchors = previous ? [previous] : (SECRET_ANCHORS[secret] ?? []);
    const anchor = anchors.find((a) => a in out);
    const value = { type: 'SecureString', value: '' };
    if (anchor) out = insertAfter(out, [anchor], secret, value);
    else out = insertAt(out, Object.keys(tp).indexOf('encryptedCredential'), secret, value);
    previous = secret;
  }
  if (
    secrets.length === 0 &&
    !('connectionString' in tp) &&
    secretPropertiesForEncryptedCredential(lsType, tp).length === 0
  ) {
    ctx.onUnknownCredential?.(o);
  }
  ordered.typeProperties = out;
  return ordered;
}

function insertAt(obj: Json, index: number, key: string, value: unknown): Json {
  const out: Json = {};
  const keys = Object.keys(obj);
  keys.forEach((k, i) => {
    if (i === index) out[key] = value;
    out[k] = obj[k];
  });
  if (index < 0 || index >= keys.length) out[key] = value;
  return out;
}

/** Rewrites referenceName to the referenced object's exact name (resolution is case-insensitive). */
function fixReferenceCase(
  node: unknown,
  canonical: (referenceType: string, name: string) => string | undefined,
): void {
  if (Array.isArray(node)) {
    for (const x of node) fixReferenceCase(x, canonical);
    return;
  }
  if (!isPlainObject(node)) return;
  if (typeof node.type === 'string' && typeof node.referenceName === 'string') {
    const exact = canonical(node.type, node.referenceName);
    if (exact !== undefined && exact !== node.referenceName) node.referenceName = exact;
  }
  for (const k of Object.keys(node)) fixReferenceCase(node[k], canonical);
}
