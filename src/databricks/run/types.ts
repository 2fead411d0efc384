/** Shared result model of a notebook run: what the exit value said and what the run did. */

export type TestStatus = 'passed' | 'failed' | 'skipped' | 'error';

export interface TestCaseResult {
  name: string;
  /** JUnit classname; defaults to the notebook when written. */
  classname?: string;
  status: TestStatus;
  /** Seconds. */
  durationSec?: number;
  /** One-line reason for failed/error/skipped. */
  message?: string;
  /** Longer text (stack trace, diff). */
  details?: string;
}

/** How the exit value was read. */
export type ExitValueKind = 'none' | 'junit' | 'tests' | 'metrics' | 'text';

export interface InterpretedExitValue {
  kind: ExitValueKind;
  tests: TestCaseResult[];
  /** Flat or nested metrics object ({} when none). */
  metrics: Record<string, unknown>;
  /**
   * The object assertions are evaluated against: the parsed JSON exit value, with
   * `metrics` pointing at the metrics object when the value is metrics alone.
   */
  document?: Record<string, unknown>;
  /** The exit value as returned (possibly truncated by Databricks). */
  raw: string;
  /** Things in the exit value that were understood only partly (logged as warnings). */
  warnings: string[];
}

export interface TestCounts {
  total: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
}

export function countTests(tests: readonly TestCaseResult[]): TestCounts {
  const c: TestCounts = { total: tests.length, passed: 0, failed: 0, errors: 0, skipped: 0 };
  for (const t of tests) {
    if (t.status === 'passed') c.passed++;
    else if (t.status === 'failed') c.failed++;
    else if (t.status === 'error') c.errors++;
    else c.skipped++;
  }
  return c;
}
