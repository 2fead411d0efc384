/**
 * What the user sees: the grouped plan in the log, a one-line total, and the
 * markdown summary for the run page. Never includes content or variable values.
 */
import { formatDuration } from '../../common/format';
import type { Logger } from '../../common/logger';
import { describeKind } from '../notebook-format';
import { workspaceLink } from './paths';
import { planCounts, type Plan } from './planner';
import type { Failure } from './types';

export { formatDuration };

export function planHeadline(plan: Plan): string {
  const c = planCounts(plan);
  const parts = [`${c.create} to create`, `${c.update} to update`, `${c.unchanged} unchanged`];
  if (plan.mode === 'mirror') parts.push(`${c.delete} to delete`);
  if (c.mkdirs > 0) parts.push(`${c.mkdirs} folder(s) to create`);
  return parts.join(', ');
}

/** The plan as a log group: one line per action; unchanged objects only in debug. */
export function logPlan(plan: Plan, logger: Logger, dryRun: boolean): void {
  logger.startGroup(
    `${dryRun ? 'Dry run: plan' : 'Plan'} for ${plan.targetPath} (${plan.mode}): ${planHeadline(plan)}`,
  );
  for (const dir of plan.mkdirs) logger.info(`  mkdir      ${dir}`);
  for (const p of plan.imports) {
    logger.info(
      `  ${p.action.padEnd(10)} ${p.path}  [${describeKind(p.item)}, ${p.reason}] from ${p.item.source}`,
    );
  }
  for (const d of plan.deletes) {
    logger.info(
      `  delete     ${d.path}  [${d.type.toLowerCase()}${d.recursive ? ', with everything in it' : ''}]`,
    );
  }
  for (const u of plan.unchanged) logger.debug(`  unchanged  ${u.rel}`);
  if (plan.unchanged.length > 0) logger.info(`  unchanged  ${plan.unchanged.length} object(s)`);
  logger.endGroup();
  for (const g of plan.skippedGitFolders) {
    logger.warn(
      `Skipping Git folder ${plan.targetPath}/${g}: Repos inside targetPath are never changed or deleted.`,
    );
  }
  for (const d of plan.drift) {
    logger.warn(`Drift: ${d.path} was ${d.what}; ${dryRun ? 'it would be' : 'it will be'} overwritten.`);
  }
}

export interface SummaryInput {
  plan: Plan;
  workspaceUrl: string;
  dryRun: boolean;
  durationMs: number;
  requests?: number;
  /** Paths actually changed (after apply); for a dry run, the plan's. */
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: number;
  failures: Failure[];
  deletesWithheld: boolean;
  /** Updated DBC archives not swapped in because something failed (the old ones were kept). */
  dbcUpdatesWithheld?: string[];
  source: string;
}

const MAX_LISTED = 100;

export function summaryMarkdown(s: SummaryInput): string {
  const lines: string[] = [];
  const verb = s.dryRun ? 'Dry run: deploy of' : 'Deployed';
  lines.push(`### ${verb} notebooks to \`${s.plan.targetPath}\``, '');
  const status =
    s.failures.length > 0
      ? `**Failed**: ${s.failures.length} operation(s) failed.`
      : s.dryRun
        ? 'Nothing was changed (dry run).'
        : 'Succeeded.';
  lines.push(status, '');
  lines.push(`| ${s.dryRun ? 'Would be' : 'Result'} | Count |`, '|---|---:|');
  lines.push(`| Created | ${s.created.length} |`);
  lines.push(`| Updated | ${s.updated.length} |`);
  lines.push(`| Unchanged | ${s.unchanged} |`);
  if (s.plan.mode === 'mirror') lines.push(`| Deleted | ${s.deleted.length} |`);
  if (s.plan.drift.length > 0) lines.push(`| Drift found | ${s.plan.drift.length} |`);
  lines.push('');
  const req = s.requests !== undefined ? `, ${s.requests} request(s)` : '';
  lines.push(
    `Source: ${md(s.source)}. Workspace: ${md(s.workspaceUrl)}. Mode: ${s.plan.mode}. Time taken: ${formatDuration(s.durationMs)}${req}.`,
    '',
  );

  const changed = [
    ...s.created.map((p) => ({ p, what: 'created' })),
    ...s.updated.map((p) => ({ p, what: 'updated' })),
  ].sort((a, b) => (a.p < b.p ? -1 : 1));
  if (changed.length > 0) {
    lines.push(`#### ${s.dryRun ? 'Would change' : 'Changed'}`, '');
    for (const c of changed.slice(0, MAX_LISTED))
      lines.push(`- [${md(c.p)}](${workspaceLink(s.workspaceUrl, c.p)}) (${c.what})`);
    if (changed.length > MAX_LISTED) lines.push(`- … and ${changed.length - MAX_LISTED} more`);
    lines.push('');
  }
  if (s.plan.drift.length > 0) {
    lines.push('#### Drift (changed in the workspace since the last deploy)', '');
    for (const d of s.plan.drift.slice(0, MAX_LISTED)) {
      lines.push(`- [${md(d.path)}](${workspaceLink(s.workspaceUrl, d.path)}): ${md(d.what)}`);
    }
    if (s.plan.drift.length > MAX_LISTED) lines.push(`- … and ${s.plan.drift.length - MAX_LISTED} more`);
    lines.push('');
  }
  if (s.deleted.length > 0) {
    lines.push(`#### ${s.dryRun ? 'Would delete' : 'Deleted'}`, '');
    for (const p of s.deleted.slice(0, MAX_LISTED)) lines.push(`- ${md(p)}`);
    if (s.deleted.length > MAX_LISTED) lines.push(`- … and ${s.deleted.length - MAX_LISTED} more`);
    lines.push('');
  }
  if (s.deletesWithheld)
    lines.push('Mirror deletes were **not** run because something failed; nothing was deleted.', '');
  if (s.dbcUpdatesWithheld?.length)
    lines.push(
      `DBC archives **not** replaced because something failed (the previous versions were kept): ${s.dbcUpdatesWithheld.map((p) => md(p)).join(', ')}`,
      '',
    );
  if (s.failures.length > 0) {
    lines.push('#### Failures', '');
    for (const f of s.failures.slice(0, MAX_LISTED))
      lines.push(`- ${md(f.path)} (${f.operation}): ${md(f.message)}`);
    if (s.failures.length > MAX_LISTED) lines.push(`- … and ${s.failures.length - MAX_LISTED} more`);
    lines.push('');
  }
  if (s.plan.skippedGitFolders.length > 0) {
    lines.push(`Git folders left alone: ${s.plan.skippedGitFolders.map((g) => md(g)).join(', ')}`, '');
  }
  return lines.join('\n');
}

/** Escapes characters that would turn a path or message into markdown. */
function md(text: string): string {
  return text.replace(/([\\`*_[\]()<>|#])/g, '\\$1');
}
