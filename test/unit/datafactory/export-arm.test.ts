import * as assert from 'node:assert/strict';
import { escapeArmString, exportArmTemplate, type ArmExport } from '../../../src/datafactory/export-arm';
import { buildLinkedTemplates, orderByDependencyDepth } from '../../../src/datafactory/linked-templates';
import {
  KIND_INFO,
  type AdfObject,
  type FactoryModel,
  type ObjectKind,
} from '../../../src/datafactory/model';
import { secretPropertyForEncryptedCredential } from '../../../src/datafactory/normalize';
import {
  DEFAULT_PARAMETER_DEFINITION,
  definitionForObject,
  loadParameterDefinition,
  parseAction,
  type ParameterDefinition,
} from '../../../src/datafactory/params-definition';
import { collectReferences } from '../../../src/datafactory/references';

type Spec = { kind: ObjectKind; name: string; properties?: unknown; parent?: string };

function object(s: Spec): AdfObject {
  const json: Record<string, unknown> = { name: s.name };
  if (s.properties !== undefined) json.properties = s.properties;
  const folder =
    s.kind === 'managedPrivateEndpoint'
      ? `managedVirtualNetwork/${s.parent}/managedPrivateEndpoint`
      : KIND_INFO[s.kind].folder;
  const relPath = `${folder}/${s.name}.json`;
  return {
    kind: s.kind,
    name: s.name,
    fileName: s.name,
    json,
    parent: s.parent,
    file: `/f/${relPath}`,
    relPath,
    text: JSON.stringify(json),
  };
}

function model(specs: Spec[], factoryProperties?: unknown): FactoryModel {
  const factoryJson = { name: 'adf-unit', properties: factoryProperties ?? {} };
  const factory = {
    file: '/f/factory/adf-unit.json',
    relPath: 'factory/adf-unit.json',
    text: '',
    json: factoryJson,
    name: 'adf-unit',
  };
  return { root: '/f', factory, factoryFiles: [factory], objects: specs.map(object), problems: [] };
}

function exportOf(
  specs: Spec[],
  definition: ParameterDefinition = DEFAULT_PARAMETER_DEFINITION,
  gp?: unknown,
): ArmExport {
  return exportArmTemplate(model(specs, gp), {
    factoryName: 'adf-unit',
    definition,
    includeGlobalParameters: true,
  });
}

const ref = (referenceName: string, type: string) => ({ referenceName, type });

describe('parameter definitions', () => {
  it('parses <action>:<name>:<type>', () => {
    assert.deepEqual(parseAction('='), { action: '=', name: undefined, shortened: false, type: undefined });
    assert.deepEqual(parseAction('-::int'), { action: '-', name: undefined, shortened: false, type: 'int' });
    assert.deepEqual(parseAction('|:-connectionString:secureString'), {
      action: '|',
      name: 'connectionString',
      shortened: true,
      type: 'secureString',
    });
    assert.deepEqual(parseAction('=:triggerSuffix:int'), {
      action: '=',
      name: 'triggerSuffix',
      shortened: false,
      type: 'int',
    });
    assert.deepEqual(parseAction('=::SecureObject'), {
      action: '=',
      name: undefined,
      shortened: false,
      type: 'secureObject',
    });
    assert.match(parseAction('x') as string, /not a parameter action/);
    assert.match(parseAction('=:a:b:c') as string, /not a parameter action/);
    assert.match(parseAction('=::float') as string, /'float' is not a parameter type/);
    assert.match(parseAction('=:-') as string, /must be followed by a name/);
  });

  it('picks the per-type section, else "*", and applies untyped sections to every object', () => {
    const ls = DEFAULT_PARAMETER_DEFINITION['Microsoft.DataFactory/factories/linkedServices'];
    assert.deepEqual(definitionForObject(ls, 'Odbc'), {
      properties: { typeProperties: { userName: '=', connectionString: { secretName: '=' } } },
    });
    assert.deepEqual(definitionForObject(ls, 'odbc'), definitionForObject(ls, 'Odbc'));
    assert.equal(
      (definitionForObject(ls, 'AzureBlobFS') as Record<string, Record<string, Record<string, string>>>)
        .properties.typeProperties.url,
      '=',
    );
    const triggers = DEFAULT_PARAMETER_DEFINITION['Microsoft.DataFactory/factories/triggers'];
    assert.equal(definitionForObject(triggers, 'ScheduleTrigger'), triggers);
    assert.equal(definitionForObject({}, 'x'), undefined);
    assert.equal(definitionForObject({ AzureSqlTable: { properties: {} } }, 'Json'), undefined);
  });

  it('section names match case-insensitively', () => {
    const e = exportOf(
      [
        {
          kind: 'linkedService',
          name: 'ls',
          properties: { type: 'AzureKeyVault', typeProperties: { baseUrl: 'https://kv/' } },
        },
      ],
      {
        'microsoft.datafactory/factories/linkedservices': {
          '*': { properties: { typeProperties: { baseUrl: '-' } } },
        },
      },
    );
    assert.deepEqual(e.template.parameters.ls_properties_typeProperties_baseUrl, { type: 'string' });
  });

  it('loadParameterDefinition accepts the documented default', () => {
    const loaded = loadParameterDefinition(JSON.stringify(DEFAULT_PARAMETER_DEFINITION), 'd.json');
    assert.deepEqual(loaded.problems, []);
    assert.deepEqual(loaded.definition, DEFAULT_PARAMETER_DEFINITION);
  });
});

describe('exportArmTemplate', () => {
  it('orders parameters: factoryName, secure ones, then the rest, each in order of use', () => {
    const e = exportOf([
      {
        kind: 'dataset',
        name: 'ds',
        properties: {
          type: 'AzureBlob',
          linkedServiceName: ref('b', 'LinkedServiceReference'),
          typeProperties: { folderPath: 'p' },
        },
      },
      {
        kind: 'linkedService',
        name: 'a',
        properties: {
          type: 'AzureBlobFS',
          typeProperties: { url: 'u', accountKey: { type: 'SecureString', value: 'x' } },
        },
      },
      {
        kind: 'linkedService',
        name: 'b',
        properties: { type: 'AzureBlobStorage', typeProperties: { connectionString: 'c' } },
      },
    ]);
    assert.deepEqual(Object.keys(e.template.parameters), [
      'factoryName',
      'a_accountKey',
      'b_connectionString',
      'ds_properties_typeProperties_folderPath',
      'a_properties_typeProperties_url',
    ]);
    assert.deepEqual(e.parametersFile.parameters.a_accountKey, { value: '' });
  });

  it('escapes literal strings ARM would evaluate, in properties and defaults but not in the parameters file', () => {
    assert.equal(escapeArmString('[x]'), '[[x]');
    assert.equal(escapeArmString('[[x]'), '[[[x]');
    assert.equal(escapeArmString('[x] y'), '[x] y');
    assert.equal(escapeArmString('x [y]'), 'x [y]');
    const e = exportOf([
      {
        kind: 'linkedService',
        name: 'ls',
        properties: { type: 'AzureKeyVault', description: '[note]', typeProperties: { baseUrl: '[kv]' } },
      },
    ]);
    const props = e.template.resources[0].properties as {
      description: string;
      typeProperties: { baseUrl: string };
    };
    assert.equal(props.description, '[[note]');
    assert.equal(props.typeProperties.baseUrl, "[parameters('ls_properties_typeProperties_baseUrl')]");
    assert.equal(e.template.parameters.ls_properties_typeProperties_baseUrl.defaultValue, '[[kv]');
    assert.deepEqual(e.parametersFile.parameters.ls_properties_typeProperties_baseUrl, { value: '[kv]' });
  });

  it("quotes object names with a ' inside ARM expressions", () => {
    const e = exportOf([{ kind: 'pipeline', name: "it's", properties: { activities: [] } }]);
    assert.equal(e.template.resources[0].name, "[concat(parameters('factoryName'), '/it''s')]");
  });

  it('warns above 256 parameters and 800 resources', () => {
    const specs: Spec[] = [];
    for (let i = 0; i < 801; i++) {
      specs.push({
        kind: 'linkedService',
        name: `ls${i}`,
        properties: { type: 'AzureKeyVault', typeProperties: { baseUrl: `https://kv${i}/` } },
      });
    }
    const e = exportOf(specs);
    assert.equal(e.resources.length, 801);
    const messages = e.warnings.map((w) => w.message);
    assert.equal(messages.length, 2);
    assert.match(messages[0], /^The template has 802 parameters; ARM accepts at most 256\./);
    assert.match(messages[1], /^The template has 801 resources; ARM accepts at most 800 in one template\./);
    const small = exportOf(specs.slice(0, 255));
    assert.deepEqual(small.warnings, []);
  });

  it('reuses a parameter generated twice with the same value and warns when values differ', () => {
    const def: ParameterDefinition = {
      'Microsoft.DataFactory/factories/pipelines': {
        properties: { activities: [{ typeProperties: { url: '=:-webUrl' } }] },
      },
    };
    const web = (name: string, url: string) => ({
      name,
      type: 'WebActivity',
      typeProperties: { method: 'GET', url },
    });
    const same = exportOf(
      [
        {
          kind: 'pipeline',
          name: 'p',
          properties: { activities: [web('a', 'https://x'), web('b', 'https://x')] },
        },
      ],
      def,
    );
    assert.deepEqual(same.warnings, []);
    assert.deepEqual(Object.keys(same.template.parameters), ['factoryName', 'p_webUrl']);
    const differ = exportOf(
      [
        {
          kind: 'pipeline',
          name: 'p',
          properties: { activities: [web('a', 'https://x'), web('b', 'https://y')] },
        },
      ],
      def,
    );
    assert.equal(differ.warnings.length, 1);
    assert.match(
      differ.warnings[0].message,
      /Parameter 'p_webUrl' is generated twice with different types or values/,
    );
  });

  it('names array items by the named property, else name, else pipeline reference, else index', () => {
    const def: ParameterDefinition = {
      'Microsoft.DataFactory/factories/pipelines': {
        properties: {
          activities: [{ typeProperties: { v: '=' } }, 'typeProperties.id'],
          variables: [{ x: '=' }],
        },
      },
    };
    const e = exportOf(
      [
        {
          kind: 'pipeline',
          name: 'p',
          properties: {
            activities: [
              { name: 'first', typeProperties: { id: 'ID1', v: 1 } },
              { name: 'second', typeProperties: { v: 2 } },
            ],
            variables: [{ x: true }],
          },
        },
      ],
      def,
    );
    assert.deepEqual(Object.keys(e.template.parameters), [
      'factoryName',
      'p_properties_ID1_typeProperties_v',
      'p_properties_second_typeProperties_v',
      'p_properties_0_x',
    ]);
    assert.equal(e.template.parameters.p_properties_0_x.type, 'bool');
  });

  it('gives Key Vault references under "|" a secret-name parameter and leaves other values alone', () => {
    const kv = { type: 'AzureKeyVaultSecret', store: ref('kv', 'LinkedServiceReference'), secretName: 'sec' };
    const e = exportOf([
      {
        kind: 'linkedService',
        name: 'kv',
        properties: { type: 'AzureKeyVault', typeProperties: { baseUrl: 'https://kv/' } },
      },
      {
        kind: 'linkedService',
        name: 'sql',
        properties: { type: 'AzureSqlDatabase', typeProperties: { connectionString: kv, password: kv } },
      },
    ]);
    assert.deepEqual(e.template.parameters.sql_properties_typeProperties_connectionString_secretName, {
      type: 'string',
      defaultValue: 'sec',
    });
    const tp = (
      e.template.resources[1].properties as { typeProperties: Record<string, { secretName: string }> }
    ).typeProperties;
    assert.equal(tp.password.secretName, 'sec');
  });

  it('portal additions: pipeline policy, dataset reference parameters, ExecutePipeline and WebActivity defaults', () => {
    const e = exportOf([
      {
        kind: 'pipeline',
        name: 'p',
        properties: {
          activities: [
            {
              name: 'sw',
              type: 'Switch',
              typeProperties: {
                cases: [
                  {
                    value: 'a',
                    activities: [
                      {
                        name: 'run',
                        type: 'ExecutePipeline',
                        dependsOn: [],
                        typeProperties: { pipeline: ref('q', 'PipelineReference') },
                      },
                    ],
                  },
                ],
                defaultActivities: [
                  { name: 'web', type: 'WebActivity', typeProperties: { method: 'GET', url: 'u' } },
                ],
              },
            },
          ],
          policy: { elapsedTimeMetric: { duration: '0.01:00:00' } },
        },
      },
      { kind: 'pipeline', name: 'q', properties: { activities: [], parameters: {} } },
      { kind: 'dataset', name: 'd', properties: { type: 'AzureSqlTable' } },
    ]);
    const [p, q, d] = e.template.resources.map((r) => r.properties as Record<string, unknown>);
    const sw = (p.activities as Array<{ typeProperties: Record<string, Array<Record<string, unknown>>> }>)[0]
      .typeProperties;
    const run = (sw.cases[0].activities as Array<Record<string, unknown>>)[0];
    assert.deepEqual(Object.keys(run), ['name', 'type', 'dependsOn', 'policy', 'typeProperties']);
    assert.deepEqual(run.policy, { secureInput: false });
    assert.deepEqual(run.typeProperties, { pipeline: ref('q', 'PipelineReference'), parameters: {} });
    assert.deepEqual(sw.defaultActivities[0].typeProperties, { method: 'GET', headers: {}, url: 'u' });
    assert.deepEqual(p.policy, { elapsedTimeMetric: { duration: '0.01:00:00' } });
    assert.deepEqual(Object.keys(q), ['activities', 'policy', 'parameters']);
    assert.deepEqual(d, { type: 'AzureSqlTable', typeProperties: {} });
  });
});

describe('portal normalisation seen in public exports', () => {
  it('linked services: Studio key order, exact reference names, on-demand HDInsight secrets', () => {
    const e = exportOf([
      {
        kind: 'linkedService',
        name: 'ws-WorkspaceDefaultStorage',
        properties: {
          typeProperties: { url: 'https://ws.dfs.core.windows.net' },
          type: 'AzureBlobFS',
          connectVia: ref('autoresolveintegrationruntime', 'IntegrationRuntimeReference'),
          annotations: [],
        },
      },
      {
        kind: 'linkedService',
        name: 'hdi',
        properties: {
          annotations: [],
          type: 'HDInsightOnDemand',
          typeProperties: {
            clusterType: 'hadoop',
            servicePrincipalId: 'sp',
            tenant: 't',
            clusterNamePrefix: '',
            additionalLinkedServiceNames: [],
            linkedServiceName: ref('WS-WORKSPACEDEFAULTSTORAGE', 'LinkedServiceReference'),
            headNodeSize: '',
            encryptedCredential: 'ZW5j',
          },
        },
      },
      { kind: 'integrationRuntime', name: 'AutoResolveIntegrationRuntime', properties: { type: 'Managed' } },
    ]);
    const [ws, hdi] = e.template.resources.map(
      (r) => r.properties as Record<string, Record<string, unknown>>,
    );
    assert.deepEqual(Object.keys(ws), ['annotations', 'type', 'typeProperties', 'connectVia']);
    assert.deepEqual(ws.connectVia, ref('AutoResolveIntegrationRuntime', 'IntegrationRuntimeReference'));
    assert.deepEqual(Object.keys(hdi.typeProperties), [
      'clusterType',
      'servicePrincipalId',
      'tenant',
      'clusterNamePrefix',
      'clusterPassword',
      'clusterSshPassword',
      'servicePrincipalKey',
      'linkedServiceName',
      'headNodeSize',
    ]);
    assert.deepEqual(
      hdi.typeProperties.linkedServiceName,
      ref('ws-WorkspaceDefaultStorage', 'LinkedServiceReference'),
    );
    assert.deepEqual(Object.keys(e.template.parameters).slice(0, 4), [
      'factoryName',
      'hdi_clusterPassword',
      'hdi_clusterSshPassword',
      'hdi_servicePrincipalKey',
    ]);
    assert.deepEqual(e.template.resources[1].dependsOn, [
      "[concat(variables('factoryId'), '/linkedServices/ws-WorkspaceDefaultStorage')]",
    ]);
  });

  it('a secret from encryptedCredential goes where the connector keeps it', () => {
    const e = exportOf([
      {
        kind: 'linkedService',
        name: 'dbx',
        properties: {
          type: 'AzureDatabricks',
          typeProperties: { domain: 'https://adb', newClusterVersion: '15.4', encryptedCredential: 'x' },
        },
      },
    ]);
    const tp = (e.template.resources[0].properties as { typeProperties: Record<string, unknown> })
      .typeProperties;
    assert.deepEqual(Object.keys(tp), ['domain', 'accessToken', 'newClusterVersion']);
  });

  it('ExecuteDataFlow: every stream of the data flow in datasetParameters, given values kept; credentials get typeProperties', () => {
    const e = exportOf([
      {
        kind: 'pipeline',
        name: 'p',
        properties: {
          activities: [
            {
              name: 'f',
              type: 'ExecuteDataFlow',
              typeProperties: {
                dataflow: {
                  referenceName: 'df',
                  type: 'DataFlowReference',
                  datasetParameters: { sink1: { x: 1 }, extra: {} },
                },
              },
            },
          ],
        },
      },
      {
        kind: 'dataflow',
        name: 'df',
        properties: {
          type: 'MappingDataFlow',
          typeProperties: { sources: [{ name: 'src1' }, { name: 'src2' }], sinks: [{ name: 'sink1' }] },
        },
      },
      { kind: 'credential', name: 'c', properties: { type: 'ManagedIdentity' } },
    ]);
    const act = (
      e.template.resources[0].properties as { activities: Array<{ typeProperties: Record<string, unknown> }> }
    ).activities[0];
    assert.deepEqual(act.typeProperties, {
      dataflow: {
        referenceName: 'df',
        type: 'DataFlowReference',
        parameters: {},
        datasetParameters: { src1: {}, src2: {}, sink1: { x: 1 }, extra: {} },
      },
      staging: {},
    });
    assert.deepEqual(e.template.resources[2].properties, { type: 'ManagedIdentity', typeProperties: {} });
  });
});

describe('dependsOn order', () => {
  it("pipelines: the activities' own references level by level (ForEach/Until/If bodies), then the rest breadth first", () => {
    const refs = collectReferences(
      object({
        kind: 'pipeline',
        name: 'p',
        properties: {
          activities: [
            {
              name: 'sw',
              type: 'Switch',
              typeProperties: {
                cases: [
                  {
                    value: 'x',
                    activities: [
                      {
                        name: 's',
                        type: 'Script',
                        linkedServiceName: ref('lsSwitch', 'LinkedServiceReference'),
                      },
                    ],
                  },
                ],
              },
            },
            {
              name: 'each',
              type: 'ForEach',
              typeProperties: {
                activities: [
                  { name: 'c', type: 'Copy', inputs: [ref('dsLoop', 'DatasetReference')], outputs: [] },
                ],
              },
            },
            {
              name: 'lookup',
              type: 'Lookup',
              typeProperties: {
                source: { settings: { stage: ref('lsDeep', 'LinkedServiceReference') } },
                dataset: ref('dsLookup', 'DatasetReference'),
              },
            },
            {
              name: 'web',
              type: 'WebActivity',
              typeProperties: { connectVia: ref('ir', 'IntegrationRuntimeReference') },
            },
            {
              name: 'run',
              type: 'ExecutePipeline',
              typeProperties: { pipeline: ref('child', 'PipelineReference') },
            },
            // Two levels into the activity, in document order: the script's storage before the cluster.
            {
              name: 'hive',
              type: 'HDInsightHive',
              typeProperties: {
                scriptPath: 'x.hql',
                scriptLinkedService: ref('script', 'LinkedServiceReference'),
              },
              linkedServiceName: ref('hdi', 'LinkedServiceReference'),
            },
          ],
        },
      }),
    );
    assert.deepEqual(
      refs.map((r) => r.name),
      ['dsLookup', 'ir', 'child', 'script', 'hdi', 'dsLoop', 'lsDeep', 'lsSwitch'],
    );
    assert.deepEqual(refs[0].path, [
      'properties',
      'activities',
      2,
      'typeProperties',
      'dataset',
      'referenceName',
    ]);
  });

  it('other objects: breadth first, so connectVia comes before Key Vault stores', () => {
    const refs = collectReferences(
      object({
        kind: 'linkedService',
        name: 'ls',
        properties: {
          type: 'AzureSqlDatabase',
          typeProperties: {
            password: {
              type: 'AzureKeyVaultSecret',
              store: ref('kv', 'LinkedServiceReference'),
              secretName: 's',
            },
          },
          connectVia: ref('ir', 'IntegrationRuntimeReference'),
        },
      }),
    );
    assert.deepEqual(
      refs.map((r) => `${r.kind}:${r.name}`),
      ['integrationRuntime:ir', 'linkedService:kv'],
    );
  });
});

describe('linked templates', () => {
  it('orders by dependency depth (stable), chunks, keeps inner dependsOn and per-template parameters', () => {
    const e = exportOf([
      {
        kind: 'pipeline',
        name: 'p',
        properties: {
          activities: [
            { name: 'l', type: 'Lookup', typeProperties: { dataset: ref('d', 'DatasetReference') } },
          ],
        },
      },
      {
        kind: 'dataset',
        name: 'd',
        properties: {
          type: 'AzureBlob',
          linkedServiceName: ref('b', 'LinkedServiceReference'),
          typeProperties: { folderPath: 'x' },
        },
      },
      {
        kind: 'linkedService',
        name: 'a',
        properties: { type: 'AzureKeyVault', typeProperties: { baseUrl: 'https://kv/' } },
      },
      {
        kind: 'linkedService',
        name: 'b',
        properties: {
          type: 'AzureBlobFS',
          typeProperties: { url: 'u', accountKey: { type: 'SecureString', value: 'k' } },
        },
      },
    ]);
    assert.deepEqual(
      orderByDependencyDepth(e.resources).map((r) => r.id),
      ['linkedServices/a', 'linkedServices/b', 'datasets/d', 'pipelines/p'],
    );
    const lt = buildLinkedTemplates(e, { factoryName: 'adf-unit', resourcesPerTemplate: 3 });
    assert.equal(lt.children.length, 2);
    assert.deepEqual(Object.keys(lt.children[0].parameters), [
      'factoryName',
      'b_accountKey',
      'a_properties_typeProperties_baseUrl',
      'b_properties_typeProperties_url',
      'd_properties_typeProperties_folderPath',
    ]);
    assert.deepEqual(lt.children[0].resources[2].dependsOn, [
      "[concat(variables('factoryId'), '/linkedServices/b')]",
    ]);
    // p's dependency on d is in the previous template: the chain orders it.
    assert.deepEqual(lt.children[1].resources[0].dependsOn, []);
    assert.deepEqual(Object.keys(lt.children[1].parameters), ['factoryName']);
    assert.deepEqual(lt.master.resources[1].dependsOn, [
      "[resourceId('Microsoft.Resources/deployments', 'adf-unit_ArmTemplate_0')]",
    ]);
    assert.deepEqual(lt.master.resources[1].properties, {
      mode: 'incremental',
      templateLink: {
        uri: "[concat(parameters('containerUri'), '/ArmTemplate_1.json', parameters('containerSasToken'))]",
        contentVersion: '1.0.0.0',
      },
      parameters: { factoryName: { value: "[parameters('factoryName')]" } },
    });
    assert.deepEqual(Object.keys(lt.master.parameters).slice(-2), ['containerUri', 'containerSasToken']);
    assert.deepEqual(lt.masterParameters.parameters.containerSasToken, { value: '' });
  });
});

describe('encryptedCredential', () => {
  it('maps to the secret the connector uses', () => {
    assert.equal(secretPropertyForEncryptedCredential('AzureBlobFS', { url: 'u' }), 'accountKey');
    assert.equal(
      secretPropertyForEncryptedCredential('AzureBlobFS', { url: 'u', servicePrincipalId: 'x' }),
      'servicePrincipalKey',
    );
    assert.equal(
      secretPropertyForEncryptedCredential('AzureBlobStorage', {
        serviceEndpoint: 'u',
        servicePrincipalId: 'x',
        servicePrincipalCredentialType: 'ServicePrincipalKey',
      }),
      'servicePrincipalCredential',
    );
    assert.equal(
      secretPropertyForEncryptedCredential('AzureSqlDatabase', {
        server: 's',
        authenticationType: 'SQL',
        userName: 'u',
      }),
      'password',
    );
    assert.equal(
      secretPropertyForEncryptedCredential('AzureSqlDatabase', { connectionString: 'Data Source=x' }),
      undefined,
    );
    assert.equal(secretPropertyForEncryptedCredential('AzureDatabricks', { domain: 'd' }), 'accessToken');
    assert.equal(
      secretPropertyForEncryptedCredential('AzureDatabricks', { domain: 'd', authentication: 'MSI' }),
      undefined,
    );
    assert.equal(secretPropertyForEncryptedCredential('FileServer', { host: 'h', userId: 'u' }), 'password');
    assert.equal(secretPropertyForEncryptedCredential('AmazonS3', { accessKeyId: 'a' }), 'secretAccessKey');
    assert.equal(secretPropertyForEncryptedCredential('SomethingNew', { endpoint: 'e' }), undefined);
  });

  it('is left out of the template, with a warning when the secret is unknown', () => {
    const e = exportOf([
      {
        kind: 'linkedService',
        name: 'x',
        properties: { type: 'SomethingNew', typeProperties: { endpoint: 'e', encryptedCredential: 'abc' } },
      },
    ]);
    assert.deepEqual((e.template.resources[0].properties as { typeProperties: unknown }).typeProperties, {
      endpoint: 'e',
    });
    assert.equal(e.warnings.length, 1);
    assert.match(
      e.warnings[0].message,
      /encryptedCredential of linked service 'x' only works in the factory that encrypted it/,
    );
  });
});
