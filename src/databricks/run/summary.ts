/** The markdown summary uploaded to the pipeline run (Extensions tab / summary page). */
import { formatValue } from './assertions';
import { formatDuration } from './poll-schedule';
import type { ReportOptions, RunReport } from './report';
import type { RunOutcome } from './runner';

const MAX_METRIC_ROWS = 50;

export function renderSummary(report: RunReport, outcome: RunOutcome, opts: ReportOptions): string {
  const ok = report.failures.length === 0;
  const out: string[] = [];
  out.push(`### Databricks notebook run: ${text(opts.runName)}`);
  out.push('');
  const runRef =
    outcome.runId !== undefined
      ? outcome.runPageUrl
        ? link(`run ${outcome.runId}`, outcome.runPageUrl)
        : `run ${outcome.runId}`
      : 'no run';
  const duration = outcome.durationMs !== undefined ? ` in ${formatDuration(outcome.durationMs)}` : '';
  out.push(
    `${ok ? '✅' : '❌'} Databricks ${runRef}: **${text(report.resultState || 'not started')}**${duration}. ` +
      `Tests: ${report.testsPassed} passed, ${report.testsFailed} failed.`,
  );
  out.push('');
  out.push('| Notebook | State | Duration | Passed | Failed | Skipped |');
  out.push('|---|---|---|---:|---:|---:|');
  for (const n of report.notebooks) {
    const o = n.outcome;
    const state =
      [o.lifeCycleState, o.resultState].filter(Boolean).join(' ') ||
      (outcome.cancelled ? 'CANCELED' : 'not started');
    const name = o.runPageUrl ? link(o.notebookPath, o.runPageUrl) : cell(o.notebookPath);
    out.push(
      `| ${name} | ${n.succeeded && n.counts.failed + n.counts.errors === 0 ? '✅' : '❌'} ${cell(state)} | ${o.durationMs !== undefined ? formatDuration(o.durationMs) : '–'} | ${n.counts.passed} | ${n.counts.failed + n.counts.errors} | ${n.counts.skipped} |`,
    );
  }

  const failedTests = report.notebooks.flatMap((n) =>
    n.exit.tests.filter((t) => t.status === 'failed' || t.status === 'error').map((t) => ({ n, t })),
  );
  if (failedTests.length > 0) {
    out.push('', '#### Failed tests', '');
    for (const { n, t } of failedTests.slice(0, 50)) {
      out.push(
        `- ❌ \`${code(t.name)}\` (${text(n.outcome.notebookPath)})${t.message ? `: ${text(oneLine(t.message))}` : ''}`,
      );
    }
    if (failedTests.length > 50) out.push(`- … and ${failedTests.length - 50} more`);
  }

  const metricRows: string[] = [];
  const multi = report.notebooks.length > 1;
  for (const n of report.notebooks) {
    for (const [k, v] of flatten(n.exit.metrics)) {
      metricRows.push(
        `| ${multi ? `${cell(n.outcome.taskKey)} | ` : ''}${cell(k)} | ${cell(formatValue(v))} |`,
      );
    }
  }
  if (metricRows.length > 0) {
    out.push('', '#### Metrics', '');
    out.push(multi ? '| Notebook | Metric | Value |' : '| Metric | Value |');
    out.push(multi ? '|---|---|---|' : '|---|---|');
    out.push(...metricRows.slice(0, MAX_METRIC_ROWS));
    if (metricRows.length > MAX_METRIC_ROWS)
      out.push('', `… and ${metricRows.length - MAX_METRIC_ROWS} more metrics.`);
  }

  if (report.assertions.length > 0) {
    out.push('', '#### Assertions', '');
    for (const a of report.assertions) {
      const expr = a.assertion.source.replace(/^\[[^\]]*\]\s*/, '');
      const where = a.notebook ? `[${text(a.notebook)}] ` : '';
      const icon = a.passed ? '✅' : a.skipped ? '⚠️' : '❌';
      out.push(`- ${icon} ${where}\`${code(expr)}\`: ${text(a.detail)}`);
    }
  }

  if (!ok) {
    out.push('', '#### Why the task failed', '');
    for (const f of report.failures) {
      const [first, ...rest] = f.split('\n');
      out.push(`- ${text(first)}`);
      if (rest.length > 0) {
        out.push('', '  ```', ...rest.map((l) => `  ${l.replace(/```/g, '`\u200b``')}`), '  ```', '');
      }
    }
  }
  if (report.warnings.length > 0) {
    out.push('', '#### Warnings', '');
    for (const w of report.warnings) out.push(`- ${text(w)}`);
  }
  return out.join('\n') + '\n';
}

/** Nested metrics as dotted keys, arrays kept whole. */
function flatten(
  obj: Record<string, unknown>,
  prefix = '',
  out: [string, unknown][] = [],
): [string, unknown][] {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out.push([key, v]);
  }
  return out;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Text safe in markdown prose: no HTML, no accidental emphasis or links. */
function text(s: string): string {
  return s.replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;')).replace(/([\\`*_[\]])/g, '\\$1');
}

function cell(s: string): string {
  return text(oneLine(s)).replace(/\|/g, '\\|');
}

function code(s: string): string {
  return oneLine(s).replace(/`/g, "'");
}

function link(label: string, url: string): string {
  return /^https?:\/\//i.test(url)
    ? `[${cell(label)}](${url.replace(/[()\s]/g, encodeURIComponent)})`
    : cell(label);
}
