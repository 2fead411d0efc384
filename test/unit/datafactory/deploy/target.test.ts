/**
 * Names of the target factory and pipeline, checked before any request: the names become
 * URL path segments, so a name that breaks Azure's rules must never reach a URL.
 */
import assert from 'node:assert/strict';
import { DeployInputError } from '../../../../src/datafactory/deploy/errors';
import {
  validateFactoryName,
  validatePipelineName,
  validateResourceGroupName,
} from '../../../../src/datafactory/deploy/target';

function refused(input: string, re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DeployInputError, `expected DeployInputError, got ${String(e)}`);
    assert.equal(e.input, input);
    assert.match(e.message, new RegExp(`^Input '${input}'`));
    assert.match(e.message, re);
    return true;
  };
}

describe('datafactory target names', () => {
  it('accepts pipeline names Data Factory accepts', () => {
    for (const name of [
      'PL_Load',
      'pl-copy-2',
      'Train model',
      '_private',
      'Ünïcode_pipeline',
      'a'.repeat(140),
    ])
      assert.equal(validatePipelineName('pipelineName', name), name);
    assert.equal(validatePipelineName('pipelineName', '  PL_Load \n'), 'PL_Load');
  });

  it('refuses pipeline names that would change the request URL or break the naming rules', () => {
    const cases: [string, RegExp][] = [
      ['..', /'\.\.' is not a valid pipeline name: the character '\.' is not allowed/],
      ['.', /the character '\.' is not allowed/],
      ['PL/Load?x=1', /the character '\/' is not allowed/],
      ['a\\b', /the character '\\' is not allowed/],
      ['PL%2F..', /the character '%' is not allowed/],
      ['PL:x', /the character ':' is not allowed/],
      ['PL&x', /the character '&' is not allowed/],
      ['PL*', /the character '\*' is not allowed/],
      ['PL<x>', /the character '<' is not allowed/],
      ['a+b', /the character '\+' is not allowed/],
      ['PL\u001b[31m', /'PL\?\[31m' is not a valid pipeline name: control characters are not allowed/],
      ['PL\ttab', /control characters/],
      ['x'.repeat(261), /longer than 260 characters/],
      ['   ', /the name is empty/],
    ];
    for (const [name, re] of cases)
      assert.throws(() => validatePipelineName('pipelineName', name), refused('pipelineName', re), name);
  });

  it('checks factory names: 3 to 63 letters, digits and single hyphens, alphanumeric at both ends', () => {
    for (const name of ['adf', 'adf-prod-01', 'A1b', 'x'.repeat(63)])
      assert.equal(validateFactoryName('factoryName', name), name);
    for (const name of [
      'ab',
      'x'.repeat(64),
      '-adf',
      'adf-',
      'adf--prod',
      'adf_prod',
      'adf.prod',
      'adf/..',
      'adf prod',
    ])
      assert.throws(
        () => validateFactoryName('factoryName', name),
        refused('factoryName', /factory name/),
        name,
      );
    assert.throws(
      () => validateFactoryName('factoryName', 'adf\u001bx'),
      refused('factoryName', /\(got 'adf\?x'\)/),
    );
  });

  it('checks resource group names: 1 to 90 of letters, digits, _ - . ( ), not ending with a period', () => {
    for (const name of ['r', 'rg-data_prod.(eu)', 'Grüße', 'x'.repeat(90)])
      assert.equal(validateResourceGroupName('resourceGroupName', name), name);
    for (const name of ['', 'rg.', 'x'.repeat(91), 'rg/..', 'rg?x', 'rg name', 'rg#1', 'rg%2F'])
      assert.throws(
        () => validateResourceGroupName('resourceGroupName', name),
        refused('resourceGroupName', /must be a resource group name/),
        name,
      );
  });
});
