import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clearSecretsForTest, redact } from '../../../../src/common/secrets';
import { DeployInputError } from '../../../../src/datafactory/deploy/errors';
import { loadParametersFile, resolveParameters } from '../../../../src/datafactory/deploy/parameters';
import {
  extractDesiredState,
  keyOfResourceId,
  referencedKeys,
} from '../../../../src/datafactory/deploy/resources';
import {
  checkArmRequestSize,
  loadLinkedTemplate,
  loadTemplate,
  stripJsonComments,
} from '../../../../src/datafactory/deploy/template';
import { exportTemplate, GOLDEN, ls, pipeline, scheduleTrigger, writeFiles, dataset } from './helpers';

function inputError(input: string, re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DeployInputError, `expected DeployInputError, got ${String(e)}`);
    assert.equal(e.input, input);
    assert.match(e.message, re);
    return true;
  };
}

const extractBase = {
  factoryName: 'adf-prod',
  subscriptionId: '11111111-2222-3333-4444-555555555555',
  resourceGroupName: 'rg-prod',
  location: 'westeurope',
  deploymentName: 'dep1',
};

describe('datafactory deploy: template and parameters', () => {
  afterEach(() => clearSecretsForTest());

  it('loads templates with comments and a BOM, and reports JSON errors with the line', () => {
    const dir = writeFiles({
      't.json': '\ufeff{\n  // comment\n  "resources": [ /* none */ ]\n}',
      'bad.json': '{\n  "resources": [\n    {"a": 1,}\n  ]\n}',
    });
    assert.deepEqual(loadTemplate(path.join(dir, 't.json')).json.resources, []);
    assert.throws(
      () => loadTemplate(path.join(dir, 'bad.json')),
      inputError('templateFile', /not valid JSON: .* line 3/),
    );
    assert.throws(
      () => loadTemplate(path.join(dir, 'missing.json')),
      inputError('templateFile', /was not found/),
    );
    assert.equal(stripJsonComments('{"a":"//x" /* y */}'), '{"a":"//x"        }');
  });

  it('refuses linked templates outside the master template folder', () => {
    const master = (link: Record<string, unknown>) => ({
      ...exportTemplate({}),
      resources: [
        {
          name: 'ArmTemplate_0',
          type: 'Microsoft.Resources/deployments',
          apiVersion: '2018-02-01',
          properties: { mode: 'incremental', templateLink: link, parameters: {} },
        },
      ],
    });
    const evil = exportTemplate({ pipelines: { PL_Evil: pipeline() } });
    const dir = writeFiles({
      'outside/evil.json': evil,
      'linked/up.json': master({ relativePath: '../outside/evil.json' }),
      'linked/sub.json': master({ relativePath: 'nested/ArmTemplate_0.json' }),
      'linked/nested/ArmTemplate_0.json': exportTemplate({ pipelines: { PL_Ok: pipeline() } }),
      'linked/uri.json': master({
        uri: "[concat(parameters('containerUri'), '/ArmTemplate_0.json', parameters('containerSasToken'))]",
      }),
      'linked/nested/climb.json': master({ relativePath: '../../outside/evil.json' }),
    });
    const refused = (what: RegExp) =>
      inputError('templateFile', new RegExp(`${what.source}.*outside the master template's folder`));
    assert.throws(
      () => loadTemplate(path.join(dir, 'linked', 'up.json')),
      refused(/up\.json links to the template '\.\.\/outside\/evil\.json'/),
    );
    fs.writeFileSync(
      path.join(dir, 'linked', 'abs.json'),
      JSON.stringify(master({ relativePath: path.join(dir, 'outside', 'evil.json') })),
    );
    assert.throws(() => loadTemplate(path.join(dir, 'linked', 'abs.json')), refused(/evil\.json/));
    // Inside the folder: a subfolder, and the file name of an ADF export's templateLink.uri.
    assert.equal(
      loadTemplate(path.join(dir, 'linked', 'sub.json')).links[0].localPath,
      path.join(dir, 'linked', 'nested', 'ArmTemplate_0.json'),
    );
    assert.equal(loadTemplate(path.join(dir, 'linked', 'uri.json')).links[0].fileName, 'ArmTemplate_0.json');
    // A linked template's own links stay inside the master's folder, not just its own.
    assert.throws(
      () =>
        loadLinkedTemplate(
          {
            rawName: 'x',
            fileName: 'nested/climb.json',
            localPath: path.join(dir, 'linked', 'nested', 'climb.json'),
          },
          path.join(dir, 'linked'),
          'master.json',
        ),
      refused(/climb\.json links to/),
    );
    // A symbolic link inside the folder that leads out of it.
    fs.symlinkSync(path.join(dir, 'outside', 'evil.json'), path.join(dir, 'linked', 'ArmTemplate_0.json'));
    assert.throws(
      () =>
        loadLinkedTemplate(
          {
            rawName: 'ArmTemplate_0',
            fileName: 'ArmTemplate_0.json',
            localPath: path.join(dir, 'linked', 'ArmTemplate_0.json'),
          },
          path.join(dir, 'linked'),
          'uri.json',
        ),
      refused(/uri\.json links to the template 'ArmTemplate_0\.json'/),
    );
    // Through the whole extraction (direct reads linked templates from disk).
    assert.throws(
      () =>
        extractDesiredState({
          ...extractBase,
          template: master({ relativePath: '../outside/evil.json' }),
          parameters: {},
          templateFile: path.join(dir, 'linked', 'master.json'),
          readLinkedTemplates: true,
          strict: true,
        }),
      refused(/evil\.json/),
    );
  });

  it('refuses templates over 4 MB for arm and points at direct', () => {
    assert.throws(
      () => checkArmRequestSize(5 * 1024 * 1024, 10),
      inputError('templateFile', /5\.00 MB.*4 MB.*'direct'/),
    );
    checkArmRequestSize(4 * 1024 * 1024, 10);
  });

  it('combines the parameters file, overrides and the target factory name', () => {
    const t = loadTemplate(path.join(GOLDEN, 'default', 'ARMTemplateForFactory.json')).json;
    const file = loadParametersFile(path.join(GOLDEN, 'default', 'ARMTemplateParametersForFactory.json'));
    const p = resolveParameters({
      template: t,
      file,
      factoryName: 'adf-prod',
      overrides: `-LS_SqlDb_connectionString "Server=tcp:sql;Password=Sup3r secret" -LS_ADLS_properties_typeProperties_url https://stprod.dfs.core.windows.net/`,
    });
    assert.equal(p.values.factoryName, 'adf-prod');
    assert.equal(p.sources.factoryName, 'factoryName');
    assert.match(
      p.notes.join('\n'),
      /factoryName set to 'adf-prod' \(the parameters file has 'adf-sample-dev'\)/,
    );
    assert.equal(p.values.LS_ADLS_properties_typeProperties_url, 'https://stprod.dfs.core.windows.net/');
    assert.deepEqual(p.armParameters.LS_SqlDb_connectionString, {
      value: 'Server=tcp:sql;Password=Sup3r secret',
    });
    assert.ok(p.secure.includes('LS_SqlDb_connectionString'));
    // Secure values are registered for masking the moment they are read.
    assert.equal(redact('x Server=tcp:sql;Password=Sup3r secret y'), 'x *** y');
  });

  it('lists every unknown override and every missing required parameter before anything runs', () => {
    const t = exportTemplate(
      {},
      {
        parameters: {
          secretA: { type: 'secureString' },
          secretB: { type: 'secureString' },
          count: { type: 'int', defaultValue: 1 },
        },
      },
    );
    assert.throws(
      () => resolveParameters({ template: t, factoryName: 'f', overrides: '-nope 1 -alsoNope 2 -secretA x' }),
      inputError('overrideParameters', /-nope and -alsoNope are not parameters of the template/),
    );
    assert.throws(
      () => resolveParameters({ template: t, factoryName: 'f', overrides: '-secretA x' }),
      inputError('overrideParameters', /needs a value for secretB, which has no default/),
    );
    assert.throws(
      () =>
        resolveParameters({ template: t, factoryName: 'f', overrides: '-secretA x -secretB y -count many' }),
      inputError('overrideParameters', /'-count' must be a whole number \(got "many"\)/),
    );
    assert.throws(
      () =>
        resolveParameters({
          template: t,
          factoryName: 'f',
          overrides: '-factoryName other -secretA x -secretB y',
        }),
      inputError('overrideParameters', /-factoryName is 'other' but input 'factoryName' is 'f'/),
    );
    const ok = resolveParameters({
      template: t,
      factoryName: 'f',
      overrides: '-FACTORYNAME f -secreta x -secretB "" -count 7',
    });
    assert.equal(ok.values.count, 7);
    assert.equal(ok.values.secretA, 'x');
  });

  it('rejects parameters-file entries the template does not declare, and reads Key Vault references', () => {
    const t = exportTemplate({}, { parameters: { pw: { type: 'secureString' } } });
    const dir = writeFiles({
      'extra.json': {
        parameters: { factoryName: { value: 'dev' }, pw: { value: 'x' }, stray: { value: 1 } },
      },
      'kv.json': {
        parameters: {
          pw: {
            reference: {
              keyVault: { id: '/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/kv' },
              secretName: 'pw',
            },
          },
        },
      },
      'bad.json': { parameters: { pw: 'plain' } },
    });
    assert.throws(
      () =>
        resolveParameters({
          template: t,
          factoryName: 'f',
          file: loadParametersFile(path.join(dir, 'extra.json')),
        }),
      inputError('templateParametersFile', /stray is not declared by the template/),
    );
    const kv = resolveParameters({
      template: t,
      factoryName: 'f',
      file: loadParametersFile(path.join(dir, 'kv.json')),
    });
    assert.deepEqual(kv.keyVault, ['pw']);
    assert.ok('reference' in kv.armParameters.pw);
    assert.throws(
      () => loadParametersFile(path.join(dir, 'bad.json')),
      inputError('templateParametersFile', /pw must be written as \{"value"/),
    );
  });

  it('evaluates the objects of an ADF export: names, properties, dependsOn, trigger states, global parameters', () => {
    const t = loadTemplate(path.join(GOLDEN, 'default', 'ARMTemplateForFactory.json'));
    const p = resolveParameters({
      template: t.json,
      file: loadParametersFile(path.join(GOLDEN, 'default', 'ARMTemplateParametersForFactory.json')),
      factoryName: 'adf-prod',
    });
    const d = extractDesiredState({
      ...extractBase,
      template: t.json,
      parameters: p.values,
      templateFile: t.file,
      readLinkedTemplates: true,
      strict: true,
    });
    assert.deepEqual(d.warnings, []);
    const byName = new Map(d.objects.map((o) => [`${o.type}/${o.name}`, o]));
    assert.ok(byName.has('pipelines/PL_Master'));
    assert.ok(byName.has('managedPrivateEndpoints/default/mpe-adls'));
    assert.ok(byName.has('globalParameters/default'));
    const master = byName.get('pipelines/PL_Master')!;
    assert.ok(master.dependsOn.includes('pipelines:pl_ingest'));
    const daily = byName.get('triggers/TR_Daily')!;
    assert.equal(daily.runtimeState, 'Started');
    assert.equal(daily.properties.runtimeState, undefined);
    assert.equal(byName.get('triggers/TR_BlobCreated')!.runtimeState, 'Stopped');
    const blob = byName.get('triggers/TR_BlobCreated')!;
    assert.match(
      String((blob.properties.typeProperties as Record<string, unknown>).scope),
      /^\/subscriptions\//,
    );
    assert.ok(byName.get('triggers/TR_Hourly_Followup')!.dependsOn.includes('triggers:tr_hourly'));
  });

  it('reads linked templates from disk and matches the single-file export', () => {
    const single = loadTemplate(path.join(GOLDEN, 'linked-templates', 'ARMTemplateForFactory.json'));
    const master = loadTemplate(
      path.join(GOLDEN, 'linked-templates', 'linkedTemplates', 'ArmTemplate_master.json'),
    );
    assert.equal(master.links.length, 2);
    assert.equal(master.links[0].fileName, 'ArmTemplate_0.json');
    const file = loadParametersFile(
      path.join(GOLDEN, 'linked-templates', 'ARMTemplateParametersForFactory.json'),
    );
    const ps = resolveParameters({ template: single.json, file, factoryName: 'adf-prod' });
    const masterFile = loadParametersFile(
      path.join(GOLDEN, 'linked-templates', 'linkedTemplates', 'ArmTemplateParameters_master.json'),
    );
    const secure = '-LS_ADLS_accountKey k -LS_Blob_Sas_sasUri s -LS_SqlDb_connectionString c';
    assert.throws(
      () =>
        resolveParameters({
          template: master.json,
          overrides: secure,
          factoryName: 'adf-prod',
          missingHint: () => 'HINT',
        }),
      inputError('overrideParameters', /containerUri and containerSasToken.*HINT/),
    );
    const placeheld = resolveParameters({
      template: master.json,
      overrides: secure,
      factoryName: 'adf-prod',
      notNeeded: ['containerUri', 'containerSasToken'],
    });
    assert.deepEqual(placeheld.placeholders.sort(), ['containerSasToken', 'containerUri']);
    const pm = resolveParameters({ template: master.json, file: masterFile, factoryName: 'adf-prod' });
    const a = extractDesiredState({
      ...extractBase,
      template: single.json,
      parameters: ps.values,
      templateFile: single.file,
      readLinkedTemplates: true,
      strict: true,
    });
    const b = extractDesiredState({
      ...extractBase,
      template: master.json,
      parameters: pm.values,
      templateFile: master.file,
      readLinkedTemplates: true,
      strict: true,
    });
    const norm = (x: typeof a) =>
      x.objects
        .map((o) => ({ t: o.type, n: o.name, p: o.properties, s: o.runtimeState }))
        .sort((m, n) => `${m.t}/${m.n}`.localeCompare(`${n.t}/${n.n}`));
    assert.ok(b.objects.length > 20);
    assert.deepEqual(norm(b), norm(a));
    // Without reading them (arm: ARM fetches them), a master yields no objects.
    const c = extractDesiredState({
      ...extractBase,
      template: master.json,
      parameters: pm.values,
      templateFile: master.file,
      readLinkedTemplates: false,
      strict: false,
    });
    assert.equal(c.objects.length, 0);
  });

  it('fails clearly on an unsupported function, a foreign resource, a copy loop and another factory', () => {
    const base = exportTemplate({ pipelines: { P: pipeline() } });
    const run = (resources: unknown[], strict = true) =>
      extractDesiredState({
        ...extractBase,
        template: { ...base, resources },
        parameters: { factoryName: 'adf-prod' },
        templateFile: '/x/t.json',
        readLinkedTemplates: true,
        strict,
      });
    const res = (props: Record<string, unknown>) => ({
      name: "[concat(parameters('factoryName'), '/P')]",
      type: 'Microsoft.DataFactory/factories/pipelines',
      apiVersion: '2018-06-01',
      properties: { activities: [], ...props },
    });
    assert.throws(
      () => run([res({ description: "[reference('x').y]" })]),
      inputError('templateFile', /resource .*P.*'reference' is not supported.*'arm'/),
    );
    assert.throws(
      () =>
        run([
          { name: 'st', type: 'Microsoft.Storage/storageAccounts', apiVersion: '2023-01-01', properties: {} },
        ]),
      inputError('templateFile', /not a Data Factory object.*Use 'arm'/),
    );
    assert.throws(
      () => run([{ ...res({}), copy: { name: 'c', count: 2 } }]),
      inputError('templateFile', /copy loop/),
    );
    assert.throws(
      () => run([{ ...res({}), name: 'other/P' }]),
      inputError('factoryName', /targets factory 'other', not 'adf-prod'/),
    );
    // Not strict (arm planning): a warning instead.
    const lenient = run([res({ description: "[reference('x').y]" }), res({})], false);
    assert.equal(lenient.warnings.length, 1);
    assert.equal(lenient.objects.length, 1);
  });

  it('finds references and resource-id keys', () => {
    assert.deepEqual(referencedKeys(pipeline({ datasets: ['D'], calls: ['Child'] })).sort(), [
      'datasets:d',
      'pipelines:child',
    ]);
    assert.deepEqual(referencedKeys(dataset('LS')), ['linkedservices:ls']);
    assert.deepEqual(referencedKeys(scheduleTrigger(['P'])), ['pipelines:p']);
    assert.deepEqual(
      referencedKeys({ x: { referenceName: '@dataset().name', type: 'DatasetReference' } }),
      [],
    );
    assert.deepEqual(referencedKeys(ls()), []);
    assert.equal(
      keyOfResourceId('Microsoft.DataFactory/factories/f/linkedServices/LS_A'),
      'linkedservices:ls_a',
    );
    assert.equal(
      keyOfResourceId(
        '/subscriptions/s/resourceGroups/r/providers/Microsoft.DataFactory/factories/f/managedVirtualNetworks/default/managedPrivateEndpoints/mpe',
      ),
      'managedPrivateEndpoints:default/mpe',
    );
    assert.equal(keyOfResourceId('Microsoft.DataFactory/factories/f'), undefined);
  });
});
