/**
 * Reads a notebook's exit value (dbutils.notebook.exit) as one of the documented
 * conventions (docs/exit-value-convention.md): JUnit XML; JSON with tests and
 * metrics; JSON metrics alone; or plain text.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { InterpretedExitValue, TestCaseResult, TestStatus } from './types';

const STATUS_SYNONYMS: Record<string, TestStatus> = {
  passed: 'passed',
  pass: 'passed',
  success: 'passed',
  succeeded: 'passed',
  ok: 'passed',
  failed: 'failed',
  fail: 'failed',
  failure: 'failed',
  skipped: 'skipped',
  skip: 'skipped',
  ignored: 'skipped',
  error: 'error',
  errored: 'error',
};

export function interpretExitValue(
  raw: string | undefined | null,
  opts: { truncated?: boolean } = {},
): InterpretedExitValue {
  const text = raw ?? '';
  const trimmed = text.trim();
  const base: InterpretedExitValue = { kind: 'none', tests: [], metrics: {}, raw: text, warnings: [] };
  if (trimmed === '') return base;
  if (opts.truncated) {
    base.warnings.push(
      'The exit value was truncated by Databricks (limit 5 MB); structured results may be lost.',
    );
  }
  if (trimmed.startsWith('<')) return interpretXml(trimmed, base);
  if (trimmed.startsWith('{')) return interpretJson(trimmed, base);
  return { ...base, kind: 'text' };
}

function interpretJson(trimmed: string, base: InterpretedExitValue): InterpretedExitValue {
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (e) {
    base.warnings.push(
      `The exit value starts like JSON but does not parse (${(e as Error).message}); read as text.`,
    );
    return { ...base, kind: 'text' };
  }
  if (!isObject(value)) return { ...base, kind: 'text' };

  if ('tests' in value) {
    const tests: TestCaseResult[] = [];
    if (Array.isArray(value.tests)) {
      value.tests.forEach((t, i) => tests.push(readJsonTest(t, i, base.warnings)));
    } else {
      base.warnings.push('"tests" in the exit value is not an array; no tests were read.');
    }
    const metrics = readMetrics(value.metrics, base.warnings);
    return { ...base, kind: 'tests', tests, metrics, document: value };
  }
  if ('metrics' in value) {
    const metrics = readMetrics(value.metrics, base.warnings);
    return { ...base, kind: 'metrics', metrics, document: value };
  }
  // Metrics alone: the whole object is the metrics, reachable as `metrics.x` and `x`.
  return { ...base, kind: 'metrics', metrics: value, document: { ...value, metrics: value } };
}

function readMetrics(value: unknown, warnings: string[]): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (isObject(value)) return value;
  warnings.push('"metrics" in the exit value is not an object; ignored.');
  return {};
}

function readJsonTest(t: unknown, index: number, warnings: string[]): TestCaseResult {
  if (!isObject(t)) {
    warnings.push(`tests[${index}] is not an object; counted as an error.`);
    return { name: `tests[${index}]`, status: 'error', message: `Not a test object: ${JSON.stringify(t)}` };
  }
  const name = typeof t.name === 'string' && t.name.trim() !== '' ? t.name : `tests[${index}]`;
  const result: TestCaseResult = { name, status: 'passed' };
  const rawStatus = typeof t.status === 'string' ? t.status.trim().toLowerCase() : undefined;
  const status = rawStatus ? STATUS_SYNONYMS[rawStatus] : undefined;
  if (status) {
    result.status = status;
  } else {
    result.status = 'error';
    const what =
      t.status === undefined ? 'has no status' : `has an unknown status ${JSON.stringify(t.status)}`;
    warnings.push(`Test "${name}" ${what} (expected passed, failed, skipped or error); counted as an error.`);
    result.message = `Test ${what}.`;
  }
  const duration = typeof t.duration === 'string' ? Number(t.duration) : t.duration;
  if (typeof duration === 'number' && Number.isFinite(duration) && duration >= 0)
    result.durationSec = duration;
  if (t.message !== undefined && t.message !== null) {
    result.message = typeof t.message === 'string' ? t.message : JSON.stringify(t.message);
  }
  if (typeof t.details === 'string') result.details = t.details;
  if (typeof t.classname === 'string') result.classname = t.classname;
  return result;
}

// ---- JUnit XML ------------------------------------------------------------------------

type XmlNode = Record<string, unknown>;

const ARRAY_TAGS = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);

function interpretXml(trimmed: string, base: InterpretedExitValue): InterpretedExitValue {
  const valid = XMLValidator.validate(trimmed);
  if (valid !== true) {
    base.warnings.push(
      `The exit value starts like XML but is not well-formed (${valid.err.msg} at line ${valid.err.line}); read as text.`,
    );
    return { ...base, kind: 'text' };
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    textNodeName: '#text',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    isArray: (name) => ARRAY_TAGS.has(name),
  });
  const doc = parser.parse(trimmed) as XmlNode;
  const tests: TestCaseResult[] = [];
  let found = false;
  if (isObject(doc.testsuites)) {
    found = true;
    collectSuites(doc.testsuites, tests);
  }
  if (Array.isArray(doc.testsuite)) {
    found = true;
    for (const s of doc.testsuite) if (isObject(s)) collectSuite(s, tests);
  }
  if (!found) {
    base.warnings.push('The exit value is XML but has no <testsuites> or <testsuite> root; read as text.');
    return { ...base, kind: 'text' };
  }
  return { ...base, kind: 'junit', tests };
}

function collectSuites(node: XmlNode, out: TestCaseResult[]): void {
  const suites = node.testsuite;
  if (Array.isArray(suites)) for (const s of suites) if (isObject(s)) collectSuite(s, out);
}

function collectSuite(suite: XmlNode, out: TestCaseResult[]): void {
  const suiteName = attr(suite, 'name');
  const cases = suite.testcase;
  if (Array.isArray(cases)) {
    for (const c of cases) if (isObject(c)) out.push(readCase(c, suiteName));
  }
  // JUnit allows nested suites.
  collectSuites(suite, out);
}

function readCase(c: XmlNode, suiteName: string | undefined): TestCaseResult {
  const result: TestCaseResult = {
    name: attr(c, 'name') ?? '(unnamed)',
    classname: attr(c, 'classname') ?? suiteName,
    status: 'passed',
  };
  const time = Number(attr(c, 'time'));
  if (attr(c, 'time') !== undefined && Number.isFinite(time) && time >= 0) result.durationSec = time;
  const outcome = first(c.failure) ?? first(c.error) ?? first(c.skipped);
  if (outcome) {
    result.status = first(c.failure) ? 'failed' : first(c.error) ? 'error' : 'skipped';
    const { message, text } = outcome;
    if (message) result.message = message;
    if (text) {
      if (!result.message) result.message = text.split('\n')[0];
      result.details = text;
    }
  }
  return result;
}

/** The first <failure>/<error>/<skipped> element, normalised; undefined if absent. */
function first(v: unknown): { message?: string; text?: string } | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const el = v[0] as unknown;
  if (typeof el === 'string') return { text: el.trim() || undefined };
  if (isObject(el)) {
    const text = typeof el['#text'] === 'string' ? el['#text'].trim() : undefined;
    return { message: attr(el, 'message'), text: text || undefined };
  }
  return {};
}

function attr(node: XmlNode, name: string): string | undefined {
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
