/**
 * What the user sees: the plan in the log (with property diffs for updates)
 * and the markdown run summary (stopped, created, updated, unchanged, deleted,
 * restarted, how long each trigger was off, time taken). Never secure values:
 * the plan's diffs come from normalised definitions (SecureStrings masked) and
 * mask every value holding a secure parameter's value, before formatting.
 */
import { formatDuration } from '../../common/format';
import type { Logger } from '../../common/logger';
import { formatDiff } from './compare';
import { label } from './direct';
import { planCounts, type Plan, type PlanItem } from './plan';

export { formatDuration };

export function planHeadline(plan: Plan): string {
  const c = planCounts(plan);
  const parts = [
    `${c.create} to create`,
    `${c.update} to update`,
    `${c.unchanged} unchanged`,
    `${c.delete} to delete`,
  ];
  if (c.stop > 0) parts.push(`${c.stop} trigger(s) to stop`);
  if (c.start > 0) parts.push(`${c.start} trigger(s) to start`);
  return parts.join(', ');
}

/** The plan as a log group; with showDiffs every update lists its property differences. */
export function logPlan(plan: Plan, logger: Logger, opts: { title: string; showDiffs: boolean }): void {
  logger.startGroup(`${opts.title}: ${planHeadline(plan)}`);
  if (!plan.factoryExists) logger.info(`  create     factory ${plan.factoryName}`);
  if (plan.factoryDiff.length > 0) {
    logger.info(`  update     factory ${plan.factoryName}`);
    for (const l of formatDiff(plan.factoryDiff)) logger.info(`               ${l}`);
  }
  for (const t of plan.triggers.stop) logger.info(`  stop       trigger ${t}`);
  for (const level of plan.levels) {
    for (const item of level) {
      logger.info(`  ${item.action.padEnd(10)} ${label(item)}${item.reason ? ` (${item.reason})` : ''}`);
      if (opts.showDiffs && item.action === 'update')
        for (const l of formatDiff(item.diff)) logger.info(`               ${l}`);
    }
  }
  for (const level of plan.deleteLevels) for (const item of level) logger.info(`  delete     ${label(item)}`);
  for (const t of plan.triggers.start) logger.info(`  start      trigger ${t}`);
  const unchanged = plan.items.filter((i) => i.action === 'unchanged');
  for (const u of unchanged) logger.debug(`  unchanged  ${label(u)}`);
  if (unchanged.length > 0) logger.info(`  unchanged  ${unchanged.length} object(s)`);
  logger.endGroup();
  for (const k of plan.kept) {
    logger.warn(
      `Not deleting ${k.type}/${k.name}: it is not in the template but ${k.referencedBy} still references it.`,
    );
  }
  for (const m of plan.missingReferences) {
    logger.warn(`${m.from} references ${m.to}, which is neither in the template nor in the factory.`);
  }
}

export interface SummaryInput {
  plan?: Plan;
  factoryName: string;
  resourceGroupName: string;
  method: 'arm' | 'direct';
  mode: string;
  dryRun: boolean;
  deploymentName: string;
  created: PlanItem[];
  updated: PlanItem[];
  deleted: PlanItem[];
  stoppedTriggers: { name: string; ms: number; restarted: boolean }[];
  startedTriggers: string[];
  failedStarts: { name: string; message: string }[];
  failures: { target: string; operation: string; code?: string; message: string }[];
  backupFile?: string;
  durationMs: number;
  requests?: number;
  outcome: 'succeeded' | 'failed' | 'cancelled' | 'planned' | 'validated';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function nameList(items: PlanItem[], max = 50): string {
  const shown = items.slice(0, max).map((i) => `\`${mdEscape(label(i))}\``);
  if (items.length > max) shown.push(`… and ${items.length - max} more`);
  return shown.join(', ');
}

export function summaryMarkdown(s: SummaryInput): string {
  const lines: string[] = [];
  const verb =
    s.outcome === 'planned'
      ? 'Dry run (nothing changed)'
      : s.outcome === 'validated'
        ? `${s.mode} (nothing changed)`
        : s.outcome === 'failed'
          ? 'Deployment failed'
          : s.outcome === 'cancelled'
            ? 'Deployment cancelled'
            : 'Deployed';
  lines.push(`### ${verb}: factory \`${s.factoryName}\``);
  lines.push('');
  lines.push(
    `Resource group \`${s.resourceGroupName}\`, method \`${s.method}\`, mode \`${s.mode}\`, deployment \`${s.deploymentName}\`, ${formatDuration(s.durationMs)}${s.requests !== undefined ? `, ${s.requests} requests` : ''}.`,
  );
  lines.push('');
  const planned = s.outcome === 'planned' || s.outcome === 'validated';
  const counts = s.plan ? planCounts(s.plan) : undefined;
  lines.push('| | Count |');
  lines.push('|---|---|');
  const row = (k: string, v: number | undefined) => {
    if (v !== undefined) lines.push(`| ${k} | ${v} |`);
  };
  if (planned && counts) {
    row('Triggers to stop', counts.stop);
    row('To create', counts.create);
    row('To update', counts.update);
    row('Unchanged', counts.unchanged);
    row('To delete', counts.delete);
    row('Triggers to start', counts.start);
  } else {
    row('Triggers stopped', s.stoppedTriggers.length);
    row('Created', s.created.length);
    row('Updated', s.updated.length);
    row('Unchanged', counts?.unchanged);
    row('Deleted', s.deleted.length);
    row('Triggers started', s.startedTriggers.length);
  }
  lines.push('');
  if (planned && s.plan) {
    const c = s.plan.items.filter((i) => i.action === 'create');
    const u = s.plan.items.filter((i) => i.action === 'update');
    if (c.length) lines.push(`**Create:** ${nameList(c)}`, '');
    if (u.length) lines.push(`**Update:** ${nameList(u)}`, '');
    if (s.plan.deletes.length) lines.push(`**Delete:** ${nameList(s.plan.deletes)}`, '');
    if (s.plan.triggers.stop.length)
      lines.push(`**Stop:** ${s.plan.triggers.stop.map((t) => `\`${mdEscape(t)}\``).join(', ')}`, '');
  } else {
    if (s.created.length) lines.push(`**Created:** ${nameList(s.created)}`, '');
    if (s.updated.length) lines.push(`**Updated:** ${nameList(s.updated)}`, '');
    if (s.deleted.length) lines.push(`**Deleted:** ${nameList(s.deleted)}`, '');
  }
  if (s.stoppedTriggers.length > 0) {
    lines.push('| Trigger | Stopped for | Restarted |');
    lines.push('|---|---|---|');
    for (const t of s.stoppedTriggers) {
      lines.push(`| \`${mdEscape(t.name)}\` | ${formatDuration(t.ms)} | ${t.restarted ? 'yes' : 'no'} |`);
    }
    lines.push('');
  }
  if (s.startedTriggers.length > 0) {
    lines.push(`**Triggers started:** ${s.startedTriggers.map((t) => `\`${mdEscape(t)}\``).join(', ')}`, '');
  }
  if (s.failedStarts.length > 0) {
    lines.push('**Triggers that could not be started (start them by hand):**', '');
    for (const f of s.failedStarts) lines.push(`- \`${mdEscape(f.name)}\`: ${mdEscape(f.message)}`);
    lines.push('');
  }
  if (s.failures.length > 0) {
    lines.push('| Failed | Operation | Error |');
    lines.push('|---|---|---|');
    for (const f of s.failures.slice(0, 50)) {
      lines.push(
        `| ${mdEscape(f.target)} | ${f.operation} | ${mdEscape(`${f.code ? `${f.code}: ` : ''}${f.message}`)} |`,
      );
    }
    lines.push('');
  }
  if (s.backupFile) {
    lines.push(
      `Live definitions of the objects changed or deleted were saved before the change (\`${mdEscape(s.backupFile)}\`); redeploy that template to roll them back.`,
    );
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
