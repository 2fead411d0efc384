import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryLogger } from '../../../src/common/logger';
import { buildArmTemplate } from '../../../src/datafactory/build-arm-template';
import { loadFactoryFolder } from '../../../src/datafactory/model';
import { factoryNameViolation, nameRuleViolation, validateFactory } from '../../../src/datafactory/validate';

const INVALID = path.resolve(__dirname, '../../fixtures/adf/invalid-factory');

type Row = [
  severity: string,
  relPath: string | undefined,
  line: number | undefined,
  column: number | undefined,
  message: string,
];

describe('validation of a factory folder', () => {
  it('reports every problem at once, each with its file, line and column', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adf-invalid-'));
    const result = buildArmTemplate({ factoryFolder: INVALID, outputFolder: out }, new MemoryLogger());
    assert.equal(result.ok, false);
    assert.deepEqual(fs.readdirSync(out), [], 'nothing is written when validation fails');
    const rows: Row[] = [...result.errors, ...result.warnings].map((p) => [
      p.severity,
      p.relPath,
      p.line,
      p.column,
      p.message,
    ]);
    const expected: Row[] = [
      [
        'error',
        'pipeline/PL_BadJson.json',
        3,
        2,
        "pipeline/PL_BadJson.json: invalid JSON: expected ',' or '}' after a property value, found character \"\\\"\" (line 3, column 2).",
      ],
      [
        'error',
        'pipeline/PL.Dot.json',
        2,
        10,
        "pipeline/PL.Dot.json: pipeline name 'PL.Dot' is not valid: the character '.' is not allowed (not allowed: . + ? / < > * % & : \\).",
      ],
      [
        'error',
        'pipeline/PL_NoName.json',
        1,
        1,
        'pipeline/PL_NoName.json: the pipeline has no "name" (expected "PL_NoName").',
      ],
      [
        'error',
        'pipeline/PL_NoProps.json',
        1,
        1,
        'pipeline/PL_NoProps.json: the pipeline has no "properties".',
      ],
      [
        'error',
        'pipeline/PL_Renamed.json',
        2,
        10,
        "pipeline/PL_Renamed.json: the pipeline is named 'PL_Other' but its file is 'PL_Renamed.json'; the name must match the file name.",
      ],
      [
        'error',
        'pipeline/pl_dup.json',
        2,
        10,
        "pipeline/pl_dup.json: duplicate pipeline name 'pl_dup' (also defined in pipeline/PL_Dup.json); names are case-insensitive and must be unique.",
      ],
      [
        'error',
        'integrationRuntime/ir_underscore.json',
        2,
        10,
        "integrationRuntime/ir_underscore.json: integration runtime name 'ir_underscore' is not valid: integration runtime names may contain only letters, numbers and single dashes, and must start and end with a letter or number.",
      ],
      [
        'error',
        'pipeline/PL_Refs.json',
        19,
        24,
        "pipeline/PL_Refs.json: pipeline 'PL_Refs' references dataset 'DS_Missing', which is not in the factory folder (expected dataset/DS_Missing.json).",
      ],
      [
        'error',
        'pipeline/PL_Refs.json',
        38,
        23,
        "pipeline/PL_Refs.json: pipeline 'PL_Refs' references linked service 'LS_MissingDatabricks', which is not in the factory folder (expected linkedService/LS_MissingDatabricks.json).",
      ],
      [
        'error',
        'pipeline/PL_Refs.json',
        48,
        24,
        "pipeline/PL_Refs.json: pipeline 'PL_Refs' references data flow 'DF_Missing', which is not in the factory folder (expected dataflow/DF_Missing.json).",
      ],
      [
        'error',
        'pipeline/PL_Refs.json',
        59,
        24,
        "pipeline/PL_Refs.json: pipeline 'PL_Refs' references pipeline 'PL_Missing', which is not in the factory folder (expected pipeline/PL_Missing.json).",
      ],
      [
        'error',
        'dataset/DS_NoLs.json',
        5,
        21,
        "dataset/DS_NoLs.json: dataset 'DS_NoLs' references linked service 'LS_Missing', which is not in the factory folder (expected linkedService/LS_Missing.json).",
      ],
      [
        'error',
        'linkedService/LS_Ok.json',
        21,
        21,
        "linkedService/LS_Ok.json: linked service 'LS_Ok' references integration runtime 'ir-missing', which is not in the factory folder (expected integrationRuntime/ir-missing.json).",
      ],
      [
        'error',
        'linkedService/LS_Ok.json',
        16,
        22,
        "linkedService/LS_Ok.json: linked service 'LS_Ok' references credential 'cred-missing', which is not in the factory folder (expected credential/cred-missing.json).",
      ],
      [
        'error',
        'linkedService/LS_Ok.json',
        10,
        23,
        "linkedService/LS_Ok.json: linked service 'LS_Ok' references linked service 'LS_MissingVault', which is not in the factory folder (expected linkedService/LS_MissingVault.json).",
      ],
      [
        'error',
        'trigger/TR_Orphan.json',
        8,
        23,
        "trigger/TR_Orphan.json: trigger 'TR_Orphan' references pipeline 'PL_Gone', which is not in the factory folder (expected pipeline/PL_Gone.json).",
      ],
      [
        'error',
        'dataflow/DF_Ok.json',
        9,
        24,
        "dataflow/DF_Ok.json: data flow 'DF_Ok' references dataset 'DS_Absent', which is not in the factory folder (expected dataset/DS_Absent.json).",
      ],
      [
        'error',
        'credential/cred-sp.json',
        11,
        23,
        "credential/cred-sp.json: credential 'cred-sp' references linked service 'LS_MissingVault', which is not in the factory folder (expected linkedService/LS_MissingVault.json).",
      ],
      [
        'error',
        'pipeline/PL_CycleA.json',
        11,
        24,
        'pipeline/PL_CycleA.json: ExecutePipeline cycle: PL_CycleA → PL_CycleB → PL_CycleA; a pipeline must not run itself, directly or through other pipelines.',
      ],
      [
        'error',
        'pipeline/PL_Self.json',
        11,
        24,
        'pipeline/PL_Self.json: ExecutePipeline cycle: PL_Self → PL_Self; a pipeline must not run itself, directly or through other pipelines.',
      ],
      [
        'error',
        'arm-template-parameters-definition.json',
        4,
        19,
        "arm-template-parameters-definition.json: 'float' is not a parameter type (use string, securestring, int, bool, object, secureobject or array).",
      ],
      [
        'error',
        'arm-template-parameters-definition.json',
        9,
        17,
        'arm-template-parameters-definition.json: an array definition must be [definition] or [definition, "name.property"].',
      ],
      [
        'error',
        'arm-template-parameters-definition.json',
        10,
        20,
        "arm-template-parameters-definition.json: '?' is not a parameter action: use \"<action>:<name>:<type>\" where action is '=', '-' or '|'.",
      ],
      [
        'warning',
        'notebooks',
        undefined,
        undefined,
        "Folder 'notebooks' is not a Data Factory object folder; its files are not part of the export.",
      ],
      [
        'warning',
        'dataset/DS-Dash.json',
        2,
        10,
        "dataset/DS-Dash.json: dataset name 'DS-Dash' breaks ADF's naming rules: ADF Studio does not allow dashes in dataset names.",
      ],
      [
        'warning',
        'arm-template-parameters-definition.json',
        13,
        2,
        "arm-template-parameters-definition.json: section 'Microsoft.Storage/storageAccounts' is not a Data Factory resource type and is ignored.",
      ],
    ];
    assert.deepEqual(rows, expected);
  });

  it('the positions point at the offending text', () => {
    const text = fs.readFileSync(path.join(INVALID, 'pipeline', 'PL_Refs.json'), 'utf8').split('\n');
    assert.equal(text[18].slice(23), '"DS_Missing",');
    assert.equal(text[58].slice(23), '"PL_Missing",');
    const ls = fs.readFileSync(path.join(INVALID, 'linkedService', 'LS_Ok.json'), 'utf8').split('\n');
    assert.equal(ls[20].slice(20), '"ir-missing",');
  });

  it('the built-in AutoResolveIntegrationRuntime needs no file', () => {
    const model = loadFactoryFolder(INVALID);
    const v = validateFactory(model);
    assert.ok(!v.errors.some((e) => e.message.includes('AutoResolveIntegrationRuntime')));
  });

  it('passes with warnings: an unknown folder alone does not fail', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adf-warn-'));
    fs.mkdirSync(path.join(dir, 'factory'));
    fs.writeFileSync(path.join(dir, 'factory', 'adf-ok.json'), '{"name":"adf-ok","location":"westeurope"}');
    fs.mkdirSync(path.join(dir, 'build'));
    const out = path.join(dir, 'out');
    const r = buildArmTemplate({ factoryFolder: dir, outputFolder: out }, new MemoryLogger());
    assert.equal(r.ok, true);
    assert.equal(r.warnings.length, 1);
    assert.equal(r.resourceCount, 0);
    assert.ok(fs.existsSync(path.join(out, 'ARMTemplateForFactory.json')));
  });

  it('needs a factory name from factory/*.json or the factoryName input', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adf-noname-'));
    fs.mkdirSync(path.join(dir, 'pipeline'));
    fs.writeFileSync(path.join(dir, 'pipeline', 'PL.json'), '{"name":"PL","properties":{"activities":[]}}');
    const v = validateFactory(loadFactoryFolder(dir));
    assert.equal(v.errors.length, 1);
    assert.match(v.errors[0].message, /Set the 'factoryName' input/);
    assert.deepEqual(validateFactory(loadFactoryFolder(dir), { factoryName: 'adf-x1' }).errors, []);
    assert.match(
      validateFactory(loadFactoryFolder(dir), { factoryName: 'x' }).errors[0].message,
      /3 to 63 characters/,
    );
  });

  it('naming rules: what the service rejects is an error, what only ADF Studio refuses a warning', () => {
    assert.equal(nameRuleViolation('pipeline', 'Load customers (daily)'), undefined);
    assert.equal(nameRuleViolation('pipeline', 'load-customers'), undefined);
    assert.deepEqual(nameRuleViolation('dataflow', 'df-x'), {
      severity: 'warning',
      reason: 'ADF Studio does not allow dashes in data flow names',
    });
    // Synapse creates "<workspace>-WorkspaceDefaultStorage" linked services: published factories hold them.
    assert.equal(nameRuleViolation('linkedService', 'ws-WorkspaceDefaultStorage')?.severity, 'warning');
    assert.equal(nameRuleViolation('pipeline', '-x')?.severity, 'warning');
    assert.deepEqual(nameRuleViolation('trigger', 'a:b'), {
      severity: 'error',
      reason: "the character ':' is not allowed (not allowed: . + ? / < > * % & : \\)",
    });
    assert.match(nameRuleViolation('linkedService', 'x'.repeat(261))?.reason ?? '', /longer than 260/);
    assert.equal(nameRuleViolation('integrationRuntime', 'ir-shared-01'), undefined);
    assert.equal(nameRuleViolation('integrationRuntime', 'ir--x')?.severity, 'error');
    assert.equal(factoryNameViolation('adf-sample-dev'), undefined);
    assert.match(factoryNameViolation('adf_sample') ?? '', /only letters, numbers and single dashes/);
  });
});
