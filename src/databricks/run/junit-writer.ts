/** Writes JUnit XML that Azure DevOps' JUnit result parser reads (Tests tab). */
import { countTests, type TestCaseResult } from './types';

export interface JUnitSuite {
  name: string;
  /** ISO 8601 start time. */
  timestamp?: string;
  durationSec?: number;
  properties?: Record<string, string>;
  /** Extra output attached to the suite (e.g. the run page link). */
  systemOut?: string;
  tests: TestCaseResult[];
}

export function writeJUnitXml(suites: readonly JUnitSuite[], name = 'Databricks notebook tests'): string {
  const all = suites.flatMap((s) => s.tests);
  const total = countTests(all);
  const time = suites.reduce((sum, s) => sum + (s.durationSec ?? sumDurations(s.tests)), 0);
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(
    `<testsuites name="${attr(name)}" tests="${total.total}" failures="${total.failed}" errors="${total.errors}" skipped="${total.skipped}" time="${seconds(time)}">`,
  );
  suites.forEach((suite, i) => {
    const c = countTests(suite.tests);
    const suiteTime = suite.durationSec ?? sumDurations(suite.tests);
    const ts = suite.timestamp ? ` timestamp="${attr(suite.timestamp)}"` : '';
    lines.push(
      `  <testsuite id="${i}" name="${attr(suite.name)}" tests="${c.total}" failures="${c.failed}" errors="${c.errors}" skipped="${c.skipped}" time="${seconds(suiteTime)}"${ts}>`,
    );
    const props = Object.entries(suite.properties ?? {});
    if (props.length > 0) {
      lines.push('    <properties>');
      for (const [k, v] of props) lines.push(`      <property name="${attr(k)}" value="${attr(v)}"/>`);
      lines.push('    </properties>');
    }
    for (const t of suite.tests) lines.push(...testCase(t, suite.name));
    if (suite.systemOut) lines.push(`    <system-out>${text(suite.systemOut)}</system-out>`);
    lines.push('  </testsuite>');
  });
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}

function testCase(t: TestCaseResult, suiteName: string): string[] {
  const open = `    <testcase name="${attr(t.name)}" classname="${attr(t.classname ?? suiteName)}" time="${seconds(t.durationSec ?? 0)}"`;
  if (t.status === 'passed') return [`${open}/>`];
  const tag = t.status === 'failed' ? 'failure' : t.status === 'error' ? 'error' : 'skipped';
  const message = t.message ? ` message="${attr(t.message)}"` : '';
  const type = t.status === 'skipped' ? '' : ` type="${tag === 'failure' ? 'AssertionError' : 'Error'}"`;
  const body = t.details ?? (t.status === 'skipped' ? '' : (t.message ?? ''));
  const inner = body ? `<${tag}${message}${type}>${text(body)}</${tag}>` : `<${tag}${message}${type}/>`;
  return [`${open}>`, `      ${inner}`, '    </testcase>'];
}

function sumDurations(tests: readonly TestCaseResult[]): number {
  return tests.reduce((s, t) => s + (t.durationSec ?? 0), 0);
}

function seconds(v: number): string {
  return (Math.round(v * 1000) / 1000).toFixed(3);
}

// Characters XML 1.0 cannot carry at all, even escaped.
const INVALID_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(v: string): string {
  return v.replace(INVALID_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(v: string): string {
  return text(v)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}
