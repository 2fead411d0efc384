import assert from 'node:assert/strict';
import {
  ArmEvaluator,
  ArmExpressionError,
  armGuid,
  armUniqueString,
  evaluateArmString,
  evaluateTemplateValue,
  isArmExpression,
  parseArmExpression,
  resolveTemplateParameters,
  type ArmEvaluationContext,
} from '../../../src/datafactory/arm-expressions';

const ctx: ArmEvaluationContext = {
  parameters: { factoryName: 'adf-prod', count: 3, flags: { on: true }, list: ['a', 'b'] },
  variables: {
    factoryId: "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]",
    nested: { id: "[variables('factoryId')]", n: "[parameters('count')]" },
    plain: 'text',
  },
  subscription: {
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    tenantId: 't1',
    displayName: 'Dev',
  },
  resourceGroup: { name: 'rg-data', location: 'westeurope' },
  deployment: { name: 'deploy-1', properties: { templateLink: { uri: 'https://x/t.json' } } },
};

function ev(s: string, c: ArmEvaluationContext = ctx): unknown {
  return evaluateArmString(s, c);
}

function throwsArm(s: string, pattern: RegExp, c: ArmEvaluationContext = ctx): ArmExpressionError {
  let caught: unknown;
  try {
    ev(s, c);
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof ArmExpressionError,
    `expected ArmExpressionError for ${s}, got ${String(caught)}`,
  );
  assert.match(caught.message, pattern);
  return caught;
}

describe('arm-expressions', () => {
  describe('strings and escaping', () => {
    it('leaves non-expressions alone and unescapes [[', () => {
      assert.equal(ev('hello'), 'hello');
      assert.equal(ev('[[dbo].[table]'), '[dbo].[table]');
      assert.equal(ev('[not closed'), '[not closed');
      assert.equal(ev(''), '');
      assert.equal(isArmExpression("[parameters('x')]"), true);
      assert.equal(isArmExpression('[[x]'), false);
      assert.equal(isArmExpression('x]'), false);
    });

    it('parses string literals with doubled quotes and whitespace between tokens', () => {
      assert.equal(ev("[ concat( 'it''s' , ' ok' ) ]"), "it's ok");
      assert.equal(ev("['']"), '');
      assert.equal(ev("[concat('a]b', '[c')]"), 'a]b[c');
    });

    it('parses integers, including negative ones', () => {
      assert.equal(ev('[add(-2, 5)]'), 3);
      assert.equal(ev('[42]'), 42);
    });

    it('reports syntax errors with the expression', () => {
      throwsArm("[concat('a']", /Unable to parse template language expression/);
      throwsArm("[concat('a' 'b')]", /expected ',' or '\)'/);
      throwsArm("[concat('abc)]", /not terminated/);
      throwsArm('[parameters]', /expected '\('/);
      throwsArm("[concat('a')) ]", /unexpected/);
      throwsArm('[add(1.5, 1)]', /decimal numbers/);
    });
  });

  describe('parameters, variables and property access', () => {
    it('reads parameters and variables case-insensitively', () => {
      assert.equal(ev("[parameters('FACTORYNAME')]"), 'adf-prod');
      assert.equal(ev("[variables('factoryid')]"), 'Microsoft.DataFactory/factories/adf-prod');
    });

    it('evaluates nested variable objects lazily', () => {
      assert.deepEqual(ev("[variables('nested')]"), { id: 'Microsoft.DataFactory/factories/adf-prod', n: 3 });
      assert.equal(ev("[variables('nested').n]"), 3);
    });

    it("supports .x, ['x'] and [0], chained", () => {
      assert.equal(ev("[parameters('flags').on]"), true);
      assert.equal(ev("[parameters('flags')['on']]"), true);
      assert.equal(ev("[parameters('list')[1]]"), 'b');
      assert.equal(ev('[json(\'{"a":[{"b":{"c":7}}]}\').a[0].b[\'c\']]'), 7);
      assert.equal(ev('[resourceGroup().Location]'), 'westeurope');
    });

    it('fails clearly on missing names, properties and indexes', () => {
      throwsArm("[parameters('nope')]", /template parameter 'nope' is not found/);
      throwsArm("[variables('nope')]", /template variable 'nope' is not found/);
      throwsArm("[parameters('flags').off]", /property 'off' doesn't exist, available properties are 'on'/);
      throwsArm("[parameters('list')[5]]", /array index '5' is out of bounds/);
      throwsArm("[parameters('factoryName').x]", /can't be evaluated on a value of type String/);
    });

    it('detects circular variables', () => {
      const c: ArmEvaluationContext = { variables: { a: "[variables('b')]", b: "[variables('a')]" } };
      throwsArm("[variables('a')]", /circular/, c);
    });

    it('evaluates each variable once per evaluator', () => {
      let calls = 0;
      const e = new ArmEvaluator({
        variables: { v: '[counter()]' },
        functions: {
          counter: () => {
            calls++;
            return calls;
          },
        },
      });
      assert.equal(e.evaluateString("[variables('v')]"), 1);
      assert.equal(e.evaluateString("[variables('v')]"), 1);
      assert.equal(calls, 1);
    });
  });

  describe('functions', () => {
    it('concat joins strings (with numbers and booleans) or arrays', () => {
      assert.equal(ev("[concat('a', 1, true())]"), 'a1True');
      assert.deepEqual(ev('[concat(createArray(1), createArray(2, 3))]'), [1, 2, 3]);
      throwsArm("[concat(createArray(1), 'x')]", /all arrays or all strings/);
    });

    it('resourceId in resource-group, explicit-rg and explicit-subscription forms', () => {
      const base = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-data/providers';
      assert.equal(
        ev("[resourceId('Microsoft.DataFactory/factories/pipelines', parameters('factoryName'), 'pl_a')]"),
        `${base}/Microsoft.DataFactory/factories/adf-prod/pipelines/pl_a`,
      );
      assert.equal(
        ev("[resourceId('Microsoft.DataFactory/factories', 'f1')]"),
        `${base}/Microsoft.DataFactory/factories/f1`,
      );
      assert.equal(
        ev("[resourceId('other-rg', 'Microsoft.DataFactory/factories/datasets', 'f1', 'ds')]"),
        '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/other-rg/providers/Microsoft.DataFactory/factories/f1/datasets/ds',
      );
      assert.equal(
        ev("[resourceId('sub2', 'rg2', 'Microsoft.Resources/deployments', 'd1')]"),
        '/subscriptions/sub2/resourceGroups/rg2/providers/Microsoft.Resources/deployments/d1',
      );
      assert.equal(
        ev("[resourceId('Microsoft.DataFactory/factories/pipelines', 'f1/p1')]"),
        `${base}/Microsoft.DataFactory/factories/f1/pipelines/p1`,
      );
      assert.equal(
        ev("[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'rg9')]"),
        '/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Resources/resourceGroups/rg9',
      );
      throwsArm(
        "[resourceId('Microsoft.DataFactory/factories/pipelines', 'only-one')]",
        /needs 2 name segment/,
      );
    });

    it('subscription(), resourceGroup() and deployment()', () => {
      assert.equal(ev('[subscription().subscriptionId]'), '00000000-0000-0000-0000-000000000001');
      assert.equal(ev('[subscription().id]'), '/subscriptions/00000000-0000-0000-0000-000000000001');
      assert.equal(ev('[subscription().tenantId]'), 't1');
      assert.equal(ev('[resourceGroup().name]'), 'rg-data');
      assert.equal(
        ev('[resourceGroup().id]'),
        '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-data',
      );
      assert.equal(ev('[deployment().properties.templateLink.uri]'), 'https://x/t.json');
      throwsArm('[resourceGroup().name]', /no resource group is available/, {
        subscription: ctx.subscription,
      });
    });

    it('format with indexes, padding, escapes and numeric formats', () => {
      assert.equal(ev("[format('{0}-{1}-{0}', 'a', 2)]"), 'a-2-a');
      assert.equal(
        ev("[format('{{literal}} {0:D3} {1:X} {2,4}|{3,-3}|', 7, 255, 'r', 'l')]"),
        '{literal} 007 FF    r|l  |',
      );
      assert.equal(ev("[format('{0:N2}', 1234)]"), '1,234.00');
      throwsArm("[format('{1}', 'a')]", /missing argument/);
    });

    it('string helpers', () => {
      assert.equal(ev("[replace('a-b-c', '-', '_')]"), 'a_b_c');
      assert.equal(ev("[toLower('AbC')]"), 'abc');
      assert.equal(ev("[toUpper('AbC')]"), 'ABC');
      assert.equal(ev("[substring('abcdef', 2, 3)]"), 'cde');
      assert.deepEqual(ev("[split('a,b;c', createArray(',', ';'))]"), ['a', 'b', 'c']);
      assert.equal(ev("[join(createArray('a', 'b'), '/')]"), 'a/b');
      assert.equal(ev("[startsWith('Hello', 'he')]"), true);
      assert.equal(ev("[endsWith('Hello', 'LO')]"), true);
      assert.equal(ev("[indexOf('abcABC', 'C')]"), 2);
      assert.equal(ev("[trim('  x ')]"), 'x');
      assert.equal(ev("[padLeft('7', 3, '0')]"), '007');
      assert.equal(ev("[uri('https://host/a/b.json', 'c.json')]"), 'https://host/a/c.json');
      assert.equal(ev("[uriComponent('a b&c')]"), 'a%20b%26c');
    });

    it('string(), int(), bool(), json()', () => {
      assert.equal(ev("[string(createObject('a', 1, 'b', createArray(true())))]"), '{"a":1,"b":[true]}');
      assert.equal(ev('[string(true())]'), 'True');
      assert.equal(ev('[string(12)]'), '12');
      assert.equal(ev("[int('42')]"), 42);
      throwsArm("[int('4x')]", /cannot be converted to an Integer/);
      assert.equal(ev("[bool('TRUE')]"), true);
      assert.equal(ev('[bool(0)]'), false);
      throwsArm("[bool('yes')]", /cannot be converted to a Boolean/);
      assert.deepEqual(ev('[json(\'{"a":[1,null]}\')]'), { a: [1, null] });
      assert.equal(ev("[json('null')]"), null);
      throwsArm(
        "[json('{bad')]",
        /Unable to evaluate template language function 'json': the argument is not valid JSON/,
      );
    });

    it('if() evaluates only the branch taken', () => {
      assert.equal(ev("[if(equals(parameters('count'), 3), 'three', parameters('missing'))]"), 'three');
      assert.equal(ev("[if(false(), parameters('missing'), 'else')]"), 'else');
      throwsArm("[if('yes', 1, 2)]", /condition must be a Boolean/);
    });

    it('equals, empty, length, coalesce, logic and comparison', () => {
      assert.equal(ev("[equals(createObject('a', createArray(1)), json('{\"a\":[1]}'))]"), true);
      assert.equal(ev("[equals('A', 'a')]"), false);
      assert.equal(ev("[empty('')]"), true);
      assert.equal(ev('[empty(createObject())]'), true);
      assert.equal(ev('[empty(createArray(1))]'), false);
      assert.equal(ev("[length('abcd')]"), 4);
      assert.equal(ev("[length(createObject('a', 1, 'b', 2))]"), 2);
      assert.equal(ev("[coalesce(null(), null(), 'x')]"), 'x');
      assert.equal(ev('[and(true(), not(false()))]'), true);
      assert.equal(ev('[or(false(), false())]'), false);
      assert.equal(ev('[greater(3, 2)]'), true);
      assert.equal(ev("[lessOrEquals('a', 'b')]"), true);
      assert.equal(ev('[mod(7, 3)]'), 1);
      assert.equal(ev('[div(7, 2)]'), 3);
      assert.equal(ev('[max(createArray(1, 9, 3))]'), 9);
      assert.deepEqual(ev('[range(2, 3)]'), [2, 3, 4]);
    });

    it('union, intersection, createArray, createObject, contains, first/last/take/skip', () => {
      assert.deepEqual(
        ev(
          "[union(createObject('a', 1, 'n', createObject('x', 1)), createObject('b', 2, 'n', createObject('y', 2)))]",
        ),
        { a: 1, n: { x: 1, y: 2 }, b: 2 },
      );
      assert.deepEqual(ev('[union(createArray(1, 2), createArray(2, 3))]'), [1, 2, 3]);
      assert.deepEqual(ev('[intersection(createArray(1, 2, 3), createArray(3, 2))]'), [2, 3]);
      throwsArm("[createObject('a')]", /even number/);
      assert.equal(ev("[contains(createObject('Key', 1), 'key')]"), true);
      assert.equal(ev("[contains(createArray('a'), 'a')]"), true);
      assert.equal(ev("[first(createArray('x', 'y'))]"), 'x');
      assert.equal(ev("[last('xyz')]"), 'z');
      assert.deepEqual(ev('[take(createArray(1, 2, 3), 2)]'), [1, 2]);
      assert.deepEqual(ev('[skip(createArray(1, 2, 3), 2)]'), [3]);
    });

    it('uniqueString matches the values ARM produces', () => {
      // Reference values produced by ARM/Bicep uniqueString().
      assert.equal(armUniqueString('test'), 'rbgf3xv4ufgzg');
      assert.equal(armUniqueString('hello', 'world'), 'a7wkljktk6wne');
      assert.equal(armUniqueString('abc'), 'cgtzqvhu4i23s');
      assert.equal(armUniqueString('foo', 'bar', 'baz'), 'xzi4ioaxtmth4');
      assert.equal(
        ev("[uniqueString('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg')]"),
        'bmg7c6xu4tw46',
      );
      assert.equal(ev("[uniqueString('a', 'b')]"), armUniqueString('a-b'));
    });

    it('guid is a v5 UUID in the ARM namespace over the arguments joined by -', () => {
      const g = ev("[guid('a', 'b', 'c')]") as string;
      assert.equal(g, armGuid('a-b-c'));
      assert.equal(g, 'a98fa280-e03f-5afa-8d8e-92d0a9c201e8');
      assert.match(g, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('base64 round trips', () => {
      assert.equal(ev("[base64('héllo')]"), Buffer.from('héllo').toString('base64'));
      assert.equal(ev("[base64ToString(base64('x y'))]"), 'x y');
      assert.deepEqual(ev('[base64ToJson(base64(\'{"a":1}\'))]'), { a: 1 });
    });

    it('names unsupported and unknown functions', () => {
      const e1 = throwsArm("[reference('x').outputs]", /template function 'reference' is not supported/);
      assert.equal(e1.functionName, 'reference');
      assert.equal(e1.expression, "[reference('x').outputs]");
      throwsArm("[listKeys('x', '2020-01-01')]", /'listKeys' is not supported/);
      const e2 = throwsArm("[frobnicate('x')]", /template function 'frobnicate' is not valid/);
      assert.equal(e2.functionName, 'frobnicate');
    });

    it('wraps function errors with the function name and the expression', () => {
      const e = throwsArm(
        "[toLower(parameters('count'))]",
        /Unable to evaluate template language function 'toLower': .*Integer.*Expression: '\[toLower/,
      );
      assert.equal(e.functionName, 'toLower');
    });

    it('lets embedders add functions', () => {
      const e = new ArmEvaluator({ functions: { copyIndex: () => 4 } });
      assert.equal(e.evaluateString("[concat('n', copyIndex())]"), 'n4');
    });
  });

  describe('evaluateTemplateValue', () => {
    it('walks objects and arrays, evaluating only expression strings, not keys', () => {
      const input = {
        name: "[concat(parameters('factoryName'), '/pl_a')]",
        '[not-a-key-expression]': 'kept',
        properties: {
          activities: [{ name: 'a1', typeProperties: { path: '[[literal]', n: 1, flag: false, none: null } }],
          id: "[variables('factoryId')]",
        },
      };
      const snapshot = JSON.stringify(input);
      const out = evaluateTemplateValue(input, ctx);
      assert.deepEqual(out, {
        name: 'adf-prod/pl_a',
        '[not-a-key-expression]': 'kept',
        properties: {
          activities: [{ name: 'a1', typeProperties: { path: '[literal]', n: 1, flag: false, none: null } }],
          id: 'Microsoft.DataFactory/factories/adf-prod',
        },
      });
      assert.equal(JSON.stringify(input), snapshot, 'input is not mutated');
    });

    it('does not re-evaluate results that look like expressions', () => {
      assert.equal(ev("[concat('[', 'parameters(''x'')', ']')]"), "[parameters('x')]");
    });

    it('caches parsed expressions without sharing state between evaluators', () => {
      const a = parseArmExpression("concat('a')");
      assert.equal(parseArmExpression("concat('a')"), a);
      assert.equal(evaluateTemplateValue("[parameters('p')]", { parameters: { p: 1 } }), 1);
      assert.equal(evaluateTemplateValue("[parameters('p')]", { parameters: { p: 2 } }), 2);
    });
  });

  describe('resolveTemplateParameters', () => {
    const defs = {
      factoryName: { type: 'string' },
      location: { type: 'string', defaultValue: '[resourceGroup().location]' },
      url: { type: 'string', defaultValue: "[concat('https://', parameters('factoryName'), '.example')]" },
      secret: { type: 'secureString' },
      size: { type: 'int', defaultValue: 2, allowedValues: [1, 2, 3] },
      tags: { type: 'object', defaultValue: {} },
    };

    it('applies defaults (including ones that use other parameters) and supplied values', () => {
      const r = resolveTemplateParameters(
        defs,
        { FactoryName: 'f1', secret: 's3cr3t' },
        { resourceGroup: { name: 'rg', location: 'northeurope' } },
      );
      assert.deepEqual(r.missing, []);
      assert.deepEqual(r.unknown, []);
      assert.deepEqual(r.invalid, []);
      assert.deepEqual(r.values, {
        factoryName: 'f1',
        secret: 's3cr3t',
        location: 'northeurope',
        url: 'https://f1.example',
        size: 2,
        tags: {},
      });
      assert.deepEqual(r.secure, ['secret']);
    });

    it('reports missing, unknown and invalid parameters', () => {
      const r = resolveTemplateParameters(
        defs,
        { size: 5, extra: 1, tags: 'x' },
        { resourceGroup: { name: 'rg', location: 'l' } },
      );
      assert.deepEqual(r.missing.sort(), ['factoryName', 'secret']);
      assert.deepEqual(r.unknown, ['extra']);
      const byName = Object.fromEntries(r.invalid.map((i) => [i.name, i.message]));
      assert.match(byName.size, /not part of the allowed value/);
      assert.match(byName.tags, /Expected 'Object'. Actual 'String'/);
      assert.match(byName.url, /template parameter 'factoryName' is not found/);
    });
  });
});
