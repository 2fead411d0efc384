/**
 * DataFactoryBuildArmTemplate@1: reads the inputs, runs the validate + export
 * core (src/datafactory/build-arm-template.ts) and reports outputs and the summary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildArmTemplate, type LinkedTemplatesMode } from '../../src/datafactory/build-arm-template';
import { validateFactoryName } from '../../src/datafactory/deploy/target';
import { DeployInputError } from '../../src/datafactory/deploy/errors';
import { InputError, runTask, setOutput, taskLib, uploadSummary } from '../../src/pipeline';

void runTask('DataFactoryBuildArmTemplate', async ({ inputs, logger, signal }) => {
  const cwd = inputs.workingDirectory();

  // Read as raw text: the factory is often the repository root, which getFilePath treats as "not given".
  const folderInput = inputs.getString('factoryFolder', true);
  const factoryFolder = path.resolve(cwd, folderInput);
  if (!fs.existsSync(factoryFolder) || !fs.statSync(factoryFolder).isDirectory()) {
    throw new InputError(
      'factoryFolder',
      `Input 'factoryFolder' must be the factory's git root folder, but '${factoryFolder}' is not a folder.`,
    );
  }

  const outputInput = inputs.getString('outputFolder');
  if (outputInput?.includes('$(')) {
    throw new InputError(
      'outputFolder',
      `Input 'outputFolder' holds a variable the agent did not expand ('${outputInput}'); give a path or leave it empty.`,
    );
  }
  const outputFolder = outputInput
    ? path.resolve(cwd, outputInput)
    : path.join(taskLib().getVariable('Build.ArtifactStagingDirectory') || cwd, 'adf');

  // Checked before the folder is read, so the failure names the input (not just "1 error").
  const factoryNameInput = inputs.getString('factoryName');
  let factoryName: string | undefined;
  try {
    factoryName =
      factoryNameInput === undefined ? undefined : validateFactoryName('factoryName', factoryNameInput);
  } catch (e) {
    if (e instanceof DeployInputError) throw new InputError(e.input, e.message);
    throw e;
  }

  const result = buildArmTemplate(
    {
      factoryFolder,
      factoryName,
      outputFolder,
      parametersDefinitionFile: inputs.getFilePath('parametersDefinitionFile', {
        mustExist: true,
        kind: 'file',
      }),
      includeGlobalParameters: inputs.getBool('includeGlobalParameters', true),
      linkedTemplates: inputs.getPickList<LinkedTemplatesMode>(
        'linkedTemplates',
        ['auto', 'always', 'never'],
        'auto',
      ),
      validateOnly: inputs.getBool('validateOnly', false),
      signal,
    },
    logger,
  );

  uploadSummary(
    `Data Factory ARM template ${result.factoryName ?? path.basename(factoryFolder)}`,
    result.summaryMarkdown,
  );
  if (!result.ok) {
    throw new Error(
      `Validation of ${factoryFolder} found ${result.errors.length} error(s); each is annotated with its file and line. Fix them and run again.`,
    );
  }
  setOutput('templateFile', result.templateFile ?? '');
  setOutput('parametersFile', result.parametersFile ?? '');
  setOutput('resourceCount', String(result.resourceCount));
  setOutput('parameterCount', String(result.parameterCount));
  const what = result.templateFile
    ? `Exported ${result.resourceCount} resources and ${result.parameterCount} parameters to ${outputFolder}.`
    : `Validated ${result.resourceCount} resources and ${result.parameterCount} parameters; nothing written.`;
  return { message: result.warnings.length ? `${what} ${result.warnings.length} warning(s).` : what };
});
