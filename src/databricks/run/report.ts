/**
 * Turns a finished (or cancelled) run into what the pipeline shows: test cases
 * per notebook, assertion results, JUnit XML, a markdown summary, output
 * variable values, and the reasons the task fails.
 */
import { redact } from '../../common/secrets';
import { evaluateAssertions, type Assertion, type AssertionResult, type AssertionTarget } from './assertions';
import { interpretExitValue } from './exit-value';
import { writeJUnitXml, type JUnitSuite } from './junit-writer';
import { formatDuration } from './poll-schedule';
import type { NotebookRunOutcome, RunOutcome } from './runner';
import { renderSummary } from './summary';
import { countTests, type InterpretedExitValue, type TestCaseResult, type TestCounts } from './types';

export interface NotebookReport {
  outcome: NotebookRunOutcome;
  exit: InterpretedExitValue;
  /** Test cases shown for this notebook: its own tests, or one for the run itself. */
  tests: TestCaseResult[];
  counts: TestCounts;
  succeeded: boolean;
}

export interface RunReport {
  notebooks: NotebookReport[];
  assertions: AssertionResult[];
  testsPassed: number;
  /** Failed tests and errors, including failed assertions. */
  testsFailed: number;
  resultState: string;
  /** One entry per reason the task fails; empty when it succeeds. */
  failures: string[];
  warnings: string[];
  junitXml: string;
  summaryMarkdown: string;
  /** Value for the notebookOutput variable. */
  notebookOutput: string;
}

export interface ReportOptions {
  runName: string;
  testRunTitle?: string;
  timeoutMs: number;
  /** Maximum length of notebookOutput (Windows limits environment variables to 32767 characters). */
  maxOutputChars?: number;
  /** Error trace lines kept in the failure message (the full trace goes to the log). */
  traceLines?: number;
}

const SUITE_ASSERTIONS = 'Assertions';

export function buildRunReport(
  outcome: RunOutcome,
  assertions: readonly Assertion[],
  opts: ReportOptions,
): RunReport {
  const warnings: string[] = [];
  const failures: string[] = [];
  const traceLines = opts.traceLines ?? 25;

  const notebooks = outcome.notebooks.map((nb): NotebookReport => {
    const exit = interpretExitValue(nb.result, { truncated: nb.truncated });
    for (const w of exit.warnings) warnings.push(`${nb.notebookPath}: ${w}`);
    // A finished run's unreadable output is a failure below; after a cancel it is only worth a note.
    if (nb.outputError && (outcome.cancelled || outcome.timedOut))
      warnings.push(`${nb.notebookPath}: could not read the run output: ${nb.outputError}`);
    const succeeded = nb.resultState === 'SUCCESS';
    const tests = [...exit.tests];
    const runCase = notebookRunCase(nb, outcome, opts.timeoutMs);
    // Without tests of its own, the notebook run is the test; a failed run is always shown.
    if (tests.length === 0 || !succeeded) tests.push(runCase);
    return { outcome: nb, exit, tests, counts: countTests(tests), succeeded };
  });

  // ---- why the task fails ----
  if (outcome.timedOut) {
    failures.push(
      `The run did not finish within the timeout of ${formatDuration(opts.timeoutMs)} (timeoutMinutes) and was cancelled${outcome.cancelConfirmed ? '' : ' (cancellation not yet confirmed)'}.`,
    );
  } else if (outcome.cancelled) {
    failures.push(
      outcome.runId !== undefined
        ? `The pipeline was cancelled; Databricks run ${outcome.runId} was cancelled with it.`
        : 'The pipeline was cancelled before a run was submitted.',
    );
  } else {
    const failed = notebooks.filter((n) => !n.succeeded);
    for (const n of failed) failures.push(describeNotebookFailure(n.outcome, traceLines));
    // The run did its work but the task cannot tell what it said: that is the cause, not the assertions.
    for (const n of notebooks.filter((x) => x.succeeded && x.outcome.outputError))
      failures.push(describeUnreadableOutput(n.outcome, assertions.length > 0));
    // The run-level message only repeats a task's ("Task x failed with message ..."); say it when no task explains it.
    if (outcome.resultState !== 'SUCCESS' && failed.length === 0) {
      const head = `Databricks run ${outcome.runId} ended ${[outcome.lifeCycleState, outcome.resultState].filter(Boolean).join(' ')}`;
      failures.push(outcome.stateMessage ? `${head}: ${outcome.stateMessage}` : `${head}.`);
    }
  }
  for (const n of notebooks) {
    for (const t of n.exit.tests) {
      if (t.status === 'failed' || t.status === 'error') {
        failures.push(
          `Test ${t.name} in ${n.outcome.notebookPath} ${t.status === 'failed' ? 'failed' : 'errored'}${t.message ? `: ${t.message}` : '.'}`,
        );
      }
    }
  }

  // ---- assertions (only meaningful when the notebooks produced output) ----
  let assertionResults: AssertionResult[] = [];
  if (assertions.length > 0) {
    if (outcome.cancelled || outcome.timedOut) {
      warnings.push('Assertions were not evaluated because the run did not finish.');
    } else {
      const targets: AssertionTarget[] = notebooks.map((n) => ({
        names: [n.outcome.taskKey, n.outcome.notebookPath, baseName(n.outcome.notebookPath)],
        label: baseName(n.outcome.notebookPath),
        document: n.exit.document,
        unreadable: n.outcome.outputError !== undefined,
      }));
      assertionResults = evaluateAssertions(assertions, targets);
      for (const r of assertionResults)
        if (!r.passed && !r.skipped) failures.push(`Assertion does not hold: ${r.message}`);
    }
  }

  // ---- JUnit ----
  const suites: JUnitSuite[] = notebooks.map((n) => ({
    name: n.outcome.notebookPath,
    timestamp: n.outcome.startTime ? new Date(n.outcome.startTime).toISOString() : undefined,
    durationSec: n.outcome.durationMs !== undefined ? n.outcome.durationMs / 1000 : undefined,
    properties: compact({
      runId: outcome.runId?.toString(),
      taskRunId: n.outcome.taskRunId?.toString(),
      resultState: n.outcome.resultState,
      runPageUrl: n.outcome.runPageUrl ?? outcome.runPageUrl,
    }),
    systemOut: n.outcome.runPageUrl ?? outcome.runPageUrl,
    tests: n.tests,
  }));
  if (assertionResults.length > 0) {
    suites.push({
      name: SUITE_ASSERTIONS,
      tests: assertionResults.map((r) => ({
        name: r.notebook
          ? `[${r.notebook}] ${r.assertion.source.replace(/^\[[^\]]*\]\s*/, '')}`
          : r.assertion.source,
        classname: SUITE_ASSERTIONS,
        status: r.passed ? 'passed' : r.skipped ? 'skipped' : 'failed',
        message: r.passed ? undefined : r.message,
      })),
    });
  }
  const all = suites.flatMap((s) => s.tests);
  const counts = countTests(all);
  const junitXml = writeJUnitXml(suites, opts.testRunTitle || opts.runName);

  const resultState = outcome.timedOut
    ? 'TIMEDOUT'
    : outcome.cancelled
      ? 'CANCELED'
      : (outcome.resultState ?? outcome.lifeCycleState ?? '');

  const report: RunReport = {
    notebooks,
    assertions: assertionResults,
    testsPassed: counts.passed,
    testsFailed: counts.failed + counts.errors,
    resultState,
    failures,
    warnings,
    junitXml,
    summaryMarkdown: '',
    notebookOutput: notebookOutputValue(notebooks, opts.maxOutputChars ?? 16_000, warnings),
  };
  report.summaryMarkdown = renderSummary(report, outcome, opts);
  return report;
}

function notebookRunCase(nb: NotebookRunOutcome, outcome: RunOutcome, timeoutMs: number): TestCaseResult {
  const name = `${baseName(nb.notebookPath)} run`;
  const base: TestCaseResult = {
    name,
    classname: nb.notebookPath,
    status: 'passed',
    durationSec: nb.durationMs !== undefined ? nb.durationMs / 1000 : undefined,
  };
  if (nb.resultState === 'SUCCESS') {
    if (!nb.outputError) return base;
    return {
      ...base,
      status: 'error',
      message: `The run succeeded, but its output could not be read: ${nb.outputError}`,
    };
  }
  if (outcome.timedOut) {
    return {
      ...base,
      status: 'error',
      message: `Timed out after ${formatDuration(timeoutMs)}; the run was cancelled.`,
    };
  }
  if (outcome.cancelled) return { ...base, status: 'error', message: 'Cancelled with the pipeline.' };
  const state = [nb.lifeCycleState, nb.resultState].filter(Boolean).join(' ') || 'did not run';
  const message = nb.error ?? nb.stateMessage ?? state;
  const details = [`State: ${state}`, nb.stateMessage, nb.error, nb.errorTrace].filter(Boolean).join('\n\n');
  return { ...base, status: nb.resultState === 'CANCELED' ? 'error' : 'failed', message, details };
}

function describeNotebookFailure(nb: NotebookRunOutcome, traceLines: number): string {
  const state = [nb.lifeCycleState, nb.resultState].filter(Boolean).join(' ') || 'did not run';
  const lines = [`Notebook ${nb.notebookPath} ${state}${nb.stateMessage ? `: ${nb.stateMessage}` : ''}`];
  if (nb.outputError) lines.push(`Its error and trace could not be read: ${nb.outputError}`);
  if (nb.error) lines.push(`Error: ${nb.error}`);
  if (nb.errorTrace) {
    const trace = nb.errorTrace.replace(/\r\n/g, '\n').trimEnd().split('\n');
    // The end of a Python trace says what went wrong; keep that part.
    const kept = trace.length > traceLines ? ['…', ...trace.slice(-traceLines)] : trace;
    lines.push('Trace:', ...kept.map((l) => `  ${l}`));
  }
  if (nb.runPageUrl) lines.push(`See ${nb.runPageUrl}`);
  return lines.join('\n');
}

function describeUnreadableOutput(nb: NotebookRunOutcome, hasAssertions: boolean): string {
  const cause = (nb.outputError ?? '').trim();
  const lines = [
    `Notebook ${nb.notebookPath} succeeded, but its output could not be read: ${/[.!?]$/.test(cause) ? cause : `${cause}.`} ` +
      `Its exit value (tests, metrics, notebookOutput) is unknown${hasAssertions ? ' and assertions on it were not evaluated' : ''}.`,
  ];
  if (nb.runPageUrl) lines.push(`See ${nb.runPageUrl}`);
  return lines.join('\n');
}

function notebookOutputValue(notebooks: NotebookReport[], max: number, warnings: string[]): string {
  let value: string;
  if (notebooks.length === 1) {
    value = notebooks[0].outcome.result ?? '';
  } else {
    const map: Record<string, string | null> = {};
    for (const n of notebooks) map[n.outcome.taskKey] = n.outcome.result ?? null;
    value = JSON.stringify(map);
  }
  // Masked before the cut: a secret across it would otherwise keep its start.
  value = redact(value);
  if (value.length > max) {
    warnings.push(
      `notebookOutput holds only the first ${max} of ${value.length} characters of the exit value; the full value is in the run page.`,
    );
    value = value.slice(0, max);
  }
  return value;
}

export function baseName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

function compact(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  );
}
