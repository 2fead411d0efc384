import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryLogger } from '../../../src/common/logger';
import { buildArmTemplate, type BuildArmTemplateOptions } from '../../../src/datafactory/build-arm-template';

const FIXTURES = path.resolve(__dirname, '../../fixtures/adf');
const SAMPLE = path.join(FIXTURES, 'sample-factory');
const GOLDEN = path.join(FIXTURES, 'golden');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'adf-build-'));
}

function build(options: Partial<BuildArmTemplateOptions> = {}) {
  const out = options.outputFolder ?? tempDir();
  const logger = new MemoryLogger();
  const result = buildArmTemplate({ factoryFolder: SAMPLE, outputFolder: out, ...options }, logger);
  return { result, out, logger };
}

/** Every file below `dir`, relative, sorted. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

function assertMatchesGolden(out: string, goldenName: string): void {
  const golden = path.join(GOLDEN, goldenName);
  assert.deepEqual(listFiles(out), listFiles(golden));
  for (const f of listFiles(golden)) {
    const actual = fs.readFileSync(path.join(out, f), 'utf8');
    const expected = fs.readFileSync(path.join(golden, f), 'utf8');
    assert.ok(actual === expected, `${goldenName}/${f} differs from the golden file`);
  }
}

describe('buildArmTemplate: golden exports of the sample factory', () => {
  it('default definition: byte-identical to the reviewed golden files', () => {
    const { result, out } = build();
    assert.equal(result.ok, true);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.warnings, []);
    assertMatchesGolden(out, 'default');
    assert.equal(result.resourceCount, 28);
    assert.equal(result.parameterCount, 23);
    assert.equal(result.templateFile, path.join(out, 'ARMTemplateForFactory.json'));
    assert.equal(result.parametersFile, path.join(out, 'ARMTemplateParametersForFactory.json'));
    assert.deepEqual(result.linkedTemplateFiles, []);
    assert.deepEqual(result.objectCounts, {
      pipeline: 3,
      dataset: 5,
      'linked service': 7,
      trigger: 4,
      'integration runtime': 2,
      'data flow': 2,
      'managed virtual network': 1,
      'managed private endpoint': 2,
      credential: 1,
      'global parameter': 3,
    });
  });

  it('the portal shape: header, resource naming, apiVersion, kind order, dependsOn and secure strings', () => {
    const { out } = build();
    const t = JSON.parse(fs.readFileSync(path.join(out, 'ARMTemplateForFactory.json'), 'utf8'));
    assert.equal(t.$schema, 'http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#');
    assert.deepEqual(t.parameters.factoryName, {
      type: 'string',
      metadata: 'Data Factory name',
      defaultValue: 'adf-sample-dev',
    });
    assert.deepEqual(t.variables, {
      factoryId: "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]",
    });
    for (const r of t.resources) {
      assert.deepEqual(Object.keys(r), ['name', 'type', 'apiVersion', 'properties', 'dependsOn']);
      assert.equal(r.apiVersion, '2018-06-01');
      assert.match(r.name, /^\[concat\(parameters\('factoryName'\), '\/[^']+'\)\]$/);
    }
    const kinds = [
      ...new Set(
        t.resources.map((r: { type: string }) => r.type.replace('Microsoft.DataFactory/factories/', '')),
      ),
    ];
    assert.deepEqual(kinds, [
      'pipelines',
      'datasets',
      'linkedServices',
      'triggers',
      'integrationRuntimes',
      'dataflows',
      'managedVirtualNetworks',
      'managedVirtualNetworks/managedPrivateEndpoints',
      'credentials',
      'globalparameters',
    ]);
    const byName = (n: string) => t.resources.find((r: { name: string }) => r.name.endsWith(`/${n}')]`));
    // The encryptedCredential became the secret it stands for, as a secure parameter.
    assert.deepEqual(byName('LS_ADLS').properties.typeProperties, {
      url: "[parameters('LS_ADLS_properties_typeProperties_url')]",
      accountKey: { type: 'SecureString', value: "[parameters('LS_ADLS_accountKey')]" },
    });
    assert.deepEqual(t.parameters.LS_ADLS_accountKey, {
      type: 'secureString',
      metadata: "Secure string for 'accountKey' of 'LS_ADLS'",
    });
    // The portal's built-in default also parameterises a Databricks interactive cluster id.
    assert.equal(
      byName('LS_Databricks').properties.typeProperties.existingClusterId,
      "[parameters('LS_Databricks_properties_typeProperties_existingClusterId')]",
    );
    // Connection strings: secure, shortened name, no default.
    assert.equal(
      byName('LS_SqlDb').properties.typeProperties.connectionString,
      "[parameters('LS_SqlDb_connectionString')]",
    );
    assert.deepEqual(byName('PL_Ingest').dependsOn, [
      "[concat(variables('factoryId'), '/datasets/DS_Sql_Dynamic')]",
      "[concat(variables('factoryId'), '/datasets/DS_ADLS_Csv')]",
      "[concat(variables('factoryId'), '/datasets/DS_Sql_Customers')]",
      "[concat(variables('factoryId'), '/dataflows/DF_Customers')]",
      "[concat(variables('factoryId'), '/integrationRuntimes/ir-selfhosted')]",
    ]);
    // A literal "[...]" is escaped for ARM; "[... not at the end" is not an expression and stays.
    const lookup = byName('PL_Ingest').properties.activities[0];
    assert.equal(lookup.typeProperties.source.sqlReaderQuery, '[[dbo].[usp_GetWatermark]');
    assert.equal(
      byName('PL_Ingest').properties.activities[1].typeProperties.sink.preCopyScript,
      '[dbo].[Customers] is truncated first',
    );
    // Global parameters: the current portal's globalparameters resource named default.
    assert.deepEqual(byName('default').type, 'Microsoft.DataFactory/factories/managedVirtualNetworks');
    const gp = t.resources.find(
      (r: { type: string }) => r.type === 'Microsoft.DataFactory/factories/globalparameters',
    );
    assert.deepEqual(gp.properties.environment, {
      type: 'string',
      value: "[parameters('default_properties_environment_value')]",
    });
    // Private endpoints live under the managed network and depend on it.
    assert.deepEqual(byName('default/mpe-adls').dependsOn, [
      "[concat(variables('factoryId'), '/managedVirtualNetworks/default')]",
    ]);
  });

  it('the parameters file holds current values, with secure strings empty', () => {
    const { out } = build();
    const p = JSON.parse(fs.readFileSync(path.join(out, 'ARMTemplateParametersForFactory.json'), 'utf8'));
    assert.equal(
      p.$schema,
      'https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#',
    );
    assert.deepEqual(p.parameters.factoryName, { value: 'adf-sample-dev' });
    assert.deepEqual(p.parameters.LS_ADLS_accountKey, { value: '' });
    assert.deepEqual(p.parameters.LS_SqlDb_connectionString, { value: '' });
    assert.deepEqual(p.parameters.TR_Daily_properties_PL_Master_parameters_runDate, {
      value: '@trigger().scheduledTime',
    });
    assert.deepEqual(p.parameters['mpe-adls_properties_fqdns'], {
      value: ['stsampledev.dfs.core.windows.net'],
    });
    assert.deepEqual(p.parameters.default_properties_maxRetries_value, { value: 3 });
  });

  it('custom definition using every syntax form: byte-identical to the golden files', () => {
    const { result, out } = build({
      parametersDefinitionFile: path.join(FIXTURES, 'definitions', 'every-syntax-form.json'),
    });
    assert.equal(result.ok, true);
    assertMatchesGolden(out, 'custom-definition');
    const t = JSON.parse(fs.readFileSync(path.join(out, 'ARMTemplateForFactory.json'), 'utf8'));
    const spec = (n: string) => t.parameters[n];
    // Databricks: domain and cluster id with defaults, the Key Vault-backed token by secret name.
    assert.deepEqual(spec('LS_Databricks_properties_typeProperties_domain'), {
      type: 'string',
      defaultValue: 'https://adb-1234567890123456.7.azuredatabricks.net',
    });
    assert.deepEqual(spec('LS_Databricks_properties_typeProperties_existingClusterId'), {
      type: 'string',
      defaultValue: '0101-123456-abcdefgh',
    });
    assert.deepEqual(spec('LS_Databricks_properties_typeProperties_accessToken_secretName'), {
      type: 'string',
      defaultValue: 'databricks-token',
    });
    // '-' (no default), ':-name' (shortened), ':name' (renamed last part), ':type'.
    assert.deepEqual(spec('TR_BlobCreated_properties_typeProperties_scope'), { type: 'string' });
    assert.deepEqual(spec('TR_Daily_freq'), { type: 'string', defaultValue: 'Day' });
    assert.deepEqual(spec('TR_Daily_properties_typeProperties_recurrence_triggerSuffix'), {
      type: 'int',
      defaultValue: 1,
    });
    assert.deepEqual(spec('PL_Ingest_webMethod'), { type: 'string', defaultValue: 'POST' });
    // '|' on a plain value: a secure string; with '=' and a secure type the default is kept.
    assert.deepEqual(spec('LS_KeyVault_properties_typeProperties_baseUrl'), {
      type: 'secureString',
      metadata: "Secure string for 'baseUrl' of 'LS_KeyVault'",
    });
    assert.equal(spec('LS_SqlDb_connectionString').type, 'secureString');
    assert.match(spec('LS_SqlDb_connectionString').defaultValue, /^Integrated Security=False/);
    // Arrays: the item's name replaces the array key; nested arrays too.
    assert.ok(spec('PL_Databricks_properties_Bronze_typeProperties_notebookPath'));
    assert.ok(
      spec('PL_Databricks_properties_Gold per region_typeProperties_Gold_typeProperties_nestedNotebook'),
    );
    assert.ok(spec('TR_Daily_properties_PL_Master_parameters_runDate'));
    // '*' with an exception: environment has no default, the others keep theirs.
    assert.deepEqual(spec('default_properties_environment_value'), { type: 'string' });
    assert.deepEqual(spec('default_properties_maxRetries_value'), { type: 'int', defaultValue: 3 });
    // Per-type sections replace '*' for that type.
    assert.ok(spec('DS_Sql_Customers_properties_typeProperties_table'));
    assert.equal(spec('DS_Sql_Customers_properties_typeProperties_location_folderPath'), undefined);
    assert.equal(spec('LS_SqlDb_properties_typeProperties_url'), undefined);
  });

  it('uses arm-template-parameters-definition.json from the factory folder when present', () => {
    const folder = copyFactory();
    fs.copyFileSync(
      path.join(FIXTURES, 'definitions', 'every-syntax-form.json'),
      path.join(folder, 'arm-template-parameters-definition.json'),
    );
    const { result, out } = build({ factoryFolder: folder });
    assert.equal(result.definitionSource, path.join(folder, 'arm-template-parameters-definition.json'));
    assertMatchesGolden(out, 'custom-definition');
  });
});

function copyFactory(reverse = false): string {
  const dest = tempDir();
  const files = listFiles(SAMPLE);
  if (reverse) files.reverse();
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(SAMPLE, f), path.join(dest, f));
  }
  return dest;
}

describe('buildArmTemplate: linked templates', () => {
  it('auto splits above the template size limit, as the portal does (20 resources per template)', () => {
    const { result, out } = build({ maxTemplateBytes: 10_000 });
    assert.equal(result.ok, true);
    assert.ok(result.templateBytes > 10_000);
    assertMatchesGolden(out, 'linked-templates');
    assert.deepEqual(
      result.linkedTemplateFiles.map((f) => path.relative(out, f).split(path.sep).join('/')),
      [
        'linkedTemplates/ArmTemplate_master.json',
        'linkedTemplates/ArmTemplateParameters_master.json',
        'linkedTemplates/ArmTemplate_0.json',
        'linkedTemplates/ArmTemplate_1.json',
      ],
    );
  });

  it('auto does not split below the limit; always splits; never does not (and warns above the limit)', () => {
    assert.equal(fs.existsSync(path.join(build().out, 'linkedTemplates')), false);
    const always = build({ linkedTemplates: 'always', resourcesPerLinkedTemplate: 10 });
    assert.equal(always.result.linkedTemplateFiles.length, 2 + 3);
    const never = build({ linkedTemplates: 'never', maxTemplateBytes: 10_000 });
    assert.equal(fs.existsSync(path.join(never.out, 'linkedTemplates')), false);
    assert.equal(never.result.warnings.length, 1);
    assert.match(
      never.result.warnings[0].message,
      /above ARM's 9\.8 KB limit, and linkedTemplates is 'never'/,
    );
  });

  it('a smaller split removes linked templates left by an earlier run', () => {
    const out = tempDir();
    build({ outputFolder: out, linkedTemplates: 'always', resourcesPerLinkedTemplate: 5 });
    assert.ok(fs.existsSync(path.join(out, 'linkedTemplates', 'ArmTemplate_5.json')));
    build({ outputFolder: out, linkedTemplates: 'always' });
    assert.deepEqual(fs.readdirSync(path.join(out, 'linkedTemplates')).sort(), [
      'ArmTemplateParameters_master.json',
      'ArmTemplate_0.json',
      'ArmTemplate_1.json',
      'ArmTemplate_master.json',
    ]);
  });
});

describe('buildArmTemplate: determinism and options', () => {
  it('the same folder gives byte-identical files, whatever order the files were written in', () => {
    const a = build({ linkedTemplates: 'always' });
    const b = build({ factoryFolder: copyFactory(true), linkedTemplates: 'always' });
    const files = listFiles(a.out);
    assert.deepEqual(listFiles(b.out), files);
    for (const f of files) {
      assert.ok(
        fs.readFileSync(path.join(a.out, f)).equals(fs.readFileSync(path.join(b.out, f))),
        `${f} differs`,
      );
    }
  });

  it('writes tab-indented JSON with no final newline, like the portal', () => {
    const text = fs.readFileSync(path.join(build().out, 'ARMTemplateForFactory.json'), 'utf8');
    assert.ok(text.startsWith('{\n\t"$schema"'));
    assert.ok(text.endsWith('\n}'));
    assert.ok(!text.includes('\r'));
  });

  it('includeGlobalParameters false leaves the globalparameters resource out', () => {
    const { result, out } = build({ includeGlobalParameters: false });
    const t = JSON.parse(fs.readFileSync(path.join(out, 'ARMTemplateForFactory.json'), 'utf8'));
    assert.equal(result.resourceCount, 27);
    assert.ok(!t.resources.some((r: { type: string }) => r.type.endsWith('/globalparameters')));
    assert.ok(!Object.keys(t.parameters).some((k) => k.startsWith('default_properties_')));
    assert.equal(result.objectCounts['global parameter'], undefined);
  });

  it('factoryName overrides the name in factory/*.json', () => {
    const { result, out } = build({ factoryName: 'adf-sample-prod' });
    const t = JSON.parse(fs.readFileSync(path.join(out, 'ARMTemplateForFactory.json'), 'utf8'));
    assert.equal(result.factoryName, 'adf-sample-prod');
    assert.equal(t.parameters.factoryName.defaultValue, 'adf-sample-prod');
  });

  it('validateOnly validates and counts but writes nothing', () => {
    const out = path.join(tempDir(), 'not-created');
    const { result } = build({ outputFolder: out, validateOnly: true });
    assert.equal(result.ok, true);
    assert.equal(result.resourceCount, 28);
    assert.equal(result.templateFile, undefined);
    assert.equal(fs.existsSync(out), false);
    assert.match(result.summaryMarkdown, /validateOnly: no files were written/);
  });

  it('the summary shows counts per kind, parameters, warnings and output files', () => {
    const { result } = build({ linkedTemplates: 'never', maxTemplateBytes: 10_000 });
    const md = result.summaryMarkdown;
    assert.match(md, /^## Data Factory ARM template: adf-sample-dev/);
    assert.match(md, /Validation ✅ passed with warnings \(0 error\(s\), 1 warning\(s\)\)/);
    assert.match(md, /\| pipeline \| 3 \|/);
    assert.match(md, /\| managed private endpoint \| 2 \|/);
    assert.match(md, /\*\*Resources:\*\* 28 \(ARM limit 800\) · \*\*Parameters:\*\* 23 \(ARM limit 256\)/);
    assert.match(md, /### Warnings/);
    assert.match(md, /ARMTemplateForFactory\.json`/);
  });

  it('an aborted signal stops the build', () => {
    const ac = new AbortController();
    ac.abort(new Error('cancelled by the user'));
    assert.throws(() => build({ signal: ac.signal }), /cancelled by the user/);
  });

  it('logs every problem with its file and line, grouped', () => {
    const { logger } = build({ factoryFolder: path.join(FIXTURES, 'invalid-factory') });
    const errors = logger.entries.filter((e) => e.level === 'error');
    assert.ok(errors.length >= 20);
    for (const e of errors) if (e.where) assert.ok(e.where.file && path.isAbsolute(e.where.file));
    assert.equal(logger.entries[0].level, 'group');
  });
});
