import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  decide,
  evaluateExpression,
  jsonPath,
  parseExpression,
  renderTemplate,
  resolveHttpRequest,
  substituteMacros,
  type Value,
} from '../../harness/gate-evaluator';

const ev = (expr: string, root: Value = {}) => evaluateExpression(expr, { root });

describe('gate evaluator: macros and templates', () => {
  it('substitutes $(name) case-insensitively and leaves unknown macros', () => {
    assert.equal(substituteMacros('$(a)/$(B)/$(c)', { a: '1', b: '2' }), '1/2/$(c)');
    assert.equal(substituteMacros('$(endpoint.url)/x', { 'endpoint.url': 'https://h' }), 'https://h/x');
  });

  it('renders #if, #equals (with and without ignoreCase), {{name}} and nesting', () => {
    const ctx = { a: 'x', empty: '', flag: 'false' };
    assert.equal(
      renderTemplate(
        'p{{#if a}}A{{/if}}{{#if empty}}E{{/if}}{{#if flag}}F{{/if}}{{#if missing}}M{{/if}}',
        ctx,
      ),
      'pA',
    );
    assert.equal(
      renderTemplate("{{#equals 'Job' 'job' 1}}yes{{/equals}}{{#equals 'Job' 'job'}}no{{/equals}}", {}),
      'yes',
    );
    assert.equal(
      renderTemplate("{{#equals a 'x'}}[{{a}}|{{{a}}}{{#if a}}!{{/if}}]{{/equals}}", ctx),
      '[x|x!]',
    );
    assert.throws(() => renderTemplate('{{#if a}}open', ctx), /missing \{\{\/if\}\}/);
    assert.throws(() => renderTemplate('{{#each a}}{{/each}}', ctx), /unsupported template helper #each/);
  });
});

describe('gate evaluator: expressions', () => {
  it('parses literals, calls and indexers', () => {
    assert.deepEqual(parseExpression("eq('it''s', 1.5)"), {
      t: 'call',
      name: 'eq',
      args: [
        { t: 'lit', v: "it's" },
        { t: 'lit', v: 1.5 },
      ],
    });
    assert.throws(() => parseExpression('eq(1, 2'), /expected , or \)/);
    assert.throws(() => parseExpression("eq('a"), /unclosed string/);
    assert.throws(() => ev('nope(1)'), /unknown function nope/);
    assert.throws(() => ev('eq(1)'), /wrong number of arguments/);
  });

  it('compares like the task condition language', () => {
    assert.equal(ev("eq('SUCCESS', 'success')"), true); // strings ignore case
    assert.equal(ev("eq(5, '5')"), true); // right converted to the left type
    assert.equal(ev("eq(5, 'five')"), false); // failed conversion: not equal
    assert.equal(ev("ne('a', 'b')"), true);
    assert.equal(ev("ge(1700000000000, '1600000000000')"), true);
    assert.equal(ev("ge(1, '')"), true); // '' converts to 0
    assert.equal(ev('lt(1, 2)'), true);
    assert.equal(ev('le(2, 2)'), true);
    assert.equal(ev('gt(null, 1)'), false);
    assert.throws(() => ev("gt(1, 'x')"), /cannot convert "x" to a number/);
    assert.equal(ev("in('b', 'a', 'B')"), true);
    assert.equal(ev("notIn('c', 'a', 'b')"), true);
    assert.equal(ev('eq(null, null)'), true);
    assert.equal(ev('eq(true, 1)'), true);
  });

  it('short-circuits and/or and supports not and xor', () => {
    // The erroring right side is never evaluated.
    assert.equal(ev("and(false, gt(1, 'x'))"), false);
    assert.equal(ev("or(true, gt(1, 'x'))"), true);
    assert.equal(ev('and(true, true, false)'), false);
    assert.equal(ev('not(false)'), true);
    assert.equal(ev('xor(true, false)'), true);
  });

  it('reads the body through root, jsonpath and indexes', () => {
    const root: Value = { runs: [{ state: { result_state: 'SUCCESS' }, end_time: 5 }], n: 3, items: [] };
    assert.equal(ev("root['n']", root), 3);
    assert.equal(ev("eq(root['runs'][0]['state']['result_state'], 'SUCCESS')", root), true);
    assert.equal(ev("eq(jsonpath('$.runs[0].state.result_state')[0], 'SUCCESS')", root), true);
    assert.equal(ev("jsonpath('$.runs[1].state')[0]", root), null); // out of range: null
    assert.equal(ev("count(jsonpath('$.runs[*]'))", root), 1);
    assert.equal(ev("count(root['items'])", root), 0);
    assert.equal(ev("isNullOrEmpty(root['missing'])", root), true);
    assert.equal(ev("isNullOrEmpty(root['items'])", root), true);
    assert.equal(ev("isNullOrEmpty('x')", root), false);
  });

  it('evaluates the JSONPath subset gates use', () => {
    const doc: Value = {
      versions: [
        { version: '1.0.1', flags: 'validated', price: 10 },
        { version: '1.0.0', flags: 'none', price: 60 },
      ],
      tasks: [{ state: { result_state: 'FAILED' } }, { state: { result_state: 'SUCCESS' } }],
    };
    assert.deepEqual(jsonPath(doc, '$.versions[0].flags'), ['validated']);
    assert.deepEqual(jsonPath(doc, "$['versions'][-1].version"), ['1.0.0']);
    assert.deepEqual(jsonPath(doc, "$.versions[?(@.version=='1.0.1' && @.flags=='validated')].version"), [
      '1.0.1',
    ]);
    assert.deepEqual(jsonPath(doc, 'versions[?(@.price<50)].version'), ['1.0.1']);
    assert.deepEqual(jsonPath(doc, '$..result_state'), ['FAILED', 'SUCCESS']);
    assert.deepEqual(jsonPath(doc, '$.tasks[*].state.result_state'), ['FAILED', 'SUCCESS']);
    assert.deepEqual(jsonPath(doc, '$.nothing.here'), []);
    assert.equal(
      ev("eq(count(jsonpath('$.versions[?(@.version==''1.0.1'' && @.flags==''validated'')]')), 1)", doc),
      true,
    );
  });

  it('decides like the server: a failed call fails, the expression decides otherwise', () => {
    assert.deepEqual(decide("eq(root['a'], 1)", 200, '{"a":1}'), {
      succeeded: true,
      reason: 'expression is true',
    });
    assert.equal(
      decide("eq(root['a'], 1)", 400, '{"error_code":"INVALID_PARAMETER_VALUE"}').succeeded,
      false,
    );
    assert.equal(decide("eq(root['a'], 1)", 200, 'not json').succeeded, false);
    assert.equal(decide('', 204, '').succeeded, true);
  });
});

describe('resolveHttpRequest: the forms Microsoft server tasks use', () => {
  // Shapes of AzureMonitorV1 / AzurePolicyV0 / AutomatedAnalysisV0 (microsoft/azure-pipelines-tasks).
  const task = (endpointUrl: string) => ({
    inputs: [
      { name: 'conn' },
      { name: 'ResourceGroupName' },
      { name: 'filterType', defaultValue: 'none' },
      { name: 'resource' },
    ],
    execution: {
      HttpRequest: {
        Execute: {
          EndpointId: '$(conn)',
          EndpointUrl: endpointUrl,
          Expression: "eq(root['sub'], '$(endpoint.subscriptionId)')",
        },
      },
    },
  });
  const endpoints = { arm: { url: 'https://management.azure.com/', data: { subscriptionId: 'sub-1' } } };

  it('resolves endpoint data as $(endpoint.<key>) in the URL and the expression', () => {
    const r = resolveHttpRequest(
      task('$(endpoint.url)subscriptions/$(endpoint.subscriptionId)/resourceGroups/$(ResourceGroupName)'),
      { conn: 'arm', ResourceGroupName: 'rg' },
      endpoints,
    );
    assert.equal(r.url, 'https://management.azure.com/subscriptions/sub-1/resourceGroups/rg');
    assert.equal(r.expression, "eq(root['sub'], 'sub-1')");
  });

  it('compares a quoted input macro in {{#equals}} and reads bare names in {{#if}} and {{name}}', () => {
    const url =
      '$(endpoint.url)subscriptions/{{subscriptionId}}/alerts?x=1' +
      '{{#if ResourceGroupName}}&targetResourceGroup=$(ResourceGroupName){{/if}}' +
      "{{#equals '$(filterType)' 'resource' 1}}{{#if resource}}&targetResource={{resource}}{{/if}}{{/equals}}";
    const all = resolveHttpRequest(
      task(url),
      { conn: 'arm', ResourceGroupName: 'rg', filterType: 'Resource', resource: 'vm1' },
      endpoints,
    );
    assert.equal(
      all.url,
      'https://management.azure.com/subscriptions/sub-1/alerts?x=1&targetResourceGroup=rg&targetResource=vm1',
    );
    const none = resolveHttpRequest(task(url), { conn: 'arm', resource: 'vm1' }, endpoints);
    assert.equal(none.url, 'https://management.azure.com/subscriptions/sub-1/alerts?x=1');
  });
});

describe('DatabricksRunGate task.json: request resolution', () => {
  const taskJson = JSON.parse(
    fs.readFileSync(
      path.join(__dirname, '..', '..', '..', 'tasks', 'DatabricksRunGateV1', 'task.json'),
      'utf8',
    ),
  );
  const endpoints = { conn1: { url: 'https://adb-1.2.azuredatabricks.net' } };

  it('builds a runs/get URL for a run id (the default selector)', () => {
    const r = resolveHttpRequest(taskJson, { databricksConnection: 'conn1', runId: '123' }, endpoints);
    assert.equal(r.endpointId, 'conn1');
    assert.equal(r.method, 'GET');
    assert.equal(r.url, 'https://adb-1.2.azuredatabricks.net/api/2.2/jobs/runs/get?run_id=123');
    assert.equal(r.waitForCompletion, false);
    assert.match(r.expression, /eq\('runId', 'runId'\)/);
    assert.match(r.expression, /ge\(jsonpath\('\$\.end_time'\)\[0\], '0'\)/);
    assert.doesNotMatch(r.expression, /\$\(/, 'every macro is resolved');
  });

  it('builds a runs/list URL for the latest completed run of a job', () => {
    const r = resolveHttpRequest(
      taskJson,
      { databricksConnection: 'conn1', runSelector: 'jobId', jobId: '55', endedAfter: '1700000000000' },
      endpoints,
    );
    assert.equal(
      r.url,
      'https://adb-1.2.azuredatabricks.net/api/2.2/jobs/runs/list?job_id=55&completed_only=true&limit=1',
    );
    assert.match(r.expression, /'1700000000000'/);
  });

  it('passes only a successful run in both shapes', () => {
    const run = (result?: string, end = 1000): Value => ({
      run_id: 1,
      end_time: end,
      state: result
        ? { life_cycle_state: 'TERMINATED', result_state: result }
        : { life_cycle_state: 'RUNNING' },
    });
    const expr = (sel: string, after = '0') =>
      resolveHttpRequest(
        taskJson,
        { databricksConnection: 'conn1', runSelector: sel, runId: '1', jobId: '2', endedAfter: after },
        endpoints,
      ).expression;
    assert.equal(decide(expr('runId'), 200, JSON.stringify(run('SUCCESS'))).succeeded, true);
    assert.equal(decide(expr('runId'), 200, JSON.stringify(run('FAILED'))).succeeded, false);
    assert.equal(decide(expr('runId'), 200, JSON.stringify(run(undefined, 0))).succeeded, false);
    assert.equal(decide(expr('runId', '1001'), 200, JSON.stringify(run('SUCCESS'))).succeeded, false);
    assert.equal(decide(expr('runId', '999'), 200, JSON.stringify(run('SUCCESS'))).succeeded, true);
    // Only the newer status block: still read.
    const statusOnly = {
      run_id: 1,
      end_time: 5,
      status: { state: 'TERMINATED', termination_details: { code: 'SUCCESS' } },
    };
    assert.equal(decide(expr('runId'), 200, JSON.stringify(statusOnly)).succeeded, true);
    assert.equal(
      decide(expr('jobId'), 200, JSON.stringify({ runs: [run('SUCCESS')], has_more: true })).succeeded,
      true,
    );
    assert.equal(decide(expr('jobId'), 200, JSON.stringify({ runs: [run('CANCELED')] })).succeeded, false);
    assert.equal(decide(expr('jobId'), 200, JSON.stringify({ has_more: false })).succeeded, false);
    // A run-shaped answer does not satisfy the job branch, nor the other way round.
    assert.equal(decide(expr('jobId'), 200, JSON.stringify(run('SUCCESS'))).succeeded, false);
    assert.equal(decide(expr('runId'), 200, JSON.stringify({ runs: [run('SUCCESS')] })).succeeded, false);
  });
});
